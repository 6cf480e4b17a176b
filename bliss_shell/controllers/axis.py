"""User and dial positions, and the motor settings that persist (velocity, acceleration, limits, offset, sign).

As in BLISS, user = sign * dial + offset (config ``sign``: 1, the default, or -1). Config limits are
dial limits; ``limits`` and ``check_target`` speak user positions. Setting ``position`` redefines
where the motor is (it changes the offset, nothing moves); setting ``dial`` redefines the
controller's position and, as BLISS's ``Axis.dial``, keeps the user position (the offset changes).

Velocity, acceleration, dial limits, offset and sign are settings (``axis:<name>``, comm/settings.py):
what the user set last wins over the config, in every shell and after any restart;
``apply_config()`` goes back to the config's values.
"""

from __future__ import annotations

import abc
import math
import numbers
from typing import Any

from bliss_shell.comm import Settings
from bliss_shell.config import ConfigNode

_HARDWARE = ("velocity", "acceleration", "low_limit", "high_limit")  # what the controller holds
HARDWARE_DEFAULTS = {"velocity": 1000.0, "acceleration": 1000.0, "low_limit": -math.inf, "high_limit": math.inf, "offset": 0.0}


def _number(name: str, what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{name}: {what} {value!r} is not a number")
    return float(value)


def _checked_sign(name: str, value: Any) -> int:
    """``value`` as a motor's sign: 1 or -1, else ValueError (BLISS takes any number's sign; 0 or 2 is a typo here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value not in (1, -1):
        raise ValueError(f"{name}: sign must be 1 or -1, not {value!r}")
    return 1 if value == 1 else -1


class OffsetAxis(abc.ABC):
    """The user side of a motor and its settings; a subclass gives the controller's side.

    The subclass implements ``_read_dial``, ``_read``/``_write`` of the ``_HARDWARE`` values,
    ``_move_dial``, ``_set_dial``, ``wait_move``, ``stop`` and ``state``.
    """

    name: str

    def __init__(self, node: ConfigNode):
        self.name = node.name
        self._config = node
        self.settings = Settings(f"axis:{node.name}")
        self.velocity_limit = float(node.get("velocity_high_limit", math.inf))  # continuous scans stay below it
        self.tolerance = float(node.get("tolerance", 1e-4))  # as BLISS: how close is "there"; sets display_digits
        if not 0 < self.tolerance < math.inf:
            raise ValueError(f"{node.where}: {self.name}: tolerance must be a positive number, not {self.tolerance:g}")
        self._config_sign = _checked_sign(f"{node.where}: {self.name}", node.get("sign", 1))

    @property
    def display_digits(self) -> int:
        """Decimals that mean something for this motor: 4 for the default tolerance 1e-4."""
        return max(0, math.ceil(-math.log10(self.tolerance)))

    def _restore(self) -> None:
        """Give the controller the settings (else the config's values); the subclass calls it once it can talk to it.

        The offset is kept in memory too (a position is read at every point of a scan); another
        session sharing the motor sees a new offset when it opens, or after ``sync_hard()``.
        """
        saved = self.settings.get_all()
        self._offset = float(saved.get("offset", self._config.get("offset", 0.0)))
        self._sign = int(saved.get("sign", self._config_sign))
        self._write_kept(saved, _HARDWARE)

    def _write_kept(self, saved: dict[str, Any], names: tuple[str, ...]) -> None:
        """Write to the controller each of ``names`` the user set (``saved``) or the config gives; velocity and acceleration > 0."""
        for name in names:
            if name in saved or name in self._config:
                value = float(saved.get(name, self._config.get(name, HARDWARE_DEFAULTS[name])))
                if name in ("velocity", "acceleration") and not value > 0:
                    raise ValueError(f"{self._config.where}: {self.name}: velocity and acceleration must be positive")
                self._write(name, value)

    @abc.abstractmethod
    def _read(self, name: str) -> float:
        """A ``_HARDWARE`` value as the controller has it."""

    @abc.abstractmethod
    def _write(self, name: str, value: float) -> None: ...

    @abc.abstractmethod
    def _read_dial(self) -> float: ...

    @abc.abstractmethod
    def _set_dial(self, dial: float) -> dict[str, float]:
        """Tell the controller it is at ``dial`` now (nothing moves); the settings to keep with the new offset."""

    @abc.abstractmethod
    def _move_dial(self, target: float) -> None:
        """Start the move to a dial position; ``wait_move`` waits for it."""

    @abc.abstractmethod
    def stop(self, wait: bool = True) -> None:
        """Stop the motor; with ``wait``, return once it rests."""

    @abc.abstractmethod
    def wait_move(self) -> float | None:
        """Return when the move under way is over; an interrupted wait stops the motor."""

    @property
    @abc.abstractmethod
    def state(self) -> str:
        """``READY``, ``MOVING``, or the controller's own word for a fault, read from it now."""

    @property
    def hw_state(self) -> str:
        """The state read from the controller: the same as ``state``, which caches nothing here.

        The limits are software limits (config and settings): a motor at rest on one is ``READY``.
        """
        return self.state

    def _store(self, **values: float) -> None:
        self.settings.set(**values)
        self._offset = float(values.get("offset", self._offset))
        self._sign = int(values.get("sign", self._sign))

    @property
    def velocity(self) -> float:
        """Units per second, as the controller has it; setting it keeps it as a setting."""
        return self._read("velocity")

    @velocity.setter
    def velocity(self, value: float) -> None:
        self._set_positive("velocity", value)

    @property
    def acceleration(self) -> float:
        """Units per second squared, as the controller has it; setting it keeps it as a setting."""
        return self._read("acceleration")

    @acceleration.setter
    def acceleration(self, value: float) -> None:
        self._set_positive("acceleration", value)

    @property
    def acctime(self) -> float:
        """Seconds to reach the velocity: velocity / acceleration; setting it changes the acceleration."""
        return self.velocity / self.acceleration

    @acctime.setter
    def acctime(self, seconds: float) -> None:
        seconds = _number(self.name, "acctime", seconds)
        if not 0 < seconds < math.inf:
            raise ValueError(f"{self.name}: acctime must be a positive number of seconds, not {seconds:g}")
        self._set_positive("acceleration", self.velocity / seconds)

    def _set_positive(self, name: str, value: Any) -> None:
        value = _number(self.name, name, value)
        if not 0 < value < math.inf:
            raise ValueError(f"{self.name}: {name} must be positive and finite, not {value:g}")
        self._write(name, value)
        self._store(**{name: value})

    @property
    def offset(self) -> float:
        """User position minus sign * dial position; setting ``position`` or ``dial`` changes it."""
        return self._offset

    @property
    def sign(self) -> int:
        """1 or -1: user = sign * dial + offset (config ``sign``, default 1).

        ``roby.sign = -1`` keeps the offset, so the user position changes (as BLISS's); it is a setting,
        ``apply_config()`` goes back to the config's.
        """
        return self._sign

    @sign.setter
    def sign(self, value: int) -> None:
        self._store(sign=_checked_sign(self.name, value))

    def dial2user(self, dial: float) -> float:
        """The user position of dial position ``dial``: sign * dial + offset.

        Examples
        --------
        >>> roby.dial2user(roby.dial) == roby.position
        True
        """
        return self.sign * dial + self.offset

    def user2dial(self, user: float) -> float:
        """The dial position of user position ``user``: (user - offset) * sign."""
        return (user - self.offset) * self.sign

    @property
    def position(self) -> float:
        """The user position: sign * dial + offset. ``roby.position = 0`` calls where the motor is 0 (the offset changes)."""
        return self.dial2user(self.dial)

    @position.setter
    def position(self, user: float) -> None:
        """``roby.position = 0``: the motor is called 0 where it is (the offset changes); refused while it moves, as in BLISS."""
        self._refuse_while_moving("user")
        user = _number(self.name, "position", user)
        self._store(offset=user - self.sign * self.dial)

    @property
    def dial(self) -> float:
        """The controller's position. ``roby.dial = 0`` tells the controller it is at 0 (nothing moves)."""
        return self._read_dial()

    @dial.setter
    def dial(self, value: float) -> None:
        """``roby.dial = 0``: the controller calls where it is 0; nothing moves and the user position stays (the offset changes).

        Refused while the motor moves, as in BLISS: nothing is read or changed, the move goes on.
        """
        self._refuse_while_moving("dial")
        value = _number(self.name, "dial", value)
        low, high = self.dial_limits
        if not low <= value <= high:
            raise ValueError(f"{self.name}: dial {value:g} outside the dial limits ({low:g}, {high:g})")
        user = self.position
        kept = self._set_dial(value)
        self._store(offset=user - self.sign * value, **kept)  # one write: the next shell finds both or neither

    def _refuse_while_moving(self, which: str) -> None:
        """BLISS's refusal to redefine a position (``which``: ``"user"`` or ``"dial"``) of a moving motor."""
        if self.state == "MOVING":
            raise RuntimeError(f"{self.name}: can't set axis {which} position while moving; wait for the move to end "
                               f"or stop it ({self.name}.stop()), then set it again")  # fmt: skip

    def _read_dial_limits(self) -> tuple[float, float]:
        return self._read("low_limit"), self._read("high_limit")

    @property
    def dial_limits(self) -> tuple[float, float]:
        """``(low, high)`` in dial positions, as the controller has them; setting them keeps them as a setting."""
        return self._read_dial_limits()

    @dial_limits.setter
    def dial_limits(self, limits: tuple[float, float]) -> None:
        low, high = self._checked_limits(limits)
        self._write("low_limit", low)
        self._write("high_limit", high)
        self._store(low_limit=low, high_limit=high)

    @property
    def limits(self) -> tuple[float, float]:
        """User limits ``(low, high)``: the dial limits in user positions. ``roby.limits = (-5, 5)`` sets them in user units.

        With sign -1 the user low limit is the dial high limit's position (BLISS gives them in dial order).
        """
        return self._user_limits(*self.dial_limits)

    @limits.setter
    def limits(self, limits: tuple[float, float]) -> None:
        self.dial_limits = self._dial_limits_of(*self._checked_limits(limits))

    def _user_limits(self, dial_low: float, dial_high: float) -> tuple[float, float]:
        offset, sign = self.offset, self.sign  # a server's motor reads them once
        low, high = sorted(sign * value + offset for value in (dial_low, dial_high))
        return low, high

    def _dial_limits_of(self, low: float, high: float) -> tuple[float, float]:
        offset, sign = self.offset, self.sign
        dial_low, dial_high = sorted((value - offset) * sign for value in (low, high))
        return dial_low, dial_high

    def _checked_limits(self, limits: Any) -> tuple[float, float]:
        if not isinstance(limits, (tuple, list)) or len(limits) != 2:
            raise TypeError(f"{self.name}: limits are a (low, high) pair, not {limits!r}")
        low, high = (_number(self.name, "limit", value) for value in limits)
        if not low <= high:
            raise ValueError(f"{self.name}: low limit {low:g} above high limit {high:g}")
        return low, high

    def apply_config(self) -> None:
        """Forget the settings: velocity, acceleration, limits, offset and sign go back to the config's values."""
        self.settings.clear()
        self._offset = float(self._config.get("offset", 0.0))
        self._sign = self._config_sign
        for name in _HARDWARE:
            self._write(name, float(self._config.get(name, HARDWARE_DEFAULTS[name])))

    def sync_hard(self) -> None:
        """Take velocity, acceleration and limits from the controller again into the settings.

        The controller's values as it has them now become the settings, and the offset and sign are read
        again from the settings (another session may have changed them).
        """
        saved = self.settings.get_all()
        self._offset = float(saved.get("offset", self._offset))
        self._sign = int(saved.get("sign", self._sign))
        self._store(**{name: self._read(name) for name in _HARDWARE})

    def check_target(self, target: float) -> None:
        """Raise TypeError when ``target`` is not a number, ValueError when it is outside ``limits``."""
        if isinstance(target, bool) or not isinstance(target, numbers.Real) or math.isnan(target):
            raise TypeError(f"{self.name}: position {target!r} is not a number")
        low, high = self.limits
        if not low <= target <= high:
            raise ValueError(f"{self.name}: position {target:g} outside limits ({low:g}, {high:g})")

    def move(self, target: float, wait: bool = True) -> None:
        """Move to user position ``target`` (checked against the limits first); wait for the end unless ``wait`` is False."""
        self.check_target(target)
        self._move_dial(self.user2dial(float(target)))
        if wait:
            self.wait_move()
