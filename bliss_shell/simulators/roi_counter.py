"""``RoiCounterDeviceServer``: the real LimaCCDs server's RoiCounter plugin device, on our simulated camera.

The interface is the real one, names, Tango types and access (Lima-tango-python 1.12.2, commit 7a44684c,
``lima/server/plugins/RoiCounter.py`` and ``plugins/Utils.py``; ``tests/test_lima_interface.py`` compares
them): ``addNames(names)`` gives each name an id (kept until ``removeRois``), ``setRois([id, x, y, width,
height, ...])`` places them (refused until ``Start``), ``readCounters(from_frame)`` returns, ROI after ROI,
one row of 7 numbers per processed frame from ``from_frame`` on: ``roi_id, frame, sum, average, std, min,
max``. ``removeRois``, ``clearAllRois`` (which stops the device, as the real one does; ids stay), ``getNames``,
``getRois``, ``getRoiTypes`` (SQUARE), ``Start`` (state ON: frames are processed) and ``Stop`` (OFF).
``CounterStatus`` is Lima core's: -2 after ``Start``, -1 once the camera is prepared, then the last frame
processed; it cannot be read while the device is OFF. ``RunLevel`` is written only while OFF.

The device ``<domain>/roicounter/<member>`` works on the frames of ``<domain>/limaccds/<member>`` served
by the same process: the camera hands each frame to it, after binning, flip, rotation and roi, before the
frame counts as ready. ``prepareAcq`` of the camera starts the frame numbers again from 0. Arc ROIs, masks
and ``OverflowThreshold`` are not simulated: ``setArcRois`` and a mask file (``setMaskFile``, ``MaskFile``)
are refused, ``getArcRois`` finds none, ``OverflowThreshold`` is kept.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
from tango import AttReqType, AttrWriteType, DevState, Except
from tango.server import Device, attribute, command

STATS = 7  # roi_id, frame number, sum, average, std, min, max
LONG = "int32"  # the real attributes' and commands' DevLong (PyTango's int is DevLong64)
NOT_STARTED, PREPARED = -2, -1  # CounterStatus after Start, and once the camera is prepared (Lima core)
_PLUGINS: dict[str, RoiCounterDeviceServer] = {}  # by the name of the camera device whose frames it processes


def camera_of(plugin_name: str) -> str:
    """``id00/roicounter/simulator`` works on ``id00/limaccds/simulator``."""
    domain, _, member = plugin_name.lower().split("/")
    return f"{domain}/limaccds/{member}"


def plugin_for(camera_name: str) -> RoiCounterDeviceServer | None:
    """The RoiCounter device of this process that processes the frames of ``camera_name``, if any."""
    return _PLUGINS.get(camera_name.lower())


def statistics(frame: np.ndarray, rect: tuple[int, int, int, int]) -> tuple[float, float, float, float, float]:
    """Sum, average, standard deviation, min and max of the pixels of ``rect`` (the part inside the frame)."""
    x, y, w, h = rect
    pixels = frame[y : y + h, x : x + w].astype(np.float64)
    if not pixels.size:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    return float(pixels.sum()), float(pixels.mean()), float(pixels.std()), float(pixels.min()), float(pixels.max())


class RoiCounterDeviceServer(Device):
    """The RoiCounter plugin device of a LimaCCDs server; see the module docstring for its interface."""

    def init_device(self) -> None:
        """No ROI, OFF; registered as the plugin of its camera device (``camera_of``)."""
        super().init_device()
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}  # addNames: a name keeps its id until removeRois
        self._next_id = 0
        self._on = False  # the state, as the camera's thread reads it
        self._rois: dict[str, tuple[int, int, int, int]] = {}  # placed by setRois
        self._buffer_size = 256
        self._results: deque[tuple[int, dict[str, tuple[float, ...]]]] = deque(maxlen=self._buffer_size)
        self._last = NOT_STARTED
        self._mask = ""
        self._kept = {"OverflowThreshold": 0, "RunLevel": 0}
        self.set_state(DevState.OFF)
        _PLUGINS[camera_of(self.get_name())] = self

    def delete_device(self) -> None:
        """No longer the plugin of its camera."""
        if _PLUGINS.get(camera_of(self.get_name())) is self:
            del _PLUGINS[camera_of(self.get_name())]

    # -- what the camera calls ------------------------------------------------------------

    def process(self, number: int, frame: np.ndarray) -> None:
        """Frame ``number`` of the running acquisition (the camera's thread)."""
        with self._lock:
            if not self._on or not self._rois:
                return
            self._results.append((number, {name: statistics(frame, rect) for name, rect in self._rois.items()}))
            self._last = number

    def reset(self) -> None:
        """A new acquisition: its frames are numbered from 0 again."""
        with self._lock:
            self._results.clear()
            self._last = PREPARED

    # -- attributes -----------------------------------------------------------------------

    @attribute(dtype=LONG, access=AttrWriteType.READ_WRITE)
    def BufferSize(self) -> int:
        """How many frames of results are kept (256 by default, as the real device property)."""
        return self._buffer_size

    @BufferSize.write
    def BufferSize(self, value: int) -> None:
        """Set how many frames of results are kept (at least 1); the newest are kept."""
        with self._lock:
            self._buffer_size = max(1, value)
            self._results = deque(self._results, maxlen=self._buffer_size)

    @attribute(dtype=LONG)
    def CounterStatus(self) -> int:
        """The last frame processed; -2 after ``Start``, -1 after the camera's ``prepareAcq``; refused while OFF."""
        self._started()  # the real device has no counter task while OFF
        return self._last

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def MaskFile(self) -> str:
        """The mask file applied to the frames (always empty here: masks are not simulated)."""
        return self._mask

    @MaskFile.write
    def MaskFile(self, value: str) -> None:
        """Refuse any mask file; an empty name is taken."""
        self.setMaskFile(value)

    def _kept_attribute(name: str, allowed: Any = None):
        """An attribute the simulator keeps without acting on it."""

        def read(self: RoiCounterDeviceServer) -> int:
            return self._kept[name]

        def write(self: RoiCounterDeviceServer, value: int) -> None:
            self._kept[name] = value

        return attribute(fget=read, fset=write, name=name, dtype=LONG, access=AttrWriteType.READ_WRITE, fisallowed=allowed)

    def _run_level_allowed(self, request: AttReqType) -> bool:
        """``RunLevel`` is read at any time, written only while OFF (as the real ``BasePostProcess``)."""
        return request == AttReqType.READ_REQ or self.get_state() == DevState.OFF

    OverflowThreshold = _kept_attribute("OverflowThreshold")
    RunLevel = _kept_attribute("RunLevel", _run_level_allowed)
    del _kept_attribute

    # -- commands -------------------------------------------------------------------------

    @command
    def Start(self) -> None:
        """Process the frames from now on (state ON); the results so far are dropped."""
        with self._lock:
            self._results.clear()
            self._last = NOT_STARTED
        self._on = True
        self.set_state(DevState.ON)

    @command
    def Stop(self) -> None:
        """Stop processing frames (state OFF)."""
        self._on = False
        self.set_state(DevState.OFF)

    @command(dtype_in=(str,), dtype_out=(LONG,))
    def addNames(self, names: list[str]) -> list[int]:
        """The ids of these ROI names, new ones given the next free ids."""
        with self._lock:
            for name in names:
                if name not in self._ids:
                    self._ids[name], self._next_id = self._next_id, self._next_id + 1
            return [self._ids[name] for name in names]

    @command(dtype_in=(LONG,))
    def setRois(self, values: list[int]) -> None:
        """Place ROIs: ``[id, x, y, width, height, ...]`` for ids from ``addNames``; refused until ``Start``."""
        self._started()
        if len(values) % 5:
            Except.throw_exception("WRONG_DATA", "should be a vector as follow [roi_id0,x0,y0,width0,height0,...", "RoiCounter")
        names = {roi_id: name for name, roi_id in self._ids.items()}
        placed = {}
        for start in range(0, len(values), 5):
            roi_id, x, y, w, h = (int(v) for v in values[start : start + 5])
            if roi_id not in names:
                Except.throw_exception("WRONG_DATA", "should call add method before setRoi", "RoiCounter")
            placed[names[roi_id]] = (x, y, w, h)
        with self._lock:
            self._rois.update(placed)

    @command(dtype_in=(str,))
    def removeRois(self, names: list[str]) -> None:
        """Forget these ROIs and their ids; the device stops when no name is left."""
        with self._lock:
            for name in names:
                self._rois.pop(name, None)
                self._ids.pop(name, None)
            empty = not self._ids
        if empty:
            self.Stop()

    @command
    def clearAllRois(self) -> None:
        """Remove every ROI and stop (the ids of the names stay)."""
        with self._lock:
            self._rois.clear()
        self.Stop()

    @command(dtype_out=(str,))
    def getNames(self) -> list[str]:
        """The names of the ROIs placed; refused until ``Start``."""
        self._started()
        return list(self._rois)

    @command(dtype_in=(str,), dtype_out=(str,))
    def getRoiTypes(self, names: list[str]) -> list[str]:
        """The type of each ROI named: SQUARE (arc ROIs are not simulated)."""
        self._started()
        return ["SQUARE" for name in names if self._defined(name)]

    @command(dtype_in=(str,), dtype_out=(LONG,))
    def getRois(self, names: list[str]) -> list[int]:
        """``[id, x, y, width, height, ...]`` of the ROIs named."""
        self._started()
        return [value for name in names if self._defined(name) for value in (self._ids[name], *self._rois[name])]

    @command(dtype_in=LONG, dtype_out=(float,))
    def readCounters(self, first: int) -> np.ndarray:
        """Rows of ``roi_id, frame, sum, average, std, min, max`` from frame ``first`` on, ROI after ROI, flat."""
        self._started()
        with self._lock:
            frames = [(number, stats) for number, stats in self._results if number >= first]
            rois = {name: self._ids[name] for name in self._rois}
        per_roi = {name: [(number, stats[name]) for number, stats in frames if name in stats] for name in rois}
        count = min((len(results) for results in per_roi.values()), default=0)  # as many frames for every ROI
        rows = [(rois[name], number, *values) for name, results in per_roi.items() for number, values in results[:count]]
        return np.array(rows, dtype=np.float64).reshape(-1)

    @command(dtype_in=(float,))
    def setArcRois(self, values: list[float]) -> None:
        """Refused: arc ROIs (``[id, x, y, r1, r2, start, end, ...]``) are not simulated; checked as the real one first."""
        self._started()
        if len(values) % 7:
            Except.throw_exception("WRONG_DATA", "should be a vector as follow [roi_id,centerX,centerY,rayon1,rayon2,"
                                   "angle_start,angle_end,...]", "RoiCounter")  # fmt: skip
        if any(int(roi_id) not in self._ids.values() for roi_id in values[::7]):
            Except.throw_exception("WRONG_DATA", "should call add method before setRoi", "RoiCounter")
        Except.throw_exception("NOT_SIMULATED", "arc ROIs are not simulated: use setRois", "RoiCounter")

    @command(dtype_in=(str,), dtype_out=(float,))
    def getArcRois(self, names: list[str]) -> list[float]:
        """``[id, x, y, r1, r2, start, end, ...]`` of the arc ROIs named: there are none here."""
        self._started()
        for name in names:
            Except.throw_exception("WRONG_DATA", f"Roi {name} not defined yet", "RoiCounter")
        return []

    @command(dtype_in=str)
    def setMaskFile(self, path: str) -> None:
        """Refuse any mask file (masks are not simulated); an empty name (no mask) is taken."""
        if path:
            Except.throw_exception("NOT_SIMULATED", f"Could read mask from {path}: the simulator has no masks", "RoiCounter")
        self._mask = path

    def _started(self) -> None:
        if self.get_state() != DevState.ON:
            Except.throw_exception("NOT_STARTED", "should start the device first", "RoiCounter")

    def _defined(self, name: str) -> bool:
        if name not in self._rois:
            Except.throw_exception("WRONG_DATA", f"Roi {name} not defined yet", "RoiCounter")
        return True
