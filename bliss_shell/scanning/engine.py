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
from typing import TypeVar

import gevent
import gevent.event

from bliss_shell.controllers import AcquisitionObject, AcquisitionParameters, Block

from .chain import AcquisitionChain
from .records import BlockCheck, PointAssembler, Points

Result = TypeVar("Result")


class AcquisitionError(RuntimeError):
    """An acquisition object failed; the message names it."""


def _named(device: AcquisitionObject, call: Callable[[AcquisitionObject], Result]) -> Result:
    """``call(device)``; a failure that does not name the device is raised again naming it."""
    try:
        return call(device)
    except AcquisitionError:
        raise
    except Exception as error:
        if device.name in str(error):
            raise
        raise AcquisitionError(f"{device.name}: {type(error).__name__}: {error}") from error


def each(devices: Sequence[AcquisitionObject], call: Callable[[AcquisitionObject], Result]) -> dict[str, Result]:
    """``call`` on every device, those that wait on a server together; results by device name.

    The first failure (or a Ctrl-C) stops the others' calls and is raised here, in the scan's greenlet.
    """
    waiting = [device for device in devices if device.blocking]
    if len(waiting) < 2:  # nothing to wait for together: no greenlet
        return {device.name: _named(device, call) for device in devices}
    failed = gevent.event.AsyncResult()

    def run(device: AcquisitionObject) -> Result | None:
        try:
            return _named(device, call)
        except Exception as error:  # handed to the scan's greenlet, not printed by the hub
            failed.set(error)
            return None

    greenlets = {device.name: gevent.spawn(run, device) for device in waiting}
    try:
        results = {device.name: _named(device, call) for device in devices if not device.blocking}
        done = gevent.spawn(gevent.joinall, list(greenlets.values()))
        gevent.wait([done, failed], count=1)
        if failed.ready():
            raise failed.get()
    finally:
        gevent.killall([greenlet for greenlet in greenlets.values() if not greenlet.dead])
    results.update((name, greenlet.value) for name, greenlet in greenlets.items())
    return results


class Engine:
    """Runs one chain once.

    Example
    -------
    >>> engine = Engine(build_chain("loopscan", plan), AcquisitionParameters(3, 0.1, Timing.FREE), print)
    >>> engine.prepare(); engine.run(); engine.stop()
    """

    def __init__(self, chain: AcquisitionChain, parameters: AcquisitionParameters, deliver: Callable[[Points, int], None],
                 sleep_time: float = 0.0):  # fmt: skip
        self._levels = chain.levels()
        self._devices = [device for level in self._levels for device in level]
        self._parameters = parameters
        self._deliver = deliver
        self._sleep_time = sleep_time
        self._checks = {device.name: BlockCheck(device.name, device.channels) for device in self._devices}
        self._assembler = PointAssembler(chain.fullnames())
        self.points = 0  # whole points handed on

    def prepare(self) -> None:
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
        while npoints == 0 or self.points < npoints:
            self._trigger()
            self._collect()
            if self._sleep_time:
                gevent.sleep(self._sleep_time)

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
        for level in self._levels:
            each(level, lambda device: device.trigger())

    def _collect(self) -> int:
        """Wait for and read every object, level by level; hand on the points now whole. Return how many
        values came in."""
        blocks: dict[str, tuple[Block, int]] = {}
        for level in self._levels:
            blocks.update(each(level, self._wait_and_read))
        points, count = self._assembler.add(blocks)
        if count:
            self._deliver(points, count)
            self.points += count
        return sum(count for _, count in blocks.values())

    def _wait_and_read(self, device: AcquisitionObject) -> tuple[Block, int]:
        device.wait_ready()
        block = device.read()
        return block, self._checks[device.name](block)
