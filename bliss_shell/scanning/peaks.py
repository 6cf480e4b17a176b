"""Peak tools: where a counter peaks along the scanned axis, computed from a scan's arrays, no display needed.

``cen`` and ``fwhm`` come from the half-maximum crossings (linear interpolation, baseline
= the lowest value); ``com`` is the centre of mass above that baseline; ``peak`` is the
axis position of the highest value. Everything here works on a scan's data (its arrays, its
counters' and motors' names), never on the scan object: ``scan_tools`` hands the data over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bliss_shell.controllers import Axis


@dataclass(frozen=True)
class Curve:
    """What a peak tool works on: the counter's values ``y`` along the axis positions ``x``, with their names."""

    x: np.ndarray
    y: np.ndarray
    axis: Axis | None  # None when the scan moved nothing (x is elapsed_time)
    counter: str


def curve(command: str, data: Mapping[Any, Any], counters: Sequence[str], axes: Sequence[Axis], number: int | None,
          counter: Any = None, axis: Any = None, selection: Sequence[str] = ()) -> Curve:  # fmt: skip
    """The counter (given, else the first of ``selection`` counted, else the first) along the axis, from ``data``.

    ``data`` is scan ``number``'s arrays by channel (``scan.get_data()``), ``counters`` the names of
    its scalar counters and ``axes`` its motors. Counters chosen with plotselect (``selection``) of
    which none was counted are an error: never another counter instead.

    Examples
    --------
    >>> data = {roby: np.array([0.0, 1.0, 2.0]), "diode": np.array([1.0, 5.0, 2.0])}
    >>> found = curve("peak", data, ["diode"], [roby], 7)
    >>> found.counter, found.axis.name, found.y
    ('diode', 'roby', array([1., 5., 2.]))
    >>> curve("peak", data, ["diode"], [roby], 7, "diode2")
    Traceback (most recent call last):
    ...
    ValueError: peak: 'diode2' is not a counter of scan 7; it has diode
    """
    if counter is None:
        if selection and not set(selection) & set(counters):
            raise ValueError(f"{command}: {', '.join(selection)} (chosen with plotselect) not in scan {number}, which "
                             f"has {', '.join(counters) or 'no counter'}; name one: {command}({(list(counters) or ['counter'])[0]})")  # fmt: skip
        name = next((n for n in selection if n in counters), counters[0] if counters else None)
        if name is None:
            raise ValueError(f"{command}: scan {number} counted nothing to look at")
    else:
        name = getattr(counter, "name", counter)
        if name not in counters:
            raise ValueError(f"{command}: {name!r} is not a counter of scan {number}; it has {', '.join(counters)}")
    if axis is None:
        axis = axes[0] if axes else None
    elif axis not in axes:
        raise ValueError(f"{command}: {getattr(axis, 'name', axis)!r} was not scanned in scan {number}")
    x = np.asarray(data[axis] if axis is not None else data["elapsed_time"], dtype=float)
    y = np.asarray(data[name], dtype=float)
    if len(y) == 0:
        raise ValueError(f"{command}: scan {number} has no point")
    return Curve(x, y, axis, name)


def peak(x: np.ndarray, y: np.ndarray) -> float:
    """The ``x`` of the highest ``y`` (the first, when several are as high).

    Examples
    --------
    >>> x = np.linspace(0, 6, 13)
    >>> peak(x, np.exp(-((x - 3.2) ** 2) / 2))
    3.0
    """
    return float(x[int(np.argmax(y))])


def trough(x: np.ndarray, y: np.ndarray) -> float:
    """The ``x`` of the lowest ``y`` (the first, when several are as low): BLISS's ``trough``.

    Examples
    --------
    >>> x = np.linspace(0, 6, 13)
    >>> trough(x, -np.exp(-((x - 3.2) ** 2) / 2))
    3.0
    """
    return float(x[int(np.argmin(y))])


def com(x: np.ndarray, y: np.ndarray) -> float:
    """The centre of mass of ``y`` above its lowest value, along ``x``; a flat ``y`` has none (ValueError).

    Examples
    --------
    >>> com(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 3.0, 3.0, 1.0]))
    1.5
    """
    above = y - y.min()
    if not above.sum():
        raise ValueError("com: the counter is flat, there is no centre of mass")
    return float(np.sum(x * above) / np.sum(above))


def cen_fwhm(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Centre and full width at half maximum; an edge point stands in for a crossing outside the scan.

    Examples
    --------
    >>> cen_fwhm(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 2.0, 1.0, 0.0]))
    (2.0, 2.0)
    """
    top = int(np.argmax(y))
    half = y.min() + (y[top] - y.min()) / 2
    if y[top] == y.min():
        raise ValueError("cen: the counter is flat, there is no peak")
    left = _crossing(x, y, half, range(top, 0, -1), -1)
    right = _crossing(x, y, half, range(top, len(y) - 1), 1)
    return float((left + right) / 2), float(abs(right - left))


def _crossing(x: np.ndarray, y: np.ndarray, half: float, indexes: range, step: int) -> float:
    for i in indexes:
        j = i + step
        if y[j] <= half:
            return float(x[i] + (x[j] - x[i]) * (y[i] - half) / (y[i] - y[j]))
    return float(x[indexes.stop])  # no crossing inside the scan: its last point on that side


MEASURES = {
    "peak": peak,
    "trough": trough,
    "com": com,
    "cen": lambda x, y: cen_fwhm(x, y)[0],
    "fwhm": lambda x, y: cen_fwhm(x, y)[1],
}
