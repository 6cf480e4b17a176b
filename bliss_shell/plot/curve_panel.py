"""The page's Curves tab: the chosen counters against the scan's x, decimated when long, and the peak tools' mark.

Examples
--------
A feed as the viewer's reader fills it (``reader.follow_scan``), drawn as a page does it:

>>> feed = ScanFeed("test_session:tmp:scans:2_ascan", {"motors": ["roby"]})
>>> for name, values in (("roby", [0.0, 1.0, 2.0]), ("diode", [12.0, 40.0, 31.0])):
...     feed.add_scalar(name)
...     feed.append(name, 0, np.array(values))
>>> panel = CurvePanel()
>>> panel.show(feed)
>>> panel.set_counters(feed.counters)
>>> panel.show_lines(["diode"])
>>> panel.refresh(feed, feed.x_name)  # in the page's periodic refresh
>>> panel.source.data["x"], panel.source.data["diode"]
(array([0., 1., 2.]), array([12., 40., 31.]))
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from bokeh.core.properties import value
from bokeh.events import RangesUpdate, Reset
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, HoverTool, Label, Legend, LegendItem, RadioButtonGroup, Span

from .decimate import FULL_POINTS, decimate
from .feed import ScanFeed
from .figures import live_figure
from .view import line_colors, x_label, y_label

DECIMATED_PERIOD = 0.5  # s between redraws of a decimated curve while points come
SCALES = ("linear", "log")


class CurvePanel:
    """Builds the tab (``layout``); the page tells it the scan, its counters and the chosen ones."""

    def __init__(self) -> None:
        self.source = ColumnDataSource({"x": []}, name="curve_source")
        self._parked = ColumnDataSource({"x": []}, name="parked_lines")
        self._feed: ScanFeed | None = None
        self._counters: list[str] = []
        self._chosen: list[str] = []
        self._lines: dict[str, list[tuple[Any, LegendItem]]] = {scale: [] for scale in SCALES}  # see _line
        self._window: tuple[float, float] | None = None  # the x range the user zoomed to
        self.zoom: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 of that zoom
        self._drawn = 0  # curve rows streamed (full resolution) or -1 (decimated)
        self._decimated_at = 0.0
        self.y_scale = RadioButtonGroup(name="y_scale", labels=list(SCALES), active=0)
        self.y_scale.on_change("active", lambda attr, old, new: self._show_y_scale())
        self.legends: dict[str, Legend] = {}
        self.curves = {}
        for scale in SCALES:
            plot = live_figure(name=f"curve_{scale}", y_axis_type=scale, height=460, width=880,
                               active_scroll="wheel_zoom", visible=scale == "linear")  # fmt: skip
            plot.add_tools(HoverTool(tooltips=[("x", "$x{0.[0000]}"), ("y", "$y{0.[0000]}")], mode="mouse"))
            self.legends[scale] = Legend(items=[], click_policy="hide", name=f"legend_{scale}")
            plot.add_layout(self.legends[scale])
            plot.on_event(RangesUpdate, self._on_zoom)
            plot.on_event(Reset, self._on_reset)
            self.curves[scale] = plot
        self.marker = Span(location=0, dimension="height", line_color="red", line_dash="dashed", visible=False,
                           name="marker")  # fmt: skip
        self.marker_label = Label(x=0, y=10, y_units="screen", text="", text_color="red", visible=False, name="marker_label")
        for plot in self.curves.values():
            plot.add_layout(self.marker)
            plot.add_layout(self.marker_label)
        self.layout = column(self.y_scale, *self.curves.values())

    def show(self, feed: ScanFeed) -> None:
        """Another scan: its curve starts again from its first point."""
        self._feed = feed
        self._counters = []
        self._drawn = 0
        self._window = self.zoom = None
        self.source.data = {"x": []}

    def set_counters(self, counters: list[str]) -> None:
        """The scan's counters (their columns); ``show_lines`` says which are drawn."""
        self._counters = list(counters)
        self.source.data = {"x": [], **{name: [] for name in counters}}
        self._drawn = 0

    def show_lines(self, chosen: list[str]) -> None:
        """One line per chosen counter, in the shown figure only.

        The browser redraws every line its source feeds at each update, hidden or not: lines not
        shown are parked on an empty source.
        """
        self._chosen = list(chosen)
        colors = line_colors(self._counters)
        for scale, plot in self.curves.items():
            shown = self._chosen if scale == self._scale() else []
            for slot in range(max(len(self._lines[scale]), len(shown))):
                line, item = self._line(scale, slot)
                if slot < len(shown):
                    line.glyph.update(y=shown[slot], line_color=colors[shown[slot]])
                    line.update(data_source=self.source, visible=True)
                    item.label = value(shown[slot])
                else:
                    line.glyph.y = "x"
                    line.update(data_source=self._parked, visible=False)
            self.legends[scale].items = [item for _, item in self._lines[scale][: len(shown)]]
            plot.title.text = ", ".join(self._chosen)
            plot.yaxis.axis_label = y_label(self._chosen)

    def mark(self, marker: dict[str, Any] | None) -> None:
        """A peak tool's result on the shown scan (a dashed line and ``cen diode = 4.99``), or no mark."""
        if marker is None:
            self.marker.visible = self.marker_label.visible = False
            return
        self.marker.update(location=marker["x"], visible=True)
        label = f" {marker.get('tool', '')} {marker.get('counter', '')} = {marker['x']:.6g}"
        self.marker_label.update(x=marker["x"], text=label, visible=True)

    def wants_redraw(self) -> bool:
        """A zoom or a reset asked for a new decimated view."""
        return self._drawn < 0 and self._decimated_at == 0.0

    def refresh(self, feed: ScanFeed, x_name: str) -> None:
        """Draw the new points: appended while the curve is short, else a decimated view.

        A decimated view is redrawn at most every ``DECIMATED_PERIOD`` while the scan runs.
        """
        with feed.lock:
            points = feed.points()
            columns = {"x": feed.scalar(x_name)[:points], **{n: feed.scalar(n)[:points] for n in self._counters}}
        for plot in self.curves.values():
            plot.xaxis.axis_label = x_label(x_name)
        if self._drawn >= 0 and points <= FULL_POINTS and self._window is None:
            if self._drawn == 0:  # fresh columns: a stream sent with a replaced dict would send its rows twice
                self.source.data = {name: values.copy() for name, values in columns.items()}
            elif points > self._drawn:
                self.source.stream({name: values[self._drawn : points] for name, values in columns.items()})
            self._drawn = points
            return
        now = time.monotonic()
        if self._drawn >= 0 or now - self._decimated_at >= DECIMATED_PERIOD or feed.ended:
            low, high = self._window or (None, None)
            self.source.data = decimate(columns["x"], {n: columns[n] for n in self._counters}, low, high)
            self._drawn = -1
            self._decimated_at = now

    # -- events from the browser -------------------------------------------------------

    def _on_zoom(self, event: Any) -> None:
        feed = self._feed
        if feed is None or event.x0 is None:
            return
        with feed.lock:  # the reader may be adding a channel
            x_name, points = feed.x_name, feed.points()
            x = feed.scalar(x_name)[:points] if x_name is not None else None
        if x is None or not len(x):
            return
        covers_all = event.x0 <= np.nanmin(x) and event.x1 >= np.nanmax(x)
        window = None if covers_all else (event.x0, event.x1)
        self.zoom = None if covers_all else (event.x0, event.x1, event.y0, event.y1)
        if window != self._window:
            self._window = window
            if self._drawn < 0 or points > FULL_POINTS:
                self._drawn = -1
                self._decimated_at = 0.0

    def _on_reset(self, event: Any) -> None:
        self._window = self.zoom = None
        self._decimated_at = 0.0

    # -- lines -------------------------------------------------------------------------

    def _line(self, scale: str, slot: int) -> tuple[Any, LegendItem]:
        """The figure's ``slot``-th line and its legend entry, made once.

        The browser keeps every model it was ever sent, so lines are reused, never replaced.
        """
        lines = self._lines[scale]
        while len(lines) <= slot:
            line = self.curves[scale].line("x", "x", source=self._parked, line_width=1, visible=False)
            lines.append((line, LegendItem(label=value(""), renderers=[line])))
        return lines[slot]

    def _scale(self) -> str:
        return SCALES[self.y_scale.active]

    @property
    def log_y(self) -> bool:
        """The y axis shown is logarithmic."""
        return self._scale() == "log"

    def _show_y_scale(self) -> None:
        for scale, plot in self.curves.items():
            plot.visible = scale == self._scale()
        self.show_lines(self._chosen)
