"""A trapezoidal move: how long it takes and where the motor is at any moment.

Shared by the in-process simulation motor and the Tango simulator device server, so
both move the same way.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class Move:
    """A move from ``start`` to ``target`` at ``velocity`` (units/s) and ``acceleration`` (units/s2).

    Examples
    --------
    >>> move = Move(0.0, 10.0, velocity=5.0, acceleration=10.0, began=0.0)
    >>> move.duration, move.position(now=1.0), move.done(now=2.5)
    (2.5, 3.75, True)
    """

    start: float
    target: float
    velocity: float
    acceleration: float
    began: float = field(default_factory=time.monotonic)

    @property
    def duration(self) -> float:
        """Seconds the move takes: a triangle profile when too short to reach ``velocity``, else a trapezoid."""
        distance, v, a = abs(self.target - self.start), self.velocity, self.acceleration
        if distance <= v * v / a:  # never reaches full speed
            return 2 * math.sqrt(distance / a)
        return distance / v + v / a

    def done(self, now: float | None = None) -> bool:
        """Whether the move is over at ``now`` (a ``time.monotonic()`` time; default: now)."""
        return (time.monotonic() if now is None else now) - self.began >= self.duration

    def position(self, now: float | None = None) -> float:
        """Where the motor is at ``now`` (a ``time.monotonic()`` time; default: now); ``target`` once done."""
        elapsed = (time.monotonic() if now is None else now) - self.began
        total, duration = abs(self.target - self.start), self.duration
        if total == 0 or elapsed >= duration:
            return self.target
        a = self.acceleration
        v = min(self.velocity, math.sqrt(a * total))
        ramp = v / a
        if elapsed < ramp:
            covered = 0.5 * a * elapsed**2
        elif elapsed < duration - ramp:
            covered = 0.5 * a * ramp**2 + v * (elapsed - ramp)
        else:
            covered = total - 0.5 * a * (duration - elapsed) ** 2
        return self.start + math.copysign(min(covered, total), self.target - self.start)

    def speed(self, now: float | None = None) -> float:
        """How fast the motor goes at ``now`` (units/s, never negative; 0 once done)."""
        elapsed = (time.monotonic() if now is None else now) - self.began
        total, duration = abs(self.target - self.start), self.duration
        if total == 0 or elapsed >= duration:
            return 0.0
        a = self.acceleration
        v = min(self.velocity, math.sqrt(a * total))
        return min(a * elapsed, v, a * (duration - elapsed))

    def braking(self, now: float | None = None) -> Move:
        """The rest of this move after a stop at ``now``: it slows down at its acceleration and rests.

        Examples
        --------
        >>> stopped = Move(0.0, 10.0, velocity=5.0, acceleration=10.0, began=0.0).braking(now=1.0)
        >>> stopped.target, stopped.done(now=1.4), stopped.done(now=1.5)
        (5.0, False, True)
        """
        now = time.monotonic() if now is None else now
        position, speed, a = self.position(now), self.speed(now), self.acceleration
        if speed == 0:
            return Move.still(position)
        run_out = math.copysign(speed * speed / (2 * a), self.target - self.start)
        # the second half of a triangle move whose top speed is the speed now, reached now
        return Move(position - run_out, position + run_out, speed, a, began=now - speed / a)

    @classmethod
    def still(cls, position: float) -> Move:
        """A motor at rest."""
        return cls(position, position, 1.0, 1.0, began=0.0)
