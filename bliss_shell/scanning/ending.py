"""Ending a scan and Ctrl-C: what must run whatever happens, and what the user is told.

A first Ctrl-C aborts the scan: the devices are stopped, the file and Redis record the abort,
``dscan`` motors go back. A second Ctrl-C while that happens skips the waits (devices,
display, the return of the motors); the file and Redis still say how the scan ended, and a
return it stopped says where each motor is. A Ctrl-C once every point was taken (the display
catching up) skips the waits but not the return: the scan stays ``done``, its motors go back,
then the ``KeyboardInterrupt`` stops the macro; a second one stops the return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gevent

from bliss_shell.controllers import Axis, wait_all

from .consumers import Ending, EndState, ScanStart
from .scan_info import end_reason
from .subscriptions import ConsumerError, RunningConsumer
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


def end_consumers(consumers: Sequence[RunningConsumer], ending: Ending, start: ScanStart,
                  forced: bool) -> tuple[bool, ConsumerError | None]:  # fmt: skip
    """End every consumer in its turn and the scan's node; return whether Ctrl-C forced, and a data consumer's failure.

    The data consumers first: the others, then the scan's record keepers in order (the cameras' frames
    give the file its links; the file then knows every failure); then the node's final info and END,
    then the observers that always end (the logbook), all even through a second Ctrl-C; then the other
    observers (the display), which a second Ctrl-C skips. A data consumer's failure makes a ``done``
    scan ``failed`` (reason ``ConsumerError: <name> consumer: ...``), and the next ones are told; after an
    abort or another failure it is one warning line naming it, as is Redis refusing the END.
    """
    failure: ConsumerError | None = None
    data = [consumer for consumer in consumers if consumer.subscription.data]
    for consumer in sorted(data, key=lambda consumer: consumer.subscription.record):  # stable: in order otherwise
        forced |= shielded(lambda: consumer.end(ending))  # noqa: B023  (called here, in this round)
        incomplete = consumer.failure
        if incomplete and ending.state is EndState.DONE:
            failure = ConsumerError(incomplete)
            ending.state, ending.reason = state_of(failure)
        elif incomplete and incomplete not in ending.reason:  # the first cause stays the scan's reason
            print(f"WARNING: {incomplete}; the scan ended {ending.state.value}: {ending.reason}", flush=True)

    def end_node() -> None:
        try:
            ending.scan_info["end_reason"] = end_reason(ending.state)  # a consumer's end may have failed the scan
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


def return_motors(return_to: Mapping[Axis, float] | None, aborted: bool) -> None:
    """``dscan``, ``dmesh``, ``lineup``: every motor back where it was, all together.

    Ctrl-C (the second one after an aborted scan, or after one during a finished scan's end) stops them:
    one line per motor says where it is, and the ``KeyboardInterrupt`` goes on.
    """
    if not return_to:
        return
    for axis, target in return_to.items():
        axis.move(target, wait=False)
    try:
        wait_all(return_to)
    except KeyboardInterrupt:
        for axis, target in return_to.items():
            print(returned(axis, target, aborted), flush=True)
        raise


def returned(axis: Axis, target: float, aborted: bool) -> str:
    """Where a motor whose return Ctrl-C stopped is (``aborted``: a Ctrl-C came first, the scan's or during its end).

    Examples
    --------
    >>> roby.move(2.5)
    >>> returned(roby, 5, aborted=True)
    'roby: return to 5.00000 stopped by a second Ctrl-C at 2.50000'
    >>> returned(roby, 2.5, aborted=False)
    'roby: back at 2.50000'
    """
    where = _where(axis)
    if where == position(target):
        return f"{axis.name}: back at {where}"
    return f"{axis.name}: return to {position(target)} stopped by {'a second ' if aborted else ''}Ctrl-C at {where}"


def where_things_stand(number: int | None, axes: list[Axis], return_to: Mapping[Axis, float] | None, frames: Mapping[str, int],
                       forced: bool) -> str:  # fmt: skip
    """After Ctrl-C: where each motor stopped and how many frames each detector took."""
    lines = [f"Scan {number} aborted{' (forced: not waiting for the devices)' if forced else ''}."]
    for axis in axes:
        going_back = f", going back to {position(return_to[axis])}" if return_to and not forced else ""
        lines.append(f"  {axis.name} stopped at {_where(axis)}{going_back}")
    for detector, count in frames.items():
        lines.append(f"  {detector}: {count} frames taken")
    return "\n".join(lines)


def interrupted_end(number: int | None, state: str, return_to: Mapping[Axis, float] | None) -> str:
    """After a Ctrl-C while a scan that was not aborted ended: its waits skipped, its motors still going back.

    Examples
    --------
    >>> print(interrupted_end(7, "done", {roby: 0.0}))
    Scan 7 done; Ctrl-C during its end: its waits skipped
      roby going back to 0.00000
    """
    lines = [f"Scan {number} {state}; Ctrl-C during its end: its waits skipped"]
    lines.extend(f"  {axis.name} going back to {position(target)}" for axis, target in (return_to or {}).items())
    return "\n".join(lines)


def _where(axis: Axis) -> str:
    """The motor's position as shown, or why it is unknown."""
    try:
        return position(axis.position)
    except Exception as error:  # its server is gone
        return f"an unknown position ({error})"
