r"""A plot as a PNG, drawn in the viewer from its data by matplotlib's Agg renderer: no browser, no screen.

The viewer's ``/png`` answers with it (docs/plots.md, "A picture for the logbook"). One figure per
call, never pyplot's global state: the viewer draws in a worker thread while its pages go on.

Examples
--------
>>> view = CurveView(title="2_ascan  ascan roby 0 2 3 0.1", x_label="roby", y_label="diode",
...                  x=np.array([0.0, 1.0, 2.0]), lines={"diode": np.array([12.0, 40.0, 31.0])}, colors={"diode": "#1f77b4"})
>>> render(view)[:8]
b'\x89PNG\r\n\x1a\n'
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from .view import CurveView, ImageView, MapView, View

SIZE = (9.0, 5.6)  # inches, at DPI: 900 x 560 pixels, the page's curve figure
DPI = 100
COLORMAP = "viridis"  # matplotlib's viridis is Bokeh's Viridis256, the page's palette


def render(view: View) -> bytes:
    """The view as PNG bytes."""
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if isinstance(view, CurveView):
        _curves(axes, view)
    elif isinstance(view, ImageView):
        _image(figure, axes, view)
    else:
        _map(figure, axes, view)
    axes.set_title(view.title, fontsize=10)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _curves(axes: Axes, view: CurveView) -> None:
    for name, y in view.lines.items():
        axes.plot(view.x, y, color=view.colors.get(name), linewidth=1, label=name)
    if view.log_y:
        axes.set_yscale("log")
    if view.window is not None:
        x0, x1, y0, y1 = view.window
        axes.set_xlim(x0, x1)
        axes.set_ylim(y0, y1)
    if view.marker is not None:
        x, label = view.marker
        axes.axvline(x, color="red", linestyle="--", linewidth=1)
        axes.annotate(label, (x, 1), xycoords=("data", "axes fraction"), xytext=(4, -14), textcoords="offset points", color="red")
    axes.set_xlabel(view.x_label)
    axes.set_ylabel(view.y_label)
    if view.lines:
        axes.legend(loc="upper right", fontsize=9)
    axes.grid(alpha=0.3)


def _image(figure: Figure, axes: Axes, view: ImageView) -> None:
    rgba = view.pixels.astype("<u4").view(np.uint8).reshape(*view.pixels.shape, 4)  # RGBA bytes, as the page gets them
    width, height = view.size  # row 0 at the top, as Flint and the page show it
    axes.imshow(rgba, origin="upper", extent=(0, width, height, 0), interpolation="nearest")
    if view.low is not None and view.high is not None:
        low = max(view.low, float(np.finfo(np.float32).tiny)) if view.log else view.low  # as colorize's log
        norm = LogNorm(low, view.high) if view.log else Normalize(low, view.high)
        figure.colorbar(ScalarMappable(norm=norm, cmap=COLORMAP), ax=axes)


def _map(figure: Figure, axes: Axes, view: MapView) -> None:
    width, height = view.cell
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]) * (width, height)
    cells = PolyCollection(list(np.stack([view.x, view.y], axis=1)[:, None, :] + corners), cmap=COLORMAP, edgecolors="none")
    cells.set_array(view.value)
    axes.add_collection(cells)
    axes.autoscale_view()
    axes.set_aspect("equal")
    axes.set_xlabel(view.x_label)
    axes.set_ylabel(view.y_label)
    figure.colorbar(cells, ax=axes, label=view.label)
