"""One scan's data as the viewer's pages draw it, filled from Redis by a reader thread, or once from its file.

A ``ScanFeed`` is shared by every page that shows the scan: the reader appends, the pages
copy what they have not drawn yet. Every change bumps ``version`` under ``lock``.

Examples
--------
>>> feed = ScanFeed("demo:tmp:scans:1_ascan")
>>> feed.add_scalar("roby")
>>> feed.append("roby", 0, np.array([0.0, 1.0]))
>>> feed.scalar("roby")
array([0., 1.])
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SPECTRA_KEPT = 2000  # newest spectra of a 1D channel kept for its image (point by bin)
FRAME_PERIOD = 0.05  # newest Lima frame fetched at most this often while frames come (20 per second)
DISPLAY_PIXELS = 512  # frames larger than this on a side are binned for the page (its image is 600 pixels wide);
# the pixel value under the mouse comes from the full frame


class Growing:
    """A 1D float array that grows by appends, without copying everything each time."""

    def __init__(self) -> None:
        self._data = np.empty(1024)
        self.length = 0

    def put(self, first: int, values: np.ndarray) -> None:
        """Values of points ``first ..``; points already held are skipped (a re-read after reconnecting)."""
        skip = self.length - first
        if skip >= len(values):
            return
        values = np.asarray(values[max(skip, 0) :], dtype=float)
        need = self.length + len(values)
        if need > len(self._data):
            grown = np.empty(max(need, 2 * len(self._data)))
            grown[: self.length] = self._data[: self.length]
            self._data = grown
        self._data[self.length : need] = values
        self.length = need

    def view(self) -> np.ndarray:
        """The values so far, without a copy."""
        return self._data[: self.length]


@dataclass
class Spectra:
    """A 1D channel: how many spectra came, and the newest ``SPECTRA_KEPT`` of them."""

    count: int = 0
    rows: list[np.ndarray] = field(default_factory=list)

    def put(self, first: int, values: np.ndarray) -> None:
        """Spectra of points ``first ..``; those already held are skipped, the oldest beyond ``SPECTRA_KEPT`` dropped."""
        skip = self.count - first
        for row in values[max(skip, 0) :]:
            self.rows.append(np.asarray(row, dtype=float))
            self.count += 1
        del self.rows[:-SPECTRA_KEPT]


@dataclass
class Frame:
    """The frame a page shows: its index, the full frame (pixel values), the binned one and its histogram."""

    index: int
    full: np.ndarray
    shown: np.ndarray
    histogram: tuple[np.ndarray, np.ndarray]


@dataclass
class Images:
    """A Lima channel: the newest view of its frames (LimaDataView) and the newest frame fetched."""

    view: Any = None
    ready: int = -1
    frame: Frame | None = None
    fetched_at: float = 0.0
    error: str = ""


def make_frame(index: int, full: np.ndarray) -> Frame:
    """Bin a large frame for the page (mean of blocks) and histogram its values."""
    full = np.asarray(full)
    step = max(1, -(-max(full.shape) // DISPLAY_PIXELS))
    shown = _bin(full, step) if step > 1 else np.ascontiguousarray(full, dtype=np.float32)
    counts, edges = np.histogram(shown[np.isfinite(shown)], bins=128)
    return Frame(index, full, shown, (counts, edges))


def _bin(full: np.ndarray, step: int) -> np.ndarray:
    """Mean of ``step`` x ``step`` blocks, as float32; the rows and columns left over are dropped.

    Sums of strided slices: a third of the time of a reshaped mean, which reduces over non-contiguous axes.
    """
    height, width = (full.shape[0] // step) * step, (full.shape[1] // step) * step
    full = full[:height, :width]
    columns = full[:, 0::step].astype(np.float32)
    for offset in range(1, step):
        columns += full[:, offset::step]
    shown = columns[0::step].copy()
    for offset in range(1, step):
        shown += columns[offset::step]
    shown *= np.float32(1 / (step * step))
    return shown


class ScanFeed:
    """What a scan has published so far, by channel name (short name, fullname where two clash)."""

    def __init__(self, db_name: str, info: dict[str, Any] | None = None):
        self.db_name = db_name
        self.lock = threading.Lock()
        self.version = 0
        self.info: dict[str, Any] = dict(info or {})
        self.scalars: dict[str, Growing] = {}
        self.spectra: dict[str, Spectra] = {}
        self.images: dict[str, Images] = {}
        self.ended = False
        self.source = "redis"  # or "file": the scan had left Redis
        self.problem = ""  # why part of the scan cannot be shown
        self.wanted_at = time.monotonic()  # last time a page looked at it (the least wanted is dropped first)

    # -- written by the reader ---------------------------------------------------------

    def changed(self) -> None:
        """Bump ``version``: the pages redraw what they have not drawn (the caller holds ``lock``)."""
        self.version += 1

    def add_scalar(self, name: str) -> None:
        """A scalar channel (one number per point); nothing if it is there already."""
        with self.lock:
            self.scalars.setdefault(name, Growing())
            self.changed()

    def add_spectrum(self, name: str) -> None:
        """A 1D channel (a spectrum per point, an MCA's)."""
        with self.lock:
            self.spectra.setdefault(name, Spectra())
            self.changed()

    def add_images(self, name: str) -> None:
        """A Lima detector's frames."""
        with self.lock:
            self.images.setdefault(name, Images())
            self.changed()

    def append(self, name: str, first: int, values: np.ndarray) -> None:
        """Values of points ``first ..`` of a scalar or 1D channel; points already held are skipped."""
        with self.lock:
            if name in self.scalars:
                self.scalars[name].put(first, values)
            elif name in self.spectra:
                self.spectra[name].put(first, values)
            self.changed()

    def set_frame(self, name: str, frame: Frame | None, view: Any, error: str = "") -> None:
        """A detector's newest view of its frames, its newest frame fetched (None: keep the last) and any error."""
        with self.lock:
            images = self.images[name]
            images.view, images.ready, images.error = view, view.last_image_ready, error
            if frame is not None:
                images.frame = frame
            self.changed()

    def end(self) -> None:
        """The scan has ended: nothing more comes."""
        with self.lock:
            self.ended = True
            self.changed()

    # -- read by the pages -------------------------------------------------------------

    def scalar(self, name: str) -> np.ndarray:
        """A copy-free view of the channel's points so far (the reader only appends past it)."""
        return self.scalars[name].view()

    def points(self) -> int:
        """Points every scalar channel has (the rows a curve can draw)."""
        return min((g.length for g in self.scalars.values()), default=0)

    @property
    def x_name(self) -> str | None:
        """The curve's x: the first scanned motor, else the elapsed time."""
        for name in [*self.info.get("motors", [])[:1], "elapsed_time"]:
            if name in self.scalars:
                return name
        return next(iter(self.scalars), None)

    @property
    def counters(self) -> list[str]:
        """The scalar channels that can be drawn against x: every one but the scan's masters."""
        masters = {*self.info.get("motors", []), "elapsed_time", "epoch"}
        return [name for name in self.scalars if name not in masters]
