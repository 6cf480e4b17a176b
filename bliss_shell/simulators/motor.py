"""``SimMotor``: a motor device with the public interface of BLISS's Tango axis server, moving as the in-process simulation.

The names, types and states are those of ``BlissAxisManager``'s axis devices (BLISS 1.11.4,
``bliss/tango/servers/axis_ds.py``), for what a client of a motor uses; docs/tango.md has the table:

- ``Position`` (read/write, user units): a write starts a move (refused while MOVING or OFF, or outside
  ``Limits``); ``Velocity``, ``Acceleration`` (units/s2), ``AccTime`` (s); ``Offset`` (read/write: user =
  sign * dial + offset; a write keeps the dial), ``Sign`` (read only); ``Limits`` ([low, high] in user units,
  read/write; kept in dial units, so they follow the offset as BLISS's do); ``HardLimitLow``, ``HardLimitHigh`` (the limit switches); commands ``Stop`` and ``Abort``
  (the motor decelerates, MOVING until it rests), ``On``, ``Off``, ``SetPosition(user)`` and ``SetDial(dial)``
  (nothing moves; each returns the previous value; both keep the user position's meaning as the real server does:
  ``SetPosition`` changes the offset, ``SetDial`` keeps the user position and changes the offset too); ``ReadConfig(name)``
  (a value of the axis's config: ``unit``, ``velocity``, ``acceleration``; the unit is there, ``Position``'s own is ``uu``).
- States as the real server maps its axis states: ON (ready), MOVING, OFF, FAULT.

Simulator only: ``sim_hard_limits`` ([low, high] dial positions of the limit switches: a move stops there,
decelerating, with ``HardLimitLow``/``HardLimitHigh`` set), ``sim_unit`` (the axis's unit, which ``ReadConfig("unit")``
gives, as BLISS's server gives its axis's config) and ``sim_fault(message)`` (the controller fails now: the
motor stops where it is, state FAULT with the message as status, until ``On``).

Like a real controller it keeps its dial, offset and limits when its server restarts: they are written to
``$BLISS_SIM_MEMORY/<device>.json`` within half a second of a move, at once after a stop or a change,
and when the server ends. Without ``BLISS_SIM_MEMORY`` it starts at 0 with no limits.
"""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path

from tango import AttrWriteType, DevState, Except
from tango.server import Device, attribute, command

from bliss_shell.controllers.motion import Move

_SAVE_PERIOD = 0.5  # s


