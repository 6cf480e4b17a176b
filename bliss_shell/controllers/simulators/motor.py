"""``SimMotor``: a motor device that moves with the same profile as the in-process simulation."""

from __future__ import annotations

import math

from tango import AttrWriteType, DevState, Except
from tango.server import Device, attribute, command

from ..motion import Move


class SimMotor(Device):
    """Position (read/write), Velocity, Acceleration, limits; MOVING while it moves, ALARM on a limit."""

    def init_device(self) -> None:
        super().init_device()
        self._move = Move.still(0.0)
        self._velocity = 1000.0
        self._acceleration = 1000.0
        self._limits = [-math.inf, math.inf]
        self._unit = ""

    def dev_state(self) -> DevState:
        if not self._move.done():
            return DevState.MOVING
        return DevState.ALARM if self._move.target in self._limits else DevState.ON

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def Position(self) -> float:
        return self._move.position()

    @Position.write
    def Position(self, target: float) -> None:
        low, high = self._limits
        if not low <= target <= high:
            Except.throw_exception(
                "OUT_OF_LIMITS", f"{self.get_name()}: position {target:g} outside limits ({low:g}, {high:g})", "SimMotor.Position"
            )
        self._move = Move(self._move.position(), target, self._velocity, self._acceleration)

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def Velocity(self) -> float:
        return self._velocity

    @Velocity.write
    def Velocity(self, value: float) -> None:
        self._velocity = self._positive("Velocity", value)

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def Acceleration(self) -> float:
        return self._acceleration

    @Acceleration.write
    def Acceleration(self, value: float) -> None:
        self._acceleration = self._positive("Acceleration", value)

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def LowLimit(self) -> float:
        return self._limits[0]

    @LowLimit.write
    def LowLimit(self, value: float) -> None:
        self._limits[0] = value

    @attribute(dtype=float, access=AttrWriteType.READ_WRITE)
    def HighLimit(self) -> float:
        return self._limits[1]

    @HighLimit.write
    def HighLimit(self, value: float) -> None:
        self._limits[1] = value

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def Unit(self) -> str:
        return self._unit

    @Unit.write
    def Unit(self, value: str) -> None:
        self._unit = value

    @command
    def Stop(self) -> None:
        self._move = Move.still(self._move.position())

    def _positive(self, name: str, value: float) -> float:
        if value <= 0:
            Except.throw_exception("BAD_VALUE", f"{self.get_name()}: {name} must be positive, not {value:g}", f"SimMotor.{name}")
        return value
