"""``tw``: step one or two motors with the arrow keys, as BLISS's tweak command.

The keys are read by the command's own greenlet while the prompt is not running. The
terminal goes to cbreak mode (no echo, each key at once, Ctrl-C still a signal, so the
shell's Ctrl-C kills the command as for any other); the greenlet waits for the terminal
through gevent, so the hub runs every other greenlet meanwhile.
"""

from __future__ import annotations

import codecs
import collections
import math
import numbers
import os
import shutil
import sys
import termios
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import gevent
import gevent.socket

from bliss_shell.controllers import Axis
from bliss_shell.scanning.listing import motors_given
from bliss_shell.scanning.tables import position

if TYPE_CHECKING:  # prompt_toolkit's key parser is loaded when tw starts reading keys, not with the session
    from prompt_toolkit.key_binding import KeyPress

_ESCAPE_WAIT = 0.05  # s: how long an Escape waits for the rest of an arrow key's sequence
_STEP_CHARACTERS = frozenset("0123456789.eE+-")


def tw(mot1: Axis, delta1: float, mot2: Axis | None = None, delta2: float | None = None) -> None:
    """Step one or two motors with the arrow keys until Enter, ``q`` or Ctrl-C.

    Left and right move ``mot1`` by ``-delta1`` and ``+delta1``; down and up move ``mot2`` by
    ``-delta2`` and ``+delta2``. Each key is one move, waited for; the line below the keys' help
    shows each motor's position and step. A number typed then Enter becomes the step of the
    motor moved last (``mot1`` at first); ``*`` doubles that step and ``/`` halves it; Backspace
    and Escape edit the number being typed. A move outside the limits is refused with one line
    and ``tw`` goes on. Ctrl-C during a move stops the motor where it is and leaves ``tw``.

    Parameters
    ----------
    mot1 : Axis
        The motor of the left and right arrows.
    delta1 : float
        Its step, positive (the arrows give the direction).
    mot2 : Axis, optional
        The motor of the up and down arrows.
    delta2 : float, optional
        Its step, positive; given when ``mot2`` is, and only then.

    Raises
    ------
    TypeError
        A motor is not one, a step is not a number, or ``mot2`` comes without ``delta2``.
    ValueError
        A step is not positive and finite, or a motor is given twice.
    RuntimeError
        Standard input is not a terminal (``bliss --script``): there are no keys to read.

    Examples
    --------
    >>> tw(roby, 0.5)  # doctest: +SKIP
    tw: left/right arrows move roby by -/+ its step; Enter, q or Ctrl-C quits
        a number then Enter sets a new step; * doubles it, / halves it
    roby[mm] 0.00000  step 0.5
    >>> tw(roby, 0.5, robz, 0.1)  # doctest: +SKIP

    (Skipped here: ``tw`` waits for keys typed on a terminal.) The arguments are checked before
    anything else:

    >>> tw(roby, -0.5)
    Traceback (most recent call last):
    ...
    ValueError: tw: step -0.5 of roby must be a positive number (the arrow keys give the direction)
    >>> tw(roby, 0.5, robz)
    Traceback (most recent call last):
    ...
    TypeError: tw: the second motor comes with its step: tw(roby, 0.5, robz, 0.1)
    """
    tweak = _Tweak(_motors_and_steps(mot1, delta1, mot2, delta2))
    if not sys.stdin.isatty():
        raise RuntimeError("tw: reads the arrow keys, and standard input is not a terminal; in a script use mvr(roby, 0.5)")
    print(tweak.help())
    keys = _KeyReader(sys.stdin.fileno())
    with _cbreak(sys.stdin.fileno()):
        try:
            tweak.show()
            while True:
                try:
                    key = keys.next()
                except KeyboardInterrupt:  # Ctrl-C while no motor moves: leave as q does
                    return
                if key is None or not tweak.handle(key):
                    return
        finally:
            sys.stdout.write("\n")
            sys.stdout.flush()


def _motors_and_steps(mot1: Any, delta1: Any, mot2: Any, delta2: Any) -> list[tuple[Axis, float]]:
    if (mot2 is None) != (delta2 is None):
        raise TypeError("tw: the second motor comes with its step: tw(roby, 0.5, robz, 0.1)")
    pairs = [(mot1, delta1)] if mot2 is None else [(mot1, delta1), (mot2, delta2)]
    axes = motors_given("tw", [motor for motor, _ in pairs])
    return [(axis, _step(axis, delta)) for axis, (_, delta) in zip(axes, pairs)]


def _step(axis: Axis, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"tw: step {value!r} of {axis.name} is not a number")
    step = float(value)
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"tw: step {value!r} of {axis.name} must be a positive number (the arrow keys give the direction)")
    return step


