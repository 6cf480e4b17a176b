"""Motors, counters, counter cards and MCAs as the REST API's object types.

BLISS's rules where BLISS has the type: a motor's infinite limits are +-999999999 and ordered,
its state is a list (LIMPOS -> HIGHLIMIT...), a NaN position is None, ``move``/``rmove`` wait for
the end. Lima detectors are in ``mappings_lima``.

Examples
--------
>>> motor_limits((-math.inf, 5.0)), motor_limits((3.0, -2.0))
([-999999999, 5.0], [-2.0, 3.0])
>>> motor_states("LIMPOS"), motor_states("ALARM")
(['HIGHLIMIT'], ['_ALARM:Tango state ALARM'])
"""

from __future__ import annotations

import math
from typing import Any

from bliss_shell.controllers.counter_card import TIMER_CHANNEL, CardCounter, CounterCard
from bliss_shell.scanning.context import current

from .mappings_base import Mapped, hardware_ref
from .object_types import (
    CounterCardType,
    CounterType,
    McaType,
    MotorStates,
    MotorType,
    TangoAttrAsCounterType,
)

__all__ = ["CounterCardMapping", "CounterMapping", "McaMapping", "MotorInScan", "MotorMapping", "TangoAttrMapping"]

NO_LIMIT = 999999999  # BLISS's stand-in for an infinite limit (JSON has no infinity)
_STATE_NAMES = {"LIMPOS": "HIGHLIMIT", "LIMNEG": "LOWLIMIT", "DISABLE": "DISABLED"}


class MotorInScan(RuntimeError):
    """A move through the API of a motor that the running scan moves: refused, the scan goes on.

    Raised by `refuse_if_scanned`; the call's state is then a 500 with this text.

    Examples
    --------
    >>> try:
    ...     raise MotorInScan("roby is moved by the running scan 3 (ascan roby 0 4 5 0): wait for its end or kill it")
    ... except RuntimeError as refused:
    ...     print(type(refused).__name__, "-", refused)
    MotorInScan - roby is moved by the running scan 3 (ascan roby 0 4 5 0): wait for its end or kill it
    """


def refuse_if_scanned(axis: Any, name: str) -> None:
    """Raise :class:`MotorInScan` when a running scan of the session moves ``axis`` (one of its plan's motors).

    A move sent from a script or the web page between two points of a scan would make the scan's next
    move fail (the motor is moving) or the scan's points wrong: refused instead, at the call (BLISS has no
    such check; its ``locked`` comes from Beacon locks). A move typed at the prompt is not checked: the
    prompt is busy while a scan runs there.

    Examples
    --------
    >>> refuse_if_scanned(roby, "roby")  # no scan runs: nothing to say
    """
    try:
        scans = current().scans
    except RuntimeError:  # no session open (a doctest of the mappings alone): no scan runs
        return
    for scan in reversed(scans):
        if scan.state == "running" and any(moved is axis for moved in scan.plan.axes):
            raise MotorInScan(f"{name} is moved by the running scan {scan.number} ({scan.plan.title}): "
                              "wait for its end or kill it")  # fmt: skip


def motor_limits(limits: Any) -> list[float]:
    """BLISS's ``limits``: infinite ones as +-999999999, low first."""
    if limits is None:
        return [-NO_LIMIT, NO_LIMIT]
    values = [(NO_LIMIT if value > 0 else -NO_LIMIT) if math.isinf(value) else value for value in limits]
    return values[::-1] if values[0] > values[1] else values


def motor_states(state: str | None) -> list[str]:
    """BLISS's list of states of a motor from ours (one word: READY, MOVING, or the device's state)."""
    if state is None:
        return ["UNKNOWN"]
    name = _STATE_NAMES.get(state, state)
    return [name] if name in MotorStates else [f"_{state}:Tango state {state}"]


def _number_or_none(value: Any) -> float | None:
    return None if value is None or math.isnan(value) else value


class MotorMapping(Mapped):
    """Our motors (``OffsetAxis``: simulation and Tango motors) as BLISS's ``motor``.

    Examples
    --------
    >>> motor = MotorMapping(roby, "roby")
    >>> motor.get("state"), motor.get("limits"), motor.get("target") == roby.position
    (['READY'], [-100.0, 100.0], True)
    """

    TYPE = MotorType
    LIVE = ("position", "state", "target")

    def _get_position(self) -> float | None:
        return _number_or_none(self.object.position)

    def _get_state(self) -> list[str]:
        state = self.object.state
        self._now["raw_state"] = state
        return motor_states(state)

    def _get_target(self) -> float | None:
        """Where the move under way goes (user position); at rest, the position."""
        axis = self.object
        moving = self._now.get("raw_state", None)
        if moving is None:
            moving = axis.state
        if moving == "MOVING":
            move = getattr(axis, "_move", None)  # a simulation motor's move: a dial target
            if move is not None:
                return axis.dial2user(move.target)
            target = getattr(axis, "_target", None)
            if target is not None:
                user = type(axis).__name__ == "ServerMotor"  # its server keeps user positions
                return float(target) if user else axis.dial2user(target)
        position = self._now["position"] if "position" in self._now else self._get_position()
        return position

    def _get_acceleration(self) -> float | None:
        try:
            return self.object.acceleration
        except NotImplementedError:
            return None

    def _get_velocity(self) -> float | None:
        try:
            return self.object.velocity
        except NotImplementedError:
            return None

    def _get_limits(self) -> list[float]:
        return motor_limits(self.object.limits)

    def _get_unit(self) -> str | None:
        return getattr(self.object, "unit", None)

    def _set_target(self, value: float) -> None:
        raise AttributeError(f"{self.name}: target is where a move goes: move the motor instead ({self.name}.move({value:g}))")

    def _set_tolerance(self, value: float) -> None:
        if not 0 < value < math.inf:
            raise ValueError(f"{self.name}: tolerance must be a positive number, not {value:g}")
        self.object.tolerance = value

    def _set_offset(self, value: float) -> None:
        """A new offset: the user position changes, nothing moves (as BLISS's ``offset`` setter)."""
        axis = self.object
        axis.position = axis.sign * axis.dial + value

    def _call_move(self, value: float, **kwargs: Any) -> None:
        refuse_if_scanned(self.object, self.name)
        self.object.move(value, wait=True)

    def _call_rmove(self, value: float, **kwargs: Any) -> None:
        axis = self.object
        refuse_if_scanned(axis, self.name)
        axis.move(axis.position + value, wait=True)

    def _call_stop(self) -> None:
        self.object.stop()

    def _call_wait(self) -> None:
        self.object.wait_move()


