"""Shell functions on the last scan that moved a motor (or a given one): ``cen``, ``peak``, ``com``, ``fwhm``, ``goto_*``,
``where``, ``plotselect``; each ``(counter=None, axis=None, scan=None)`` as in BLISS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bliss_shell.controllers import Counter

from .context import current
from .listing import available
from .motors import goto
from .peaks import MEASURES, Curve, curve
from .plot_settings import publish_marker, publish_selection
from .tables import position

if TYPE_CHECKING:
    from .scan import Scan


def measure(tool: str, scan: Scan, counter: Any = None, axis: Any = None) -> float:
    """One of ``MEASURES`` for the counter along the axis of ``scan``."""
    return _apply(tool, scan, curve(tool, scan, counter, axis, current().plot_selection))


def goto_measure(tool: str, scan: Scan, counter: Any = None, axis: Any = None) -> float:
    """Move the scanned motor to what ``measure`` finds; return that position."""
    data = curve(f"goto_{tool}", scan, counter, axis, current().plot_selection)
    if data.axis is None:
        raise ValueError(f"goto_{tool}: scan {scan.number} moved no motor")
    target = _apply(tool, scan, data)
    goto(f"goto_{tool}", data.axis, target)
    return target


def _apply(tool: str, scan: Scan, data: Curve) -> float:
    """The measure, marked on the scan's plot."""
    try:
        value = MEASURES[tool](data.x, data.y)
    except ValueError as error:
        raise ValueError(f"{error} ({data.counter}, scan {scan.number})") from None
    if tool != "fwhm" and scan.node is not None:  # a width is not a position on the curve
        publish_marker(current(), scan.node.db_name, tool, data.counter, data.axis.name if data.axis else None, value)
    return value


def _scan(command: str, scan: Scan | None) -> Scan:
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


def cen(counter: Any = None, axis: Any = None, scan: Scan | None = None) -> float:
    """Centre of the peak (middle of the half-maximum crossings) of the last scan."""
    return measure("cen", _scan("cen", scan), counter, axis)


def fwhm(counter: Any = None, axis: Any = None, scan: Scan | None = None) -> float:
    """Full width at half maximum of the peak of the last scan."""
    return measure("fwhm", _scan("fwhm", scan), counter, axis)


def peak(counter: Any = None, axis: Any = None, scan: Scan | None = None) -> float:
    """Axis position of the highest value in the last scan."""
    return measure("peak", _scan("peak", scan), counter, axis)


def com(counter: Any = None, axis: Any = None, scan: Scan | None = None) -> float:
    """Centre of mass (above the lowest value) of the last scan."""
    return measure("com", _scan("com", scan), counter, axis)


def goto_cen(counter: Any = None, axis: Any = None, scan: Scan | None = None) -> float:
    return goto_measure("cen", _scan("goto_cen", scan), counter, axis)


def goto_peak(counter: Any = None, axis: Any = None, scan: Scan | None = None) -> float:
    return goto_measure("peak", _scan("goto_peak", scan), counter, axis)


def goto_com(counter: Any = None, axis: Any = None, scan: Scan | None = None) -> float:
    return goto_measure("com", _scan("goto_com", scan), counter, axis)


def where(scan: Scan | None = None) -> None:
    """Where the motors of the last scan are now, beside the range the scan covered."""
    scan = _scan("where", scan)
    if not scan.plan.axes:
        print(f"scan {scan.number} moved no motor")
    for column, axis in enumerate(scan.plan.axes):
        positions = scan.plan.positions[:, column]
        print(f"{axis.name} = {position(axis.position)}  (scan {scan.number}: {positions.min():g} to {positions.max():g})")


def plotselect(*counters: Any) -> list[str]:
    """Choose the counters the peak tools (and the plot) use by default; none given: show the choice."""
    for counter in counters:
        available("plotselect", counter)
        if not isinstance(counter, Counter):
            raise TypeError(f"plotselect: {counter!r} is not a counter")
    if counters:
        current().plot_selection[:] = [counter.name for counter in counters]
        publish_selection(current(), current().plot_selection)
    return list(current().plot_selection)