class _Tweak:
    """The motors, their steps, the number being typed, and the status line that shows them."""

    def __init__(self, pairs: list[tuple[Axis, float]]):
        self.axes = [axis for axis, _ in pairs]
        self.steps = [step for _, step in pairs]
        self.current = 0  # the motor that a typed step, * and / change: the one moved last
        self.typed = ""

    def help(self) -> str:
        names = [axis.name for axis in self.axes]
        if len(names) == 1:
            return (f"tw: left/right arrows move {names[0]} by -/+ its step; Enter, q or Ctrl-C quits\n"
                    f"    a number then Enter sets a new step; * doubles it, / halves it")  # fmt: skip
        return (f"tw: left/right arrows move {names[0]}, down/up arrows move {names[1]}, by -/+ their steps; "
                f"Enter, q or Ctrl-C quits\n"
                f"    a number then Enter sets the step of the motor moved last; * doubles it, / halves it")  # fmt: skip

    def handle(self, key: str) -> bool:
        """Act on one key (as prompt_toolkit names it); False when the key leaves ``tw``."""
        from prompt_toolkit.keys import Keys

        enter = key in (Keys.ControlM, Keys.ControlJ)
        leave = key in ("q", "Q", Keys.ControlC, Keys.ControlD)  # Ctrl-C is a key only when the terminal makes no signal of it
        if enter and self.typed:
            self._set_typed_step()
        elif enter or leave:
            return False
        elif key in (Keys.Left, Keys.Right):
            self._move(0, -1 if key == Keys.Left else 1)
        elif key in (Keys.Down, Keys.Up) and len(self.axes) > 1:
            self._move(1, -1 if key == Keys.Down else 1)
        elif key in ("*", "/"):
            self.steps[self.current] *= 2 if key == "*" else 0.5
        elif key in _STEP_CHARACTERS:
            self.typed += key
        elif key == Keys.ControlH:
            self.typed = self.typed[:-1]
        elif key == Keys.Escape:
            self.typed = ""
        self.show()
        return True

    def _set_typed_step(self) -> None:
        axis, typed, self.typed = self.axes[self.current], self.typed, ""
        try:
            value = float(typed)
        except ValueError:  # "1e", "-", "1.2.3"
            self.say(f"tw: {typed!r} is not a step of {axis.name}; type a positive number such as 0.1")
            return
        try:
            self.steps[self.current] = _step(axis, value)
        except ValueError as error:
            self.say(str(error))

    def _move(self, index: int, direction: int) -> None:
        axis = self.axes[index]
        self.current = index
        target = axis.position + direction * self.steps[index]
        try:
            axis.check_target(target)
        except (TypeError, ValueError) as error:
            self.say(f"tw: {error}")
            return
        self.show(moving=axis)
        try:
            axis.move(target, wait=True)  # an interrupted wait stops the motor
        except (KeyboardInterrupt, gevent.GreenletExit):
            self.say(f"tw interrupted: {axis.name} stopped at {_where(axis)}")
            raise
        except Exception as error:  # its server is gone, or it refused: the user may try another key
            self.say(f"tw: {axis.name}: {str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}")

    def say(self, message: str) -> None:
        """A line of its own above the status line."""
        sys.stdout.write(f"\r\x1b[K{message}\n")
        self.show()

    def show(self, moving: Axis | None = None) -> None:
        """Rewrite the status line: each motor's position and step, what moves, what is typed."""
        parts = [f"{_label(axis)} {_where(axis)}  step {step:g}" for axis, step in zip(self.axes, self.steps)]
        if moving is not None:
            parts.append(f"moving {moving.name}...")
        if self.typed:
            parts.append(f"new step for {self.axes[self.current].name}: {self.typed}")
        width = shutil.get_terminal_size().columns - 1
        sys.stdout.write("\r" + "   ".join(parts)[:width] + "\x1b[K")
        sys.stdout.flush()


def _label(axis: Axis) -> str:
    return f"{axis.name}[{axis.unit}]" if axis.unit else axis.name


def _where(axis: Axis) -> str:
    try:
        return position(axis.position)
    except Exception:  # its server is gone: the line still shows the other motor
        return "!ERR"


class _KeyReader:
    """Keys from a terminal, each as prompt_toolkit names it (``Keys.Left``, ``"q"``, ...)."""

    def __init__(self, fd: int):
        from prompt_toolkit.input.vt100_parser import Vt100Parser

        self._fd = fd
        self._keys: collections.deque[KeyPress] = collections.deque()
        self._parser = Vt100Parser(self._keys.append)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._unsure = False  # bytes were fed that may be the start of a longer sequence

    def next(self) -> str | None:
        """The next key; None when the terminal is gone. Waits through gevent, never blocking the hub."""
        while not self._keys:
            try:
                gevent.socket.wait_read(self._fd, timeout=_ESCAPE_WAIT if self._unsure else None)
            except TimeoutError:  # nothing more came: an Escape is an Escape
                self._parser.flush()
                self._unsure = False
                continue
            data = os.read(self._fd, 1024)
            if not data:
                return None
            self._parser.feed(self._decoder.decode(data))
            self._unsure = True
        return self._keys.popleft().key


@contextmanager
def _cbreak(fd: int) -> Iterator[None]:
    """No echo and no line editing, Ctrl-C still a signal; what was typed ahead is kept."""
    saved = termios.tcgetattr(fd)
    mode = termios.tcgetattr(fd)
    mode[3] &= ~(termios.ECHO | termios.ICANON)
    mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, mode)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)
