"""The scan engine: walks an acquisition chain through its life cycle and hands whole points on.

It knows nothing of motors, counters or files: every object of the chain gets the same
verbs (``controllers/acquisition.py``), level by level; the objects of one level that wait
on a server do it together, each in a greenlet. Points leave keyed by channel fullname.

- prepare: every object at once;
- start: the deepest level first (slaves before their masters);
- each point of a step scan (or loopscan, timescan, ct): trigger level by level from the
  top, then wait and read level by level;
- a continuous scan: one trigger after the start (the devices count on their own), then
  wait and read until every point is in;
- stop: every object, whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import gevent
import gevent.event

from bliss_shell.controllers import AcquisitionObject, AcquisitionParameters, Block

from .chain import AcquisitionChain
from .records import BlockCheck, ChannelMisfit, PointAssembler, Points

Result = TypeVar("Result")


class PointConsumer(Protocol):
    """What the engine hands whole points to (``consumers.py`` has the scan's)."""

    def add_points(self, points: Points, count: int) -> None:
        """Take ``count`` whole points, values keyed by channel fullname."""
        ...


class AcquisitionError(RuntimeError):
    """An acquisition object failed; the message names it."""


def _naming(device: AcquisitionObject, error: Exception) -> Exception:
    """The error, or one that names the device when it does not already."""
    if isinstance(error, AcquisitionError) or device.name in str(error):
        return error
    named = AcquisitionError(f"{device.name}: {type(error).__name__}: {error}")
    named.__cause__ = error
    return named


def _named(device: AcquisitionObject, call: Callable[[AcquisitionObject], Result]) -> Result:
    """``call(device)``; a failure that does not name the device is raised again naming it."""
    try:
        return call(device)
    except Exception as error:
        raise _naming(device, error) from None


def each(devices: Sequence[AcquisitionObject], call: Callable[[AcquisitionObject], Result]) -> dict[str, Result]:
    """``call`` on every device, those that wait on a server together; results by device name.

    The first failure (or a Ctrl-C) stops the others' calls and is raised here, in the scan's greenlet.
    """
    waiting = [device for device in devices if device.blocking]
    if len(waiting) < 2:  # nothing to wait for together: no greenlet
        return {device.name: _named(device, call) for device in devices}
    over = gevent.event.Event()  # every call returned, or one failed
    failures: list[Exception] = []
    left = len(waiting)

    def run(device: AcquisitionObject) -> Result | None:
        nonlocal left
        try:
            return _named(device, call)
        except Exception as error:  # handed to the scan's greenlet, not printed by the hub
            failures.append(error)
            over.set()
            return None
        finally:
            left -= 1
            if not left:
                over.set()

    greenlets = {device.name: gevent.spawn(run, device) for device in waiting}
    try:
        results = {device.name: _named(device, call) for device in devices if not device.blocking}
        over.wait()
        if failures:
            raise failures[0]
    finally:
        gevent.killall([greenlet for greenlet in greenlets.values() if not greenlet.dead])
    results.update((name, greenlet.value) for name, greenlet in greenlets.items())
    return results


def _trigger(device: AcquisitionObject) -> None:
    device.trigger()


class Engine:
    """Runs one chain once: its owner calls ``prepare``, ``run``, then ``stop`` whatever happened.

    Parameters
    ----------
    chain : AcquisitionChain
        The tree of acquisition objects (``build_chain``).
    parameters : AcquisitionParameters
        What every object is prepared with: number of points (0: until Ctrl-C), count time, timing.
    consumers : sequence of PointConsumer
        What the whole points are handed to, in this order (``add_points(points, count)``); each gets
        every point, and the first error a consumer raised is raised once all had it.

    Examples
    --------
    A loopscan of two points without Redis or file, its points printed as they come:

    >>> from bliss_shell.controllers import Timing
    >>> from bliss_shell.scanning.chain import build_chain
    >>> from bliss_shell.scanning.plan import ScanPlan
    >>> class Show:
    ...     def add_points(self, points, count):
    ...         print(count, list(points))
    >>> plan = ScanPlan("loopscan", "loopscan 2 0", [], np.empty((2, 0)), [diode], 0.0, 2)
    >>> engine = Engine(build_chain("loopscan", plan), AcquisitionParameters(2, 0.0, Timing.FREE), [Show()])
    >>> engine.prepare()
    >>> engine.run()
    1 ['timer:elapsed_time', 'timer:epoch', 'diode:diode']
    1 ['timer:elapsed_time', 'timer:epoch', 'diode:diode']
    >>> engine.stop()
    []
    >>> engine.points
    2
    """

    def __init__(self, chain: AcquisitionChain, parameters: AcquisitionParameters, consumers: Sequence[PointConsumer]):
        self._levels = chain.levels()
        self._devices = [device for level in self._levels for device in level]
        self._parameters = parameters
        self._add_points = [consumer.add_points for consumer in consumers]  # called every point: bound once
        checks = {device.name: BlockCheck(device.name, device.channels) for device in self._devices}
        # per level: its devices with their checks, and whether they wait together (two or more wait on servers)
        plan = [
            ([(device, checks[device.name]) for device in level], sum(device.blocking for device in level) >= 2)
            for level in self._levels
        ]
        # no level waits together (the common case): one loop over every device, top first
        self._flat = [] if any(together for _, together in plan) else [pair for level, _ in plan for pair in level]
        self._plan = [(self._flat, False)] if self._flat else plan
        self._checks = checks
        self._assembler = PointAssembler([name for check in checks.values() for name in check.fullnames.values()])
        self.points = 0  # whole points taken (and handed on)
        self._newest: Points = {}

    def prepare(self) -> None:
        """Prepare every object of the chain, those that wait on a server together."""
        each(self._devices, lambda device: device.prepare(self._parameters))

    def run(self) -> None:
        """Start every object, then take the points (until Ctrl-C when ``npoints`` is 0)."""
        for level in reversed(self._levels):
            each(level, lambda device: device.start())
        npoints = self._parameters.npoints
        if self._parameters.continuous:
            self._trigger()
            while self.points < npoints:
                if not self._collect():
                    raise AcquisitionError(f"the devices stopped after {self.points} of {npoints} points")
            return
        if self._flat:
            while npoints == 0 or self.points < npoints:
                self._flat_point()
            return
        while npoints == 0 or self.points < npoints:
            self._trigger()
            self._collect()

    def newest_point(self) -> dict[str, Any]:
        """The values of the last whole point handed on, by channel fullname."""
        return {name: values[-1] for name, values in self._newest.items()}

    def stop(self) -> list[str]:
        """Stop every object, all together; return what failed to stop (a server that died)."""
        failures: list[str] = []

        def stop(device: AcquisitionObject) -> None:
            try:
                _named(device, lambda d: d.stop())
            except Exception as error:
                failures.append(str(error))

        gevent.joinall([gevent.spawn(stop, device) for device in self._devices])
        return failures

    def _trigger(self) -> None:
        """Trigger level by level from the top; a failure names the device that failed, not its master."""
        for level, together in self._plan:
            if together:
                each([device for device, _ in level], _trigger)
            else:
                _trigger_in_turn(level)

    def _collect(self) -> int:
        """Wait for and read every object, level by level; hand on the points now whole.

        Returns how many points were whole, else how many values came in (0: nothing came).
        """
        values: Points = {}
        counts: list[int] = []
        for level, together in self._plan:
            if together:
                blocks = each([device for device, _ in level], _wait_and_read)
                counts.extend(self._checks[name](block, values) for name, block in blocks.items())
            else:
                _read_in_turn(level, values, counts)
        count = self._hand_on(values, counts)
        return count if count else sum(counts)

    def _flat_point(self) -> None:
        """One point when no level waits together: every object triggered, top first, then waited for and read."""
        values: Points = {}
        counts: list[int] = []
        _trigger_in_turn(self._flat)
        _read_in_turn(self._flat, values, counts)
        self._hand_on(values, counts)

    def _hand_on(self, values: Points, counts: list[int]) -> int:
        """The points now whole to every consumer, even after one refused them (then its error is raised); how many."""
        points, count = self._assembler.add(values, counts)
        if count:
            self.points += count  # taken, whatever a consumer then does with them (points_acquired)
            self._newest = points
            refused: Exception | None = None
            for add_points in self._add_points:
                try:  # free until a consumer raises
                    add_points(points, count)
                except Exception as error:  # the file full: Redis still gets the point
                    refused = refused or error
            if refused is not None:
                raise refused
        return count


Checked = list[tuple[AcquisitionObject, BlockCheck]]
"""Acquisition objects with the checks of their blocks, called in turn."""


def _trigger_in_turn(devices: Checked) -> None:
    """Trigger each object in turn; a failure names the object."""
    device = devices[0][0]
    try:  # around the loop, not each call: nothing to pay per object
        for device, _ in devices:
            device.trigger()
    except Exception as error:
        raise _naming(device, error) from None


def _read_in_turn(devices: Checked, values: Points, counts: list[int]) -> None:
    """Wait for and read each object in turn, its block checked into ``values``, its point count onto ``counts``."""
    device = devices[0][0]
    try:  # around the loop, not each call: nothing to pay per object
        for device, check in devices:
            device.wait_ready()
            counts.append(check(device.read(), values))
    except ChannelMisfit:  # names the channel and its controller already
        raise
    except Exception as error:
        raise _naming(device, error) from None


def _wait_and_read(device: AcquisitionObject) -> Block:
    device.wait_ready()
    return device.read()
