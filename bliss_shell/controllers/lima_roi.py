"""``lima.roi_counters``: rectangular ROIs of a Lima detector whose statistics the server computes for each frame.

As in BLISS, ``lima_simulator.roi_counters["r1"] = (x, y, width, height)`` (coordinates of the image the
detector delivers: after ``lima.image``'s binning, flip, rotation and roi) makes five counters, ``r1_sum``,
``r1_avg``, ``r1_std``, ``r1_min``, ``r1_max`` (fullname ``lima_simulator:roi_counters:r1_sum``). The ROIs are a
setting of the Lima object (``lima:<name>``, field ``roi_counters``): every shell of the beamline sees them.

The server computes them, as a real LimaCCDs server does: its RoiCounter plugin device (found with the
camera's ``getPluginDeviceNameFromType("roicounter")``) gets the ROIs when a scan that counts them is
prepared (``clearAllRois``, ``Start``, ``addNames``, ``setRois``), and the scan reads the results with
``readCounters(first_frame)``: rows of ``roi_id, frame, sum, average, std, min, max``. A scan without
ROIs makes no call to that device.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import tango

from bliss_shell.comm import Settings

from .acquisition import CounterController
from .lima_settings import check_rect
from .tango_client import TangoClient, TangoDeviceError, describe

STATS = ("sum", "avg", "std", "min", "max")  # BLISS's counter names, in readCounters' order (columns 2 to 6)
_ROW = 2 + len(STATS)  # roi_id, frame, then the statistics
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FIELD = "roi_counters"  # the setting: {name: [x, y, width, height]}, in the order they were made


class Roi(NamedTuple):
    """A rectangle of the image; ``roi_counters["r2"] = roi_counters["r1"]`` copies one.

    Examples
    --------
    >>> roi = Roi(100, 100, 40, 20, "r1")
    >>> roi.width * roi.height, roi[:4]
    (800, (100, 100, 40, 20))
    """

    x: int
    y: int
    width: int
    height: int
    name: str = ""


def _roi(name: str, rect: Sequence[int]) -> Roi:
    x, y, width, height = rect
    return Roi(x, y, width, height, name)


def device_url(proxy: tango.DeviceProxy, device: str) -> str:
    """The URL of ``device`` served where ``proxy``'s device is (same Tango host, or same server without one).

    Examples
    --------
    >>> device_url(tango.DeviceProxy("id00/limaccds/simulator"), "id00/roicounter/simulator")  # doctest: +SKIP
    'tango://127.0.0.1:10000/id00/roicounter/simulator'
    >>> camera = tango.DeviceProxy("tango://127.0.0.1:10000/id00/limaccds/simulator#dbase=no")
    >>> device_url(camera, "id00/roicounter/simulator")
    'tango://127.0.0.1:10000/id00/roicounter/simulator#dbase=no'

    The first with ``TANGO_HOST=127.0.0.1:10000``; the second names a server without a database.
    """
    if proxy.is_dbase_used():
        return f"tango://{proxy.get_db_host()}:{proxy.get_db_port()}/{device}"
    return f"tango://{proxy.get_dev_host()}:{proxy.get_dev_port()}/{device}#dbase=no"


class PluginClient(TangoClient):
    """A plugin device of a LimaCCDs server: its failures name the Lima object and the plugin's URL."""

    def __init__(self, name: str, url: str):  # a TangoClient without a config node of its own
        self.name, self.url = name, url
        try:
            self.proxy = tango.DeviceProxy(url, green_mode=tango.GreenMode.Gevent)
        except tango.DevFailed as error:
            raise ConnectionError(f"{name}: Tango device {url} is not reachable: {describe(error)}") from None