class SimMotor(Device):
    """One axis of BLISS's axis server; see the module docstring for the interface."""

    def init_device(self) -> None:
        """A motor at rest where it was left (``BLISS_SIM_MEMORY``, else 0), with no limits."""
        super().init_device()
        folder = os.environ.get("BLISS_SIM_MEMORY")
        self._memory = Path(folder) / f"{self.get_name().replace('/', '_')}.json" if folder else None
        kept = self._remembered()
        self._move = Move.still(float(kept.get("dial", 0.0)))
        self._offset = float(kept.get("offset", 0.0))
        self._dial_limits = [float(value) for value in kept.get("dial_limits", [-math.inf, math.inf])]
        self._hard_limits = [-math.inf, math.inf]
        self._saver: threading.Timer | None = None
        self._velocity = 1000.0
        self._acceleration = 1000.0
        self._fault: str | None = None
        self._unit = ""
        self.set_state(DevState.ON)

    # what BLISS's axis server computes from its axis: user = sign * dial + offset (the sign is +1 here)
    def _user(self, dial: float) -> float:
        return dial + self._offset

    def dev_state(self) -> DevState:
        """FAULT after ``sim_fault``, OFF after ``Off``, MOVING while it moves, else ON."""
        if self._fault is not None:
            return DevState.FAULT
        if self.get_state() == DevState.OFF:
            return DevState.OFF
        return DevState.ON if self._move.done() else DevState.MOVING

    def dev_status(self) -> str:
        """What the state means, as BLISS's server says it (the axis's states), or the fault's message."""
        state = self.dev_state()
        if state == DevState.FAULT:
            return f"FAULT: {self._fault}"
        switches = [
            f"{side} limit switch" for side, on in (("LIMNEG: low", self._at_low()), ("LIMPOS: high", self._at_high())) if on
        ]
        words = {
            DevState.ON: "READY: Axis is READY",
            DevState.MOVING: "MOVING: Axis is MOVING",
            DevState.OFF: "OFF: Axis power is off",
        }
        return "; ".join([words[state], *switches])

    def _at_low(self) -> bool:
        return self._move.position() <= self._hard_limits[0]

    def _at_high(self) -> bool:
        return self._move.position() >= self._hard_limits[1]

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE, unit="uu", format="%10.3f", label="Position")
    def Position(self) -> float:
        """The user position now, moving or not."""
        return self._user(self._move.position())

    @Position.write
    def Position(self, target: float) -> None:
        """Start a move to user position ``target``; refused while moving, OFF or in FAULT, or outside ``Limits``."""
        state = self.dev_state()
        if state != DevState.ON:
            Except.throw_exception("API_AttrNotAllowed", f"{self.get_name()}: cannot move in state {state}", "SimMotor.Position")
        low, high = self._user_limits()
        if not low <= target <= high:
            Except.throw_exception(
                "OUT_OF_LIMITS",
                f"{self.get_name()}: move to {target:g} would exceed limits ({low:g}, {high:g})",
                "SimMotor.Position",
            )
        dial = target - self._offset
        low_switch, high_switch = self._hard_limits
        self._move = Move(self._move.position(), min(max(dial, low_switch), high_switch), self._velocity, self._acceleration)
        if self._memory is not None and (self._saver is None or not self._saver.is_alive()):
            self._saver = threading.Timer(_SAVE_PERIOD, self._remember)  # a scan's moves cost no write each
            self._saver.start()

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE, unit="unit/s")
    def Velocity(self) -> float:
        """Units per second at full speed."""
        return self._velocity

    @Velocity.write
    def Velocity(self, value: float) -> None:
        """Set the velocity of the next moves; refused unless positive."""
        self._velocity = self._positive("Velocity", value)

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE, unit="user units/s^2")
    def Acceleration(self) -> float:
        """Units per second squared, speeding up and slowing down."""
        return self._acceleration

    @Acceleration.write
    def Acceleration(self, value: float) -> None:
        """Set the acceleration of the next moves; refused unless positive."""
        self._acceleration = self._positive("Acceleration", value)

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE, unit="s")
    def AccTime(self) -> float:
        """Seconds to reach the velocity."""
        return self._velocity / self._acceleration

    @AccTime.write
    def AccTime(self, value: float) -> None:
        """Set the acceleration from the time to reach the velocity."""
        self._acceleration = self._velocity / self._positive("AccTime", value)

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE, unit="uu")
    def Offset(self) -> float:
        """User position minus sign * dial."""
        return self._offset

    @Offset.write
    def Offset(self, offset: float) -> None:
        """A new offset: the dial stays, the user position follows."""
        self._offset = offset
        self._remember()

    @attribute(dtype="int16", unit="unitless")
    def Sign(self) -> int:
        """Sign between dial and user: +1 (set in the axis's config on the real server)."""
        return 1

    @attribute(dtype=(float,), max_dim_x=2, access=AttrWriteType.READ_WRITE, unit="uu")
    def Limits(self) -> list[float]:
        """The software limits ``[low, high]`` in user positions (kept as dial limits: they follow the offset)."""
        return self._user_limits()

    @Limits.write
    def Limits(self, limits: list[float]) -> None:
        """Set the software limits, in user positions."""
        self._dial_limits = sorted(float(value) - self._offset for value in limits)
        self._remember()

    def _user_limits(self) -> list[float]:
        return [self._user(value) for value in self._dial_limits]

    @attribute(dtype=bool)
    def HardLimitLow(self) -> bool:
        """The low limit switch is active."""
        return self._at_low()

    @attribute(dtype=bool)
    def HardLimitHigh(self) -> bool:
        """The high limit switch is active."""
        return self._at_high()

    @command
    def Stop(self) -> None:
        """Stop the move under way: the motor decelerates and rests (MOVING until then)."""
        self._decelerate()

    @command
    def Abort(self) -> None:
        """Stop the move under way (as ``Stop``, as BLISS's server does)."""
        self._decelerate()

    @command
    def On(self) -> None:
        """Power on (clears a simulated fault)."""
        self._fault = None
        self.set_state(DevState.ON)

    @command
    def Off(self) -> None:
        """Power off: moves are refused until ``On``."""
        self._move = Move.still(self._move.position())
        self.set_state(DevState.OFF)

    @command(dtype_in=float, dtype_out=float)
    def SetPosition(self, user: float) -> float:
        """Call the current position ``user`` (the offset changes, nothing moves); the previous user position."""
        before = self._user(self._move.position())
        self._offset = user - self._move.position()
        self._remember()
        return before

    @command(dtype_in=float, dtype_out=float)
    def SetDial(self, dial: float) -> float:
        """Call the current dial position ``dial`` (nothing moves; the user position is kept, the offset changes); the previous dial.

        As BLISS 1.11.4's server does (``Axis.dial`` setter), whatever its command's description says.
        """
        before = self._move.position()
        user = self._user(before)
        self._move = Move.still(dial)
        self._offset = user - dial
        self._remember()
        return before

    @command(dtype_in=str, dtype_out=str)
    def ReadConfig(self, name: str) -> str:
        """A value of the axis's config, as text (``unit``, ``velocity``, ``acceleration``); empty when it has none."""
        values = {"unit": self._unit, "velocity": repr(self._velocity), "acceleration": repr(self._acceleration)}
        return values.get(name, "")

    @attribute(dtype=(float,), max_dim_x=2, access=AttrWriteType.READ_WRITE)
    def sim_hard_limits(self) -> list[float]:
        """Simulator only: the dial positions of the low and high limit switches."""
        return self._hard_limits

    @sim_hard_limits.write
    def sim_hard_limits(self, limits: list[float]) -> None:
        """Simulator only: place the limit switches."""
        low, high = limits
        self._hard_limits = [float(low), float(high)]

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def sim_unit(self) -> str:
        """Simulator only: the axis's unit, as ``ReadConfig("unit")`` gives it."""
        return self._unit

    @sim_unit.write
    def sim_unit(self, unit: str) -> None:
        """Simulator only: set the axis's unit."""
        self._unit = unit

    @command(dtype_in=str)
    def sim_fault(self, message: str) -> None:
        """Simulator only: the controller fails now; the motor stops where it is, FAULT until ``On``."""
        self._move = Move.still(self._move.position())
        self._fault = message or "controller error"

    def _decelerate(self) -> None:
        self._move = self._move.braking()
        self._remember()

    def _remembered(self) -> dict:
        try:
            return dict(json.loads(self._memory.read_text())) if self._memory else {}
        except (OSError, ValueError, TypeError):
            return {}

    def delete_device(self) -> None:
        """Keep the dial, offset and limits (under ``BLISS_SIM_MEMORY``) before the device goes away."""
        if self._saver is not None:
            self._saver.cancel()
        self._remember()

    def _remember(self) -> None:
        if self._memory is None:
            return
        kept = {"dial": self._move.target, "offset": self._offset, "dial_limits": self._dial_limits}
        try:
            self._memory.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._memory.with_suffix(".tmp")
            temporary.write_text(json.dumps(kept))
            temporary.replace(self._memory)
        except OSError as error:  # a full disk: the motor still moves, its position is not kept
            self.warn_stream(f"cannot keep the position in {self._memory}: {error}")

    def _positive(self, name: str, value: float) -> float:
        if value <= 0:
            Except.throw_exception("BAD_VALUE", f"{self.get_name()}: {name} must be positive, not {value:g}", f"SimMotor.{name}")
        return value
