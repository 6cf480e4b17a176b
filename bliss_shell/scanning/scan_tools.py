"""Shell functions on the last scan that moved a motor (or a given one): the peak tools, ``where``, ``plotselect``.

``cen``, ``peak``, ``trough``, ``com``, ``fwhm`` and ``goto_*`` (``goto_min`` goes to the ``trough``) each take
``(counter=None, axis=None, scan=None)`` as in BLISS.
"""

from __future__ import annotations

from collections.abc import Mapping
from textwrap import dedent
from typing import Any, Protocol

from bliss_shell.controllers import Counter
from bliss_shell.data import ScanNode

from .context import current
from .listing import available
from .motors import goto
from .parameters import shared
from .peaks import MEASURES, Curve, curve
from .plan import ScanPlan
from .plot_settings import publish_marker, publish_selection
from .tables import position


class ScanRecord(Protocol):
    """What the peak tools read of a scan (a ``Scan`` is one): its number, what it scanned, its node, its data."""

    number: int | None
    plan: ScanPlan
    node: ScanNode | None

    def get_data(self) -> Mapping[Any, Any]:
        """Every channel's values as a numpy array."""


TOOL_PARAMETERS = {
    key: dedent(text).strip("\n")
    for key, text in {
        "counter": """
            counter : Counter or str, optional
                The counter (or its name); default: the first counter chosen with ``plotselect`` that the scan
                counted, else the scan's first. Chosen counters of which none is in the scan are an error.
            """,
        "axis": """
            axis : Axis, optional
                One of the scan's motors; default: its first.
            """,
        "scan": """
            scan : Scan, optional
                Default: the last scan of the session that moved a motor (a ``ct`` after an ``ascan`` leaves
                the tools on the ``ascan``).
            """,
        "moved_to": """
            float
                The position the motor was moved to.
            """,
        "gaussian": """
            ``sim_ct_gauss`` is a simulated peak at roby = 3.2 (sigma 1):

            >>> s = ascan(roby, 0, 6, 13, 0.01, sim_ct_gauss)
            """,
    }.items()
}
"""The peak tools' shared parameters, what ``goto_*`` return and their examples' scan: name -> numpydoc lines."""


def measure(tool: str, scan: ScanRecord, counter: Any = None, axis: Any = None) -> float:
    """One of ``MEASURES`` for the counter along the axis of ``scan``."""
    return _apply(tool, scan, _curve(tool, scan, counter, axis))


def goto_measure(tool: str, scan: ScanRecord, counter: Any = None, axis: Any = None) -> float:
    """Move the scanned motor to what ``measure`` finds; return that position."""
    command = "goto_min" if tool == "trough" else f"goto_{tool}"
    data = _curve(command, scan, counter, axis)
    if data.axis is None:
        raise ValueError(f"{command}: scan {scan.number} moved no motor")
    target = _apply(tool, scan, data)
    goto(command, data.axis, target)
    return target


def _curve(command: str, scan: ScanRecord, counter: Any, axis: Any) -> Curve:
    """The counter along the axis, from the scan's data; plotselect's choice when no counter is given."""
    if scan.node is None:
        raise RuntimeError(f"{command}: {scan!r} has not run yet")
    data = scan.get_data()
    scalars = [c.name for c in scan.plan.counters if not c.shape]
    return curve(command, data, scalars, scan.plan.axes, scan.number, counter, axis, current().plot_selection)


def _apply(tool: str, scan: ScanRecord, data: Curve) -> float:
    """The measure, marked on the scan's plot."""
    try:
        value = MEASURES[tool](data.x, data.y)
    except ValueError as error:
        raise ValueError(f"{error} ({data.counter}, scan {scan.number})") from None
    if tool != "fwhm" and scan.node is not None:  # a width is not a position on the curve
        publish_marker(current(), scan.node.db_name, tool, data.counter, data.axis.name if data.axis else None, value)
    return value


def _scan(command: str, scan: ScanRecord | None) -> ScanRecord:
    """The scan given, else the last one that moved a motor (a ``ct`` after an ``ascan`` leaves the ascan's peak)."""
    if scan is not None:
        return scan
    scans = current().scans
    if not scans:
        raise RuntimeError(f"{command}: no scan yet in this session; run one first")
    moved = next((earlier for earlier in reversed(scans) if earlier.plan.axes), None)
    if moved is None:
        raise RuntimeError(f"{command}: no scan of this session moved a motor; give one: {command}(scan=SCANS[-1])")
    return moved


