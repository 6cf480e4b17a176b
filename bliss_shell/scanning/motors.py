"""Motor helpers of the shell (``wa``, ``wm``, ``mv``, ``umv``, ...), with BLISS's names and output.

Plain functions: the same at the prompt, in a setup file and in ``bliss --script``.
Ctrl-C during a move stops the motors where they are and says where that is.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

import gevent

from bliss_shell.controllers import Axis

from .listing import motors_given, session_objects
from .tables import format_table, position

_LIVE_PERIOD = 0.1  # umv refreshes its table this often


def wa() -> None:
    """Every motor of the session: user position over dial position."""
    motors = _session_motors()
    print("Current Positions: user")
    print("                   dial\n")
    print(_positions_table(motors))


def wm(*motors: Axis) -> None:
    """User and dial high limit, position and low limit, and the offset of each motor given."""
    axes = motors_given("wm", motors) if motors else _session_motors()
    rows: list[list[str]] = [["User"]]
    readings = [_reading(axis) for axis in axes]
    for label, key in ((" High", "high"), (" Current", "user"), (" Low", "low")):
        rows.append([label, *(r[key] for r in readings)])
    rows.append(["Offset", *(r["offset"] for r in readings)])
    rows.append([""])
    rows.append(["Dial"])
    for label, key in ((" High", "dial_high"), (" Current", "dial"), (" Low", "dial_low")):
        rows.append([label, *(r[key] for r in readings)])
    print(format_table(["", *(_label(axis) for axis in axes)], rows))


def wu(*motors: Axis) -> None:
    """User positions of the motors given (all of the session's when none), one row."""
    axes = motors_given("wu", motors) if motors else _session_motors()
    print(format_table([_label(axis) for axis in axes], [[_reading(axis)["user"] for axis in axes]]))


def sta(*motors: Axis) -> None:
    """The state of each motor given (all when none): READY, MOVING or its controller's fault."""
    axes = motors_given("sta", motors) if motors else _session_motors()
    rows = []
    for axis in axes:
        try:
            rows.append([axis.name, axis.state])
        except Exception as error:  # its server is gone: the other motors are still shown
            rows.append([axis.name, f"!ERR {error}"])
    print(format_table(["Axis", "Status"], rows))


def set_lim(*motor_low_high: Any) -> None:
    """``set_lim(roby, -5, 5)``: user limits of each motor (the dial limits follow the offset); kept as settings."""
    if not motor_low_high or len(motor_low_high) % 3:
        raise TypeError("set_lim: give motor, low, high triples: set_lim(roby, -5, 5) or set_lim(roby, -5, 5, robz, 0, 1)")
    axes = motors_given("set_lim", motor_low_high[::3])
    limits = [
        (_number("set_lim", low), _number("set_lim", high)) for low, high in zip(motor_low_high[1::3], motor_low_high[2::3])
    ]
    for axis, (low, high) in zip(axes, limits):
        if low > high:
            raise ValueError(f"set_lim: {axis.name}: low limit {low:g} above high limit {high:g}; nothing was changed")
    for axis, pair in zip(axes, limits):
        axis.limits = pair
        print(f"'{axis.name}' new limits: ({position(pair[0])}, {position(pair[1])}) user, "
              f"({position(axis.dial_limits[0])}, {position(axis.dial_limits[1])}) dial")  # fmt: skip


def mv(*motor_positions: Any) -> None:
    """``mv(roby, 1, robz, 2)``: move together, return when all arrived."""
    _move("mv", _pairs("mv", motor_positions), relative=False, live=False)


def umv(*motor_positions: Any) -> None:
    """``mv`` that shows the positions while moving."""
    _move("umv", _pairs("umv", motor_positions), relative=False, live=True)


def mvr(*motor_displacements: Any) -> None:
    """``mvr(roby, 0.5)``: move by the given amounts."""
    _move("mvr", _pairs("mvr", motor_displacements), relative=True, live=False)


def umvr(*motor_displacements: Any) -> None:
    """``mvr`` that shows the positions while moving."""
    _move("umvr", _pairs("umvr", motor_displacements), relative=True, live=True)


def mvd(*motor_dials: Any) -> None:
    """``mvd(roby, 1)``: move to dial positions."""
    _move("mvd", _dial_pairs("mvd", motor_dials), relative=False, live=False)


def umvd(*motor_dials: Any) -> None:
    """``mvd`` that shows the positions while moving."""
    _move("umvd", _dial_pairs("umvd", motor_dials), relative=False, live=True)


def sync(*motors: Axis) -> None:
    """Read each motor (all when none given) from its controller again and show what it says.

    Our motors keep no cached position; ``sync_hard()`` takes the controller's velocity,
    acceleration and limits into the settings. It is where a motor whose server is gone shows its error.
    """
    for axis in motors_given("sync", motors) if motors else _session_motors():
        axis.sync_hard()
        print(f"{axis.name}: {position(axis.position)} (dial {position(axis.dial)}), {axis.state}")


def lsmot() -> None:
    """The names of the session's motors."""
    print("Motors configured in current session:\n-------------------------------------")
    print("  ".join(axis.name for axis in _session_motors()))


def goto(command: str, axis: Axis, target: float) -> None:
    """Move one motor as ``umv`` does (for the peak tools)."""
    _move(command, [(axis, target)], relative=False, live=True)


def _move(command: str, pairs: list[tuple[Axis, float]], relative: bool, live: bool) -> None:
    targets = [(axis, axis.position + value if relative else value) for axis, value in pairs]
    for axis, target in targets:
        try:
            axis.check_target(target)
        except (ValueError, TypeError) as error:
            raise type(error)(f"{command}: {error}") from None
    for axis, target in targets:
        print(f"Moving {axis.name} from {position(axis.position)} to {position(target)}")
    axes = [axis for axis, _ in targets]
    try:
        for axis, target in targets:
            axis.move(target, wait=False)
        if live:
            _show_while_moving(axes)
        for axis in axes:
            axis.wait_move()
    except (KeyboardInterrupt, gevent.GreenletExit):
        for axis in axes:
            axis.stop()
        print(f"\n{command} interrupted: motors stopped")
        print(_positions_table(axes))
        raise
    if live:
        print(_positions_table(axes))


def _show_while_moving(axes: list[Axis]) -> None:
    """Rewrite one line with the user positions until every motor stopped (on a terminal only)."""
    if not sys.stdout.isatty():
        return
    width = 0
    while any(axis.state == "MOVING" for axis in axes):
        line = "   ".join(f"{_label(axis)} {position(axis.position)}" for axis in axes)
        width = max(width, len(line))
        sys.stdout.write(f"\r{line:<{width}}")
        sys.stdout.flush()
        gevent.sleep(_LIVE_PERIOD)
    sys.stdout.write("\r" + " " * width + "\r")
    sys.stdout.flush()


def _positions_table(axes: list[Axis]) -> str:
    readings = [_reading(axis) for axis in axes]
    return format_table([_label(axis) for axis in axes], [[r["user"] for r in readings], [r["dial"] for r in readings]])


def _reading(axis: Axis) -> dict[str, str]:
    """Everything ``wm`` shows for one motor, as text (``!ERR`` for what cannot be read)."""
    try:
        low, high = axis.limits
        dial_low, dial_high = axis.dial_limits
        return {
            "user": position(axis.position), "dial": position(axis.dial), "offset": position(axis.offset),
            "high": position(high), "low": position(low), "dial_high": position(dial_high), "dial_low": position(dial_low),
        }  # fmt: skip
    except Exception as error:  # its server is gone: the other motors are still shown
        print(f"{axis.name}: {error}", file=sys.stderr)
        return dict.fromkeys(("user", "dial", "offset", "high", "low", "dial_high", "dial_low"), "!ERR")


def _label(axis: Axis) -> str:
    return f"{axis.name}[{axis.unit}]" if axis.unit else axis.name


def _session_motors() -> list[Axis]:
    return [value for value in session_objects().values() if isinstance(value, Axis)]


def _pairs(command: str, arguments: tuple[Any, ...]) -> list[tuple[Axis, float]]:
    if not arguments or len(arguments) % 2:
        raise TypeError(f"{command}: give motor, position pairs: {command}(roby, 1) or {command}(roby, 1, robz, 2)")
    axes = motors_given(command, arguments[::2])
    return list(zip(axes, (_number(command, value) for value in arguments[1::2])))


def _dial_pairs(command: str, arguments: tuple[Any, ...]) -> list[tuple[Axis, float]]:
    """Motor, dial pairs as motor, user-position pairs."""
    return [(axis, dial + axis.offset) for axis, dial in _pairs(command, arguments)]


def _number(command: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{command}: {value!r} is not a position")
    return float(value)