class RoiStatCounter:
    """One statistic of one ROI, a counter of the Lima detector's scans: ``lima_simulator.roi_counters.counters.r1_sum``.

    Examples
    --------
    >>> lima_simulator.roi_counters["r1"] = (100, 100, 40, 20)  # doctest: +SKIP
    >>> counter = lima_simulator.roi_counters.counters.r1_sum  # doctest: +SKIP
    >>> counter, counter.roi, counter.stat  # doctest: +SKIP
    (RoiStatCounter('lima_simulator:roi_counters:r1_sum'), 'r1', 'sum')
    >>> s = loopscan(5, 0.1, counter)  # doctest: +SKIP
    >>> s.get_data()[counter].shape  # doctest: +SKIP
    (5,)
    """

    dtype = "float64"
    shape: tuple[int, ...] = ()
    unit = None

    def __init__(self, controller: CounterController, roi: str, stat: str):
        self.name = f"{roi}_{stat}"
        self.roi, self.stat = roi, stat
        self.controller = controller
        self.controller_name: str = controller.name
        self.channel = f"{FIELD}:{self.name}"  # under the detector's node: lima_simulator:roi_counters:r1_sum

    @property
    def fullname(self) -> str:
        """``lima_simulator:roi_counters:r1_sum``: the detector's name, then the channel's."""
        return f"{self.controller_name}:{self.channel}"

    def __repr__(self) -> str:
        return f"RoiStatCounter({self.fullname!r})"


class RoiCounterList:
    """The ROI counters by name, as attributes too: ``counters.r1_sum``, ``counters["r1_sum"]``, ``list(counters)``.

    Examples
    --------
    >>> lima_simulator.roi_counters["r1"] = (100, 100, 40, 20)  # doctest: +SKIP
    >>> counters = lima_simulator.roi_counters.counters  # doctest: +SKIP
    >>> counters  # doctest: +SKIP
    r1_sum, r1_avg, r1_std, r1_min, r1_max
    >>> counters["r1_max"] is counters.r1_max, len(counters)  # doctest: +SKIP
    (True, 5)
    """

    def __init__(self, counters: Sequence[RoiStatCounter], owner: str):
        self._counters = {counter.name: counter for counter in counters}
        self._owner = owner

    def __getattr__(self, name: str) -> RoiStatCounter:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(error.args[0]) from None

    def __getitem__(self, name: str) -> RoiStatCounter:
        if name not in self._counters:
            raise KeyError(f"{self._owner}: no ROI counter {name!r} (ROI counters: {', '.join(self._counters) or 'none'})")
        return self._counters[name]

    def __iter__(self) -> Iterator[RoiStatCounter]:
        return iter(self._counters.values())

    def __len__(self) -> int:
        return len(self._counters)

    def __dir__(self) -> list[str]:
        return list(self._counters)

    def __repr__(self) -> str:
        return ", ".join(self._counters) or "no ROI counters"


class RoiReader:
    """The statistics of one acquisition's frames, read from the RoiCounter device as the server computes them."""

    def __init__(self, plugin: TangoClient, ids: dict[str, int], counted: Sequence[RoiStatCounter]):
        self._plugin = plugin
        self._ids = ids
        self._counted = list(counted)
        self._values: dict[str, list[float]] = {counter.channel: [] for counter in self._counted}
        self.count = 0  # frames whose statistics are all here

    def fetch(self) -> None:
        """The statistics computed since the last call."""
        raw = self._plugin.command("readCounters", self.count)
        rows = np.asarray(raw if raw is not None else [], dtype=np.float64).reshape(-1, _ROW)
        by_roi = {}
        for name, roi_id in self._ids.items():
            mine = rows[rows[:, 0] == roi_id]
            by_roi[name] = mine[np.argsort(mine[:, 1], kind="stable")]
        new = min(len(mine) for mine in by_roi.values())
        if not new:
            return
        for name, mine in by_roi.items():
            if int(mine[0, 1]) != self.count or int(mine[new - 1, 1]) != self.count + new - 1:
                raise TangoDeviceError(f"{self._plugin.name}: Tango device {self._plugin.url}: the statistics of ROI {name} "
                                       f"for frame {self.count} on are no longer there (its BufferSize is too small for "
                                       "the frame rate)")  # fmt: skip
        for counter in self._counted:
            self._values[counter.channel].extend(by_roi[counter.roi][:new, 2 + STATS.index(counter.stat)].tolist())
        self.count += new

    def take(self, count: int) -> dict[str, list[float]]:
        """The next ``count`` values of every ROI channel."""
        taken = {}
        for channel, values in self._values.items():
            taken[channel] = values[:count]
            del values[:count]
        return taken


