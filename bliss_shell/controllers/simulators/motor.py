"""``SimMotor``: a motor device that moves with the same profile as the in-process simulation.

Like a real motor controller it keeps its position when its server restarts: the position (the
target of a move under way) is written to ``$BLISS_SIM_MEMORY/<device>.json`` within half a second of a
move, at once after a stop or ``DefinePosition``, and when the server ends; it is read back when the
device starts. Without ``BLISS_SIM_MEMORY`` it starts at 0.
"""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path

from tango import AttrWriteType, DevState, Except
from tango.server import Device, attribute, command

from ..motion import Move

_SAVE_PERIOD = 0.5  # s


class SimMotor(Device):
    """Position (read/write), Velocity, Acceleration, limits; MOVING while it moves, ALARM on a limit."""

    def init_device(self) -> None:
        """A motor at rest where it was left (``BLISS_SIM_MEMORY``, else 0), with no limits and no unit."""
        super().init_device()
        folder = os.environ.get("BLISS_SIM_MEMORY")
        self._memory = Path(folder) / f"{self.get_name().replace('/', '_')}.json" if folder else None
        self._move = Move.still(self._remembered())
        self._saver: threading.Timer | None = None
        self._velocity = 1000.0
        self._acceleration = 1000.0
        self._limits = [-math.inf, math.inf]
        self._unit = ""

    def dev_state(self) -> DevState:
        """MOVING while it moves, ALARM at rest on a limit, else ON."""
        if not self._move.done():
            return DevState.MOVING
        return DevState.ALARM if self._move.target in self._limits else DevState.ON

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def Position(self) -> float:
        """The dial position now, moving or not."""
        return self._move.position()

    @Position.write
    def Position(self, target: float) -> None:
        """Start a move to ``target``; a target outside the limits is refused (``OUT_OF_LIMITS``)."""
        low, high = self._limits
        if not low <= target <= high:
            Except.throw_exception(
                "OUT_OF_LIMITS", f"{self.get_name()}: position {target:g} outside limits ({low:g}, {high:g})", "SimMotor.Position"
            )
        self._move = Move(self._move.position(), target, self._velocity, self._acceleration)
        if self._memory is not None and (self._saver is None or not self._saver.is_alive()):
            self._saver = threading.Timer(_SAVE_PERIOD, self._remember)  # a scan's moves cost no write each
            self._saver.start()

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def Velocity(self) -> float:
        """Units per second at full speed."""
        return self._velocity

    @Velocity.write
    def Velocity(self, value: float) -> None:
        """Set the velocity of the next moves; refused unless positive."""
        self._velocity = self._positive("Velocity", value)

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def Acceleration(self) -> float:
        """Units per second squared, speeding up and slowing down."""
        return self._acceleration

    @Acceleration.write
    def Acceleration(self, value: float) -> None:
        """Set the acceleration of the next moves; refused unless positive."""
        self._acceleration = self._positive("Acceleration", value)

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def LowLimit(self) -> float:
        """The lowest dial position a move may target (-inf: none)."""
        return self._limits[0]

    @LowLimit.write
    def LowLimit(self, value: float) -> None:
        """Set the low limit."""
        self._limits[0] = value

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def HighLimit(self) -> float:
        """The highest dial position a move may target (inf: none)."""
        return self._limits[1]

    @HighLimit.write
    def HighLimit(self, value: float) -> None:
        """Set the high limit."""
        self._limits[1] = value

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def Unit(self) -> str:
        """The unit of positions (``mm``, ``deg``; empty: none)."""
        return self._unit

    @Unit.write
    def Unit(self, value: str) -> None:
        """Set the unit."""
        self._unit = value

    @command
    def Stop(self) -> None:
        """Stop the move under way where the motor is now."""
        self._move = Move.still(self._move.position())
        self._remember()

    @command(dtype_in=float)
    def DefinePosition(self, position: float) -> None:
        """The motor is called ``position`` where it is now (nothing moves), as Sardana's motors have it."""
        self._move = Move.still(position)
        self._remember()

    def _remembered(self) -> float:
        try:
            return float(json.loads(self._memory.read_text())["position"]) if self._memory else 0.0
        except (OSError, ValueError, KeyError, TypeError):
            return 0.0

    def delete_device(self) -> None:
        """Keep the position (under ``BLISS_SIM_MEMORY``) before the device goes away."""
        if self._saver is not None:
            self._saver.cancel()
        self._remember()

    def _remember(self) -> None:
        if self._memory is None:
            return
        position = self._move.target
        try:
            self._memory.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._memory.with_suffix(".tmp")
            temporary.write_text(json.dumps({"position": position}))
            temporary.replace(self._memory)
        except OSError as error:  # a full disk: the motor still moves, its position is not kept
            self.warn_stream(f"cannot keep the position in {self._memory}: {error}")

    def _positive(self, name: str, value: float) -> float:
        if value <= 0:
            Except.throw_exception("BAD_VALUE", f"{self.get_name()}: {name} must be positive, not {value:g}", f"SimMotor.{name}")
        return value
