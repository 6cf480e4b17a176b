"""What a page gets of a long curve: every point up to ``FULL_POINTS``, else min and max per screen column.

Each column keeps the points where any channel has its lowest and its highest value, so
every peak and dip stays visible at any zoom; zooming in sends full resolution again once
the visible part holds ``FULL_POINTS`` or fewer.

Example
-------
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
    """The rows to draw for the x window ``low .. high`` (None: all): keyed ``x`` and each channel's name."""
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
    starts = np.arange(0, len(inside), size)
    block = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(inside))))
    picked = [inside[[0, -1]]]
    for y in ys:
        values = y[inside]
        for fill, reduce in ((np.inf, np.minimum), (-np.inf, np.maximum)):
            filled = np.where(np.isnan(values), fill, values)  # NaN (a failed read) never hides a value
            hits = np.flatnonzero(filled == reduce.reduceat(filled, starts)[block])
            picked.append(inside[hits[np.unique(block[hits], return_index=True)[1]]])
    return np.unique(np.concatenate(picked))
