"""The scan commands, with BLISS's names and arguments; ``npoints`` counts points, not intervals.

Every argument is checked before anything moves or is published: a wrong argument
raises one clear error and leaves the motors and Redis untouched.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from bliss_shell.controllers import Axis, Counter, Detector, MeasurementGroup
from bliss_shell.data import keys

from .context import current
from .listing import available
from .scan import Scan, ScanPlan


def ascan(motor: Axis, start: float, stop: float, npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:
    """``npoints`` points from ``start`` to ``stop`` (both included), counting ``count_time`` at each.

    Example: ``ascan(roby, 0, 9, 10, 0.1, diode)`` counts at roby = 0, 1, ..., 9.
    """
    return anscan([(motor, start, stop)], npoints, count_time, *counters, _command="ascan", name=options.pop("name", "ascan"),
                  title=options.pop("title", None) or _title("ascan", motor, start, stop, npoints, count_time), **options)  # fmt: skip


def dscan(motor: Axis, start: float, stop: float, npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:
    """Like ``ascan``, relative to where the motor is; it goes back there afterwards, also after an error or Ctrl-C."""
    return dnscan([(motor, start, stop)], npoints, count_time, *counters, _command="dscan", name=options.pop("name", "dscan"),
                  title=options.pop("title", None) or _title("dscan", motor, start, stop, npoints, count_time), **options)  # fmt: skip


def a2scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, npoints: int, count_time: float,
           *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Two motors together, each from its start to its stop."""
    title = options.pop("title", None) or _title("a2scan", m1, s1, e1, m2, s2, e2, npoints, count_time)
    return anscan([(m1, s1, e1), (m2, s2, e2)], npoints, count_time, *counters, _command="a2scan", name=options.pop("name", "a2scan"),
                  title=title, **options)  # fmt: skip


def d2scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, npoints: int, count_time: float,
           *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """``a2scan`` relative to where the motors are; they go back there afterwards."""
    title = options.pop("title", None) or _title("d2scan", m1, s1, e1, m2, s2, e2, npoints, count_time)
    return dnscan([(m1, s1, e1), (m2, s2, e2)], npoints, count_time, *counters, _command="d2scan", name=options.pop("name", "d2scan"),
                  title=title, **options)  # fmt: skip


def anscan(motors: Sequence[tuple[Axis, float, float]], npoints: int, count_time: float, *counters: Any,
           _command: str = "anscan", **options: Any) -> Scan | None:  # fmt: skip
    """Any number of motors together: ``anscan([(roby, 0, 1), (robz, 5, 6)], 10, 0.1, diode)``."""
    command = _command
    axes = [_axis(command, motor) for motor, _, _ in motors]
    _npoints(command, npoints)
    positions = np.column_stack([np.linspace(float(s), float(e), npoints) for _, s, e in motors])
    return _scan(command, axes, positions, npoints, count_time, counters, options)


def dnscan(motors: Sequence[tuple[Axis, float, float]], npoints: int, count_time: float, *counters: Any,
           _command: str = "dnscan", **options: Any) -> Scan | None:  # fmt: skip
    """``anscan`` relative to where the motors are; they go back there afterwards."""
    command = _command
    axes = [_axis(command, motor) for motor, _, _ in motors]
    _npoints(command, npoints)
    here = {axis: axis.position for axis in axes}
    positions = np.column_stack([here[axis] + np.linspace(float(s), float(e), npoints) for axis, (_, s, e) in zip(axes, motors)])
    return _scan(command, axes, positions, npoints, count_time, counters, options, return_to=here)


def amesh(m1: Axis, s1: float, e1: float, n1: int, m2: Axis, s2: float, e2: float, n2: int, count_time: float,
          *counters: Any, backnforth: bool = False, **options: Any) -> Scan | None:  # fmt: skip
    """A grid: ``m1`` fast (``n1`` points), ``m2`` slow (``n2`` points); ``backnforth`` reverses every other line."""
    command = "amesh"
    options.setdefault("name", command)
    options.setdefault("title", _title(command, m1, s1, e1, n1, m2, s2, e2, n2, count_time))
    return _mesh(command, m1, s1, e1, n1, m2, s2, e2, n2, count_time, counters, backnforth, options, relative=False)


