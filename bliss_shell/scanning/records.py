"""Points keyed by channel: each block checked where it enters, whole points assembled from blocks.

An acquisition object reads a block ``{channel name: [values]}``; here it becomes part of
points keyed by the channel's fullname (``"sim:c1"``). Objects of a continuous scan deliver
blocks of different lengths: a point leaves once every channel has it.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bliss_shell.controllers import Block, ChannelInfo

Points = dict[str, Sequence[Any]]
"""Whole points keyed by channel fullname, one sequence of values per channel, all the same length."""

_SCALARS = (float, int, np.float64, np.float32, np.int64, np.int32, np.uint32, np.uint16, np.int16, np.uint8, np.uint64)


class ChannelMisfit(ValueError):
    """A value that does not fit its channel; the message names the counter and its controller."""


class BlockCheck:
    """Checks the blocks of one acquisition object against its channels.

    Example
    -------
    >>> check = BlockCheck("sim", [ChannelInfo("c1")])
    >>> check({"c1": [1.0]})
    1
    >>> check({"c1": [np.zeros(3)]})
    Traceback (most recent call last):
    ChannelMisfit: c1 (controller sim): a value of shape (3,) does not fit the channel's shape ()
    """

    def __init__(self, owner: str, channels: Sequence[ChannelInfo]):
        self.owner = owner
        self._channels = {channel.name: channel for channel in channels}

    def __call__(self, block: Block) -> int:
        """The number of points in the block; raise ChannelMisfit for anything that does not fit."""
        if block.keys() != self._channels.keys():
            missing = sorted(self._channels.keys() - block.keys())
            extra = sorted(block.keys() - self._channels.keys())
            raise ChannelMisfit(f"{self.owner}: the controller read {', '.join(extra) or 'no extra channel'} and "
                                f"missed {', '.join(missing) or 'no channel'}; its channels are {', '.join(self._channels)}")  # fmt: skip
        counts = {name: len(values) for name, values in block.items()}
        if len(set(counts.values())) > 1:
            raise ChannelMisfit(f"{self.owner}: channels read different numbers of points: {counts}")
        for name, values in block.items():
            channel = self._channels[name]
            if channel.kind == "data":
                for value in values:
                    self._check(channel, value)
        return next(iter(counts.values()), 0)

    def _check(self, channel: ChannelInfo, value: Any) -> None:
        if not channel.shape:
            if type(value) in _SCALARS:  # the common case, decided at once
                return
            if isinstance(value, numbers.Real) and not isinstance(value, bool) or (
                isinstance(value, np.generic) and value.dtype.kind in "uif"
            ):
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
    """Whole points out of the blocks of several objects.

    Example
    -------
    >>> assembler = PointAssembler({"timer": {"elapsed_time": "timer:elapsed_time"}, "sim": {"c1": "sim:c1"}})
    >>> assembler.add({"timer": {"elapsed_time": [0.0, 0.1]}, "sim": {"c1": [5.0]}})
    ({'timer:elapsed_time': [0.0], 'sim:c1': [5.0]}, 1)
    """

    def __init__(self, fullnames: Mapping[str, Mapping[str, str]]):
        """``fullnames``: each owner's (acquisition object's) channels, short name to fullname."""
        self._fullnames = {owner: dict(names) for owner, names in fullnames.items()}
        self._pending: dict[str, list[Any]] = {name: [] for names in self._fullnames.values() for name in names.values()}
        self._waiting = 0  # points held back for a slower object

    def add(self, blocks: Mapping[str, tuple[Block, int]]) -> tuple[Points, int]:
        """Blocks (with their point counts) by owner; return the whole points now complete."""
        counts = {owner: count for owner, (_, count) in blocks.items()}
        if not self._waiting and len(blocks) == len(self._fullnames) and len(set(counts.values())) == 1:
            return self._renamed(blocks), next(iter(counts.values()), 0)  # everyone delivered the same points
        for owner, (block, _) in blocks.items():
            names = self._fullnames[owner]
            for short, values in block.items():
                self._pending[names[short]].extend(values)
        ready = min(len(values) for values in self._pending.values()) if self._pending else 0
        points = {name: values[:ready] for name, values in self._pending.items()}
        for values in self._pending.values():
            del values[:ready]
        self._waiting = max((len(values) for values in self._pending.values()), default=0)
        return points, ready

    def _renamed(self, blocks: Mapping[str, tuple[Block, int]]) -> Points:
        points: Points = {}
        for owner, (block, _) in blocks.items():
            names = self._fullnames[owner]
            for short, values in block.items():
                points[names[short]] = values
        return points
