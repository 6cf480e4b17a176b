"""What a page gets of a long curve: every point up to ``FULL_POINTS``, else min and max per screen column.

Each column keeps the points where any channel has its lowest and its highest value, so
every peak and dip stays visible at any zoom; zooming in sends full resolution again once
the visible part holds ``FULL_POINTS`` or fewer.

Examples
--------
>>> x = np.arange(1_000_000.0)
>>> rows = decimate(x, {"diode": np.sin(x / 1000)}, None, None)
>>> len(rows["x"]) <= 2 * COLUMNS
True
"""

from __future__ import annotations

import numpy as np

FULL_POINTS = 20_000  # up to this many visible points, the page gets them all
COLUMNS = 1500  # about a wide screen's pixel columns


def decimate(x: np.ndarray, ys: dict[str, np.ndarray], low: float | None, high: float | None,
             columns: int = COLUMNS) -> dict[str, np.ndarray]:  # fmt: skip
    """The rows to draw for the x window ``low .. high`` (None: all): keyed ``x`` and each channel's name.

    Every row of the window when it holds ``FULL_POINTS`` or fewer; else, for each of about ``columns``
    runs of rows, those of every channel's minimum and maximum (and the window's first and last row).

    Examples
    --------
    >>> decimate(np.arange(5.0), {"diode": np.array([3.0, 1.0, 4.0, 1.0, 5.0])}, 1, 3)
    {'x': array([1., 2., 3.]), 'diode': array([1., 4., 1.])}
    """
    n = len(x)
    if low is None or high is None:
        inside = np.arange(n)
    else:
        inside = np.flatnonzero((x >= min(low, high)) & (x <= max(low, high)))
    if len(inside) > FULL_POINTS:
        inside = _extremes(inside, [y[:n] for y in ys.values()], columns)
    return {"x": x[inside], **{name: y[inside] for name, y in ys.items()}}


def _extremes(inside: np.ndarray, ys: list[np.ndarray], columns: int) -> np.ndarray:
    """Of each run of about ``len(inside) / columns`` indexes, those of every channel's min and max, in order."""
    size = -(-len(inside) // columns)
    whole = len(inside) // size * size  # the runs of exactly ``size``; the rest is one shorter run
    picked = [inside[[0, -1]]]
    for y in ys:
        values = y[inside]
        for fill, pick in ((np.inf, np.argmin), (-np.inf, np.argmax)):
            filled = np.where(np.isnan(values), fill, values)  # NaN (a failed read) never hides a value
            runs = pick(filled[:whole].reshape(-1, size), axis=1) + np.arange(0, whole, size)
            rest = [whole + pick(filled[whole:])] if whole < len(inside) else []
            picked.append(inside[np.concatenate([runs, rest]).astype(np.intp)])
    return np.unique(np.concatenate(picked))