@shared(TOOL_PARAMETERS)
def cen(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Centre of the peak of the last scan: the middle of the two half-maximum crossings.

    The half maximum is taken above the lowest value; a crossing is interpolated between points (a
    side that never comes down to it uses the scan's last point there). The position is marked on
    the scan's plot.

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    float
        The axis position of the centre.

    Examples
    --------
    {gaussian}
    >>> cen()
    3.20...
    >>> cen(sim_ct_gauss, roby, s)
    3.20...
    """
    return measure("cen", _scan("cen", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def fwhm(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Full width at half maximum of the peak of the last scan (half maximum above the lowest value).

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    float
        The width, in the axis's unit.

    Examples
    --------
    {gaussian}
    >>> fwhm()
    2.38...
    """
    return measure("fwhm", _scan("fwhm", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def peak(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Axis position of the highest value of the counter in the last scan; marked on the scan's plot.

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    float
        The axis position of the scan's point where the counter was highest.

    Examples
    --------
    {gaussian}
    >>> peak()
    3.0
    """
    return measure("peak", _scan("peak", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def trough(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Axis position of the lowest value of the counter in the last scan; marked on the scan's plot.

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    float
        The axis position of the scan's point where the counter was lowest (the first, when several are).

    Examples
    --------
    {gaussian}
    >>> trough()  # the lowest: at the end farther from the peak
    0.0
    """
    return measure("trough", _scan("trough", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def com(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Centre of mass of the counter (above its lowest value) along the axis of the last scan.

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    float
        The axis position of the centre of mass.

    Examples
    --------
    {gaussian}
    >>> com()
    3.200...
    """
    return measure("com", _scan("com", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def goto_cen(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Move the scanned motor to ``cen()`` of the last scan, as ``umv`` does, and return that position.

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    {moved_to}

    Examples
    --------
    {gaussian}
    >>> goto_cen()
    Moving roby from 6.00000 to 3.20180
    roby[mm]
    --------
     3.20180
     3.20180
    3.20...
    """
    return goto_measure("cen", _scan("goto_cen", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def goto_peak(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Move the scanned motor to ``peak()`` of the last scan, as ``umv`` does, and return that position.

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    {moved_to}

    Examples
    --------
    {gaussian}
    >>> goto_peak()
    Moving roby from 6.00000 to 3.00000
    roby[mm]
    --------
     3.00000
     3.00000
    3.0
    """
    return goto_measure("peak", _scan("goto_peak", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def goto_com(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Move the scanned motor to ``com()`` of the last scan, as ``umv`` does, and return that position.

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    {moved_to}

    Examples
    --------
    {gaussian}
    >>> goto_com()
    Moving roby from 6.00000 to 3.20054
    roby[mm]
    --------
     3.20054
     3.20054
    3.200...
    """
    return goto_measure("com", _scan("goto_com", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def goto_min(counter: Any = None, axis: Any = None, scan: ScanRecord | None = None) -> float:
    """Move the scanned motor to ``trough()`` of the last scan (the counter's lowest), as ``umv`` does.

    Parameters
    ----------
    {counter}
    {axis}
    {scan}

    Returns
    -------
    {moved_to}

    Examples
    --------
    {gaussian}
    >>> goto_min()  # the lowest: at the end farther from the peak
    Moving roby from 6.00000 to 0.00000
    roby[mm]
    --------
     0.00000
     0.00000
    0.0
    """
    return goto_measure("trough", _scan("goto_min", scan), counter, axis)


@shared(TOOL_PARAMETERS)
def where(scan: ScanRecord | None = None) -> None:
    """Print where the motors of the last scan are now, beside the range the scan covered.

    Parameters
    ----------
    {scan}

    Examples
    --------
    >>> s = a2scan(roby, 0, 4, robz, 1, 2, 5, 0.01, diode)
    >>> mv(roby, 2)
    Moving roby from 4.00000 to 2.00000
    >>> where()
    roby = 2.00000  (scan ...: 0 to 4)
    robz = 2.00000  (scan ...: 1 to 2)
    """
    scan = _scan("where", scan)
    if not scan.plan.axes:
        print(f"scan {scan.number} moved no motor")
    for column, axis in enumerate(scan.plan.axes):
        positions = scan.plan.positions[:, column]
        print(f"{axis.name} = {position(axis.position)}  (scan {scan.number}: {positions.min():g} to {positions.max():g})")


def plotselect(*counters: Any) -> list[str]:
    """Choose the counters the peak tools (and the live plots) use by default; none given: show the choice.

    The choice is kept for the session's next shells.

    Parameters
    ----------
    *counters : Counter
        The counters to choose, in order of preference; none: change nothing.

    Returns
    -------
    list of str
        The names chosen.

    Examples
    --------
    >>> plotselect(sim_ct_gauss)
    ['sim_ct_gauss']
    >>> s = ascan(roby, 0, 6, 13, 0.01, diode, sim_ct_gauss)
    >>> peak()  # of sim_ct_gauss, not of diode, the scan's first counter
    3.0
    >>> plotselect()
    ['sim_ct_gauss']
    """
    for counter in counters:
        available("plotselect", counter)
        if not isinstance(counter, Counter):
            raise TypeError(f"plotselect: {counter!r} is not a counter")
    if counters:
        current().plot_selection[:] = [counter.name for counter in counters]
        publish_selection(current(), current().plot_selection)
    return list(current().plot_selection)
