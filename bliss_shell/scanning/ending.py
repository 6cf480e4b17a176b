"""Ending a scan and Ctrl-C: what must run whatever happens, and what the user is told.

A first Ctrl-C aborts the scan: the devices are stopped, the file and Redis record the abort,
``dscan`` motors go back. A second Ctrl-C while that happens skips the waits (devices,
display, the return of the motors); the file and Redis still say how the scan ended.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gevent

from bliss_shell.controllers import Axis, wait_all

from .consumers import Ending, EndState, ScanStart
from .subscriptions import RunningConsumer
from .tables import position


def state_of(error: BaseException | None) -> tuple[EndState, str]:
    """The end state and reason a scan's exception (or its absence) stands for."""
    if error is None:
        return EndState.DONE, ""
    if isinstance(error, (KeyboardInterrupt, gevent.GreenletExit)):
        return EndState.ABORTED, "interrupted by user (Ctrl-C)"
    return EndState.FAILED, f"{type(error).__name__}: {error}"


def shielded(step: Callable[[], Any]) -> bool:
    """Run a step that Ctrl-C must not cut short (it records how the scan ended); True if Ctrl-C came meanwhile."""

    def run() -> BaseException | None:
        try:
            step()
        except BaseException as error:  # handed to the scan's greenlet, which reports it
            return error
        return None

    worker = gevent.spawn(run)
    interrupted = False
    while True:
        try:
            error = worker.get()
        except KeyboardInterrupt:
            interrupted = True
            continue
        if error is not None:
            raise error
        return interrupted


def interruptible(step: Callable[[], Any]) -> bool:
    """Run a step a second Ctrl-C may skip; True if it did."""
    try:
        step()
    except KeyboardInterrupt:
        return True
    return False


def end_consumers(consumers: Sequence[RunningConsumer], ending: Ending, start: ScanStart, forced: bool) -> tuple[bool, str]:
    """End every consumer in its turn and the scan's node; return whether Ctrl-C forced, and a data consumer's failure.

    The data consumers first, in order (the file before the others), then the node's final info and END,
    then the observers that always end (the logbook), all even through a second Ctrl-C; then the other
    observers (the display), which a second Ctrl-C skips. A data consumer's failure makes a ``done``
    scan ``failed``, and the next ones are told; Redis refusing the END is one warning line.
    """
    failure = ""
    for consumer in (c for c in consumers if c.subscription.data):
        forced |= shielded(lambda: consumer.end(ending))  # noqa: B023  (called here, in this round)
        incomplete = consumer.failure
        if incomplete and ending.state is EndState.DONE:
            ending.state, ending.reason = EndState.FAILED, incomplete
            failure = incomplete

    def end_node() -> None:
        try:
            start.publisher.set_info(start.db_name, ending.scan_info)
            start.publisher.end(start.db_name, ending.state.value, ending.reason)
        except Exception as error:  # what stopped its sender (Redis refused a command: NOPERM, ...)
            print(f"WARNING: scan {start.number}: its end did not reach Redis ({type(error).__name__}: {error}); the "
                  "rest of its end goes on", flush=True)  # fmt: skip

    forced |= shielded(end_node)
    for consumer in (c for c in consumers if c.subscription.essential and not c.subscription.data):
        forced |= shielded(lambda: consumer.end(ending))  # noqa: B023  (called here, in this round)
    for consumer in (c for c in consumers if not c.subscription.essential):
        if not forced:
            forced = interruptible(lambda: consumer.end(ending))  # noqa: B023  (called here, in this round)
    return forced, failure


def return_motors(return_to: Mapping[Axis, float] | None) -> None:
    """``dscan``, ``dmesh``, ``lineup``: every motor back where it was, all together."""
    if return_to:
        for axis, target in return_to.items():
            axis.move(target, wait=False)
        wait_all(return_to)


def where_things_stand(number: int | None, axes: list[Axis], return_to: Mapping[Axis, float] | None, frames: Mapping[str, int],
                       forced: bool) -> str:  # fmt: skip
    """After Ctrl-C: where each motor stopped and how many frames each detector took."""
    lines = [f"Scan {number} aborted{' (forced: not waiting for the devices)' if forced else ''}."]
    for axis in axes:
        going_back = f", going back to {position(return_to[axis])}" if return_to and not forced else ""
        try:
            where = position(axis.position)
        except Exception as error:  # its server is gone
            where = f"an unknown position ({error})"
        lines.append(f"  {axis.name} stopped at {where}{going_back}")
    for detector, count in frames.items():
        lines.append(f"  {detector}: {count} frames taken")
    return "\n".join(lines)
