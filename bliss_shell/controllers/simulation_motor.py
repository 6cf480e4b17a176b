"""A motor simulated in-process: moves take the time a trapezoidal velocity profile would take."""

from __future__ import annotations

import atexit

import gevent
import redis

from bliss_shell.config import ConfigNode

from .axis import HARDWARE_DEFAULTS, OffsetAxis, limit_state
from .motion import Move


_SAVE_PERIOD = 0.5  # s


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
        self._saver: gevent.Greenlet | None = None
        atexit.register(self._save_quietly)  # a move just before the shell ends is kept too

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
        self._save_dial()

    def _remember_dial(self) -> None:
        """Keep the dial position (where the motor is going) as a setting, at most every ``_SAVE_PERIOD``:
        a scan's moves cost no write each."""
        if self._saver is None or self._saver.dead:
            self._saver = gevent.spawn_later(_SAVE_PERIOD, self._save_quietly)

    def _save_quietly(self) -> None:
        """In the background or at exit: with Redis gone, the dial is kept in the settings file only."""
        try:
            self._save_dial()
        except (redis.RedisError, OSError):
            pass

    def _save_dial(self) -> None:
        if self.settings.get("dial_position") != self._move.target:
            self._store(dial_position=self._move.target)

    @property
    def hw_state(self) -> str:
        if self._motion is not None and not self._motion.dead:
            return "MOVING"
        return limit_state(self._move.target, self.dial_limits)

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
        if self.state == "MOVING":
            self._move = Move.still(self.dial)
            self._motion.kill()
            self._remember_dial()
