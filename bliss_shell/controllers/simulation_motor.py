"""A motor simulated in-process: moves take the time a trapezoidal velocity profile would take."""

from __future__ import annotations

import math

import gevent

from bliss_shell.config import ConfigNode

from .axis import OffsetAxis
from .motion import Move


class SimulationMotor(OffsetAxis):
    """``class: SimulationMotor`` with ``velocity``, ``acceleration``, ``low_limit``, ``high_limit`` (dial),
    ``offset``, ``unit``.

    Example
    -------
    >>> roby.move(5)
    >>> roby.position
    5.0
    """

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self.name: str = node.name
        self.unit: str | None = node.get("unit")
        self.velocity = float(node.get("velocity", 1000.0))
        self.acceleration = float(node.get("acceleration", 1000.0))
        if self.velocity <= 0 or self.acceleration <= 0:
            raise ValueError(f"{node.where}: {self.name}: velocity and acceleration must be positive")
        self._limits = (float(node.get("low_limit", -math.inf)), float(node.get("high_limit", math.inf)))
        self._move = Move.still(float(node.get("position", 0.0)))
        self._motion: gevent.Greenlet | None = None

    def __repr__(self) -> str:
        return f"SimulationMotor({self.name!r}, position={self.position:g})"

    @property
    def dial_limits(self) -> tuple[float, float]:
        return self._limits

    @property
    def dial(self) -> float:
        return self._move.position()

    @property
    def state(self) -> str:
        return "MOVING" if self._motion is not None and not self._motion.dead else "READY"

    def _move_dial(self, target: float) -> None:
        self.stop()
        self._move = Move(self.dial, target, self.velocity, self.acceleration)
        self._motion = gevent.spawn(gevent.sleep, self._move.duration)

    def wait_move(self) -> None:
        if self._motion is not None:
            try:
                self._motion.join()
            except BaseException:
                self.stop()  # an interrupted wait (Ctrl-C) stops the motor where it is
                raise

    def stop(self) -> None:
        if self.state == "MOVING":
            self._move = Move.still(self.dial)
            self._motion.kill()
