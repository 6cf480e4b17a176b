"""Points keyed by channel: each block checked where it enters, whole points assembled from blocks.

An acquisition object reads a block ``{channel name: [values]}``; here it becomes part of
points keyed by the channel's fullname (``"sim:c1"``). Objects of a continuous scan deliver
blocks of different lengths: a point leaves once every channel has it.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from bliss_shell.controllers import Block, ChannelInfo

Points = dict[str, Sequence[Any]]
"""Whole points keyed by channel fullname, one sequence of values per channel, all the same length."""

_SCALARS = frozenset(
    (float, int, np.float64, np.float32, np.int64, np.int32, np.uint32, np.uint16, np.int16, np.uint8, np.uint64)
)


def channel_fullname(owner: str, channel: str) -> str:
    """``controller:channel``, as BLISS names channels: ``axis:roby``, ``timer:elapsed_time``, ``sim:c1``."""
    return f"{owner}:{channel}"


_SCALAR, _ARRAY, _REFERENCE = "scalar", "array", "reference"


class ChannelMisfit(ValueError):
    """A value that does not fit its channel; the message names the counter and its controller."""


class BlockCheck:
    """Checks the blocks of one acquisition object against its channels, and keys them by fullname.

    Examples
    --------
    >>> check = BlockCheck("sim", [ChannelInfo("c1")])
    >>> points = {}
    >>> check({"c1": [1.0]}, points), points
    (1, {'sim:c1': [1.0]})
    >>> check({"c1": [np.zeros(3)]}, points)
    Traceback (most recent call last):
    ...
    bliss_shell.scanning.records.ChannelMisfit: c1 (controller sim): a value of shape (3,) does not fit the channel's shape ()
    """

    def __init__(self, owner: str, channels: Sequence[ChannelInfo]):
        self.owner = owner
        self._channels = {channel.name: channel for channel in channels}
        self._names = self._channels.keys()
        self.fullnames = {channel.name: channel_fullname(owner, channel.name) for channel in channels}
        # per channel: its fullname and what to check (scalar values, arrays, or nothing: frame references)
        self._plan = {c.name: (self.fullnames[c.name], _SCALAR if not c.shape else _ARRAY) if c.kind == "data"
                      else (self.fullnames[c.name], _REFERENCE) for c in channels}  # fmt: skip

    def __call__(self, block: Block, into: Points) -> int:
        """Put the block's values into ``into`` by fullname; return its number of points.

        Raises
        ------
        ChannelMisfit
            Anything that does not fit (the scan then fails: nothing of that point is handed on).
        """
        plan = self._plan
        if len(block) != len(plan):  # as many names, each found below: the same names
            self._refuse_names(block)
        count = -1
        for name, (fullname, kind) in plan.items():
            values = block.get(name)
            if values is None:
                self._refuse_names(block)
            if count != len(values):
                if count >= 0:
                    self._refuse_counts(block)
                count = len(values)
            if kind is _SCALAR:
                for value in values:
                    if type(value) not in _SCALARS:  # the common case is decided at once
                        self._check(self._channels[name], value)
            elif kind is _ARRAY:
                for value in values:
                    self._check(self._channels[name], value)
            into[fullname] = values
        return count if count > 0 else 0

    def _refuse_names(self, block: Block) -> NoReturn:
        missing = sorted(self._names - block.keys())
        extra = sorted(block.keys() - self._names)
        raise ChannelMisfit(f"{self.owner}: the controller read {', '.join(extra) or 'no extra channel'} and "
                            f"missed {', '.join(missing) or 'no channel'}; its channels are {', '.join(self._names)}")  # fmt: skip

    def _refuse_counts(self, block: Block) -> NoReturn:
        counts = {name: len(values) for name, values in block.items()}
        raise ChannelMisfit(f"{self.owner}: channels read different numbers of points: {counts}")

    def _check(self, channel: ChannelInfo, value: Any) -> None:
        if not channel.shape and (
            (isinstance(value, numbers.Real) and not isinstance(value, bool))
            or (isinstance(value, np.generic) and value.dtype.kind in "uif")
        ):  # a scalar channel's number: nothing more to check (the type checks only run for scalar channels)
            return
        shape = tuple(np.shape(value))
        if shape != channel.shape:
            raise ChannelMisfit(f"{channel.name} (controller {self.owner}): a value of shape {shape} does not fit "
                                f"the channel's shape {channel.shape}")  # fmt: skip
        kind = np.asarray(value).dtype
        if not np.can_cast(kind, channel.dtype, casting="same_kind"):
            raise ChannelMisfit(f"{channel.name} (controller {self.owner}): a value of type {kind} does not fit "
                                f"the channel's type {channel.dtype}")  # fmt: skip


class PointAssembler:
    """Whole points out of blocks of different lengths (a continuous scan's devices deliver at their own pace).

    Examples
    --------
    >>> assembler = PointAssembler(["timer:elapsed_time", "sim:c1"])
    >>> assembler.add({"timer:elapsed_time": [0.0, 0.1], "sim:c1": [5.0]}, [2, 1])
    ({'timer:elapsed_time': [0.0], 'sim:c1': [5.0]}, 1)
    >>> assembler.add({"timer:elapsed_time": [], "sim:c1": [6.0]}, [0, 1])  # the held-back 0.1 leaves now
    ({'timer:elapsed_time': [0.1], 'sim:c1': [6.0]}, 1)
    """

    def __init__(self, fullnames: Sequence[str]):
        self._pending: dict[str, list[Any]] = {name: [] for name in fullnames}
        self._size = len(self._pending)
        self._waiting = False  # points held back for a slower object

    def add(self, values: Points, counts: Sequence[int]) -> tuple[Points, int]:
        """Values by fullname with each object's point count; return the whole points now complete."""
        if not self._waiting and len(values) == self._size and counts.count(counts[0]) == len(counts):
            return values, counts[0]  # every object delivered the same points: nothing to hold back
        for name, column in values.items():
            self._pending[name].extend(column)
        ready = min(len(column) for column in self._pending.values())
        points: Points = {name: column[:ready] for name, column in self._pending.items()}
        for column in self._pending.values():
            del column[:ready]
        self._waiting = any(self._pending.values())
        return points, ready