def dmesh(m1: Axis, s1: float, e1: float, n1: int, m2: Axis, s2: float, e2: float, n2: int, count_time: float,
          *counters: Any, backnforth: bool = False, **options: Any) -> Scan | None:  # fmt: skip
    """``amesh`` relative to where the motors are; they go back there afterwards."""
    command = "dmesh"
    options.setdefault("name", command)
    options.setdefault("title", _title(command, m1, s1, e1, n1, m2, s2, e2, n2, count_time))
    return _mesh(command, m1, s1, e1, n1, m2, s2, e2, n2, count_time, counters, backnforth, options, relative=True)


def pointscan(motor: Axis, positions: Sequence[float], count_time: float, *counters: Any, **options: Any) -> Scan | None:
    """Count at each of the given positions of one motor."""
    options.setdefault("name", "pointscan")
    options.setdefault("title", f"pointscan {_arg(motor)} {len(positions)} {_arg(count_time)}")
    return lookupscan([(motor, positions)], count_time, *counters, _command="pointscan", **options)


def lookupscan(motor_positions: Sequence[tuple[Axis, Sequence[float]]], count_time: float, *counters: Any,
               _command: str = "lookupscan", **options: Any) -> Scan | None:  # fmt: skip
    """Several motors through position tables of the same length: ``lookupscan([(roby, [0, 2, 5])], 0.1)``."""
    command = _command
    options.setdefault("name", command)
    axes = [_axis(command, motor) for motor, _ in motor_positions]
    tables = [np.asarray(positions, dtype=float) for _, positions in motor_positions]
    if len({len(table) for table in tables}) != 1:
        raise ValueError(f"{command}: every motor needs the same number of positions")
    _npoints(command, len(tables[0]))
    return _scan(command, axes, np.column_stack(tables), len(tables[0]), count_time, counters, options)


def lineup(motor: Axis, start: float, stop: float, npoints: int, count_time: float, counter: Counter, **options: Any) -> Scan | None:
    """``dscan`` with one counter, then move the motor to where the counter peaked."""
    options.setdefault("name", "lineup")
    options["return_scan"] = True
    scan = dscan(motor, start, stop, npoints, count_time, counter, **options)
    if scan is not None and scan.state == "done":
        data = scan.get_data()
        peak = float(data[motor][int(np.argmax(data[counter]))])
        motor.move(peak)
        print(f"Moving {motor.name} to the peak of {counter.name}: {peak:g}")
    return scan


def loopscan(npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:
    """``npoints`` counts in a row, nothing moving."""
    command = "loopscan"
    options.setdefault("name", command)
    _npoints(command, npoints)
    options.setdefault("title", _title(command, npoints, count_time))
    return _scan(command, [], np.empty((npoints, 0)), npoints, count_time, counters, options)


def timescan(count_time: float, *counters: Any, npoints: int = 0, **options: Any) -> Scan | None:
    """Count again and again; ``npoints=0`` means until Ctrl-C."""
    command = "timescan"
    options.setdefault("name", command)
    if npoints != 0:
        _npoints(command, npoints)
    options.setdefault("title", _title(command, count_time))
    return _scan(command, [], np.empty((0, 0)), npoints, count_time, counters, options)


def ct(count_time: float = 1.0, *counters: Any, _command: str = "ct", **options: Any) -> Scan | None:
    """Count once, print each counter's value and rate; not saved, but kept in ``SCANS``."""
    options.setdefault("name", _command)
    options.setdefault("save", False)
    options.setdefault("title", _title(options["name"], count_time))
    return_scan = options.pop("return_scan", True)
    scan = _scan(_command, [], np.empty((1, 0)), 1, count_time, counters, options)
    if scan is not None and scan.state == "done":
        _print_counts(scan, count_time)
    return scan if return_scan else None


def sct(count_time: float = 1.0, *counters: Any, **options: Any) -> Scan | None:
    """``ct``, saved."""
    options.setdefault("save", True)
    return ct(count_time, *counters, _command="sct", **options)


def _mesh(command: str, m1: Axis, s1: float, e1: float, n1: int, m2: Axis, s2: float, e2: float, n2: int,
          count_time: float, counters: Sequence[Any], backnforth: bool, options: dict, relative: bool) -> Scan | None:  # fmt: skip
    axes = [_axis(command, m1), _axis(command, m2)]
    _npoints(command, n1)
    _npoints(command, n2)
    here = {axis: axis.position for axis in axes} if relative else None
    fast = np.linspace(float(s1), float(e1), n1) + (here[axes[0]] if here else 0)
    slow = np.linspace(float(s2), float(e2), n2) + (here[axes[1]] if here else 0)
    rows = [
        (x, y)
        for line, y in enumerate(slow)
        for x in (fast[::-1] if backnforth and line % 2 else fast)
    ]  # fmt: skip
    return _scan(command, axes, np.array(rows), n1 * n2, count_time, counters, options, return_to=here)


def _scan(command: str, axes: list[Axis], positions: np.ndarray, npoints: int, count_time: float,
          counters: Sequence[Any], options: dict[str, Any], return_to: dict[Axis, float] | None = None) -> Scan | None:  # fmt: skip
    context = current()
    name = options.pop("name", None) or command
    title = options.pop("title", None) or name
    save = bool(options.pop("save", True))
    run = bool(options.pop("run", True))
    return_scan = bool(options.pop("return_scan", True))
    scan_info = dict(options.pop("scan_info", None) or {})
    sleep_time = float(options.pop("sleep_time", None) or 0.0)
    if options:
        raise TypeError(f"{command}: unknown keyword '{next(iter(options))}'")
    _check_scan_name(command, name)
    if not isinstance(count_time, numbers.Real) or count_time < 0:
        raise ValueError(f"{command}: count_time must be a number >= 0, not {count_time!r}")
    if sleep_time < 0:
        raise ValueError(f"{command}: sleep_time must be >= 0, not {sleep_time!r}")
    chosen, detectors = _counters(command, counters, context.active_mg)
    for column, axis in enumerate(axes):
        for target in (positions[:, column].min(), positions[:, column].max()):
            try:
                axis.check_target(float(target))
            except (ValueError, TypeError) as error:
                raise type(error)(f"{command}: {error}") from None
    plan = ScanPlan(name, title, axes, positions, chosen, float(count_time), npoints, save, sleep_time, scan_info,
                    return_to, detectors)  # fmt: skip
    scan = Scan(context, plan)
    if run:
        scan.run()
    return scan if return_scan or not run else None


def _check_scan_name(command: str, name: Any) -> None:
    """The name goes into Redis keys (``...:3_name``) and the file (entry ``3_name``): it must stay one part."""
    try:
        keys.check_name(name, "scan name")
        valid = "/" not in name
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"{command}: scan name {name!r} is not valid: use letters, digits, '_', '-' or '.', "
                         "without ':', '|', '/' or control characters")  # fmt: skip


