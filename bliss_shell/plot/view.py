"""What a plot shows, as data: the axes' labels, the lines or the frame, the zoom. The page and the PNG share it.

A page's figures and the viewer's ``/png`` (``png.py``) are both drawn from these: the labels
a scientist reads are made in one place. Labels follow Flint: the x axis is the x channel
(``elapsed_time [s]`` for time scans), the y axis the drawn counters' names joined by `` + ``;
a spectrum is counts against its channel (bin) numbers; an image has no axis labels, row 0 at the top.

Examples
--------
>>> y_label(["sim_ct_gauss", "diode"])
'diode + sim_ct_gauss'
>>> chosen_counters(["diode", "sim_ct_gauss"], ["nosuch"])  # plotselect's choice is not in the scan
['diode']
>>> feed = ScanFeed("demo:tmp:scans:2_ascan", {"motors": ["roby"], "title": "ascan roby 0 2 3 0.1"})
>>> for name, values in (("roby", [0.0, 1.0, 2.0]), ("diode", [12.0, 40.0, 31.0])):
...     feed.add_scalar(name)
...     feed.append(name, 0, np.array(values))
>>> view = curve_view(feed, "2_ascan", ["diode"])
>>> view.x_label, view.y_label, view.lines["diode"]
('roby', 'diode', array([12., 40., 31.]))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bokeh.palettes import Category10_10

from .colormap import colorize
from .decimate import decimate
from .feed import Frame, ScanFeed

SPECTRUM_X_LABEL = "channel"  # an MCA's bins (no energy calibration is published)
SPECTRA_Y_LABEL = "point"  # the image of a scan's spectra: one row per point
PLOTS = ("curve", "map", "spectrum", "image")  # the page's tabs, in order


@dataclass
class CurveView:
    """Lines against x (a scan's counters, or an MCA's newest spectrum), as a figure shows them."""

    title: str
    x_label: str
    y_label: str
    x: np.ndarray
    lines: dict[str, np.ndarray]  # name -> y, in the order drawn
    colors: dict[str, str]
    log_y: bool = False
    window: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 the user zoomed to
    marker: tuple[float, str] | None = None  # a peak tool's x and its label


@dataclass
class ImageView:
    """A detector frame, coloured as the page colours it (RGBA words, ``colormap.colorize``)."""

    title: str
    pixels: np.ndarray  # the frame as the page gets it: binned when large (``feed.make_frame``)
    size: tuple[int, int]  # the full frame's width and height: the axes count the detector's pixels
    low: float | None
    high: float | None
    log: bool = False


@dataclass
class MapView:
    """A mesh's cells: one per point at the motors' positions, coloured by a counter."""

    title: str
    x_label: str
    y_label: str
    x: np.ndarray
    y: np.ndarray
    value: np.ndarray
    cell: tuple[float, float]  # width, height
    label: str = field(default="")  # the colour bar's: the counter


View = CurveView | ImageView | MapView


def x_label(x_name: str) -> str:
    """The curve's x label: the x channel, with its unit for the elapsed time."""
    return f"{x_name} [s]" if x_name == "elapsed_time" else x_name


def y_label(counters: list[str]) -> str:
    """The curve's y label, as Flint makes it: the drawn counters' names, sorted, joined by `` + ``."""
    return " + ".join(sorted(set(counters)))


def line_colors(counters: list[str]) -> dict[str, str]:
    """Each counter's colour: the scan's counters take Category10's colours in turn, whichever are drawn."""
    return dict(zip(counters, itertools.cycle(Category10_10)))


def chosen_counters(counters: list[str], selection: list[str]) -> list[str]:
    """The counters drawn: those of plotselect's ``selection`` in the scan, else the scan's first one."""
    chosen = [name for name in counters if name in selection]
    return chosen or counters[:1]