class RoiCounters:
    """``lima.roi_counters``: set, list and delete ROIs; their counters count in every scan of the detector.

    A ROI is ``(x, y, width, height)`` in the image the detector delivers (after ``lima.image``'s
    binning, flip, rotation and roi), named by a Python name; each makes five counters. The ROIs
    are a setting of the detector: every shell of the beamline sees them.

    Examples
    --------
    >>> lima_simulator.roi_counters["r1"] = (100, 100, 40, 20)  # doctest: +SKIP
    >>> lima_simulator.roi_counters["r1"]  # doctest: +SKIP
    Roi(x=100, y=100, width=40, height=20, name='r1')
    >>> lima_simulator.roi_counters  # doctest: +SKIP
    lima_simulator ROI counters (sum, avg, std, min, max of each; the image is 256 x 256):
      name  x    y    width  height
      r1    100  100  40     20
    >>> lima_simulator.roi_counters.counters  # doctest: +SKIP
    r1_sum, r1_avg, r1_std, r1_min, r1_max
    >>> ct(0.1, lima_simulator.roi_counters.counters.r1_avg)  # doctest: +SKIP
    r1_avg = ... (... /s) lima_simulator:roi_counters
    Scan(number=..., name=ct, path=<no saving>)
    >>> del lima_simulator.roi_counters["r1"]  # doctest: +SKIP
    >>> lima_simulator.roi_counters.clear()  # doctest: +SKIP
    """

    def __init__(self, controller: CounterController, device: TangoClient, settings: Settings):
        self._controller = controller
        self._name = controller.name
        self._device = device
        self._settings = settings
        self._counters: dict[tuple[str, str], RoiStatCounter] = {}
        self._plugin: PluginClient | None = None
        self._uploaded = False  # this object gave the server ROIs: a scan without any clears them once

    # -- the ROIs ---------------------------------------------------------------------------

    def _saved(self) -> dict[str, list[int]]:
        return dict(self._settings.get(FIELD) or {})

    def __setitem__(self, name: str, value: Any) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"{self._name}: ROI name {name!r} refused: use a Python name (letters, digits and '_', "
                             "not starting with a digit), such as 'r1'")  # fmt: skip
        rect = tuple(value[:4]) if isinstance(value, Roi) else value
        size = self._device.read_many(("image_width", "image_height"))
        rois = self._saved()
        rois[name] = check_rect(f"{self._name}: ROI {name}", rect, (int(size[0]), int(size[1])))
        self._settings.set(**{FIELD: rois})

    def __getitem__(self, name: str) -> Roi:
        rois = self._saved()
        if name not in rois:
            raise KeyError(self._missing(name, rois))
        return _roi(name, rois[name])

    def __delitem__(self, name: str) -> None:
        rois = self._saved()
        if name not in rois:
            raise KeyError(self._missing(name, rois))
        del rois[name]
        self._settings.set(**{FIELD: rois})

    def _missing(self, name: Any, rois: dict[str, list[int]]) -> str:
        return f"{self._name}: no ROI {name!r} (ROIs: {', '.join(rois) or 'none'})"

    def __contains__(self, name: object) -> bool:
        return name in self._saved()

    def __iter__(self) -> Iterator[str]:
        return iter(self._saved())

    def __len__(self) -> int:
        return len(self._saved())

    def keys(self) -> list[str]:
        """The names of the ROIs, in the order they were made."""
        return list(self._saved())

    def clear(self) -> None:
        """Remove every ROI."""
        self._settings.remove(FIELD)

    def get_rois(self) -> list[Roi]:
        """Every ROI, in the order they were made."""
        return [_roi(name, rect) for name, rect in self._saved().items()]

    @property
    def counters(self) -> RoiCounterList:
        """The counters of every ROI: ``r1_sum``, ``r1_avg``, ``r1_std``, ``r1_min``, ``r1_max``, ``r2_sum``, ..."""
        return RoiCounterList([self.counter(name, stat) for name in self._saved() for stat in STATS], self._name)

    def counter(self, roi: str, stat: str) -> RoiStatCounter:
        """The same object each time: ``scan.get_data()[counter]`` finds its channel."""
        return self._counters.setdefault((roi, stat), RoiStatCounter(self._controller, roi, stat))

    def __repr__(self) -> str:
        rois = self.get_rois()
        if not rois:
            return f"{self._name}: no ROI counters; add one with {self._name}.roi_counters['r1'] = (x, y, width, height)"
        width, height = self._device.read_many(("image_width", "image_height"))
        header = ("name", "x", "y", "width", "height")
        cells = [header, *[(roi.name, *(str(v) for v in roi[:4])) for roi in rois]]
        widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
        lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
        return "\n".join([f"{self._name} ROI counters (sum, avg, std, min, max of each; the image is {width} x {height}):",
                          *(f"  {line}" for line in lines)])  # fmt: skip

    # -- in a scan ------------------------------------------------------------------------------

    def counted(self, counters: Sequence[Any], saved: dict[str, Any]) -> list[RoiStatCounter]:
        """The ROI counters a scan counts: all of them when it counts the detector, else those it was given.

        Refused (before the scan starts) when the image no longer holds one, or the server cannot compute them.
        """
        rois = saved.get(FIELD) or {}
        if any(counter is self._controller for counter in counters):
            chosen = [self.counter(name, stat) for name in rois for stat in STATS]
        else:
            chosen = [counter for counter in counters if isinstance(counter, RoiStatCounter)]
        for counter in chosen:
            if counter.roi not in rois:
                raise ValueError(f"{counter.name}: {self._missing(counter.roi, rois)}")
        if chosen:
            width, height = (int(v) for v in self._device.read_many(("image_width", "image_height")))
            for name in dict.fromkeys(counter.roi for counter in chosen):
                x, y, w, h = rois[name]
                if x + w > width or y + h > height:
                    raise ValueError(f"{self._name}: ROI {name} {(x, y, w, h)} goes outside the {width} x {height} image "
                                     "(image.roi, binning or rotation changed since it was set): move it with "
                                     f"{self._name}.roi_counters['{name}'] = (x, y, width, height), or remove it with "
                                     f"del {self._name}.roi_counters['{name}']")  # fmt: skip
            self.plugin()
        return chosen

    def prepare(self, counted: Sequence[RoiStatCounter], saved: dict[str, Any]) -> RoiReader | None:
        """Give the server the ROIs of a scan; None without ROIs."""
        if not counted:
            if self._uploaded:  # ROIs this shell gave earlier: the server need not compute them any more
                self.plugin().command("clearAllRois")
                self._uploaded = False
            return None
        rois = saved.get(FIELD) or {}
        wanted = {counter.roi: rois[counter.roi] for counter in counted}
        return RoiReader(self.plugin(), self.upload(wanted), counted)

    def upload(self, rois: dict[str, list[int]]) -> dict[str, int]:
        """The server computes these ROIs (and no other) from now on; their ids."""
        plugin = self.plugin()
        plugin.command("clearAllRois")
        plugin.command("Start")
        ids = [int(roi_id) for roi_id in plugin.command("addNames", list(rois))]
        plugin.command("setRois", [value for roi_id, rect in zip(ids, rois.values()) for value in (roi_id, *rect)])
        self._uploaded = True
        return dict(zip(rois, ids))

    def plugin(self) -> PluginClient:
        """The server's RoiCounter device (asked once)."""
        if self._plugin is None:
            name = self._device.command("getPluginDeviceNameFromType", "roicounter")
            if not name:
                raise TangoDeviceError(f"{self._name}: Tango device {self._device.url} has no RoiCounter plugin device "
                                       "(getPluginDeviceNameFromType('roicounter') is empty): its server must serve one for "
                                       "ROI counters, e.g. RoiCounterDeviceServer: [id00/roicounter/<camera>] under its "
                                       f"devices; or remove the ROIs: {self._name}.roi_counters.clear()")  # fmt: skip
            self._plugin = PluginClient(self._name, device_url(self._device.proxy, name))
        return self._plugin

    def restore(self, saved: dict[str, Any]) -> None:
        """The saved ROIs, back to a server that has a RoiCounter device (a restarted one)."""
        rois = saved.get(FIELD) or {}
        if rois:
            try:
                self.upload(rois)
            except TangoDeviceError as error:
                print(f"{error}; scans will say so while there are ROIs")