def _axis(command: str, motor: Any) -> Axis:
    available(command, motor)
    if not isinstance(motor, Axis):
        raise TypeError(f"{command}: {motor!r} is not a motor")
    return motor


def _npoints(command: str, npoints: Any) -> None:
    if isinstance(npoints, bool) or not isinstance(npoints, numbers.Integral) or npoints < 1:
        raise ValueError(f"{command}: the number of points must be a whole number >= 1, not {npoints!r}")


def _counters(command: str, given: Sequence[Any], active_mg: MeasurementGroup | None) -> tuple[list[Counter], list[Detector]]:
    """The counters and the 2D detectors among what was given (measurement groups expanded)."""
    if not given and active_mg is not None:
        given = [active_mg]
    counters: list[Counter] = []
    detectors: list[Detector] = []
    for item in given:
        available(command, item)
        for member in item.counters if isinstance(item, MeasurementGroup) else [item]:
            chosen = counters if isinstance(member, Counter) else detectors if isinstance(member, Detector) else None
            if chosen is None:
                raise TypeError(f"{command}: {member!r} is not a counter")
            if member not in chosen:
                chosen.append(member)
    return counters, detectors


def _arg(value: Any) -> str:
    if isinstance(value, numbers.Real):
        return f"{value:g}"
    return getattr(value, "name", str(value))


def _title(command: str, *args: Any) -> str:
    return " ".join([command, *(_arg(a) for a in args)])


def _print_counts(scan: Scan, count_time: float) -> None:
    """``diode = 56.2122 (562.122 /s) diode``: value, rate and controller, in aligned columns."""
    data = scan.get_data()
    rows = []
    for counter in scan.plan.counters:
        value = data[counter][0]
        if np.ndim(value):
            rows.append((counter.name, f"{np.shape(value)} spectrum, sum {np.sum(value):.6g}", "", counter.controller_name))
        else:
            rate = f"({value / count_time:.6g} /s)" if count_time else "(- /s)"
            rows.append((counter.name, f"{value:.6g}", rate, counter.controller_name))
    widths = [max(len(row[i]) for row in rows) for i in range(3)] if rows else []
    for name, value, rate, controller in rows:
        print(f"{name:>{widths[0]}} = {value:>{widths[1]}} {rate:>{widths[2]}} {controller}")
