"""User and dial positions: what the scientist works in and what the controller reports.

As in BLISS, user = dial + offset (the sign is always +1 here). Config limits are dial
limits; ``limits`` and ``check_target`` speak user positions. Setting ``position``
redefines where the motor is (it changes the offset, nothing moves).
"""

from __future__ import annotations

import abc
import math
import numbers

from bliss_shell.config import ConfigNode


class OffsetAxis(abc.ABC):
    """The user side of a motor; a subclass gives ``dial``, ``dial_limits`` and ``_move_dial``."""

    name: str

    velocity: float
    acceleration: float

    def __init__(self, node: ConfigNode):
        self.offset = float(node.get("offset", 0.0))
        self.velocity_limit = float(node.get("velocity_high_limit", math.inf))  # continuous scans stay below it

    @property
    @abc.abstractmethod
    def dial(self) -> float: ...

    @property
    @abc.abstractmethod
    def dial_limits(self) -> tuple[float, float]: ...

    @abc.abstractmethod
    def _move_dial(self, target: float) -> None:
        """Start the move to a dial position; ``wait_move`` waits for it."""

    @abc.abstractmethod
    def wait_move(self) -> None: ...

    @property
    def position(self) -> float:
        return self.dial + self.offset

    @position.setter
    def position(self, user: float) -> None:
        self.offset = float(user) - self.dial

    @property
    def limits(self) -> tuple[float, float]:
        low, high = self.dial_limits
        return low + self.offset, high + self.offset

    def check_target(self, target: float) -> None:
        if isinstance(target, bool) or not isinstance(target, numbers.Real) or math.isnan(target):
            raise TypeError(f"{self.name}: position {target!r} is not a number")
        low, high = self.limits
        if not low <= target <= high:
            raise ValueError(f"{self.name}: position {target:g} outside limits ({low:g}, {high:g})")

    def move(self, target: float, wait: bool = True) -> None:
        self.check_target(target)
        self._move_dial(float(target) - self.offset)
        if wait:
            self.wait_move()
