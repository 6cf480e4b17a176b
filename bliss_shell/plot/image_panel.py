"""The page's Image tab: a Lima detector's newest frame, its colormap and histogram, the pixel under the mouse.

Once the scan has ended, a slider goes over its frames.

Examples
--------
>>> feed = ScanFeed(SCANS[-1].node.db_name)  # the ascan: no camera
>>> panel = ImagePanel()
>>> panel.show(feed)
>>> panel.refresh(feed)  # in the page's periodic refresh
>>> panel.title.text
'No Lima detector in this scan.'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from html import escape
from typing import Any

import numpy as np
from bokeh.events import MouseMove
from bokeh.layouts import column, row
from bokeh.models import (
    CheckboxGroup,
    ColorBar,
    ColumnDataSource,
    Div,
    LinearColorMapper,
    LogColorMapper,
    RadioButtonGroup,
    Slider,
    TextInput,
)
from bokeh.palettes import Viridis256

from .colormap import colorize
from .feed import Frame, ScanFeed, make_frame
from .figures import live_figure
from .view import ImageView, frame_range, image_view

TITLE_PERIOD = 0.5  # s between updates of the frame count above the image (each one lays the page out)


class ImagePanel:
    """Builds the tab (``layout``); ``refresh(feed)`` draws the newest frame until the scan ends."""

    def __init__(self) -> None:
        self._feed: ScanFeed | None = None
        self._titled_at = 0.0  # when the frame count above the image was last written
        self._frame: Frame | None = None
        self.frame_source = ColumnDataSource({"image": [], "dw": [], "dh": []}, name="frame_source")
        self.linear_mapper = LinearColorMapper(palette=Viridis256, name="linear_mapper")
        self.log_mapper = LogColorMapper(palette=Viridis256, name="log_mapper")
        self.plot = live_figure(name="image", height=560, width=600, match_aspect=True, active_scroll="wheel_zoom")
        self.plot.y_range.flipped = True  # row 0 at the top, as detectors are shown
        # Coloured here (see colormap.py); the mappers give the colour bar its scale.
        self.plot.image_rgba("image", x=0, y=0, dw="dw", dh="dh", source=self.frame_source)
        self.plot.on_event(MouseMove, self._on_pixel)
        self.colorbar = ColorBar(color_mapper=self.linear_mapper)
        self.plot.add_layout(self.colorbar, "right")
        self.colormap = RadioButtonGroup(name="colormap", labels=["linear", "log"], active=0)
        self.autoscale = CheckboxGroup(name="autoscale", labels=["automatic range"], active=[0])
        self.vmin = TextInput(name="vmin", title="min", value="", width=100)
        self.vmax = TextInput(name="vmax", title="max", value="", width=100)
        for widget, attr in ((self.colormap, "active"), (self.autoscale, "active"), (self.vmin, "value"), (self.vmax, "value")):
            widget.on_change(attr, lambda attr, old, new: self._apply_colormap())
        self.histogram_source = ColumnDataSource({"left": [], "right": [], "count": []}, name="histogram_source")
        self.histogram = live_figure(name="histogram", tools="pan,wheel_zoom,reset", height=200, width=400, title="histogram")
        self.histogram.quad(left="left", right="right", top="count", bottom=0, source=self.histogram_source)
        self.pixel = Div(name="pixel", text="pixel: move the mouse over the image")
        self.slider = Slider(name="frame", title="frame", start=0, end=1, value=0, step=1, disabled=True, width=500)
        # "value", not "value_throttled": the server's copy of the latter is stale once the page moves the slider
        self.slider.on_change("value", self._on_slider)
        self.title = Div(name="image_title", text="")
        controls = column(self.colormap, self.autoscale, row(self.vmin, self.vmax), self.histogram, self.pixel)
        self.layout = column(self.title, row(self.plot, controls), self.slider)

    def show(self, feed: ScanFeed) -> None:
        """Another scan: its frames from now on."""
        self._feed, self._frame = feed, None
        self._titled_at = 0.0
        self.slider.disabled = True

    def refresh(self, feed: ScanFeed) -> None:
        """Draw the detector's newest frame if it is new, and the frame count; open the slider once the scan ended."""
        if not feed.images:
            self.title.text = "No Lima detector in this scan."
            return
        with feed.lock:
            name, images = next(iter(feed.images.items()))
            frame, ready, error, ended = images.frame, images.ready, images.error, feed.ended
        if frame is not None and (self._frame is None or frame.index != self._frame.index) and self.slider.disabled:
            self._draw(frame)
        if error or ended or time.monotonic() - self._titled_at >= TITLE_PERIOD:
            self._titled_at = time.monotonic()
            self.title.text = f"{name}: {ready + 1} frames" + (f" ({escape(error)})" if error else "")
        if ended and self.slider.disabled and ready > 0:
            self.slider.update(start=0, end=ready, value=frame.index if frame else ready, disabled=False)

    def _on_pixel(self, event: Any) -> None:
        """The full frame's value under the mouse (the page may show a binned frame)."""
        frame = self._frame
        if frame is None or event.x is None or event.y is None:
            return
        col, line = int(np.floor(event.x)), int(np.floor(event.y))
        if 0 <= line < frame.full.shape[0] and 0 <= col < frame.full.shape[1]:
            self.pixel.text = f"pixel x={col} y={line}: {frame.full[line, col]}"

    def _on_slider(self, attr: str, old: int, new: int) -> None:
        feed = self._feed
        if feed is None or not feed.images or self.slider.disabled or (self._frame and self._frame.index == new):
            return
        images = next(iter(feed.images.values()))
        try:
            self._draw(make_frame(int(new), images.view.get_image(int(new))))
        except (IndexError, OSError) as error:
            self.title.text = f"frame {new}: {escape(str(error))}"

    def _draw(self, frame: Frame) -> None:
        self._frame = frame
        counts, edges = frame.histogram
        self.histogram_source.data = {"left": edges[:-1], "right": edges[1:], "count": counts}
        self.plot.title.text = f"frame {frame.index}"
        self._apply_colormap()

    def view(self, name: str) -> Callable[[], ImageView] | None:
        """What makes the frame shown, coloured as shown (for the viewer's ``/png``); None before the first frame.

        The widgets are read here, on the viewer's loop; the colouring is left to the function, for a worker thread.
        """
        if self._frame is None or self._feed is None or not self._feed.images:
            return None
        return partial(coloured_view, name, next(iter(self._feed.images)), self._frame, *self._colour_choice())

    def _colour_choice(self) -> tuple[bool, tuple[str, str] | None]:
        """Log or linear, and the bounds typed in (None: automatic range)."""
        return self.colormap.active == 1, None if self.autoscale.active else (self.vmin.value, self.vmax.value)

    def _colour_range(self) -> tuple[float | None, float | None, bool]:
        """Low, high and log of the colormap (``colour_range``)."""
        log, typed = self._colour_choice()
        return (*colour_range(self._frame, log, typed), log)

    def _apply_colormap(self) -> None:
        """Colour the frame, linear or log (``_colour_range``)."""
        low, high, log = self._colour_range()
        mapper = self.log_mapper if log else self.linear_mapper
        mapper.update(low=low, high=high)
        self.colorbar.color_mapper = mapper
        frame = self._frame
        if frame is not None:
            height, width = frame.full.shape[:2]
            pixels = colorize(frame.shown, low, high, log=log)
            self.frame_source.data = {"image": [pixels], "dw": [width], "dh": [height]}


def colour_range(frame: Frame | None, log: bool, typed: tuple[str, str] | None) -> tuple[float | None, float | None]:
    """Low and high of the colormap: each bound ``typed`` in, else the frame's (its positive part for log).

    A bound left empty (or not a number) stays the frame's, as BokehJS did.

    Examples
    --------
    >>> colour_range(frame, False, ("", "500"))  # doctest: +SKIP
    (3.0, 500.0)
    """
    low, high = frame_range(frame, log)
    if typed is not None:
        low, high = _number(typed[0], low), _number(typed[1], high)
    return low, high


def coloured_view(name: str, detector: str, frame: Frame, log: bool, typed: tuple[str, str] | None) -> ImageView:
    """The frame coloured as the Image tab colours it with those choices (``colour_range``), for ``/png``."""
    return image_view(name, detector, frame, *colour_range(frame, log, typed), log)


def _number(text: str, otherwise: float | None) -> float | None:
    try:
        return float(text)
    except ValueError:
        return otherwise
