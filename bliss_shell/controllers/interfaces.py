"""The small interfaces the scan engine drives; Tango and simulation devices both implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

import gevent

from bliss_shell.config import ConfigNode

from .acquisition import CounterController


@runtime_checkable
class Axis(Protocol):
    """A motor: what a scan needs to move it and to name its channel, and what ``wm`` shows.

    Positions and limits are user values: user = sign * dial + offset (``controllers/axis.py``).
    """

    name: str
    unit: str | None
    offset: float
    sign: int  # 1 or -1
    velocity: float  # units/s, settable (continuous scans set it for their run)
    acceleration: float
    velocity_limit: float  # config ``velocity_high_limit``; inf when not given
    display_digits: int  # decimals of its positions in titles (from config ``tolerance``, default 1e-4: 4)

    @property
    def position(self) -> float:
        """The user position, read from the controller."""

    @property
    def dial(self) -> float:
        """The controller's position: (user position - ``offset``) * ``sign``."""

    @property
    def limits(self) -> tuple[float, float]:
        """The user limits ``(low, high)``: the dial limits in user positions."""

    @limits.setter
    def limits(self, limits: tuple[float, float]) -> None:
        """``set_lim``: the dial limits follow, by the offset and sign."""

    @property
    def dial_limits(self) -> tuple[float, float]:
        """The limits ``(low, high)`` in dial positions: config ``low_limit``, ``high_limit``, or what the user set."""

    @property
    def state(self) -> str:
        """``READY``, ``MOVING`` or the controller's fault, read from the controller (what ``sta`` shows)."""

    def sync_hard(self) -> None:
        """Take what the controller has now (velocity, acceleration, limits) into the settings (``sync``)."""

    def check_target(self, target: float) -> None:
        """Raise ValueError naming the axis, target and limits when the target is refused."""

    def move(self, target: float, wait: bool = True) -> None:
        """Move to user position ``target``, checked first; return when it arrived unless ``wait`` is False."""

    def wait_move(self) -> float | None:
        """Return when the move under way is over: where it rests when the controller said so (else None).

        Ctrl-C tells the motor to stop; ``stop_all`` waits until it rests.
        """

    def stop(self, wait: bool = True) -> None:
        """Stop the motor; with ``wait``, return once it rests (a real motor decelerates first)."""


def wait_all(axes: Iterable[Axis]) -> list[float | None]:
    """Wait for the moves of all ``axes`` at once: where each rests (``wait_move``'s answer), in order.

    The first that fails ends the wait for all: the others are told to stop and its error is raised (the
    caller then waits until every motor rests, ``stop_all``). Ctrl-C tells every motor to stop.

    Examples
    --------
    >>> roby.move(1, wait=False); robz.move(2, wait=False)
    >>> wait_all([roby, robz])
    [None, None]
    """
    axes = list(axes)
    if len(axes) == 1:  # the usual step scan: no greenlet needed
        return [axes[0].wait_move()]
    waits = [gevent.spawn(_outcome, axis.wait_move) for axis in axes]
    try:
        for finished in gevent.iwait(waits):
            if isinstance(finished.value, BaseException):
                raise finished.value
    finally:
        gevent.killall([wait for wait in waits if not wait.dead])  # each told to stop (its wait_move sees GreenletExit)
    return [wait.value for wait in waits]


def _outcome(call: Callable[[], Any]) -> Any:
    """What ``call`` returns, or the error it raises (so that gevent prints no traceback of a failed greenlet)."""
    try:
        return call()
    except Exception as error:
        return error


def stop_all(axes: Iterable[Axis]) -> dict[str, str]:
    """Tell every motor to stop, then wait for each until it rests; what could not be stopped, by motor name.

    All are told first, so that none runs on while another decelerates. A motor that cannot be stopped (its
    server died) does not keep the others going: its error is returned, not raised.

    Examples
    --------
    >>> roby.move(50, wait=False)
    >>> stop_all([roby, robz])
    {}
    >>> roby.state
    'READY'
    """
    axes = list(axes)
    failures: dict[str, str] = {}
    for wait in (False, True):
        for axis in axes:
            try:
                if axis.name not in failures:
                    axis.stop(wait=wait)
            except Exception as error:
                failures[axis.name] = str(error)
    return failures


@runtime_checkable
class Counter(Protocol):
    """A counter: what a scan counts.

    Its ``controller`` makes the scan's acquisition object for all the counters of that
    controller the scan counts (``controllers/acquisition.py``).

    A 2D detector (Lima) is a counter whose channel holds frame references.
    """

    name: str
    fullname: str  # ``controller:name`` (``diode:diode``), as BLISS's and as the scan's data names its channel
    controller_name: str
    unit: str | None
    dtype: str
    shape: tuple[int, ...]

    @property
    def controller(self) -> CounterController:
        """What reads it in a scan, together with the other counters of that controller."""


class ConfiguredCounter:
    """What every counter takes from its config: name, controller (default: its own name), unit; its ``fullname``.

    Scalar float64 unless a subclass says otherwise. A subclass sets ``controller``.
    """

    dtype = "float64"
    shape: tuple[int, ...] = ()
    controller: CounterController

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.controller_name: str = node.get("controller", node.name)
        self.unit: str | None = node.get("unit")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def fullname(self) -> str:
        """``diode:diode``, ``p201:ct1``: its controller's name and its own, as BLISS's and its channel in the scan's data."""
        return f"{self.controller_name}:{self.name}"


def looks_like(value: Any, protocol: type) -> bool:
    """``isinstance(value, protocol)`` decided without running the object's code.

    ``isinstance`` on a runtime protocol reads every member, and for an arbitrary object of the
    namespace a read can be a Tango or Redis call (``SCAN_SAVING`` reads Redis), which fails when
    that server is down. Here only the class and the instance's own ``__dict__`` are looked at.
    """
    members = set(getattr(protocol, "__annotations__", {})) | {
        name for name, member in vars(protocol).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }  # fmt: skip
    kind = type(value)
    own = getattr(value, "__dict__", {})
    return all(hasattr(kind, name) or name in own for name in members)
