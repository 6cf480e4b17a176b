"""A motor simulated in-process: moves take the time a trapezoidal velocity profile would take."""

from __future__ import annotations

import gevent

from bliss_shell.config import ConfigNode

from .axis import HARDWARE_DEFAULTS, OffsetAxis
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
        self.unit: str | None = node.get("unit")
        self._hardware: dict[str, float] = {}
        self._motion: gevent.Greenlet | None = None
        self._restore()
        self._move = Move.still(float(self.settings.get("dial_position", node.get("position", 0.0))))

    def __repr__(self) -> str:
        return f"SimulationMotor({self.name!r}, position={self.position:g})"

    def _read(self, name: str) -> float:
        return self._hardware.get(name, HARDWARE_DEFAULTS[name])

    def _write(self, name: str, value: float) -> None:
        self._hardware[name] = value

    def _read_dial(self) -> float:
        return self._move.position()

    def _set_dial(self, dial: float) -> None:
        self.stop()
        self._move = Move.still(dial)
        self._store(dial_position=dial)

    def _remember_dial(self) -> None:
        """Keep the dial position (where the motor is going) as a setting, written soon: a scan's moves cost no write each."""
        self.settings.set_soon(dial_position=self._move.target)

    @property
    def state(self) -> str:
        return "MOVING" if self._motion is not None and not self._motion.dead else "READY"

    def _move_dial(self, target: float) -> None:
        self.stop()
        self._move = Move(self.dial, target, self.velocity, self.acceleration)
        self._remember_dial()  # where it will be: what a restarted shell finds
        self._motion = gevent.spawn(gevent.sleep, self._move.duration)

    def wait_move(self) -> None:
        if self._motion is not None:
            try:
                self._motion.join()
            except BaseException:
                self.stop()  # an interrupted wait (Ctrl-C) stops the motor where it is
                raise

    def stop(self) -> None:
        if self._motion is not None and not self._motion.dead:  # MOVING
            self._move = Move.still(self.dial)
            self._motion.kill()
            self._remember_dial()