class CounterMapping(Mapped):
    """Our counters (simulation counters, a card's channels...) as our ``counter``: what they are, no reading.

    Examples
    --------
    >>> CounterMapping(diode, "diode").get("shape")
    []
    """

    TYPE = CounterType

    def _get_fullname(self) -> str:
        return str(getattr(self.object, "fullname", self.name))

    def _get_unit(self) -> str | None:
        return getattr(self.object, "unit", None)

    def _get_dtype(self) -> str | None:
        dtype = getattr(self.object, "dtype", None)
        return None if dtype is None else str(dtype)

    def _get_shape(self) -> list[int]:
        return [int(v) for v in getattr(self.object, "shape", ())]

    def _get_mode(self) -> str | None:
        mode = getattr(self.object, "mode", None)
        return None if mode is None else str(getattr(mode, "value", mode))


class TangoAttrMapping(Mapped):
    """Our ``TangoCounter`` of a scalar attribute as BLISS's ``tango_attr_as_counter``.

    Examples
    --------
    >>> counter = TangoAttrMapping(diode, "diode")  # doctest: +SKIP
    >>> counter.get("attribute"), counter.call("get_metadata")["unit"]  # doctest: +SKIP
    ('value', 'mA')
    """

    TYPE = TangoAttrAsCounterType

    def _get_value(self) -> float:
        return float(self.object.device.read(self.object.attribute))

    def _get_unit(self) -> str | None:
        return self.object.unit

    def _call_get_metadata(self) -> dict[str, Any]:
        counter = self.object
        return {"name": counter.name, "url": counter.url, "attribute": counter.attribute, "unit": counter.unit}


def _device_state(device: Any) -> str:
    return str(device.state())


class CounterCardMapping(Mapped):
    """Our ``CounterCard`` as our ``countercard``: its channels (registered with it) and its timer.

    Examples
    --------
    >>> card = CounterCardMapping(p201, "p201", env={"p201": p201, "ct1": ct1, "ct_timer": ct_timer})  # doctest: +SKIP
    >>> card.sub_object_names(), card.get("timer")  # doctest: +SKIP
    (['ct1', 'ct_timer'], 'hardware:ct_timer')
    """

    TYPE = CounterCardType

    def __init__(self, obj: Any, name: str, env: dict[str, Any], user_tags: Any = ()):
        super().__init__(obj, name, user_tags)
        self._env = env

    def _channels(self) -> list[CardCounter]:
        found = {id(v): v for v in self._env.values() if isinstance(v, CardCounter) and v.controller is self.object}
        return sorted(found.values(), key=lambda counter: counter.channel)

    def _get_state(self) -> str:
        return _device_state(self.object.device)

    def _get_counters(self) -> list[str]:
        return [hardware_ref(counter.name) for counter in self._channels()]

    def _get_timer(self) -> str | None:
        timers = [counter.name for counter in self._channels() if counter.channel == TIMER_CHANNEL]
        return hardware_ref(timers[0]) if timers else None

    def sub_object_names(self) -> list[str]:
        """Its channels: registered with the card."""
        return [counter.name for counter in self._channels()]


class McaMapping(Mapped):
    """Our ``SimulationMCA`` and ``TangoMCA`` as our ``mca``.

    Examples
    --------
    >>> mca = McaMapping(simu1, "simu1")
    >>> mca.get("state"), mca.get("nbins"), mca.get("url")
    ('ON', 16, None)
    """

    TYPE = McaType

    def _get_state(self) -> str:
        device = getattr(self.object, "device", None)
        return "ON" if device is None else _device_state(device)

    def _get_url(self) -> str | None:
        return getattr(self.object, "url", None)

    def _get_nbins(self) -> int:
        return int(self.object.shape[0])

    def _get_dtype(self) -> str | None:
        dtype = getattr(self.object, "dtype", "float64")
        return str(dtype)

    def _get_unit(self) -> str | None:
        return getattr(self.object, "unit", None)


def is_card(obj: Any) -> bool:
    """Whether ``obj`` is a counter card."""
    return isinstance(obj, CounterCard)