def curve_view(feed: ScanFeed, name: str, chosen: list[str], log_y: bool = False,
               window: tuple[float, float, float, float] | None = None, marker: dict[str, Any] | None = None) -> CurveView:  # fmt: skip
    """The scan's chosen counters against its x, every point or the decimated view of a long curve (``decimate``)."""
    with feed.lock:
        x_name, points, counters = feed.x_name, feed.points(), feed.counters
        chosen = [counter for counter in chosen if counter in feed.scalars]
        x = feed.scalar(x_name)[:points].copy() if x_name is not None else np.empty(0)
        ys = {counter: feed.scalar(counter)[:points].copy() for counter in chosen}
    low, high = (window[0], window[1]) if window else (None, None)
    rows = decimate(x, ys, low, high)
    mark = None
    if marker is not None and marker.get("scan") == feed.db_name:
        mark = (float(marker["x"]), f"{marker.get('tool', '')} {marker.get('counter', '')} = {marker['x']:.6g}")
    return CurveView(title=f"{name}  {feed.info.get('title', '')}", x_label=x_label(x_name or ""), y_label=y_label(chosen),
                     x=rows.pop("x"), lines=rows, colors=line_colors(counters), log_y=log_y, window=window, marker=mark)  # fmt: skip


def spectrum_view(feed: ScanFeed, name: str) -> CurveView | None:
    """The newest spectrum of the scan's first 1D channel (an MCA's): counts against channel; None without one."""
    with feed.lock:
        if not feed.spectra:
            return None
        channel, spectra = next(iter(feed.spectra.items()))
        newest = spectra.rows[-1].copy() if spectra.rows else np.empty(0)
        count = spectra.count
    return CurveView(title=f"{name}  {channel}: spectrum {count - 1}", x_label=SPECTRUM_X_LABEL, y_label=channel,
                     x=np.arange(len(newest), dtype=float), lines={channel: newest}, colors=line_colors([channel]))  # fmt: skip


def image_view(name: str, detector: str, frame: Frame, low: float | None, high: float | None, log: bool) -> ImageView:
    """A frame as the Image tab colours it: ``low`` and ``high`` are the colour range, by the logarithm with ``log``."""
    pixels = colorize(frame.shown, low, high, log=log)
    height, width = frame.full.shape[:2]
    return ImageView(f"{name}  {detector}: frame {frame.index}", pixels, (width, height), low, high, log)


def frame_range(frame: Frame | None, log: bool) -> tuple[float | None, float | None]:
    """The frame's own colour range: its finite values' min and max (of its positive part for ``log``)."""
    if frame is None:
        return None, None
    finite = frame.shown[np.isfinite(frame.shown)]
    if log:
        finite = finite[finite > 0]
    return (float(finite.min()), float(finite.max())) if finite.size else (None, None)


def newest_frame(feed: ScanFeed) -> tuple[str, Frame] | None:
    """The first detector's name and newest frame, or None."""
    with feed.lock:
        for detector, images in feed.images.items():
            return (detector, images.frame) if images.frame is not None else None
    return None


def map_view(feed: ScanFeed, name: str, counter: str) -> MapView | None:
    """A mesh's cells coloured by ``counter``; None when the scan is not a mesh."""
    mesh, motors = feed.info.get("mesh"), feed.info.get("motors", [])
    if not mesh or len(motors) < 2 or counter not in feed.scalars:
        return None
    with feed.lock:
        points = feed.points()
        x, y, value = (feed.scalar(channel)[:points].copy() for channel in (motors[0], motors[1], counter))
    return MapView(title=f"{name}  {counter} over {motors[0]} and {motors[1]}", x_label=motors[0], y_label=motors[1],
                   x=x, y=y, value=value, cell=mesh_cell(mesh), label=counter)  # fmt: skip


def mesh_cell(mesh: dict[str, Any]) -> tuple[float, float]:
    """A mesh cell's width and height: the fast and slow motors' steps (1 for a single position)."""
    fast, slow = mesh["fast"], mesh["slow"]
    return (abs(fast[1] - fast[0]) / max(fast[2] - 1, 1) or 1, abs(slow[1] - slow[0]) / max(slow[2] - 1, 1) or 1)
