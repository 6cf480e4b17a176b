"""The scan commands, with BLISS's names and arguments; ``npoints`` counts points, not intervals.

Every argument is checked before anything moves or is published: a wrong argument
raises one clear error and leaves the motors and Redis untouched.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bliss_shell.controllers import Axis, Counter, MeasurementGroup
from bliss_shell.data import keys

from .context import current
from .continuous import Trajectory
from .listing import available, motors_given
from .parameters import SCAN_PARAMETERS, shared
from .placing import reach_redis
from .plan import ScanPlan
from .scan import Scan
from .scan_info import given_scan_info
from .titles import as_typed, scan_title

MAX_POINTS = 100_000_000  # a plan of positions beyond this would not fit in memory: refused in one line


@shared(SCAN_PARAMETERS)
def ascan(motor: Axis, start: float, stop: float, npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:
    """Absolute scan: ``npoints`` points from ``start`` to ``stop`` (both included), counting ``count_time`` at each.

    The step is ``(stop - start) / (npoints - 1)``; the motor stays at ``stop`` afterwards. Every
    argument is checked before anything moves: a position outside the motor's limits, a count time
    that is not a number >= 0 or a counter given twice raises one error and nothing happens.

    Parameters
    ----------
    {motor}
    {start_stop}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    See Also
    --------
    dscan : the same, relative to where the motor is.
    a2scan, anscan : several motors together.

    Examples
    --------
    >>> s = ascan(roby, 0, 4, 5, 0.01, diode)
    >>> s.state
    'done'
    >>> s.get_data()["roby"]
    array([0., 1., 2., 3., 4.])
    >>> roby.position
    4.0

    At the prompt the scan shows itself (with the live display on, each point is printed as it comes):

    >>> ascan(roby, 0, 4, 5, 0, diode)
    Scan(number=..., name=ascan, path=.../data.h5)

    No counter given: the active measurement group's are counted.

    >>> s = ascan(roby, 0, 4, 5, 0)
    >>> list(s.get_data())
    ['roby', 'elapsed_time', 'epoch', 'diode', 'diode2']

    Options: not saved, a title of one's own, prepared now and run later.

    >>> s = ascan(roby, 0, 4, 5, 0, diode, save=False, title="roby survey", run=False)
    >>> s.state
    'idle'
    >>> s.run()
    Scan(number=..., name=ascan, path=<no saving>)
    >>> s.scan_info["title"]
    'roby survey'

    A position beyond the motor's limits is refused before anything moves.

    >>> ascan(roby, 0, 200, 5, 0, diode)
    Traceback (most recent call last):
    ...
    ValueError: ascan: roby: position 200 outside limits (-100, 100)
    """
    return scan_together("ascan", anscan, [(motor, start, stop)], npoints, count_time, counters, options)


@shared(SCAN_PARAMETERS)
def dscan(motor: Axis, start: float, stop: float, npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:
    """Relative scan: ``ascan`` from ``start`` to ``stop`` around where the motor is; it goes back there afterwards.

    The motor returns to where it started also after an error or Ctrl-C.

    Parameters
    ----------
    {motor}
    {relative_start_stop}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> mv(roby, 2)
    Moving roby from ... to 2.00000
    >>> s = dscan(roby, -1, 1, 5, 0.01, diode)
    >>> s.get_data()["roby"]
    array([1. , 1.5, 2. , 2.5, 3. ])
    >>> roby.position
    2.0
    """
    return scan_together("dscan", dnscan, [(motor, start, stop)], npoints, count_time, counters, options)


@shared(SCAN_PARAMETERS)
def a2scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, npoints: int, count_time: float,
           *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Absolute scan of two motors together, each from its start to its stop, through ``npoints`` points.

    Parameters
    ----------
    {motors 1-2}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> s = a2scan(roby, 0, 1, robz, 5, 6, 3, 0.01, diode)
    >>> s.get_data()["roby"], s.get_data()["robz"]
    (array([0. , 0.5, 1. ]), array([5. , 5.5, 6. ]))
    """
    return scan_together("a2scan", anscan, [(m1, s1, e1), (m2, s2, e2)], npoints, count_time, counters, options)


