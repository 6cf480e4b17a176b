"""A motor served by a Tango device, behind the ``Axis`` interface: BLISS's axis server, Sardana's Pool or any motor.

The device says what it is (``tango_motor_interface``). Where its server keeps user positions, offset, sign
and limits (BLISS's, Sardana's), they are the server's: the shell reads and sets them there and adds nothing
on top. A device that only has ``Position`` (and ``State``, ``Stop``) is the shell's dial, with the shell's
offset, sign and limits on top, as a simulation motor has them.

A move ends when the server says so: after ``Stop`` or Ctrl-C the motor is waited for until it has left
MOVING (a real motor decelerates), and a move that ends in FAULT, ALARM, OFF or on a limit switch raises
``MotorStopped``, one line naming the motor, where it stopped and why.

Clients use PyTango's gevent green mode, so a Tango call waits in its greenlet only.

Examples
--------
A scan, a command or a user's script need not know which kind of motor it has:

>>> from bliss_shell.controllers import Axis
>>> isinstance(roby, Axis)
True
"""

from __future__ import annotations

import contextlib
import math
import numbers
import time
from typing import Any

import gevent
import tango

from bliss_shell.config import ConfigNode

from .axis import OffsetAxis, _checked_sign, _number
from .tango_client import TangoClient, TangoDeviceError
from .tango_motor_interface import MotorInterface

_FIRST_POLL = 0.0005  # a short move is seen soon...
_POLL = 0.005  # ...a long one costs few calls
_SETTLE = 0.02  # s between two reads of a position that must agree: longer than Sardana's motion loop (0.01 s)
_SETTLE_TIMEOUT = 2.0  # s a position may take to settle once the server said the motor rests
_READY = (tango.DevState.ON, tango.DevState.STANDBY)
_NO_UNIT = ("", "No unit", "uu")  # "uu" (user units) is what BLISS's server declares whatever the axis's unit
_NOT_SPECIFIED = "Not specified"  # Tango's word for an attribute config's min_value or max_value not set


class MotorStopped(RuntimeError):
    """A move ended otherwise than at rest and ready: FAULT, ALARM, OFF, a limit switch, or a stop that never ended."""


def tango_motor(node: ConfigNode) -> TangoMotor:
    """The motor of config ``class: TangoMotor``: a ``ServerMotor`` when its server keeps user positions, else a ``TangoMotor``.

    Examples
    --------
    >>> tango_motor(config.get_config("roby"))  # doctest: +SKIP
    TangoMotor('roby', id00/motor/roby, bliss)
    """
    device = TangoClient(node)
    attributes, commands = device.names()
    interface = MotorInterface.learn(node.name, device.url, attributes, commands, node.get("motor_interface"))
    kind = ServerMotor if interface.holds_user_positions else TangoMotor
    return kind(node, device, interface)


