"""Handing points from the scan loop to one consumer greenlet (the Redis publisher, the file writer).

The scan appends and goes on; the consumer takes everything accumulated at once, so a
slow consumer gets bigger batches instead of slowing the scan. Only when
``max_pending`` points wait does the scan wait too: a point is never dropped.

A consumer takes a batch at most every ``min_interval`` seconds: a scan whose points each
yield to the hub (a Tango read does) would otherwise pay a Redis round trip or an HDF5
flush per point. A point that comes after a quiet spell still goes at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import gevent
import gevent.event


class PointBuffer:
    """One list per channel, filled by ``add`` with points keyed by channel and emptied by ``take``.

    Parameters
    ----------
    names : sequence of str
        The channels, in the order ``take`` gives their columns; ``add_column`` adds more.
    max_pending : int
        Points waiting for the consumer before ``add`` waits too.
    min_interval : float
        Seconds between two batches the consumer takes (unless woken ``urgent``).

    Examples
    --------
    >>> buffer = PointBuffer(["timer:elapsed_time", "sim:c1"])
    >>> buffer.add({"sim:c1": [12.5, 13.0], "timer:elapsed_time": [0.0, 0.1]}, 2)
    >>> buffer.take()
    ([[0.0, 0.1], [12.5, 13.0]], 2)
    """

    def __init__(self, names: Sequence[str] = (), max_pending: int = 100_000, min_interval: float = 0.002):
        self._names: list[str] = list(names)
        self._columns: list[list[Any]] = [[] for _ in self._names]
        self._min_interval = min_interval
        self._last_wake = 0.0
        self._urgent = gevent.event.Event()  # set: nothing more will join the batch, take it now
        self.pending = 0
        self._max_pending = max_pending
        self._ready = gevent.event.Event()
        self._drained = gevent.event.Event()

    def add_column(self, name: str) -> None:
        """One more channel, before the first point (RuntimeError after it)."""
        if self.pending:
            raise RuntimeError("a channel cannot be added after the first point")
        self._names.append(name)
        self._columns.append([])

    def add(self, points: Mapping[str, Sequence[Any]], count: int) -> None:
        """``count`` points, values keyed by channel name; waits only when ``max_pending`` points are waiting.

        Keys that are not this buffer's channels are ignored.
        """
        for name, column in zip(self._names, self._columns):
            column.extend(points[name])
        self.pending += count
        self._ready.set()
        if self.pending >= self._max_pending:
            self._drained.clear()
            self._drained.wait()

    def wake(self, urgent: bool = False) -> None:
        """Wake the consumer for something else than points (an event to send, the end).

        ``urgent``: without waiting for ``min_interval``, as nothing more will join the batch (PREPARED, the END).
        """
        if urgent:
            self._urgent.set()
        self._ready.set()

    def wait(self, timeout: float | None = None) -> None:
        """Consumer: until a point or a ``wake`` arrives (or ``timeout``), and ``min_interval`` after the last time.

        An urgent ``wake`` ends the wait for ``min_interval`` at once (the end of a short scan waits for nothing).
        """
        self._ready.wait(timeout)
        delay = self._last_wake + self._min_interval - time.monotonic()
        if delay > 0 and not self._urgent.is_set():
            self._urgent.wait(delay)  # what arrives meanwhile joins this batch
        self._urgent.clear()
        self._last_wake = time.monotonic()
        self._ready.clear()

    def take(self) -> tuple[list[list[Any]], int]:
        """Consumer: every waiting point, as columns, and how many."""
        columns, count = self._columns, self.pending
        self._columns, self.pending = [[] for _ in columns], 0
        return columns, count

    def release(self) -> None:
        """Consumer: a batch is done (or failed); a waiting scan may go on."""
        self._drained.set()
