"""Lima image channels: the node holds references and status, never pixels; a view resolves frames.

``get_image(i)`` reads frame i from the server's memory (``readImage``) while the server
still holds this acquisition, and otherwise from the file the server saved it to.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
import redis

from bliss_shell.controllers.lima_memory import frame_from_server
from bliss_shell.controllers.lima_protocol import saved_frame, saves_every_frame
from bliss_shell.writer.saved_data import read_frame

_FRAMES_USAGE = "view[0] is the first frame, view[-1] the last, view[2:5] frames 2 to 4"


def image_fullname(db_name: str) -> str:
    """``detector:image`` (``'lima_simulator:image'``) of a Lima node ``...:<scan>:timer:lima_simulator:image``.

    As a channel's fullname is its controller and its name (``diode:diode``).

    Examples
    --------
    >>> image_fullname("demo:tmp:scans:3_ascan:axis:timer:lima_simulator:image")
    'lima_simulator:image'
    """
    return ":".join(db_name.split(":")[-2:])


def check_index(owner: str, index: Any, usage: str) -> None:
    """A point or frame index is a whole number (numpy's too); ``usage`` says what to type instead.

    Raises
    ------
    TypeError
        ``index`` is not a whole number (a bool is not one); the message starts with ``owner``.

    Examples
    --------
    >>> check_index("diode:diode", np.int64(3), "node[0] is the first point")
    >>> check_index("diode:diode", 1.5, "node[0] is the first point")
    Traceback (most recent call last):
    ...
    TypeError: diode:diode: indexes are whole numbers, not 1.5: node[0] is the first point
    """
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"{owner}: indexes are whole numbers, not {index!r}: {usage}")


def checked_slice(owner: str, index: slice, usage: str) -> slice:
    """``index`` once its start, stop and step are whole numbers (or None) and its step is not 0.

    Raises
    ------
    TypeError
        A part of the slice is not a whole number.
    ValueError
        The step is 0.

    Examples
    --------
    >>> checked_slice("diode:diode", slice(2, None, -1), "node[2:5] points 2 to 4")
    slice(2, None, -1)
    >>> checked_slice("diode:diode", slice(None, None, 0), "node[2:5] points 2 to 4")
    Traceback (most recent call last):
    ...
    ValueError: diode:diode: a slice step cannot be 0: node[2:5] points 2 to 4
    """
    for part in (index.start, index.stop, index.step):
        if part is not None:
            check_index(owner, part, usage)
    if index.step == 0:
        raise ValueError(f"{owner}: a slice step cannot be 0: {usage}")
    return index


def points_range(length: int) -> str:
    """What indexes ``length`` points or frames take, for error messages.

    Examples
    --------
    >>> points_range(5)
    'indexes 0 to 4, or -5 to -1 from the end'
    >>> points_range(0)
    'none yet'
    """
    return "none yet" if length <= 0 else f"indexes 0 to {length - 1}, or -{length} to -1 from the end"


def acquisition_key(server_url: str) -> str:
    """Counts a server's acquisitions, so a reader knows whether the server still holds its frames.

    The key is the server's URL itself, as blissdata 2 names it: its LimaClient reads the same counter
    (``INCR`` at each scan's prepare, by our shells and by BLISS 2's alike).

    Examples
    --------
    >>> acquisition_key("tango://localhost:20000/id00/limaccds/simulator1")
    'tango://localhost:20000/id00/limaccds/simulator1'
    """
    return server_url


class LimaDataView:
    """Frames ``from_index .. to_index`` of a Lima node, as far as they were ready when the view was made.

    A sequence of numpy frames: ``view[i]`` (negative from the view's end), ``view[2:5]`` (one array of
    the frames stacked, as in BLISS), ``len(view)``, ``for frame in view``, ``view.as_array()``. Indexes
    count from the view's first frame.

    Examples
    --------
    After ``ascan(roby, 0, 4, 5, 0.1, lima_simulator)`` (the examples need a Lima camera, a Tango device
    server, which the doctests do not start):

    >>> frames = SCANS[-1].get_data()["lima_simulator:image"]  # doctest: +SKIP
    >>> frames  # doctest: +SKIP
    <LimaDataView lima_simulator frames 0..4>
    >>> len(frames), frames[-1].shape, frames[1:3].shape  # doctest: +SKIP
    (5, (24, 32), (2, 24, 32))
    """

    def __init__(self, node: Any, from_index: int, to_index: int | None, ready: int):
        self._node = node
        self.fullname = image_fullname(node.db_name)
        self._detector = self.fullname.split(":")[0]  # ...:<scan>:<detector>:image
        self.last_image_ready = ready
        start = from_index + ready + 1 if from_index < 0 else from_index
        if to_index is None:
            stop = start
        else:  # a range starts at frame 0 at the earliest, as ChannelDataNode.get's ranges do
            start, stop = max(start, 0), (to_index + ready + 1 if to_index < 0 else min(to_index, ready))
        self.from_index, self.to_index = start, stop

    def __len__(self) -> int:
        if self.from_index < 0:  # get(-n) with fewer than n frames ready
            return 0
        return max(0, min(self.to_index, self.last_image_ready) - self.from_index + 1)

    def __getitem__(self, index: int | slice) -> np.ndarray:
        if isinstance(index, slice):
            frames = range(len(self))[checked_slice(self.fullname, index, _FRAMES_USAGE)]
            return np.asarray([self.get_image(i) for i in frames])
        check_index(self.fullname, index, _FRAMES_USAGE)
        if not -len(self) <= index < len(self):
            raise IndexError(f"{self.fullname}: no frame {index} in {self!r} ({points_range(len(self))})")
        return self.get_image(index % len(self))

    def __iter__(self) -> Iterator[np.ndarray]:
        for index in range(len(self)):
            yield self.get_image(index)

    def as_array(self) -> np.ndarray:
        """The view's frames stacked (frames, height, width); a one-frame view gives that frame, as in BLISS.

        Examples
        --------
        With a camera (the doctests have none):

        >>> frames.as_array().shape  # doctest: +SKIP
        (5, 24, 32)
        """
        frames = self[:]
        return frames[0] if len(frames) == 1 else frames

    def __repr__(self) -> str:
        return f"<LimaDataView {self._detector} frames {self.from_index}..{self.to_index}>"

    def get_image(self, index: int) -> np.ndarray:
        """Frame ``index`` of the view (negative from its end): server memory first, then the saved file.

        Raises
        ------
        IndexError
            The frame is not acquired yet, or the server no longer holds it and it was not saved.

        Examples
        --------
        With a camera (the doctests have none):

        >>> frames.get_image(-1).dtype  # doctest: +SKIP
        dtype('uint32')
        """
        check_index(f"{self.fullname}.get_image", index, "get_image(0) is the view's first frame, get_image(-1) its last")
        absolute = (self.to_index + 1 + index) if index < 0 else self.from_index + index
        if absolute < 0 or absolute > self.last_image_ready:
            raise IndexError(
                f"{self._detector}: image {absolute} is not acquired yet (last image ready: {self.last_image_ready})"
            )
        info = self._node.info
        frame = self._from_server(info, absolute)
        if frame is None:
            frame = self._from_file(info, absolute)
        if frame is None:
            raise IndexError(f"{self._detector}: image {absolute} is no longer in the server's memory and was not saved")
        return frame

    def get_last_image(self) -> np.ndarray:
        """The view's last frame: ``get_image(-1)`` (BLISS's name)."""
        return self.get_image(-1)

    def _from_server(self, info: dict, index: int) -> np.ndarray | None:
        try:
            current = self._node._client.get(acquisition_key(info["server_url"]))
        except redis.RedisError:  # Redis away: which acquisition the server holds is unknown
            return None
        if current is None or int(current) != info.get("lima_acq_nb"):
            return None  # the server has started another acquisition since
        return frame_from_server(info["server_url"], index)

    @staticmethod
    def _from_file(info: dict, index: int) -> np.ndarray | None:
        if not saves_every_frame(info):
            return None
        path, row = saved_frame(info, index)
        return read_frame(path, info["frame_path"], row)


class KeptLimaNode:
    """A Lima node's references as its scan kept them: views of a scan that left Redis read its files."""

    def __init__(self, client: redis.Redis, db_name: str, info: dict):
        self._client = client
        self.db_name = db_name
        self.info = info