class TangoMotor(OffsetAxis):
    """A motor served by a Tango device (the demo's ``roby`` and ``robz``: our ``SimMotor``, as BLISS's axis server).

    Config: ``class: TangoMotor`` with ``tango_url``; optional ``motor_interface`` (``bliss``, ``sardana``,
    ``generic``: what the device is, else learnt from it), ``velocity``, ``acceleration``, ``low_limit``,
    ``high_limit`` (dial), ``unit`` (else the unit of ``Position``'s attribute config), ``offset`` and
    ``sign`` (1 or -1; only where the server keeps none), ``tolerance``, ``velocity_high_limit``,
    ``stop_timeout`` (s to wait for the motor at rest after a stop, default 10). Velocity and acceleration
    are written to the device when the motor is built, and what the user set since (settings) wins over
    the config's.

    This class drives a ``generic`` device: its ``Position`` is the dial, the offset, sign and limits are
    the shell's (user = sign * dial + offset; ``dial = ...`` keeps the user position, as BLISS's).
    ``ServerMotor`` drives BLISS's and Sardana's, which keep their own.

    Examples
    --------
    >>> roby  # doctest: +SKIP
    TangoMotor('roby', id00/motor/roby, bliss)
    >>> mv(roby, 1)  # doctest: +SKIP
    Moving roby from ... to 1.00000
    >>> roby.position, roby.velocity, roby.state  # doctest: +SKIP
    (1.0, 2500.0, 'READY')
    """

    _target: float | None = None  # the device's Position the move under way goes to
    _switches: tuple[str, ...] = ()  # attributes that say the motor rests on a limit switch (BLISS's server)
    arrived_at: float | None = None  # the user position read when the last move or stop came to rest; None: moving

    def __init__(self, node: ConfigNode, device: TangoClient, interface: MotorInterface):
        super().__init__(node)
        self._device = device
        self.interface = interface
        self.url = device.url
        self.stop_timeout = float(node.get("stop_timeout", 10.0))
        self._shell_limits = [float(node.get("low_limit", -math.inf)), float(node.get("high_limit", math.inf))]
        self._restore()
        self.unit: str | None = node.get("unit") or self._device_unit()

    def __repr__(self) -> str:
        return f"TangoMotor({self.name!r}, {self.url}, {self.interface.kind})"

    def _device_unit(self) -> str | None:
        """The unit of ``Position``'s attribute config, else what BLISS's server gives as its axis's config unit."""
        unit = self._device.attribute_config("Position").unit
        if unit in _NO_UNIT and self.interface.has("ReadConfig"):
            unit = self._device.command("ReadConfig", "unit") or ""
        return None if unit in _NO_UNIT else unit

    def _needs(self, name: str) -> str:
        if not self.interface.has(name):
            raise AttributeError(f"{self.name}: Tango device {self.url} has no {name}")
        return name

    def _read(self, name: str) -> float:
        if name == "velocity":
            return float(self._device.read(self._needs("Velocity")))
        if name == "acceleration":
            return self._acceleration()
        return self._shell_limits[name == "high_limit"]

    def _write(self, name: str, value: float) -> None:
        if name == "velocity":
            self._device.write(self._needs("Velocity"), value)
        elif name == "acceleration":
            self._write_acceleration(value)
        else:
            self._shell_limits[name == "high_limit"] = value

    def _acceleration(self) -> float:
        return float(self._device.read(self._needs("Acceleration")))

    def _write_acceleration(self, value: float) -> None:
        self._device.write(self._needs("Acceleration"), value)

    def _read_dial(self) -> float:
        return float(self._device.read("Position"))

    def _set_dial(self, dial: float) -> dict[str, float]:
        if not self.interface.has("DefinePosition"):
            raise AttributeError(
                f"{self.name}: Tango device {self.url} has no DefinePosition: its position cannot be redefined "
                f"(call the position something else with {self.name}.position = ...)"
            )
        self._device.command("DefinePosition", dial)
        return {}  # the device keeps its dial

    def _move_dial(self, target: float) -> None:
        self._target, self.arrived_at = target, None
        self._device.write("Position", target)

    def move(self, target: float, wait: bool = True) -> None:
        """Move to ``target``; with ``wait``, return once it rests: Ctrl-C then stops it and waits until it rests."""
        super().move(target, wait=False)
        if wait:
            self._wait_resting()

    @property
    def state(self) -> str:
        """``MOVING``, ``READY`` (the device ON or STANDBY), else the device's state (``FAULT``, ``ALARM``, ``OFF``, ...)."""
        state = self._device.state()
        if state == tango.DevState.MOVING:
            return "MOVING"
        return "READY" if state in _READY else str(state)

    def wait_move(self) -> float:
        """Where the move came to rest (the user position), once the device left MOVING at rest and ready.

        Else ``MotorStopped`` says where and why. An interrupted wait (Ctrl-C) tells the motor to stop; who
        waits for several motors stops them all and waits until they rest (``stop_all``).
        """
        try:
            state = self._wait_still(None)
        except (KeyboardInterrupt, gevent.GreenletExit):
            self.stop(wait=False)
            raise
        return self._check_rest(state)

    def _wait_resting(self) -> float:
        """``wait_move``, and after Ctrl-C the wait until the motor rests (one motor, nobody else to do it)."""
        try:
            return self.wait_move()
        except (KeyboardInterrupt, gevent.GreenletExit):
            with contextlib.suppress(Exception):  # it cannot be stopped: the interrupt still goes on, Stop was sent
                self.stop()
            raise

    def stop(self, wait: bool = True) -> None:
        """Stop the motor (the device's ``Stop``); with ``wait``, return once it rests (it may decelerate a while)."""
        self._target = None
        self._device.command("Stop")
        if wait:
            self._wait_still(time.monotonic() + self.stop_timeout)
            if self.arrived_at is None:  # it was moving: where it rests
                self.arrived_at = self._user(self._settled(float(self._device.read("Position"))))

    def _wait_still(self, deadline: float | None) -> tango.DevState:
        """The device's state once it is no longer MOVING; ``MotorStopped`` if it still moves at ``deadline``."""
        poll = _FIRST_POLL
        while (state := self._device.state()) == tango.DevState.MOVING:
            if deadline is not None and time.monotonic() > deadline:
                raise MotorStopped(f"{self.name}: still MOVING {self.stop_timeout:g} s after Stop ({self._device.status()})")
            gevent.sleep(poll)
            poll = min(2 * poll, _POLL)
        return state

    def _check_rest(self, state: tango.DevState) -> float:
        """Where the move ended (the user position, kept as ``arrived_at``), or ``MotorStopped`` saying why it ended elsewhere."""
        position, *switches = self._device.read_many(["Position", *self._switches])  # one call
        position = float(position)
        elsewhere = self._target is None or abs(position - self._target) > self.tolerance
        if state not in _READY or any(switches) or elsewhere:
            position = self._settled(position)
        at = self._user(position)
        if state not in _READY:
            raise MotorStopped(self._stopped(f"in {state}", at, self._device.status()))
        if any(switches):
            side = "low" if switches[0] else "high"
            raise MotorStopped(self._stopped(f"on its {side} limit switch", at, self._device.status()))
        self.arrived_at = at
        return at

    def _settled(self, position: float) -> float:
        """The device's Position once two reads ``_SETTLE`` apart agree within ``tolerance``, from ``position`` just read.

        A server may say a motor rests before its position does: Sardana's Pool says ON after a stop while it
        still shows the position of its motion loop's last round (measured: 0.05-0.15 units behind at 20 units/s).
        """
        deadline = time.monotonic() + _SETTLE_TIMEOUT
        while True:
            gevent.sleep(_SETTLE)
            now = float(self._device.read("Position"))
            if abs(now - position) <= self.tolerance:
                return now
            if time.monotonic() > deadline:
                raise MotorStopped(
                    f"{self.name}: its position still changes {_SETTLE_TIMEOUT:g} s after the server said it rests "
                    f"({position:g}, then {now:g}): look at the controller, or raise the motor's tolerance ({self.tolerance:g})"
                )
            position = now

    def _user(self, position: float) -> float:
        """The user position of a device's Position: here the dial, with the shell's sign and offset."""
        return self.dial2user(position)

    def _stopped(self, how: str, at: float, why: str) -> str:
        where = f" at {at:.{self.display_digits}f}"
        lines = [line.strip() for line in why.splitlines() if line.strip()]
        if len(lines) > 2:  # a traceback (Sardana's FAULT status): what it is and its last line, the error
            lines = [lines[0], lines[-1]]
        why = "; ".join(lines)  # one line, whatever the server wrote
        return f"{self.name}: stopped {how}{where}: {why or 'no status given'}"


