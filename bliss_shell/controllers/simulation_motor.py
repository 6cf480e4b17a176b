"""A motor simulated in-process: moves take the time a trapezoidal velocity profile would take."""

from __future__ import annotations

import gevent

from bliss_shell.comm.settings import write_pending
from bliss_shell.config import ConfigNode

from .axis import HARDWARE_DEFAULTS, OffsetAxis
from .motion import Move


class SimulationMotor(OffsetAxis):
    """A motor simulated in-process: a move takes the time its velocity and acceleration give.

    Config: ``class: SimulationMotor`` with ``velocity`` (units/s), ``acceleration`` (units/s2),
    ``low_limit`` and ``high_limit`` (dial), ``offset``, ``sign`` (1, the default, or -1: user =
    sign * dial + offset), ``unit``, ``tolerance`` (default 1e-4: 4 decimals shown),
    ``velocity_high_limit`` (continuous scans stay below it) and ``position`` (the dial position of
    a first start). Its dial position, velocity, acceleration, limits, offset and sign are
    settings: a restarted shell finds the motor where it was left.

    Examples
    --------
    >>> mv(roby, 1)
    Moving roby from ... to 1.00000
    >>> roby.position, roby.dial, roby.offset
    (1.0, 1.0, 0.0)
    >>> roby.limits, roby.velocity, roby.state
    ((-100.0, 100.0), 10000.0, 'READY')
    >>> roby.move(5)
    >>> roby
    SimulationMotor('roby', position=5)
    >>> mv(roby, 200)
    Traceback (most recent call last):
    ...
    ValueError: mv: roby: position 200 outside limits (-100, 100)
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

    def _set_dial(self, dial: float) -> dict[str, float]:  # at rest: OffsetAxis.dial refuses a moving motor
        write_pending()  # the dial of a move, written soon, must not land after this one
        self._move = Move.still(dial)
        return {"dial_position": dial}

    def _remember_dial(self) -> None:
        """Keep the dial position (where the motor is going) as a setting, written soon: a scan's moves cost no write each."""
        self.settings.set_soon(dial_position=self._move.target)

    @property
    def state(self) -> str:
        """``MOVING`` while a move is under way, else ``READY``."""
        return "MOVING" if self._motion is not None and not self._motion.dead else "READY"

    def _move_dial(self, target: float) -> None:
        self.stop()
        self._move = Move(self.dial, target, self.velocity, self.acceleration)
        self._remember_dial()  # where it will be: what a restarted shell finds
        self._motion = gevent.spawn(gevent.sleep, self._move.duration)

    def wait_move(self) -> None:  # its position is no call away: a scan reads it
        """Return when the move under way is over; an interrupted wait (Ctrl-C) stops the motor where it is."""
        if self._motion is not None:
            try:
                self._motion.join()
            except BaseException:
                self.stop()  # an interrupted wait (Ctrl-C) stops the motor where it is
                raise

    def stop(self, wait: bool = True) -> None:
        """Stop a move under way where the motor is now (at once, so ``wait`` changes nothing); nothing happens at rest."""
        if self._motion is not None and not self._motion.dead:  # MOVING
            self._move = Move.still(self.dial)
            self._motion.kill()
            self._remember_dial()
