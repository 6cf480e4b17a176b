"""One open page of the viewer: a Bokeh document that draws the session's scans from the shared ``SessionWatch``.

Every ``REFRESH_MS`` the page copies what changed (scan list, settings, the shown scan's new
points) into its document. It never waits for the browser: when the browser has not confirmed
the last updates (``MAX_UNCONFIRMED``), the page skips that refresh and counts it as dropped;
the next one it sends carries the newest state, so a slow or stopped browser costs nothing but
its own freshness.

Every update costs the browser a redraw, and the viewer its encoding: the open pages share
``UPDATES_PER_SECOND``. One page is updated every ``REFRESH_MS``, ten pages twice a second each.

Examples
--------
The viewer makes one per page a browser opens (``Viewer._new_page``); here, on a document of its own
and a watch not started yet, so the page knows no scan:

>>> from bokeh.document import Document
>>> watch = SessionWatch("test_session", client, "redis://localhost:6379")
>>> page = Page(Document(), watch, open_pages=lambda: 1)
>>> page.refresh()
>>> page.status.text, page.sent
('Session test_session has no scan yet: waiting for the first one.', 1)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from html import escape
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from bokeh.core.properties import Int
from bokeh.events import DocumentReady, RangesUpdate
from bokeh.layouts import column, row
from bokeh.model import DataModel
from bokeh.models import (
    CheckboxGroup,
    ColorBar,
    ColumnDataSource,
    CustomJS,
    Div,
    HoverTool,
    LinearColorMapper,
    MultiSelect,
    TabPanel,
    Tabs,
)
from bokeh.palettes import Viridis256

from .curve_panel import CurvePanel
from .feed import ScanFeed
from .figures import live_figure
from .image_panel import ImagePanel
from .reader import ScanEntry, SessionWatch
from .view import PLOTS, SPECTRA_Y_LABEL, SPECTRUM_X_LABEL, View, chosen_counters, curve_view, map_view, mesh_cell, spectrum_view

REFRESH_MS = 50
UPDATES_PER_SECOND = 20  # shared by the viewer's open pages
MAX_UNCONFIRMED = 2  # updates sent that the browser has not confirmed: beyond, refreshes are dropped
STATUS_PERIOD = 0.5  # s between updates of the status line's point count (each one re-lays the page out)
TABS = ("Curves", "Map", "Spectra", "Image")


class UpdateClock(DataModel):
    """The number of the server's newest update (``sent``) and of the newest one the browser applied (``seen``)."""

    sent = Int(0)
    seen = Int(0)


