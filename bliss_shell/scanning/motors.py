"""Motor helpers of the shell (``wa``, ``wm``, ``mv``, ``umv``, ...), with BLISS's names and output.

Plain functions: the same at the prompt, in a setup file and in ``bliss --script``.
Ctrl-C during a move stops the motors where they are and says where that is.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

import gevent

from bliss_shell.controllers import Axis, looks_like, stop_all, wait_all

from .listing import motors_given, session_objects
from .tables import format_table, position

_LIVE_PERIOD = 0.1  # umv refreshes its table this often


def wa() -> None:
    """Print every motor of the session: user position over dial position (BLISS's "where all").

    A motor whose controller cannot be read shows ``!ERR`` (the reason goes to stderr); the others
    are still shown.

    Examples
    --------
    >>> mv(roby, 1, robz, 0)
    Moving roby from ... to 1.00000
    Moving robz from ... to 0.00000
    >>> wa()
    Current Positions: user
                       dial
    <BLANKLINE>
    roby[mm]  robz[mm]  slowy[mm]
    --------  --------  ---------
     1.00000   0.00000    0.00000
     1.00000   0.00000    0.00000
    """
    motors = _session_motors()
    print("Current Positions: user")
    print("                   dial\n")
    print(_positions_table(motors))


def wm(*motors: Axis) -> None:
    """Print, for each motor given, its user and dial high limit, position and low limit, and its offset.

    User = sign * dial + offset; the limits are software limits, kept as settings (``set_lim``).

    Parameters
    ----------
    *motors : Axis
        The motors to show, each once; none: every motor of the session.

    Examples
    --------
    >>> mv(roby, 1, robz, 0)
    Moving roby from ... to 1.00000
    Moving robz from ... to 0.00000
    >>> wm(roby, robz)
                roby[mm]    robz[mm]
    --------  ----------  ----------
    User
     High      100.00000   100.00000
     Current     1.00000     0.00000
     Low      -100.00000  -100.00000
    Offset       0.00000     0.00000
    <BLANKLINE>
    Dial
     High      100.00000   100.00000
     Current     1.00000     0.00000
     Low      -100.00000  -100.00000
    """
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
    """Print the user positions of the motors given (all of the session's when none), on one row.

    Parameters
    ----------
    *motors : Axis
        The motors to show, each once; none: every motor of the session.

    Examples
    --------
    >>> mv(roby, 1, robz, 0)
    Moving roby from ... to 1.00000
    Moving robz from ... to 0.00000
    >>> wu(roby, robz)
    roby[mm]  robz[mm]
    --------  --------
     1.00000   0.00000
    """
    axes = motors_given("wu", motors) if motors else _session_motors()
    print(format_table([_label(axis) for axis in axes], [[_reading(axis)["user"] for axis in axes]]))


def sta(*motors: Axis) -> None:
    """Print the state of each motor given (all when none): ``READY``, ``MOVING`` or its controller's fault.

    The limits are software limits: a motor at rest on one is ``READY``. A motor whose controller
    cannot be read shows ``!ERR`` and why.

    Parameters
    ----------
    *motors : Axis
        The motors to show, each once; none: every motor of the session.

    Examples
    --------
    >>> sta()
     Axis  Status
    -----  ------
     roby   READY
     robz   READY
    slowy   READY
    >>> sta(roby)
    Axis  Status
    ----  ------
    roby   READY
    """
    axes = motors_given("sta", motors) if motors else _session_motors()
    rows = []
    for axis in axes:
        try:
            rows.append([axis.name, axis.state])
        except Exception as error:  # its server is gone: the other motors are still shown
            rows.append([axis.name, f"!ERR {error}"])
    print(format_table(["Axis", "Status"], rows))


def set_lim(*motor_low_high: Any) -> None:
    """Set the user limits of one or more motors; kept as settings, so the next shells have them too.

    The dial limits follow (dial = (user - offset) * sign). Every pair is checked first: a low limit above its
    high one changes nothing, on any motor. Moves and scans beyond the limits are refused.

    Parameters
    ----------
    *motor_low_high : Axis, float, float
        ``motor, low, high`` for each motor: ``set_lim(roby, -5, 5, robz, 0, 1)``.

    Examples
    --------
    >>> set_lim(roby, -5, 5)
    'roby' new limits: (-5.00000, 5.00000) user, (-5.00000, 5.00000) dial
    >>> mv(roby, 10)
    Traceback (most recent call last):
    ...
    ValueError: mv: roby: position 10 outside limits (-5, 5)
    >>> set_lim(roby, -100, 100)
    'roby' new limits: (-100.00000, 100.00000) user, (-100.00000, 100.00000) dial
    """
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
    """Move motors to user positions, all together; return when all arrived.

    Every target is checked against its motor's limits before any motor moves. Ctrl-C stops the
    motors where they are and shows where that is.

    Parameters
    ----------
    *motor_positions : Axis, float
        ``motor, position`` pairs: ``mv(roby, 1)`` or ``mv(roby, 1, robz, 2)``.

    See Also
    --------
    umv : the same, showing the positions while moving.
    mvr : move by an amount.

    Examples
    --------
    >>> mv(roby, 1, robz, 2)
    Moving roby from ... to 1.00000
    Moving robz from ... to 2.00000
    >>> roby.position, robz.position
    (1.0, 2.0)
    >>> mv(roby, 0, robz, 0)
    Moving roby from 1.00000 to 0.00000
    Moving robz from 2.00000 to 0.00000
    """
    _move("mv", _pairs("mv", motor_positions), relative=False, live=False)


def umv(*motor_positions: Any) -> None:
    """``mv`` that shows the positions while moving, then where the motors arrived (user over dial).

    On a terminal one line is rewritten with the positions until every motor stopped.

    Parameters
    ----------
    *motor_positions : Axis, float
        ``motor, position`` pairs: ``umv(roby, 1)`` or ``umv(roby, 1, robz, 2)``.

    Examples
    --------
    >>> umv(roby, 3)
    Moving roby from ... to 3.00000
    roby[mm]
    --------
     3.00000
     3.00000
    """
    _move("umv", _pairs("umv", motor_positions), relative=False, live=True)


def mvr(*motor_displacements: Any) -> None:
    """Move motors by the given amounts from where they are, all together; return when all arrived.

    Parameters
    ----------
    *motor_displacements : Axis, float
        ``motor, amount`` pairs: ``mvr(roby, 0.5)`` or ``mvr(roby, 0.5, robz, -1)``.

    Examples
    --------
    >>> mv(roby, 1)
    Moving roby from ... to 1.00000
    >>> mvr(roby, 0.5)
    Moving roby from 1.00000 to 1.50000
    >>> mvr(roby, -0.5)
    Moving roby from 1.50000 to 1.00000
    """
    _move("mvr", _pairs("mvr", motor_displacements), relative=True, live=False)


def umvr(*motor_displacements: Any) -> None:
    """``mvr`` that shows the positions while moving, then where the motors arrived (user over dial).

    Parameters
    ----------
    *motor_displacements : Axis, float
        ``motor, amount`` pairs: ``umvr(roby, 0.5)`` or ``umvr(roby, 0.5, robz, -1)``.

    Examples
    --------
    >>> mv(roby, 1)
    Moving roby from ... to 1.00000
    >>> umvr(roby, -0.5)
    Moving roby from 1.00000 to 0.50000
    roby[mm]
    --------
     0.50000
     0.50000
    """
    _move("umvr", _pairs("umvr", motor_displacements), relative=True, live=True)


def mvd(*motor_dials: Any) -> None:
    """Move motors to dial positions (the controller's), all together; ``mv`` speaks user positions.

    Parameters
    ----------
    *motor_dials : Axis, float
        ``motor, dial position`` pairs: ``mvd(roby, 1)`` or ``mvd(roby, 1, robz, 2)``.

    Examples
    --------
    With an offset of 1 (user = dial + 1), dial 2 is user position 3:

    >>> mv(roby, 0)
    Moving roby from ... to 0.00000
    >>> roby.position = 1
    >>> mvd(roby, 2)
    Moving roby from 1.00000 to 3.00000
    >>> roby.dial, roby.position
    (2.0, 3.0)
    >>> roby.position = roby.dial  # offset 0 again
    """
    _move("mvd", _dial_pairs("mvd", motor_dials), relative=False, live=False)


def umvd(*motor_dials: Any) -> None:
    """``mvd`` that shows the positions while moving, then where the motors arrived (user over dial).

    Parameters
    ----------
    *motor_dials : Axis, float
        ``motor, dial position`` pairs: ``umvd(roby, 1)`` or ``umvd(roby, 1, robz, 2)``.

    Examples
    --------
    >>> umvd(roby, 1)
    Moving roby from ... to 1.00000
    roby[mm]
    --------
     1.00000
     1.00000
    """
    _move("umvd", _dial_pairs("umvd", motor_dials), relative=False, live=True)


def sync(*motors: Axis) -> None:
    """Read each motor (all when none given) from its controller again and print what it says.

    Our motors keep no cached position; ``sync_hard()`` takes the controller's velocity,
    acceleration and limits into the settings. It is where a motor whose server is gone shows its error.

    Parameters
    ----------
    *motors : Axis
        The motors to read, each once; none: every motor of the session.

    Examples
    --------
    >>> mv(roby, 1)
    Moving roby from ... to 1.00000
    >>> sync(roby)
    roby: 1.00000 (dial 1.00000), READY
    """
    for axis in motors_given("sync", motors) if motors else _session_motors():
        axis.sync_hard()
        print(f"{axis.name}: {position(axis.position)} (dial {position(axis.dial)}), {axis.state}")


def lsmot() -> None:
    """Print the names of the session's motors.

    Examples
    --------
    >>> lsmot()
    Motors configured in current session:
    -------------------------------------
    roby  robz  slowy
    """
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
        display = gevent.spawn(_show_while_moving, axes) if live else None
        try:
            wait_all(axes)  # a motor failing ends the wait at once, whichever it is
        finally:
            if display is not None:
                display.kill()
    except BaseException as error:  # Ctrl-C, or one motor failed: the others stop too, and all rest before anything else
        failures = stop_all(axes)  # a real motor decelerates: where it rests is what the table shows
        if isinstance(error, (KeyboardInterrupt, gevent.GreenletExit)):
            print(f"\n{command} interrupted: motors stopped")
            print(_positions_table(axes))
        for name, why in failures.items():
            print(f"{command}: {name} could not be stopped: {why}")
        raise
    if live:
        print(_positions_table(axes))


def _show_while_moving(axes: list[Axis]) -> None:
    """Rewrite one line with the user positions until every motor stopped (on a terminal only)."""
    if not sys.stdout.isatty():
        return
    width = 0
    try:
        while any(axis.state == "MOVING" for axis in axes):
            line = "   ".join(f"{_label(axis)} {position(axis.position)}" for axis in axes)
            width = max(width, len(line))
            sys.stdout.write(f"\r{line:<{width}}")
            sys.stdout.flush()
            gevent.sleep(_LIVE_PERIOD)
    finally:  # the moves ended, or one failed and the wait for them ended
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
    return [value for value in session_objects().values() if looks_like(value, Axis)]


def _pairs(command: str, arguments: tuple[Any, ...]) -> list[tuple[Axis, float]]:
    if not arguments or len(arguments) % 2:
        raise TypeError(f"{command}: give motor, position pairs: {command}(roby, 1) or {command}(roby, 1, robz, 2)")
    axes = motors_given(command, arguments[::2])
    return list(zip(axes, (_number(command, value) for value in arguments[1::2])))


def _dial_pairs(command: str, arguments: tuple[Any, ...]) -> list[tuple[Axis, float]]:
    """Motor, dial pairs as motor, user-position pairs (user = sign * dial + offset)."""
    return [(axis, axis.sign * dial + axis.offset) for axis, dial in _pairs(command, arguments)]


def _number(command: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{command}: {value!r} is not a position")
    return float(value)
