"""The masters of a step scan: the motors that move between points, and the timer that counts each point.

A master triggers its children: the engine triggers the objects of each level of the chain
after those of the level above, so the children of ``axis`` count once the motors arrived,
and the children of ``timer`` count while the timer measures the count time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from time import monotonic

import numpy as np
from gevent import sleep

from bliss_shell.controllers import AcquisitionParameters, Axis, Block, ChannelInfo, Timing, stop_all, wait_all
from bliss_shell.controllers.acquisition import AcquisitionBase


class StepMotorMaster(AcquisitionBase):
    """``axis``: moves every motor to the point's position (all together), then reads where each is.

    Parameters
    ----------
    axes : sequence of Axis
        The motors the scan moves.
    positions : numpy.ndarray
        One row per point, one column per motor (``ScanPlan.positions``).

    Examples
    --------
    >>> from bliss_shell.controllers import Timing
    >>> master = StepMotorMaster([roby], np.array([[0.0], [1.0]]))
    >>> master.prepare(AcquisitionParameters(2, 0.0, Timing.STEP))
    >>> master.trigger()
    >>> master.read()
    {'roby': [0.0]}
    >>> master.trigger()
    >>> master.read()
    {'roby': [1.0]}
    """

    name = "axis"

    def __init__(self, axes: Sequence[Axis], positions: np.ndarray):
        self._axes = list(axes)
        self._positions = positions
        self._index = 0
        self._arrived: list[float | None] = [None] * len(self._axes)
        self._channels = [ChannelInfo(axis.name, np.dtype("float64"), (), axis.unit, source=axis) for axis in self._axes]

    @property
    def channels(self) -> list[ChannelInfo]:
        """One channel per motor, named after it, in its unit."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Back to the first point."""
        self._index = 0

    def trigger(self) -> None:
        """Move every motor to the next point's position, all together; return once all arrived."""
        targets = self._positions[self._index]
        for axis, target in zip(self._axes, targets):
            axis.move(float(target), wait=False)
        self._arrived = wait_all(self._axes)  # where each rests, when its controller said so
        self._index += 1

    def read(self) -> Block:
        """Where each motor is (its user position): as its server said when it came to rest, else read now."""
        return {axis.name: [axis.position if at is None else at] for axis, at in zip(self._axes, self._arrived)}

    def stop(self) -> None:
        """Stop every motor; a motor that cannot stop is reported once the others were stopped."""
        failures = stop_all(self._axes)
        if failures:
            raise RuntimeError("; ".join(failures.values()))


class TimerMaster(AcquisitionBase):
    """``timer``: each point counts ``count_time``.

    ``elapsed_time`` counts from the first point, ``epoch`` is the point's start as seconds since
    1970 (as BLISS's ``timer:epoch``).

    In a step scan a point counts from its trigger, once the motors arrived, and ``sleep_time``
    passes before the next one. When nothing moves (ct, loopscan, timescan) points follow a
    schedule, one every ``count_time + sleep_time`` from the first: the engine's own time between
    two points is taken from the next count instead of being added to it, and a free-running
    camera slower than the schedule sets the pace (no wait is added on top of its frames).
    In a continuous scan the devices time themselves: the timer's points are the periods
    ``i * count_time`` from the moment the devices were started.

    Parameters
    ----------
    count_time : float
        Seconds each point counts.
    sleep_time : float, optional
        Seconds between points: a step scan waits them once the motors arrived, otherwise a point
        starts every ``count_time + sleep_time``.

    Examples
    --------
    The timer of ``loopscan(10, 0.1, diode, sleep_time=0.5)``, a point every 0.6 s:

    >>> from bliss_shell.controllers import Timing
    >>> timer = TimerMaster(0.1, sleep_time=0.5)
    >>> [channel.name for channel in timer.channels]
    ['elapsed_time', 'epoch']
    >>> timer.prepare(AcquisitionParameters(10, 0.1, Timing.FREE))
    >>> timer.trigger()
    >>> timer.wait_ready()  # 0.1 s
    >>> timer.read()["elapsed_time"]
    [0.0]
    """

    name = "timer"
    blocking = False  # it only sleeps: a greenlet of its own would gain nothing

    def __init__(self, count_time: float, sleep_time: float = 0.0):
        self._count_time = count_time
        self._sleep_time = sleep_time
        self._continuous = False
        self._scheduled = False
        self._npoints = 0
        self._first: float | None = None
        self._point_start = 0.0
        self._count_end = 0.0
        self._period = count_time + sleep_time  # between two points' starts, on a schedule
        self._triggered = 0
        self._sent = 0
        self._to_epoch = 0.0  # time.time() - monotonic(), taken once per scan: epochs keep the monotonic spacing
        self._channels = [
            ChannelInfo("elapsed_time", np.dtype("float64"), (), "s"),
            ChannelInfo("epoch", np.dtype("float64"), (), "s"),
        ]

    @property
    def channels(self) -> list[ChannelInfo]:
        """``elapsed_time`` and ``epoch``, in seconds."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Learn the scan's timing and number of points; the first trigger starts the clock."""
        self._continuous = parameters.continuous
        self._scheduled = parameters.timing is Timing.FREE
        self._npoints = parameters.npoints
        self._first = None
        self._triggered = self._sent = 0
        self._to_epoch = time.time() - monotonic()

    def trigger(self) -> None:
        """Start a point: at once for the first, else when the schedule or ``sleep_time`` says."""
        now = monotonic()
        if self._first is None:
            self._first = due = now
        elif self._scheduled:  # the schedule: a point every period from the first
            due = self._first + self._triggered * self._period
            if due > now:
                sleep(due - now)
                now = monotonic()
        else:
            if self._sleep_time > 0:
                sleep(self._sleep_time)
                now = monotonic()
            due = now
        self._point_start = now
        self._count_end = due + self._count_time
        self._triggered += 1

    def wait_ready(self) -> None:
        """Sleep until the point's count time is over (at once in a continuous scan)."""
        if not self._continuous:  # also lets the consumers run
            remaining = self._count_end - monotonic()
            sleep(remaining if remaining > 0 else 0)

    def read(self) -> Block:
        """The point's ``elapsed_time`` and ``epoch``; in a continuous scan, every period's at once."""
        if not self._continuous:
            start, first = self._point_start, self._first
            return {"elapsed_time": [start - first if first is not None else 0.0], "epoch": [start + self._to_epoch]}
        periods = range(self._sent, self._npoints)  # every period is known once started
        self._sent = self._npoints
        first = (self._first if self._first is not None else monotonic()) + self._to_epoch
        return {"elapsed_time": [index * self._count_time for index in periods],
                "epoch": [first + index * self._count_time for index in periods]}  # fmt: skip
