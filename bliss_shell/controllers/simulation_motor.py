"""A motor simulated in-process: moves take the time a trapezoidal velocity profile would take."""

from __future__ import annotations

import math
import time

import gevent

from bliss_shell.config import ConfigNode


class SimulationMotor:
    """``class: SimulationMotor`` with ``velocity``, ``acceleration``, ``low_limit``, ``high_limit``, ``unit``.

    Example
    -------
    >>> roby.move(5)
    >>> roby.position
    5.0
    """

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.unit: str | None = node.get("unit")
        self.velocity = float(node.get("velocity", 1000.0))
        self.acceleration = float(node.get("acceleration", 1000.0))
        if self.velocity <= 0 or self.acceleration <= 0:
            raise ValueError(f"{node.where}: {self.name}: velocity and acceleration must be positive")
        self._limits = (float(node.get("low_limit", -math.inf)), float(node.get("high_limit", math.inf)))
        self._start = self._target = float(node.get("position", 0.0))
        self._t0 = self._duration = 0.0
        self._motion: gevent.Greenlet | None = None

    def __repr__(self) -> str:
        return f"SimulationMotor({self.name!r}, position={self.position:g})"

    @property
    def limits(self) -> tuple[float, float]:
        return self._limits

    @property
    def position(self) -> float:
        elapsed = time.monotonic() - self._t0
        if elapsed >= self._duration:
            return self._target
        return self._start + (self._target - self._start) * self._fraction(elapsed)

    @property
    def state(self) -> str:
        return "MOVING" if self._motion is not None and not self._motion.dead else "READY"

    def check_target(self, target: float) -> None:
        low, high = self._limits
        if not isinstance(target, (int, float)) or math.isnan(target):
            raise TypeError(f"{self.name}: position {target!r} is not a number")
        if not low <= target <= high:
            raise ValueError(f"{self.name}: position {target:g} outside limits ({low:g}, {high:g})")

    def move(self, target: float, wait: bool = True) -> None:
        self.check_target(target)
        self.stop()
        self._start, self._target = self.position, float(target)
        self._duration = self._travel_time(abs(self._target - self._start))
        self._t0 = time.monotonic()
        self._motion = gevent.spawn(gevent.sleep, self._duration)
        if wait:
            self.wait_move()

    def wait_move(self) -> None:
        if self._motion is not None:
            try:
                self._motion.join()
            except BaseException:
                self.stop()  # an interrupted wait (Ctrl-C) stops the motor where it is
                raise

    def stop(self) -> None:
        if self.state == "MOVING":
            here = self.position
            self._motion.kill()
            self._start = self._target = here
            self._duration = 0.0

    def _travel_time(self, distance: float) -> float:
        v, a = self.velocity, self.acceleration
        if distance <= v * v / a:  # never reaches full speed
            return 2 * math.sqrt(distance / a)
        return distance / v + v / a

    def _fraction(self, elapsed: float) -> float:
        """Share of the distance covered after ``elapsed`` s (same profile as ``_travel_time``)."""
        total = abs(self._target - self._start)
        if total == 0:
            return 1.0
        a = self.acceleration
        v = min(self.velocity, math.sqrt(a * total))
        t_ramp = v / a
        if elapsed < t_ramp:
            covered = 0.5 * a * elapsed**2
        elif elapsed < self._duration - t_ramp:
            covered = 0.5 * a * t_ramp**2 + v * (elapsed - t_ramp)
        else:
            left = self._duration - elapsed
            covered = total - 0.5 * a * left**2
        return min(1.0, covered / total)