@shared(SCAN_PARAMETERS)
def d2scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, npoints: int, count_time: float,
           *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Relative scan of two motors together: ``a2scan`` around where they are; they go back there afterwards.

    Parameters
    ----------
    {relative_motors 1-2}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> mv(roby, 2, robz, 5)
    Moving roby from ... to 2.00000
    Moving robz from ... to 5.00000
    >>> s = d2scan(roby, -1, 1, robz, -0.5, 0.5, 3, 0.01, diode)
    >>> s.get_data()["robz"]
    array([4.5, 5. , 5.5])
    >>> roby.position, robz.position
    (2.0, 5.0)
    """
    return scan_together("d2scan", dnscan, [(m1, s1, e1), (m2, s2, e2)], npoints, count_time, counters, options)


@shared(SCAN_PARAMETERS)
def anscan(motors: Sequence[tuple[Axis, float, float]], npoints: int, count_time: float, *counters: Any,
           _command: str = "anscan", **options: Any) -> Scan | None:  # fmt: skip
    """Absolute scan of any number of motors together, each from its start to its stop.

    Parameters
    ----------
    motors : list of (Axis, float, float)
        ``(motor, start, stop)`` for each motor; a motor given twice is refused.
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> s = anscan([(roby, 0, 1), (robz, 5, 6)], 3, 0.01, diode)
    >>> s.get_data()["robz"]
    array([5. , 5.5, 6. ])
    """
    axes, ends = _motor_ranges(_command, motors, npoints)
    positions = np.column_stack([np.linspace(s, e, npoints) for s, e in ends])
    return _scan(_command, axes, positions, npoints, count_time, counters, options)


@shared(SCAN_PARAMETERS)
def dnscan(motors: Sequence[tuple[Axis, float, float]], npoints: int, count_time: float, *counters: Any,
           _command: str = "dnscan", **options: Any) -> Scan | None:  # fmt: skip
    """Relative scan of any number of motors: ``anscan`` around where they are; they go back there afterwards.

    Parameters
    ----------
    motors : list of (Axis, float, float)
        ``(motor, start, stop)`` for each motor, start and stop relative to where it is.
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> mv(roby, 2, robz, 5)
    Moving roby from ... to 2.00000
    Moving robz from ... to 5.00000
    >>> s = dnscan([(roby, -1, 1), (robz, -1, 1)], 3, 0.01, diode)
    >>> s.get_data()["roby"]
    array([1., 2., 3.])
    >>> roby.position, robz.position
    (2.0, 5.0)
    """
    axes, ends = _motor_ranges(_command, motors, npoints)
    here = {axis: axis.position for axis in axes}
    positions = np.column_stack([here[axis] + np.linspace(s, e, npoints) for axis, (s, e) in zip(axes, ends)])
    return _scan(_command, axes, positions, npoints, count_time, counters, options, return_to=here)


def scan_together(command: str, scan: Callable[..., Scan | None], ranges: list[tuple[Any, Any, Any]], npoints: Any,
                  count_time: Any, counters: tuple[Any, ...], options: dict[str, Any]) -> Scan | None:  # fmt: skip
    """``scan`` (``anscan`` or ``dnscan``) of the motors' ``ranges`` under ``command``'s own name and title.

    The commands of one to five motors (``ascan``, ``a2scan``, ``d3scan``, ...) are this, with their
    motors, starts and stops given one after the other.

    Examples
    --------
    >>> s = scan_together("a2scan", anscan, [(roby, 0, 1), (robz, 5, 6)], 3, 0.01, (diode,), {})
    >>> s.name, s.scan_info["title"]
    ('a2scan', 'a2scan roby 0 1 robz 5 6 3 0.01')
    """
    title = options.pop("title", None) or scan_title(command, *(value for r in ranges for value in r), npoints, count_time)
    return scan(ranges, npoints, count_time, *counters, _command=command, title=title, **options)


@shared(SCAN_PARAMETERS)
def amesh(m1: Axis, s1: float, e1: float, n1: int, m2: Axis, s2: float, e2: float, n2: int, count_time: float,
          *counters: Any, backnforth: bool = False, **options: Any) -> Scan | None:  # fmt: skip
    """Absolute grid: ``m1`` through ``n1`` points on each line (fast), ``m2`` through ``n2`` lines (slow).

    Parameters
    ----------
    m1 : Axis
        The fast motor.
    s1, e1 : float
        Its first and last positions on each line.
    n1 : int
        The points of a line, >= 1.
    m2 : Axis
        The slow motor.
    s2, e2 : float
        Its first and last positions.
    n2 : int
        The number of lines, >= 1.
    {count_time}
    {counters}
    {backnforth}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> s = amesh(roby, 0, 2, 3, robz, 0, 1, 2, 0.01, diode)
    >>> s.get_data()["roby"], s.get_data()["robz"]
    (array([0., 1., 2., 0., 1., 2.]), array([0., 0., 0., 1., 1., 1.]))
    >>> s = amesh(roby, 0, 2, 3, robz, 0, 1, 2, 0.01, diode, backnforth=True)
    >>> s.get_data()["roby"]
    array([0., 1., 2., 2., 1., 0.])
    """
    return _mesh("amesh", m1, s1, e1, n1, m2, s2, e2, n2, count_time, counters, backnforth, options, relative=False)


@shared(SCAN_PARAMETERS)
def dmesh(m1: Axis, s1: float, e1: float, n1: int, m2: Axis, s2: float, e2: float, n2: int, count_time: float,
          *counters: Any, backnforth: bool = False, **options: Any) -> Scan | None:  # fmt: skip
    """Relative grid: ``amesh`` around where the motors are; they go back there afterwards.

    Parameters
    ----------
    m1 : Axis
        The fast motor.
    s1, e1 : float
        Its first and last positions on each line, relative to where it is.
    n1 : int
        The points of a line, >= 1.
    m2 : Axis
        The slow motor.
    s2, e2 : float
        Its first and last positions, relative to where it is.
    n2 : int
        The number of lines, >= 1.
    {count_time}
    {counters}
    {backnforth}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> mv(roby, 2, robz, 5)
    Moving roby from ... to 2.00000
    Moving robz from ... to 5.00000
    >>> s = dmesh(roby, -1, 1, 3, robz, -1, 1, 2, 0.01, diode)
    >>> s.get_data()["robz"]
    array([4., 4., 4., 6., 6., 6.])
    >>> roby.position, robz.position
    (2.0, 5.0)
    """
    return _mesh("dmesh", m1, s1, e1, n1, m2, s2, e2, n2, count_time, counters, backnforth, options, relative=True)


@shared(SCAN_PARAMETERS)
def pointscan(
    motor: Axis, positions: Sequence[float] | np.ndarray, count_time: float, *counters: Any, **options: Any
) -> Scan | None:
    """Count at each of the given positions of one motor, in the order given.

    Parameters
    ----------
    {motor}
    positions : list of float or numpy array
        Its positions, finite numbers, at least one.
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> s = pointscan(roby, [0, 1, 5, 2], 0.01, diode)
    >>> s.get_data()["roby"]
    array([0., 1., 5., 2.])
    """
    (axis,) = motors_given("pointscan", [motor])
    table = _positions("pointscan", axis, positions)
    options.setdefault("title", f"pointscan {axis.name} {len(table)} {as_typed(count_time)}")
    return lookupscan([(axis, table)], count_time, *counters, _command="pointscan", **options)


@shared(SCAN_PARAMETERS)
def lookupscan(motor_positions: Sequence[tuple[Axis, Sequence[float] | np.ndarray]], count_time: float, *counters: Any,
               _command: str = "lookupscan", **options: Any) -> Scan | None:  # fmt: skip
    """Move several motors through position tables of the same length, counting at each point.

    Parameters
    ----------
    motor_positions : list of (Axis, list of float)
        ``(motor, positions)`` for each motor; every table has the same number of positions.
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> s = lookupscan([(roby, [0, 2, 5]), (robz, [1, 1, 3])], 0.01, diode)
    >>> s.get_data()["roby"], s.get_data()["robz"]
    (array([0., 2., 5.]), array([1., 1., 3.]))
    """
    command = _command
    if isinstance(motor_positions, (str, bytes)) or not isinstance(motor_positions, Sequence) or not motor_positions:
        raise ValueError(f"{command}: give a list of (motor, positions) pairs: {command}([(roby, [0, 1, 2])], 0.1)")
    axes = motors_given(command, [motor for motor, _ in motor_positions])
    tables = [_positions(command, axis, positions) for axis, (_, positions) in zip(axes, motor_positions)]
    if len({len(table) for table in tables}) != 1:
        raise ValueError(f"{command}: every motor needs the same number of positions")
    _npoints(command, len(tables[0]))
    return _scan(command, axes, np.column_stack(tables), len(tables[0]), count_time, counters, options)


@shared(SCAN_PARAMETERS)
def lineup(
    motor: Axis, start: float, stop: float, npoints: int, count_time: float, counter: Counter, **options: Any
) -> Scan | None:
    """``dscan`` with one counter, then move the motor to where that counter was highest.

    When the scan did not end ``done`` (Ctrl-C, an error), the motor stays where ``dscan`` left it.

    Parameters
    ----------
    {motor}
    {relative_start_stop}
    {npoints}
    {count_time}
    counter : Counter
        The counter whose highest value the motor goes to.
    {options}
        ``name`` defaults to "lineup"; the scan is always returned (``return_scan`` is not used).

    Returns
    -------
    Scan
        The ``dscan``.

    Examples
    --------
    ``sim_ct_gauss`` is a simulated peak at roby = 3.2:

    >>> mv(roby, 2)
    Moving roby from ... to 2.00000
    >>> s = lineup(roby, -2, 2, 9, 0.01, sim_ct_gauss)
    Moving roby to the peak of sim_ct_gauss: 3
    >>> roby.position
    3.0
    """
    options.setdefault("name", "lineup")
    options["return_scan"] = True
    scan = dscan(motor, start, stop, npoints, count_time, counter, **options)
    if scan is not None and scan.state == "done":
        data = scan.get_data()
        peak = float(data[motor][int(np.argmax(data[counter]))])
        motor.move(peak)
        print(f"Moving {motor.name} to the peak of {counter.name}: {peak:g}")
    return scan


@shared(SCAN_PARAMETERS)
def loopscan(npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:
    """``npoints`` counts in a row, nothing moving.

    Points follow one another every ``count_time`` (+ ``sleep_time``).

    Parameters
    ----------
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> s = loopscan(5, 0.01, diode)
    >>> len(s.get_data()["diode"])
    5
    >>> s = loopscan(3, 0.01, diode, sleep_time=0.02)  # a point every 0.03 s
    >>> s.state
    'done'
    """
    command = "loopscan"
    _npoints(command, npoints)
    options.setdefault("title", scan_title(command, npoints, count_time))
    return _scan(command, [], np.empty((npoints, 0)), npoints, count_time, counters, options)


@shared(SCAN_PARAMETERS)
def timescan(count_time: float, *counters: Any, npoints: int = 0, **options: Any) -> Scan | None:
    """Count again and again, nothing moving: until Ctrl-C, or ``npoints`` counts.

    Parameters
    ----------
    {count_time}
    {counters}
    npoints : int
        Default 0: count until Ctrl-C (the scan then ends ``aborted``, its points kept); else the
        number of counts.
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> s = timescan(0.01, diode, npoints=3)
    >>> s.state, len(s.get_data()["diode"])
    ('done', 3)
    >>> timescan(0.5, diode)  # doctest: +SKIP
    """
    command = "timescan"
    if npoints != 0:
        _npoints(command, npoints)
    options.setdefault("title", scan_title(command, count_time, npoints))  # npoints 0: until Ctrl-C
    return _scan(command, [], np.empty((0, 0)), npoints, count_time, counters, options)


@shared(SCAN_PARAMETERS)
def ct(count_time: Any = 1.0, *counters: Any, _command: str = "ct", **options: Any) -> Scan | None:
    """Count once and print each counter's value and rate; not saved, but kept in ``SCANS``.

    ``ct(diode)`` counts 1 s, as in BLISS: a counter given first is a counter, not a time.

    Parameters
    ----------
    {count_time}
        Default 1.
    {counters}
    {options}
        ``save`` defaults to False here (``sct`` saves).

    Returns
    -------
    {returns}

    Examples
    --------
    Each line: counter = value (value / count_time per second) controller; ``diode`` is a random
    simulation, so its values differ from one count to the next.

    >>> ct(0.01, diode)
    diode = ... (... /s) diode
    Scan(number=..., name=ct, path=<no saving>)
    >>> s = ct(0.01, MG1)
     diode = ... (... /s) diode
    diode2 = ... (... /s) diode2
    >>> s = ct(0.01, simu1)
    simu1 = (16,) spectrum, sum ...  simu1
    """
    if not isinstance(count_time, numbers.Real):
        count_time, counters = 1.0, (count_time, *counters)
    options.setdefault("name", _command)
    options.setdefault("save", False)
    options.setdefault("title", scan_title(options["name"], count_time))
    return_scan = options.pop("return_scan", True)
    scan = _scan(_command, [], np.empty((1, 0)), 1, count_time, counters, options)
    if scan is not None and scan.state == "done":
        _print_counts(scan, count_time)
    return scan if return_scan else None


@shared(SCAN_PARAMETERS)
def sct(count_time: Any = 1.0, *counters: Any, **options: Any) -> Scan | None:
    """``ct``, saved: count once, print each counter's value and rate, and write the scan into the file.

    Parameters
    ----------
    {count_time}
        Default 1.
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> sct(0.01, diode)
    diode = ... (... /s) diode
    Scan(number=..., name=sct, path=.../data.h5)
    """
    options.setdefault("save", True)
    return ct(count_time, *counters, _command="sct", **options)


@shared(SCAN_PARAMETERS)
def fscan(
    motor: Axis, start: float, step_size: float, npoints: int, acq_time: float, *counters: Any, **options: Any
) -> Scan | None:
    """A continuous scan: ``motor`` runs at ``step_size / acq_time`` through ``npoints`` periods of ``acq_time``.

    The counting devices (a counter card, Lima) time themselves from when the motor passes
    ``start``; the motor channel holds its position at the start of each period. The motor starts
    a run-up before ``start`` to be at speed there. Refused before anything moves: a speed above
    the motor's ``velocity_high_limit``, a run outside its limits, a step of 0, a counter that cannot
    time itself (the simulated diodes, MCAs).

    Parameters
    ----------
    {motor}
    start : float
        Its position at the start of the first period.
    step_size : float
        How far it goes during one period (negative: backwards).
    {periods}
    {acq_time}
    {counters}
        Only counter cards and Lima detectors (and MCAs gated by a card) count in a continuous scan.
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    100 periods of 10 ms, roby from 0 to 10, counted by the counter card ``p201`` (the demo session
    has it; this one has no counter card):

    >>> fscan(roby, 0, 0.1, 100, 0.01, ct1, ct_timer)  # doctest: +SKIP

    A counter that cannot time itself is refused:

    >>> fscan(roby, 0, 0.1, 100, 0.01, diode)
    Traceback (most recent call last):
    ...
    ValueError: fscan: diode cannot count in a continuous scan (only counter cards, Lima detectors and MCAs gated by a card count there); count them with a step scan
    """
    command = "fscan"
    options.setdefault("title", scan_title(command, motor, start, step_size, npoints, acq_time))
    (axis,) = motors_given(command, [motor])
    _npoints(command, npoints)
    start = _position(command, axis, start)
    step = _position(command, axis, step_size)
    acq_time = _count_time(command, acq_time, "acq_time", above_zero=True)  # the devices cannot time a period of 0
    trajectory = Trajectory(axis, start, step, npoints, acq_time, float(axis.acceleration))
    trajectory.check(command)
    positions = (start + step * np.arange(npoints))[:, None]
    return _scan(command, [axis], positions, npoints, acq_time, counters, options, trajectory=trajectory)


@shared(SCAN_PARAMETERS)
def ftimescan(acq_time: float, npoints: int, *counters: Any, **options: Any) -> Scan | None:
    """A continuous time scan: ``npoints`` periods of ``acq_time`` back to back, timed by the devices.

    Nothing moves; the counting devices (a counter card, Lima) count on their own clock.

    Parameters
    ----------
    {acq_time}
    {periods}
    {counters}
        Only counter cards and Lima detectors (and MCAs gated by a card) count in a continuous scan.
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    10000 periods of 1 ms on the counter card ``p201`` (the demo session has it; this one has none):

    >>> ftimescan(0.001, 10000, ct1, ct_timer)  # doctest: +SKIP

    A counter that cannot time itself is refused:

    >>> ftimescan(0.01, 10, diode)
    Traceback (most recent call last):
    ...
    ValueError: ftimescan: diode cannot count in a continuous scan (only counter cards, Lima detectors and MCAs gated by a card count there); count them with a step scan
    """
    command = "ftimescan"
    options.setdefault("title", scan_title(command, acq_time, npoints))
    _npoints(command, npoints)
    acq_time = _count_time(command, acq_time, "acq_time", above_zero=True)  # the devices cannot time a period of 0
    return _scan(command, [], np.empty((npoints, 0)), npoints, acq_time, counters, options, continuous=True)


def _mesh(command: str, m1: Axis, s1: float, e1: float, n1: int, m2: Axis, s2: float, e2: float, n2: int,
          count_time: float, counters: Sequence[Any], backnforth: bool, options: dict, relative: bool) -> Scan | None:  # fmt: skip
    """``amesh`` (``relative`` False) or ``dmesh``: the grid's positions, its title and its shape in the scan's info."""
    options.setdefault("title", scan_title(command, m1, s1, e1, n1, m2, s2, e2, n2, count_time))
    axes = motors_given(command, [m1, m2])
    _npoints(command, n1)
    _npoints(command, n2)
    _npoints(command, n1 * n2)
    s1, e1, s2, e2 = (_position(command, axis, value) for axis, value in zip(axes[:1] * 2 + axes[1:] * 2, (s1, e1, s2, e2)))
    here = {axis: axis.position for axis in axes} if relative else None
    fast = np.linspace(s1, e1, n1) + (here[axes[0]] if here else 0)
    slow = np.linspace(s2, e2, n2) + (here[axes[1]] if here else 0)
    rows = [
        (x, y)
        for line, y in enumerate(slow)
        for x in (fast[::-1] if backnforth and line % 2 else fast)
    ]  # fmt: skip
    # The grid, for plots that draw the mesh as a map: [start, stop, npoints] of each axis; how the fast one goes.
    mesh = {"fast": [float(fast[0]), float(fast[-1]), n1], "slow": [float(slow[0]), float(slow[-1]), n2],
            "backnforth": backnforth}  # fmt: skip
    options["scan_info"] = {"mesh": mesh, **given_scan_info(command, options.get("scan_info"))}
    return _scan(command, axes, np.array(rows), n1 * n2, count_time, counters, options, return_to=here)


def _scan(command: str, axes: list[Axis], positions: np.ndarray, npoints: int, count_time: float,
          counters: Sequence[Any], options: dict[str, Any], return_to: dict[Axis, float] | None = None,
          trajectory: Trajectory | None = None, continuous: bool = False) -> Scan | None:  # fmt: skip
    context = current()
    name = options.pop("name", None) or command
    title = options.pop("title", None) or name
    save, run, return_scan = (_flag(command, key, options.pop(key, True)) for key in ("save", "run", "return_scan"))
    scan_info = given_scan_info(command, options.pop("scan_info", None))
    sleep_time = _count_time(command, options.pop("sleep_time", None) or 0.0, "sleep_time")
    if options:
        raise TypeError(f"{command}: unknown keyword '{next(iter(options))}'")
    _check_scan_name(command, name)
    count_time = _count_time(command, count_time)
    reach_redis(context, command)  # before the active group's setting is written
    chosen = _counters(command, counters, context.active_mg)
    for column, axis in enumerate(axes):
        for target in (positions[:, column].min(), positions[:, column].max()):
            try:
                axis.check_target(float(target))
            except (ValueError, TypeError) as error:
                raise type(error)(f"{command}: {error}") from None
    plan = ScanPlan(name, title, axes, positions, chosen, count_time, npoints, save, sleep_time, scan_info, return_to,
                    continuous=trajectory is not None or continuous, trajectory=trajectory)  # fmt: skip
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


def _flag(command: str, key: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{command}: {key} must be True or False, not {value!r}")
    return bool(value)


def _npoints(command: str, npoints: Any) -> None:
    if isinstance(npoints, bool) or not isinstance(npoints, numbers.Integral) or npoints < 1:
        raise ValueError(f"{command}: the number of points must be a whole number >= 1, not {npoints!r}")
    if int(npoints) > MAX_POINTS:  # numbers.Integral promises __lt__ and __int__, not __gt__
        raise ValueError(f"{command}: {npoints} points is more than a scan can plan ({MAX_POINTS:.0e}); split it into "
                         "several scans, or use timescan to count until Ctrl-C")  # fmt: skip


def _motor_ranges(command: str, motors: Any, npoints: Any) -> tuple[list[Axis], list[tuple[float, float]]]:
    """The motors of ``[(motor, start, stop), ...]`` (at least one, each once) and their starts and stops, checked."""
    if (
        isinstance(motors, (str, bytes))
        or not isinstance(motors, Sequence)
        or not motors
        or any(not isinstance(m, (tuple, list)) or len(m) != 3 for m in motors)
    ):
        raise ValueError(f"{command}: give a list of (motor, start, stop): {command}([(roby, 0, 1), (robz, 5, 6)], 10, 0.1)")
    axes = motors_given(command, [motor for motor, _, _ in motors])
    _npoints(command, npoints)
    return axes, [(_position(command, axis, s), _position(command, axis, e)) for axis, (_, s, e) in zip(axes, motors)]


def _positions(command: str, axis: Axis, positions: Any) -> np.ndarray:
    """A motor's position table: a list of finite numbers."""
    if isinstance(positions, (str, bytes)) or not isinstance(positions, (Sequence, np.ndarray)):
        raise ValueError(f"{command}: {axis.name}: positions must be a list of numbers, not {positions!r}")
    try:
        table = np.asarray(positions, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{command}: {axis.name}: positions must be a list of numbers, not {positions!r}") from None
    if table.ndim != 1 or not np.isfinite(table).all():
        raise ValueError(f"{command}: {axis.name}: every position must be a finite number")
    return table


def _position(command: str, axis: Axis, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{command}: {axis.name}: {value!r} is not a finite position")
    return float(value)


def _count_time(command: str, value: Any, what: str = "count_time", above_zero: bool = False) -> float:
    """Seconds: a finite number >= 0 (> 0 with ``above_zero``)."""
    least = "> 0" if above_zero else ">= 0"
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
        or (above_zero and value == 0)
    ):
        raise ValueError(f"{command}: {what} must be a finite number of seconds {least}, not {value!r}")
    return float(value)


def _counters(command: str, given: Sequence[Any], active_mg: MeasurementGroup | None) -> list[Counter]:
    """The counters among what was given, measurement groups expanded; at least one (BLISS's rule).

    A counter typed twice is refused (one that also comes in a group is counted once). No counter at
    all (none given and no active group, or groups with none enabled) is refused, as BLISS does,
    before anything is numbered, moved or published.
    """
    if not given and active_mg is not None:
        if not active_mg.counters:
            raise ValueError(f"{command}: no counter given, and the active measurement group {active_mg.name} has none "
                             f"enabled: give counters, or {active_mg.name}.enable(...)")  # fmt: skip
        given = [active_mg]
    if not given:
        raise ValueError(f"{command}: No counters for scan: none given, and the session has no measurement group; "
                         f"give counters, like {command}(..., diode)")  # fmt: skip
    counters: list[Counter] = []
    typed: list[Any] = []
    for item in given:
        available(command, item)
        if not isinstance(item, MeasurementGroup):
            if any(item is earlier for earlier in typed):
                raise ValueError(f"{command}: {getattr(item, 'name', item)} is given twice; count it once")
            typed.append(item)
        for member in item.counters if isinstance(item, MeasurementGroup) else [item]:
            if not isinstance(member, Counter):
                raise TypeError(f"{command}: {member!r} is not a counter")
            if not any(member is counter for counter in counters):
                counters.append(member)
    if not counters:
        groups = ", ".join(item.name for item in given)
        raise ValueError(f"{command}: No counters for scan. Hint: are all counters disabled ? ({groups}: none enabled; "
                         f"{given[0].name}.enable(...), or give counters)")  # fmt: skip
    return counters


def _counted_values(scan: Scan, last: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(fullname, value)`` of the scan's counters in their order.

    Each controller's channels (a 2D detector's ROI counters, ``lima_simulator:roi_counters:r1_sum``), never frames.
    """
    found: dict[str, Any] = {}
    for counter in scan.plan.counters:
        prefix = f"{counter.controller_name}:"
        for key, value in last.items():
            if key.startswith(prefix) and not isinstance(value, dict):
                found.setdefault(key, value)
    return list(found.items())


def _print_counts(scan: Scan, count_time: float) -> None:
    """``diode = 56.2122 (562.122 /s) diode``: value, rate and controller, in aligned columns.

    The values the scan took, kept in memory: no read back from Redis.
    """
    last = scan.last_point
    rows = []
    for fullname, value in _counted_values(scan, last):
        controller, _, name = fullname.rpartition(":")
        if np.ndim(value):
            kind = "spectrum" if np.ndim(value) == 1 else "image"  # a Tango counter's image attribute (docs/tango.md)
            rows.append((name, f"{np.shape(value)} {kind}, sum {np.sum(value):.6g}", "", controller))
        else:
            rate = f"({value / count_time:.6g} /s)" if count_time else "(- /s)"
            rows.append((name, f"{value:.6g}", rate, controller))
    widths = [max(len(row[i]) for row in rows) for i in range(3)] if rows else []
    for name, value, rate, controller in rows:
        print(f"{name:>{widths[0]}} = {value:>{widths[1]}} {rate:>{widths[2]}} {controller}")