class ServerMotor(TangoMotor):
    """A motor whose server keeps user positions, offset, sign and limits: BLISS's axis server, Sardana's Pool.

    The device's ``Position`` is the user position; ``dial``, ``offset``, ``sign`` and ``limits`` are read
    and set on the server (BLISS: ``Limits``, ``SetPosition``, ``SetDial``; Sardana: ``Position``'s
    ``min_value``/``max_value``, ``Offset``, ``Sign``, ``DefinePosition``). Velocity, acceleration and the
    limits are written to the server when the motor is built as a ``TangoMotor``'s are: what the user set
    in the shell, else the config's ``velocity``, ``acceleration``, ``low_limit``, ``high_limit`` (dial);
    none of them given, the server's own stay. The offset and the sign are never written at build.

    Examples
    --------
    >>> mot01  # doctest: +SKIP
    TangoMotor('mot01', motor/motctrl01/1, sardana)
    >>> mot01.position = 5  # doctest: +SKIP
    >>> mot01.offset, mot01.dial  # doctest: +SKIP
    (5.0, 0.0)
    """

    _known_limits: tuple[float, float] | None = None  # the limits as last read from the server

    def __init__(self, node: ConfigNode, device: TangoClient, interface: MotorInterface):
        if "offset" in node:
            raise ValueError(
                f"{node.where}: {node.name}: the offset is the server's on a {interface.kind} motor ({device.url}): "
                f"remove offset from the config, and call a position what it is with {node.name}.position = ..."
            )
        if "sign" in node:
            raise ValueError(
                f"{node.where}: {node.name}: the sign is the server's on a {interface.kind} motor ({device.url}): "
                "remove sign from the config: the server's applies"
            )
        if interface.kind == "bliss":  # BLISS's server says ON on a limit switch: its flags tell
            self._switches = ("HardLimitLow", "HardLimitHigh")
        super().__init__(node, device, interface)

    def _restore(self) -> None:
        saved = self.settings.get_all()
        self._write_kept(saved, ("velocity", "acceleration"))
        kept = {name: saved.get(name, self._config.get(name)) for name in ("low_limit", "high_limit")}
        if any(value is not None for value in kept.values()):
            low, high = self.dial_limits
            given = (kept["low_limit"], kept["high_limit"])
            self._write_user_limits(*self._user_limits(float(low if given[0] is None else given[0]),
                                                       float(high if given[1] is None else given[1])))  # fmt: skip

    def _acceleration(self) -> float:
        if self.interface.kind == "sardana":  # Sardana's Acceleration is the time to reach the velocity
            return self.velocity / float(self._device.read("Acceleration"))
        return super()._acceleration()

    def _write_acceleration(self, value: float) -> None:
        if self.interface.kind == "sardana":
            self._device.write("Acceleration", self.velocity / value)
        else:
            super()._write_acceleration(value)

    @property
    def offset(self) -> float:
        """User position minus sign * dial, as the server has it."""
        return float(self._device.read("Offset"))

    @property
    def sign(self) -> int:
        """+1 or -1: user = sign * dial + offset, as the server has it (Sardana's can be set; BLISS's is in its config)."""
        return int(self._device.read("Sign"))

    @sign.setter
    def sign(self, value: int) -> None:
        value = _checked_sign(self.name, value)
        if self.interface.kind != "sardana":
            raise AttributeError(f"{self.name}: the sign of a BLISS axis is set in the axis server's config ({self.url})")
        self._device.write("Sign", value)

    @property
    def position(self) -> float:
        """The user position, as the server has it. ``mot.position = 0`` calls where the motor is 0 (the offset changes)."""
        return float(self._device.read("Position"))

    @position.setter
    def position(self, user: float) -> None:
        user = _number(self.name, "position", user)
        if self.interface.kind == "bliss":
            self._device.command("SetPosition", user)
        else:
            self._device.write("Offset", user - self.sign * self.dial)

    @property
    def dial(self) -> float:
        """The controller's position. ``mot.dial = 0`` tells the controller it is at 0 (nothing moves).

        What else changes is the server's rule: BLISS's keeps the user position (the offset changes), Sardana's
        keeps the offset (the user position follows).
        """
        if self.interface.kind == "sardana":
            return float(self._device.read("DialPosition"))
        user, offset, sign = self._device.read_many(["Position", "Offset", "Sign"])
        return (float(user) - float(offset)) * int(sign)

    @dial.setter
    def dial(self, value: float) -> None:
        value = _number(self.name, "dial", value)
        if self.interface.kind == "bliss":
            self._device.command("SetDial", value)
        else:  # Sardana's DefinePosition takes a user position and loads its dial into the controller
            self._device.command("DefinePosition", self.sign * value + self.offset)

    @property
    def limits(self) -> tuple[float, float]:
        """``(low, high)`` in user positions, as the server has them (BLISS: ``Limits``; Sardana: ``Position``'s config)."""
        if self.interface.kind == "bliss":
            low, high = (float(value) for value in self._device.read("Limits"))
        else:
            config = self._device.attribute_config("Position")
            low, high = _bound(config.min_value, -math.inf), _bound(config.max_value, math.inf)
        self._known_limits = (low, high)
        return low, high

    @limits.setter
    def limits(self, limits: tuple[float, float]) -> None:
        low, high = self._checked_limits(limits)
        self._write_user_limits(low, high)
        dial_low, dial_high = self._dial_limits_of(low, high)
        self._store(low_limit=dial_low, high_limit=dial_high)

    @property
    def dial_limits(self) -> tuple[float, float]:
        """The limits in dial positions: ``(limits - offset) * sign``, low first."""
        return self._dial_limits_of(*self.limits)

    @dial_limits.setter
    def dial_limits(self, limits: tuple[float, float]) -> None:
        self.limits = self._user_limits(*self._checked_limits(limits))

    def _write_user_limits(self, low: float, high: float) -> None:
        if self.interface.kind == "bliss":
            self._device.write("Limits", [low, high])
            return
        config = self._device.attribute_config("Position")
        config.min_value, config.max_value = (_NOT_SPECIFIED if math.isinf(v) else repr(v) for v in (low, high))
        self._device.set_attribute_config(config)

    def move(self, target: float, wait: bool = True) -> None:
        """Move to user position ``target`` (checked against the server's limits first); wait unless ``wait`` is False.

        The check takes the limits as last read (a scan reads them before its first point), so a move costs
        no read of them: the server refuses a target outside its own, and a target refused either way is
        checked against the limits read again, so the refusal names them as they are now.
        """
        if not _within(self._known_limits, target):
            self.check_target(target)  # reads them again: raises naming them
        self._target, self.arrived_at = float(target), None
        try:
            self._device.write("Position", float(target))
        except TangoDeviceError:
            with contextlib.suppress(TangoDeviceError):  # a device that stopped answering: its first error says so
                self.check_target(target)  # limits changed on the server since they were read: refused naming them
            raise
        if wait:
            self._wait_resting()

    def _user(self, position: float) -> float:
        """The device's Position is the user position."""
        return position

    def apply_config(self) -> None:
        """Forget the settings: velocity, acceleration and limits go back to the config's where it gives them."""
        self.settings.clear()
        self._restore()

    def sync_hard(self) -> None:
        """Take velocity, acceleration and limits from the server again into the settings (the offset is the server's)."""
        low, high = self.dial_limits
        self._store(velocity=self.velocity, acceleration=self.acceleration, low_limit=low, high_limit=high)

    def _store(self, **values: float) -> None:
        self.settings.set(**values)


def _bound(value: Any, none: float) -> float:
    """A limit from an attribute config's ``min_value``/``max_value`` (``Not specified``: none)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return none


def _within(limits: tuple[float, float] | None, target: Any) -> bool:
    """Whether ``target`` is a number (not a bool) between ``limits`` (None: not known); NaN is not."""
    if limits is None or isinstance(target, bool) or not isinstance(target, numbers.Real):
        return False
    return limits[0] <= float(target) <= limits[1]
