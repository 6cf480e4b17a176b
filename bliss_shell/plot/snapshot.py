"""The viewer's ``/png``: a picture of a plot, for the logbook, drawn from the viewer's data without a browser.

``GET /png`` draws what the page used last shows (its scan, its tab, its ticked counters, its
zoom); with no page open, what a new page would show: the newest scan, plotselect's counters.
``?scan=`` (a number, a scan name such as ``5_ascan``, or a db_name) names the scan: the page used
last among those that show it, else its default view; ``?plot=`` (``curve``, ``map``,
``spectrum``, ``image``) the plot. The scan's data is read first: all of it once
the scan has ended in Redis, its points so far while it runs. Answers: the PNG, or a one-line
text with 400 (a bad ``plot``) or 404 (no such scan, or nothing of that plot in it).

Examples
--------
What ``/png`` draws of the newest scan with no page open, once its feed is read (``reader.follow_scan``):

>>> from bliss_shell.plot.reader import follow_scan
>>> watch = SessionWatch("test_session", client, "redis://localhost:6379")
>>> feed = ScanFeed(SCANS[-1].node.db_name)
>>> follow_scan(feed, get_node(feed.db_name))
>>> view = default_view(watch, "2_ascan", feed, "curve")
>>> view.title, view.x_label, view.y_label, view.lines["diode"].tolist() == list(SCANS[-1].get_data()["diode"])
('2_ascan  ascan roby 0 4 5 0', 'roby', 'diode', True)
>>> png = render(view)  # the answer's body
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from tornado.web import RequestHandler

from .feed import ScanFeed
from .page import Page
from .png import render
from .reader import ScanEntry, SessionWatch
from .view import PLOTS, View, chosen_counters, curve_view, frame_range, image_view, map_view, newest_frame, spectrum_view

LOAD_TIMEOUT = 10.0  # s for a scan's data to be read (all of it once it ended, a first point while it runs)
LOAD_POLL = 0.05  # s between looks at a loading scan
MISSING = {
    "curve": "no curve (no 0D counter): ask for its spectrum or image",
    "image": "no Lima detector",
    "spectrum": "no 1D channel (MCA)",
    "map": "no map: it is not a mesh scan",
}

_renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="png")  # one at a time, beside the pages


class NoPlot(LookupError):
    """Nothing to draw; the message says what is missing."""


class PngHandler(RequestHandler):
    """``GET /png[?scan=...][&plot=...]`` (see the module's doc)."""

    def initialize(self, watch: SessionWatch, pages: Callable[[], Iterable[Page]]) -> None:
        """The session's watch and the open pages (tornado's ``initialize``, with the route's arguments)."""
        self._watch = watch
        self._pages = pages

    async def get(self) -> None:
        """Answer the PNG, or the one line that says why not."""
        plot = self.get_argument("plot", None)
        scan = self.get_argument("scan", None)
        if plot is not None and plot not in PLOTS:
            return self._refuse(400, f"plot must be one of {', '.join(PLOTS)}, not {plot!r}")
        try:
            name, plot, view = await self._view(scan, plot)
        except NoPlot as error:
            return self._refuse(404, str(error))
        png = await asyncio.get_running_loop().run_in_executor(_renderer, render, view)
        self.set_header("Content-Type", "image/png")
        self.set_header("Content-Disposition", f'inline; filename="{self._watch.session}_{name}_{plot}.png"')
        self.write(png)

    async def _view(self, scan: str | None, plot: str | None) -> tuple[str, str, View]:
        """The scan's name, the plot drawn and its view; ``NoPlot`` when there is nothing to draw."""
        loop = asyncio.get_running_loop()
        entry = await loop.run_in_executor(None, find_scan, self._watch, scan) if scan is not None else None
        pages = [
            page for page in self._pages() if page.feed is not None and (entry is None or page.feed.db_name == entry.db_name)
        ]
        page = max(pages, key=lambda p: p.used_at, default=None)
        if page is not None and page.feed is not None:
            await loop.run_in_executor(None, read_enough, self._watch, page.feed)
            for wanted in (plot,) if plot is not None else (None, "curve"):  # its tab empty: its curves
                shown = page.snapshot(wanted)  # its widgets, read here: Bokeh's models belong to this loop
                view = await loop.run_in_executor(None, shown[2]) if shown is not None else None  # decimate, colour
                if shown is not None and view is not None:
                    return shown[0], shown[1], view
        entry = entry or find_scan(self._watch, None)  # no page shows it, or has nothing of that plot
        feed = self._watch.feed(entry.db_name)
        await loop.run_in_executor(None, read_enough, self._watch, feed)
        plot = plot or ("map" if feed.info.get("mesh") else "curve")
        view = await loop.run_in_executor(None, default_view, self._watch, entry.name, feed, plot)
        if view is None:
            raise NoPlot(f"scan {entry.name} has {MISSING[plot]}")
        return entry.name, plot, view

    def _refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write(message + "\n")


def find_scan(watch: SessionWatch, scan: str | None, timeout: float = LOAD_TIMEOUT) -> ScanEntry:
    """The scan named (db_name, name such as ``5_ascan``, or number: the newest of that number), or the newest one.

    A scan named by its db_name is waited for, up to ``timeout``: a scan that just ended may not be listed yet.
    """
    deadline = time.monotonic() + timeout
    while True:
        listed = watch.listed()
        if scan is None and listed:
            return listed[0]
        if scan is None:
            raise NoPlot(f"session {watch.session} has no scan yet")
        for entry in listed:
            if scan in (entry.db_name, entry.name, entry.number):
                return entry
        if ":" not in scan or time.monotonic() >= deadline or watch.wait_stopped(LOAD_POLL):
            raise NoPlot(
                f"session {watch.session} has no scan {scan!r} (give its number, its name such as 5_ascan, or its db_name)"
            )


def read_enough(watch: SessionWatch, feed: ScanFeed, timeout: float = LOAD_TIMEOUT) -> None:
    """Wait until the feed holds what a picture needs: all of a scan that ended, a first point of a running one.

    The end is asked of Redis: right after a scan, the viewer may not have read it yet, and a picture
    taken then would miss the last points. After ``timeout``, what the feed holds is drawn.
    """
    ended = watch.ended_in_redis(feed.db_name)
    deadline = time.monotonic() + timeout
    while not (feed.ended or (not ended and feed.points() > 0)) and time.monotonic() < deadline:
        if watch.wait_stopped(LOAD_POLL):
            return  # the viewer is stopping


def default_view(watch: SessionWatch, name: str, feed: ScanFeed, plot: str) -> View | None:
    """What a new page would show of the scan ``name`` in ``plot``: plotselect's counters (else the first), the peak mark.

    None when the scan has nothing of that plot.
    """
    chosen = chosen_counters(feed.counters, watch.selection)
    if plot == "map":
        return map_view(feed, name, chosen[0]) if chosen else None
    if plot == "spectrum":
        return spectrum_view(feed, name)
    if plot == "image":
        newest = newest_frame(feed)
        return image_view(name, newest[0], newest[1], *frame_range(newest[1], False), False) if newest else None
    with feed.lock:
        if not any(counter in feed.scalars for counter in chosen):  # an MCA or a camera alone: no curve to draw
            return None
    return curve_view(feed, name, chosen, marker=watch.marker)