class Page:
    """The widgets of one page and what they show; ``refresh`` runs in the page's own periodic callback."""

    def __init__(self, doc: Any, watch: SessionWatch, open_pages: Callable[[], int]):
        self.doc = doc
        self.watch = watch
        self._open_pages = open_pages
        self._sent_at = 0.0
        self._changes = 0  # changes of the document so far (``_count_change``)
        self.sent = 0
        self.confirmed = 0
        self.dropped = 0
        self._watch_version = -1
        self._feed: ScanFeed | None = None
        self._feed_version = -1
        self._newest: str | None = None
        self._selection: list[str] | None = None
        self._map_drawn = 0
        self._mesh_shown = False
        self._status_at = 0.0
        self._spectra_drawn = 0  # spectra of the shown scan drawn so far
        self._counters: list[str] = []
        self._server_sets = False  # the viewer itself is changing a widget (not the user)
        self.used_at = time.monotonic()  # opened, or last clicked, ticked, zoomed (``/png`` draws the last used page)
        self._build()
        doc.add_root(self.status)  # a root of its own: a change of its text lays out only itself
        doc.add_root(self.layout)
        doc.add_root(self.clock)
        doc.add_root(self.curve.source)  # in the page before any line draws it (a line costs a redraw)
        doc.title = f"{watch.session} - bliss_shell plots"
        doc.on_change(self._count_change)
        doc.add_periodic_callback(self.refresh, REFRESH_MS)

    # -- building ----------------------------------------------------------------------

    def _build(self) -> None:
        self.image = ImagePanel()
        self.curve = CurvePanel()
        self.status = Div(name="status", text="", sizing_mode="stretch_width")
        # A list box (BokehJS's DataTable does not redraw a row whose value changed in place).
        self.scan_list = MultiSelect(name="scan_list", options=[], value=[], size=22, width=360)
        self.scan_list.on_change("value", self._on_pick)
        self.counter_boxes = CheckboxGroup(name="counters", labels=[], active=[])
        self.counter_boxes.on_change("active", self._on_counters)
        for figure in self.curve.curves.values():
            figure.on_event(RangesUpdate, lambda event: self._used())
        self.curve.y_scale.on_change("active", lambda attr, old, new: self._used())
        # Confirmation of updates: the browser copies each update's number back (see the module's doc).
        # A data model, not a widget: a widget's change lays the whole page out again.
        self.clock = UpdateClock(name="clock")
        # setTimeout: a change made while the browser applies the server's update would not be sent back.
        confirm = CustomJS(args={"clock": self.clock},
                           code="const sent = clock.sent; setTimeout(() => { clock.seen = sent }, 0)")  # fmt: skip
        self.clock.js_on_change("sent", confirm)
        self.doc.js_on_event(DocumentReady, confirm)  # the state the page opened with counts as seen
        self.clock.on_change("seen", self._on_confirm)
        tabs = [TabPanel(child=child, title=title)
                for title, child in zip(TABS, (self.curve.layout, self._build_map(), self._build_spectra(), self.image.layout))]  # fmt: skip
        self.tabs = Tabs(tabs=tabs, name="tabs")
        self.tabs.on_change("active", lambda attr, old, new: self._used())
        side = column(Div(text="<b>Scans</b> (newest first; click one to show it)"), self.scan_list,
                      Div(text="<b>Counters</b>"), self.counter_boxes)  # fmt: skip
        self.layout = row(side, self.tabs, sizing_mode="stretch_width")

    def _build_map(self) -> Any:
        self.map_source = ColumnDataSource({"x": [], "y": [], "value": []}, name="map_source")
        self.map_mapper = LinearColorMapper(palette=Viridis256)
        self.map_plot = live_figure(name="map", height=560, width=700, match_aspect=True)
        self.map_rects = self.map_plot.rect("x", "y", width=1, height=1, source=self.map_source,
                                            fill_color={"field": "value", "transform": self.map_mapper}, line_color=None)  # fmt: skip
        self.map_plot.add_tools(HoverTool(tooltips=[("x", "@x"), ("y", "@y"), ("value", "@value")]))
        self.map_plot.add_layout(ColorBar(color_mapper=self.map_mapper), "right")
        self.map_title = Div(name="map_title", text="")
        return column(self.map_title, self.map_plot)

    def _build_spectra(self) -> Any:
        self.spectrum_source = ColumnDataSource({"bin": [], "value": []}, name="spectrum_source")
        self.spectrum_plot = live_figure(name="spectrum", height=280, width=880, title="newest spectrum")
        self.spectrum_plot.line("bin", "value", source=self.spectrum_source)
        self.spectrum_plot.xaxis.axis_label = SPECTRUM_X_LABEL
        self.spectra_source = ColumnDataSource({"image": [], "dw": [], "dh": []}, name="spectra_source")
        self.spectra_plot = live_figure(name="spectra", height=280, width=880, title="spectra (point by bin)")
        self.spectra_plot.xaxis.axis_label, self.spectra_plot.yaxis.axis_label = SPECTRUM_X_LABEL, SPECTRA_Y_LABEL
        self.spectra_plot.image("image", x=0, y=0, dw="dw", dh="dh", source=self.spectra_source,
                                color_mapper=LinearColorMapper(palette=Viridis256))  # fmt: skip
        self.spectra_title = Div(name="spectra_title", text="")
        return column(self.spectra_title, self.spectrum_plot, self.spectra_plot)

    # -- events from the browser -------------------------------------------------------

    def _on_confirm(self, attr: str, old: int, new: int) -> None:
        self.confirmed = max(self.confirmed, new)

    def _on_pick(self, attr: str, old: list[str], new: list[str]) -> None:
        picked = [db_name for db_name in new if db_name not in old] or new
        shown = self._feed.db_name if self._feed else None
        if picked and picked[0] in self.watch.scans and picked[0] != shown:  # not the viewer's own choice (``_show``)
            self._used()
            self._show(picked[0])

    def _on_counters(self, attr: str, old: list[int], new: list[int]) -> None:
        self._used()
        self.curve.show_lines(self._chosen())
        self._map_drawn = 0  # the map shows the first chosen counter

    def _used(self) -> None:
        """The user clicked, ticked or zoomed: ``/png`` draws this page's view."""
        if not self._server_sets:
            self.used_at = time.monotonic()

    # -- what it shows, for /png -------------------------------------------------------

    @property
    def feed(self) -> ScanFeed | None:
        """The scan shown."""
        return self._feed

    def snapshot(self, plot: str | None = None) -> tuple[str, str, Callable[[], View | None]] | None:
        """What the page shows now, as ``(scan name, plot, make)``, for the viewer's ``/png``: ``make()`` gives the view.

        Its scan and tab (or ``plot``, one of ``PLOTS``), its ticked counters, its y scale and its zoom.
        The widgets are read here, on the viewer's loop; ``make`` only reads the feed (under its lock), for a
        worker thread: it decimates or colours there. None when the page shows no scan; ``make()`` gives None
        when the scan has nothing for that plot (no Lima detector for ``image``).
        """
        feed = self._feed
        if feed is None:
            return None
        entry = self.watch.scans.get(feed.db_name)
        name = entry.name if entry else feed.db_name
        plot = plot or PLOTS[self.tabs.active]
        chosen = self._chosen()
        make: Callable[[], View | None] | None
        if plot == "map":
            make = partial(map_view, feed, name, chosen[0]) if chosen else None
        elif plot == "spectrum":
            make = partial(spectrum_view, feed, name)
        elif plot == "image":
            make = self.image.view(name)
        else:
            make = partial(curve_view, feed, name, chosen, self.curve.log_y, self.curve.zoom, self.watch.marker)
        return (name, plot, make) if make is not None else None

    # -- refreshing --------------------------------------------------------------------

    def refresh(self) -> None:
        """Copy what changed into the document, unless the browser is behind (then drop this one)."""
        if self.sent - self.confirmed >= MAX_UNCONFIRMED:
            self.dropped += 1
            return
        now = time.monotonic()
        if now - self._sent_at < self._open_pages() / UPDATES_PER_SECOND - REFRESH_MS / 2000:
            return  # this page's share of the updates is spent (half a tick early is on time)
        watch_version, feed = self.watch.version, self._feed
        news = watch_version != self._watch_version or (feed is not None and feed.version != self._feed_version)
        if not news and not self.curve.wants_redraw():
            return
        changes = self._changes
        self.doc.hold("combine")
        try:
            if watch_version != self._watch_version:
                self._watch_version = watch_version
                self._refresh_session()
            if self._feed is not None:
                self._feed_version = self._feed.version
                self._refresh_scan(self._feed)
        finally:
            self.doc.unhold()
        if self._changes != changes:  # most news changes nothing shown (a decimated curve waits for its period)
            self.sent += 1
            self._sent_at = now
            self.clock.sent = self.sent  # right behind the update: its confirmation says the update was drawn

    def _count_change(self, event: Any) -> None:
        self._changes += 1

    def _refresh_session(self) -> None:
        scans = self.watch.listed()
        newest = scans[0] if scans else None
        if newest is not None and newest.db_name != self._newest:
            self._newest = newest.db_name  # a new scan takes over the page, as in Flint
            self._show(newest.db_name)
        files = file_labels(e.filename for e in scans)
        self.scan_list.options = [(e.db_name, f"{e.number:>4}  {files.get(e.filename, 'not saved')}  {e.title}  [{_state(e)}]"
                                   + ("" if e.in_redis else " (file)")) for e in scans]  # fmt: skip
        if self.watch.selection != self._selection:
            self._selection = list(self.watch.selection)
            self._choose_counters(self._selection)
        self._refresh_marker()
        self._refresh_status(scans)

    def _refresh_status(self, scans: list[ScanEntry]) -> None:
        self._status_at = time.monotonic()
        lines = []
        if self.watch.redis_problem:
            lines.append(f"<b style='color:#b00'>{escape(self.watch.redis_problem)}</b>")
        if not scans:
            lines.append(f"Session {self.watch.session} has no scan yet: waiting for the first one.")
        feed = self._feed
        if feed is not None:
            entry = self.watch.scans.get(feed.db_name)
            state = _state(entry) if entry else ""
            points = feed.points()
            total = feed.info.get("npoints", 0)
            of = f"/{total}" if total else ""
            if entry and feed.source == "file":
                where = f" (read from its file {escape(entry.filename)}: it has left Redis)"
            else:
                where = f"; file {escape(entry.filename)}" if entry and entry.filename else ""
            lines.append(f"<b>{escape(entry.name if entry else feed.db_name)}</b> {escape(feed.info.get('title', ''))}: "
                         f"{state}, {points}{of} points{where}")  # fmt: skip
            if feed.problem:
                lines.append(f"<b style='color:#b00'>{escape(feed.problem)}</b>")
        self.status.text = "<br>".join(lines)

    def _refresh_marker(self) -> None:
        marker, feed = self.watch.marker, self._feed
        self.curve.mark(marker if marker is not None and feed is not None and marker.get("scan") == feed.db_name else None)

    def _show(self, db_name: str) -> None:
        """Show another scan: everything drawn starts again from its first point."""
        feed = self.watch.feed(db_name)
        if feed is self._feed:
            return
        self._feed = feed  # a scan shown before and since gone from Redis comes back read from its file
        self.scan_list.value = [db_name]
        self._feed_version = -1
        self._counters = []
        self._map_drawn = self._spectra_drawn = 0
        self.curve.show(feed)
        self.map_source.data = {"x": [], "y": [], "value": []}
        self.image.show(feed)
        self._mesh_shown = False
        self._refresh_marker()
        self._refresh_status(self.watch.listed())

    def _refresh_scan(self, feed: ScanFeed) -> None:
        with feed.lock:
            counters = feed.counters
            x_name = feed.x_name
        if feed.info.get("mesh") and not self._mesh_shown:
            self._mesh_shown = True  # a mesh opens on its map; the user may leave it
            self._server_sets = True
            try:
                self.tabs.active = TABS.index("Map")
            finally:
                self._server_sets = False
        if counters != self._counters:
            self._set_counters(counters)
        if x_name is not None:
            self.curve.refresh(feed, x_name)
            self._refresh_map(feed)
        self._refresh_spectra(feed)
        self.image.refresh(feed)
        if feed.ended or time.monotonic() - self._status_at >= STATUS_PERIOD:
            self._refresh_status(self.watch.listed())

    def _set_counters(self, counters: list[str]) -> None:
        """A new set of counters (a new scan): their columns, and the boxes to choose them."""
        self._counters = list(counters)
        self.curve.set_counters(counters)
        self.counter_boxes.labels = counters
        self._choose_counters(self._selection or [])

    def _choose_counters(self, names: list[str]) -> None:
        """Tick the counters named (plotselect's choice); none of them here: the first counter."""
        chosen = chosen_counters(self._counters, names)
        self._server_sets = True
        try:
            self.counter_boxes.active = [self._counters.index(name) for name in chosen]
        finally:
            self._server_sets = False
        self.curve.show_lines(self._chosen())
        self._map_drawn = 0

    def _chosen(self) -> list[str]:
        return [self._counters[i] for i in self.counter_boxes.active if i < len(self._counters)]

    def _refresh_map(self, feed: ScanFeed) -> None:
        mesh = feed.info.get("mesh")
        motors = feed.info.get("motors", [])
        chosen = self._chosen()
        if not mesh or len(motors) < 2 or not chosen:
            self.map_title.text = "A map is drawn for amesh and dmesh scans."
            return
        with feed.lock:
            points = feed.points()
            x, y, value = feed.scalar(motors[0])[:points], feed.scalar(motors[1])[:points], feed.scalar(chosen[0])[:points]
        if self._map_drawn == 0:
            self.map_rects.glyph.width, self.map_rects.glyph.height = mesh_cell(mesh)
            self.map_plot.xaxis.axis_label, self.map_plot.yaxis.axis_label = motors[0], motors[1]
        if self._map_drawn == 0:
            self.map_source.data = {"x": x.copy(), "y": y.copy(), "value": value.copy()}
        elif points > self._map_drawn:
            start = self._map_drawn
            self.map_source.stream({"x": x[start:], "y": y[start:], "value": value[start:]})
        self._map_drawn = points
        self.map_title.text = f"{chosen[0]} over {motors[0]} and {motors[1]}: {points} of {feed.info.get('npoints', '?')} points"

    def _refresh_spectra(self, feed: ScanFeed) -> None:
        if not feed.spectra:
            self.spectra_title.text = "No 1D channel (MCA) in this scan."
            return
        with feed.lock:
            name, spectra = next(iter(feed.spectra.items()))
            if spectra.count == self._spectra_drawn:
                return  # the image of every spectrum is megabytes: sent only when one came
            rows = list(spectra.rows)
            count = spectra.count
        if not rows:
            return
        self._spectra_drawn = count
        self.spectrum_plot.yaxis.axis_label = name  # as Flint's MCA plot: the channel's name
        newest = rows[-1]
        self.spectrum_source.data = {"bin": np.arange(len(newest)), "value": newest}
        image = np.vstack(rows).astype(np.float32)
        self.spectra_source.data = {"image": [image], "dw": [image.shape[1]], "dh": [image.shape[0]]}
        first = count - len(rows)
        self.spectra_title.text = f"{name}: spectrum {count - 1} (newest); the image holds points {first} to {count - 1}"


def file_labels(filenames: Iterable[str]) -> dict[str, str]:
    """Each file as the scan list names it: its folder and name, more of its path where two would read the same.

    Examples
    --------
    >>> file_labels(["/data/a/sample1/data.h5", "/data/a/sample2/data.h5", "/data/b/sample1/data.h5", ""])
    {'/data/a/sample1/data.h5': 'a/sample1/data.h5', '/data/a/sample2/data.h5': 'sample2/data.h5', '/data/b/sample1/data.h5': 'b/sample1/data.h5'}
    """
    paths = {name: PurePosixPath(name).parts for name in dict.fromkeys(filenames) if name}
    labels = {}
    for name, parts in paths.items():
        depth = 2
        while depth < len(parts) and any(other != name and tail[-depth:] == parts[-depth:] for other, tail in paths.items()):
            depth += 1
        labels[name] = name if depth >= len(parts) - 1 else "/".join(parts[-depth:])
    return labels


def _state(entry: ScanEntry) -> str:
    if entry.state == "failed" and entry.reason:
        return f"failed: {entry.reason}"
    return entry.state
