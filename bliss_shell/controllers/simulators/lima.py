"""``LimaCCDs``: the subset of the real LimaCCDs Tango interface that a scan uses, with simulated frames.

Attribute and command names are the real server's, so a real LimaCCDs device can replace
this one. Frames are images of the camera's ``image_type`` (``Bpp32`` unless ``sim_image_type``
says otherwise) with a spot that follows a motor device (``sim_motor_url``); the last
``buffer_max_number`` frames stay in memory for ``readImage``; with ``saving_mode = AUTO_FRAME``
frames are also written to HDF5 files, in the real server's layout and under its overwrite policy.
``image_bin``, ``image_flip``, ``image_rotation`` and ``image_roi`` shape the frames as Lima core does
(``lima_image.py``); they take effect at ``prepareAcq``, as on the real server. A RoiCounter device of the
same server (``roi_counter.py``) gets every frame. Only ``sim_*`` attributes and commands are the simulator's own.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import numpy as np
from tango import AttrWriteType, DeviceProxy, DevState, Except
from tango.server import Device, attribute, command

from ..lima_protocol import IMAGE_TYPES, encode_data_array, encode_video_image, frame_path
from .lima_image import ROTATIONS, Geometry
from .lima_saving import FrameFiles, check_overwrite
from .roi_counter import plugin_for

NO_ERROR = "No error"  # acq_status_fault_error when not in fault, as the real server says it
OVERWRITE_POLICIES = ("ABORT", "OVERWRITE")  # the real server also has APPEND and MULTISET (entries added to old files)
# The values of the enumerated attributes, as getAttrStringValueList gives them (the real server has more trigger
# modes, AUTO_HEADER saving and more formats: this camera offers these).
CHOICES = {
    "acq_trigger_mode": ("INTERNAL_TRIGGER", "INTERNAL_TRIGGER_MULTI"),
    "saving_mode": ("MANUAL", "AUTO_FRAME"),
    "saving_format": ("HDF5",),
    "saving_overwrite_policy": OVERWRITE_POLICIES,
    "image_rotation": tuple(ROTATIONS),
}
PLUGIN_TYPES = {"roicounter": plugin_for}  # getPluginDeviceNameFromType: the plugin devices simulated


def _refuse(name: str, value: object) -> None:
    """The real server's words for a value its enumeration does not have."""
    Except.throw_exception("WrongData", f"Wrong value {name}: {value}", "LimaCCD Class")


class LimaCCDs(Device):
    """A simulated camera behind the real LimaCCDs Tango interface; see the module docstring."""

    def init_device(self) -> None:
        """A 256 x 256 Bpp32 camera at rest: no frame yet, saving MANUAL (not saving)."""
        super().init_device()
        self._lock = threading.Lock()
        self._settings: dict[str, Any] = {  # the attributes _setting makes, of their Tango types
            "acq_nb_frames": 1, "acq_expo_time": 0.1, "acq_trigger_mode": "INTERNAL_TRIGGER", "latency_time": 0.0,
            "saving_mode": "MANUAL", "saving_directory": "", "saving_prefix": "lima_", "saving_suffix": ".h5",
            "saving_format": "HDF5", "saving_frame_per_file": 100, "saving_index_format": "%04d",
            "saving_next_number": 0, "saving_overwrite_policy": "ABORT", "user_detector_name": "lima_simulator",
        }  # fmt: skip
        self._instrument = ""  # user_instrument_name; the real server reads "instrument" while it is unset
        self._image_type = "Bpp32"
        self._geometry = Geometry((256, 256))  # as set: image_width and the others report it
        self._acquiring = self._geometry  # as the acquisition prepared last takes its frames
        self._noise = np.zeros(0, dtype=np.uint32)
        self._buffer: OrderedDict[int, np.ndarray] = OrderedDict()
        self._buffer_max = 64
        self._last = {"acquired": -1, "ready": -1, "saved": -1}
        self._status = "Ready"
        self._fault = NO_ERROR
        self._motor: DeviceProxy | None = None
        self._motor_url = ""
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._files = FrameFiles()
        self.set_state(DevState.ON)

    # -- settings a scan writes ----------------------------------------------------------

    def _setting(name: str, dtype: type):
        def read(self: LimaCCDs):
            return self._settings[name]

        def write(self: LimaCCDs, value) -> None:
            if name in CHOICES:  # an enumeration: any case, stored upper case, as the real server does
                value = value.upper()
                if value not in CHOICES[name]:
                    _refuse(name, value)
            self._settings[name] = value

        return attribute(fget=read, fset=write, name=name, dtype=dtype, access=AttrWriteType.READ_WRITE)

    acq_nb_frames = _setting("acq_nb_frames", int)
    acq_expo_time = _setting("acq_expo_time", float)
    acq_trigger_mode = _setting("acq_trigger_mode", str)
    latency_time = _setting("latency_time", float)
    saving_mode = _setting("saving_mode", str)
    saving_directory = _setting("saving_directory", str)
    saving_prefix = _setting("saving_prefix", str)
    saving_suffix = _setting("saving_suffix", str)
    saving_format = _setting("saving_format", str)
    saving_frame_per_file = _setting("saving_frame_per_file", int)
    saving_index_format = _setting("saving_index_format", str)
    saving_next_number = _setting("saving_next_number", int)
    user_detector_name = _setting("user_detector_name", str)
    del _setting

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def saving_overwrite_policy(self) -> str:
        """ABORT (the real default: a file that exists refuses the acquisition) or OVERWRITE."""
        return self._settings["saving_overwrite_policy"]

    @saving_overwrite_policy.write
    def saving_overwrite_policy(self, value: str) -> None:
        """Set the policy, any case; APPEND, MULTISET or another name is refused."""
        if value.upper() not in OVERWRITE_POLICIES:
            _refuse("saving_overwrite_policy", f"{value.upper()} (the simulator knows {', '.join(OVERWRITE_POLICIES)})")
        self._settings["saving_overwrite_policy"] = value.upper()

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def user_instrument_name(self) -> str:
        """The instrument group of the saved files' frame dataset (``instrument`` until set)."""
        return self._instrument or "instrument"

    @user_instrument_name.write
    def user_instrument_name(self, value: str) -> None:
        """Set the instrument group's name."""
        self._instrument = value

    # -- what the server reports ---------------------------------------------------------

    @attribute(dtype=str)
    def acq_status(self) -> str:
        """Ready, Running or Fault."""
        return self._status

    @attribute(dtype=str)
    def acq_status_fault_error(self) -> str:
        """Why the acquisition is in Fault ("No error" otherwise)."""
        return self._fault

    @attribute(dtype=int)
    def image_width(self) -> int:
        """The frames' width once binned, flipped, turned and cut to the roi."""
        return self._geometry.size[0]

    @attribute(dtype=int)
    def image_height(self) -> int:
        """The frames' height once binned, flipped, turned and cut to the roi."""
        return self._geometry.size[1]

    @attribute(dtype=(int,), max_dim_x=2)
    def image_max_dim(self) -> list[int]:
        """The sensor's width and height."""
        return list(self._geometry.sensor)

    @attribute(dtype=(int,), max_dim_x=2, access=AttrWriteType.READ_WRITE)
    def image_bin(self) -> list[int]:
        """[x, y]: pixels summed; the roi stays on the same pixels of the sensor."""
        return list(self._geometry.binning)

    @image_bin.write
    def image_bin(self, value: list[int]) -> None:
        """Set the binning; one below 1 or above the sensor's size is refused."""
        bx, by = (int(v) for v in value)
        width, height = self._geometry.sensor
        if not (1 <= bx <= width and 1 <= by <= height):
            Except.throw_exception("WrongData", f"Invalid binning [{bx}, {by}] of a {width}x{height} sensor", "LimaCCDs")
        self._geometry = replace(self._geometry, binning=(bx, by))

    @attribute(dtype=(bool,), max_dim_x=2, access=AttrWriteType.READ_WRITE)
    def image_flip(self) -> list[bool]:
        """[left-right, up-down]."""
        return list(self._geometry.flip)

    @image_flip.write
    def image_flip(self, value: list[bool]) -> None:
        """Set the flips."""
        self._geometry = replace(self._geometry, flip=(bool(value[0]), bool(value[1])))

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def image_rotation(self) -> str:
        """NONE, 90, 180 or 270 (clockwise)."""
        return next(name for name, degrees in ROTATIONS.items() if degrees == self._geometry.rotation)

    @image_rotation.write
    def image_rotation(self, value: str) -> None:
        """Set the rotation, any case; another value is refused."""
        if value.upper() not in ROTATIONS:
            _refuse("image_rotation", value.upper())
        self._geometry = replace(self._geometry, rotation=ROTATIONS[value.upper()])

    @attribute(dtype=(int,), max_dim_x=4, access=AttrWriteType.READ_WRITE)
    def image_roi(self) -> list[int]:
        """[x, y, width, height] in the binned, flipped and turned image; the whole image when none is set."""
        return list(self._geometry.roi)

    @image_roi.write
    def image_roi(self, value: list[int]) -> None:
        """Set the roi; [0, 0, 0, 0] or the whole image clears it, one outside the image is refused."""
        try:
            x, y, width, height = (int(v) for v in value)  # not 4 values: a ValueError too
            self._geometry = self._geometry.with_roi((x, y, width, height))
        except ValueError as error:
            Except.throw_exception("InvalidValue", str(error), "CtSwBinRoiFlip::setRoi")

    @attribute(dtype=str)
    def image_type(self) -> str:
        """The camera's pixel type: Bpp8, Bpp16S, Bpp32, Bpp32F, ... (read only, as on the real server)."""
        return self._image_type

    @attribute(dtype=(int,), max_dim_x=4)
    def image_sizes(self) -> list[int]:
        """[signed, bytes per pixel, width, height]; Bpp32F counts as signed, as in the real server."""
        dtype = np.dtype(IMAGE_TYPES[self._image_type])
        return [int(dtype.kind in "if"), dtype.itemsize, *self._geometry.size]

    def _counter(key: str):
        def read(self: LimaCCDs) -> int:
            return self._last[key]

        return attribute(fget=read, name=f"last_image_{key}", dtype=int)

    last_image_acquired = _counter("acquired")
    last_image_ready = _counter("ready")
    last_image_saved = _counter("saved")
    del _counter

    @attribute(dtype=bool)
    def ready_for_next_image(self) -> bool:
        """Whether a ``startAcq`` would be taken now: not running, or one frame per ``startAcq``."""
        return self._status != "Running" or self._settings["acq_trigger_mode"] == "INTERNAL_TRIGGER_MULTI"

    @attribute(dtype=int, access=AttrWriteType.READ_WRITE)
    def buffer_max_number(self) -> int:
        """How many of the last frames stay in memory for ``readImage`` (64 by default)."""
        return self._buffer_max

    @buffer_max_number.write
    def buffer_max_number(self, value: int) -> None:
        """Set the number of frames kept, at least 1."""
        self._buffer_max = max(1, value)

    @attribute(dtype=(int,), max_dim_x=2, access=AttrWriteType.READ_WRITE)
    def sim_image_size(self) -> list[int]:
        """Simulator only: the sensor's width and height."""
        return list(self._geometry.sensor)

    @sim_image_size.write
    def sim_image_size(self, value: list[int]) -> None:
        """Set the sensor's size; a roi or binning that no longer fits is cut or reset, as Lima core does."""
        self._geometry = self._geometry.with_sensor((int(value[0]), int(value[1])))

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def sim_image_type(self) -> str:
        """Simulator only: the camera's pixel type (an ``image_type`` name: Bpp8, Bpp16S, Bpp32F, ...)."""
        return self._image_type

    @sim_image_type.write
    def sim_image_type(self, value: str) -> None:
        """Set the pixel type; a name that is not an ``image_type`` is refused."""
        if value not in IMAGE_TYPES:
            Except.throw_exception(
                "WrongData", f"Wrong value sim_image_type: {value} (one of {', '.join(IMAGE_TYPES)})", "LimaCCDs"
            )
        self._image_type = value

    @command(dtype_in=str)
    def sim_fault(self, message: str) -> None:
        """Simulator only: the camera fails now, with ``message`` (``Camera: error`` when empty).

        No more frames; ``acq_status`` is Fault and ``acq_status_fault_error`` the message until ``prepareAcq``.
        """
        self._halt()
        self._fault, self._status = message or "Camera: error", "Fault"

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def sim_motor_url(self) -> str:
        """Simulator only: the motor device the spot follows."""
        return self._motor_url

    @sim_motor_url.write
    def sim_motor_url(self, url: str) -> None:
        """Follow that motor device (empty: none; the spot stays in the middle)."""
        self._motor = DeviceProxy(url) if url else None
        self._motor_url = url

    # -- commands ------------------------------------------------------------------------

    @attribute(dtype="DevEncoded")
    def video_last_image(self) -> tuple[str, bytearray]:
        """The last frame, as the live view reads it (``-1`` frame number when there is none)."""
        with self._lock:
            index = self._last["ready"]
            frame = self._buffer.get(index)
        if frame is None:
            index, frame = -1, np.zeros(self._geometry.size[::-1], dtype=np.uint32)
        return "VIDEO_IMAGE", encode_video_image(frame, index)

    @command(dtype_in=str, dtype_out=(str,))
    def getAttrStringValueList(self, name: str) -> list[str]:
        """The values an enumerated attribute takes (empty for any other attribute), as the real server."""
        return list(CHOICES.get(name, ()))

    @command(dtype_in=str, dtype_out=str)
    def getPluginDeviceNameFromType(self, plugin_type: str) -> str:
        """The device of that plugin type (``roicounter``) working on this camera's frames; empty if none."""
        plugin = PLUGIN_TYPES[plugin_type.lower()](self.get_name()) if plugin_type.lower() in PLUGIN_TYPES else None
        return plugin.get_name() if plugin is not None else ""

    @command
    def prepareAcq(self) -> None:
        """Get ready for an acquisition: frame counters back to -1, a Fault cleared, the image settings applied.

        Refused (AUTO_FRAME saving, ABORT policy) when a file the acquisition would write is there already.
        """
        self._halt()
        self._close_files()
        check_overwrite(self._settings)
        with self._lock:
            self._buffer.clear()
            self._last = {"acquired": -1, "ready": -1, "saved": -1}
            self._status, self._fault = "Ready", NO_ERROR
        self._acquiring = self._geometry
        plugin = plugin_for(self.get_name())
        if plugin is not None:
            plugin.reset()

    @command
    def startAcq(self) -> None:
        """Take ``acq_nb_frames`` frames (0: until ``stopAcq``), or one frame in INTERNAL_TRIGGER_MULTI mode."""
        if self._status == "Fault":
            Except.throw_exception("ACQ_FAULT", f"acquisition in fault ({self._fault}): prepareAcq first", "LimaCCDs.startAcq")
        if self._worker is not None and self._worker.is_alive():
            if self._settings["acq_trigger_mode"] == "INTERNAL_TRIGGER_MULTI":
                self._worker.join()  # one frame per start: the previous one is done first
            else:
                Except.throw_exception("ACQ_RUNNING", "an acquisition is already running", "LimaCCDs.startAcq")
        multi = self._settings["acq_trigger_mode"] == "INTERNAL_TRIGGER_MULTI"
        count = 1 if multi else self._settings["acq_nb_frames"]
        self._status = "Running"
        self._stop.clear()
        self._worker = threading.Thread(target=self._acquire, args=(count,), daemon=True)
        self._worker.start()

    @command
    def stopAcq(self) -> None:
        """Stop taking frames now; the acquisition is Ready again (a Fault stays until ``prepareAcq``)."""
        self._halt()
        if self._status != "Fault":  # a fault stays until prepareAcq
            self._status = "Ready"

    @command(dtype_in=int, dtype_out="DevEncoded")
    def readImage(self, index: int) -> tuple[str, bytearray]:
        """Frame ``index`` (negative: from the last one) as a DATA_ARRAY, while it is in the buffer."""
        with self._lock:
            ready = self._last["ready"]
            if index < 0:
                index += ready + 1
            frame = self._buffer.get(index)
        if frame is None:
            reason = "not acquired yet" if index > ready else "no longer in the server's buffer"
            Except.throw_exception("IMAGE_NOT_AVAILABLE", f"image {index} is {reason}", "LimaCCDs.readImage")
        return "DATA_ARRAY", encode_data_array(frame, index)

    # -- the simulated camera ------------------------------------------------------------

    def _acquire(self, count: int) -> None:
        """Take ``count`` frames, or frames until stopAcq when ``count`` is 0 (LimaCCDs' endless acquisition)."""
        period = self._settings["acq_expo_time"] + self._settings["latency_time"]
        for _ in range(count) if count else itertools.count():
            if self._stop.wait(self._settings["acq_expo_time"]):
                break
            frame = self._acquiring.process(self._frame())
            index = self._last["ready"] + 1  # this thread alone moves it
            plugin = plugin_for(self.get_name())
            if plugin is not None:
                plugin.process(index, frame)  # before the frame counts as ready
            with self._lock:
                self._buffer[index] = frame
                while len(self._buffer) > self._buffer_max:
                    self._buffer.popitem(last=False)
                self._last["acquired"] = self._last["ready"] = index
            if self._settings["saving_mode"] == "AUTO_FRAME" and not self._save(index, frame):
                return  # in Fault: the file was there already
            if self._stop.wait(max(0.0, period - self._settings["acq_expo_time"])):
                break
        with self._lock:
            nb_frames = self._settings["acq_nb_frames"]
            done = nb_frames > 0 and self._last["ready"] + 1 >= nb_frames
        if done or self._settings["acq_trigger_mode"] != "INTERNAL_TRIGGER_MULTI" or self._stop.is_set():
            self._close_files()  # first: a client that sees Ready may open the files (HDF5 refuses a file still held)
            self._status = "Ready"
        elif self._settings["acq_trigger_mode"] == "INTERNAL_TRIGGER_MULTI":
            self._status = "Running"

    def _frame(self) -> np.ndarray:
        """A gaussian spot that moves with the motor, on Poisson noise (a slice of a pool drawn once per size).

        The spot is computed within 5 sigma of its centre only: beyond, it adds less than one count.
        """
        width, height = self._acquiring.sensor
        x = self._motor.read_attribute("Position").value if self._motor is not None else 0.0
        sigma = width / 32
        cx, cy = width / 2 + x * width / 20, height / 2
        if self._noise.size < 2 * width * height:
            self._noise = np.random.default_rng().poisson(5, 2 * width * height).astype(np.uint32)
        start = int(np.random.default_rng().integers(width * height))
        frame = self._noise[start : start + width * height].reshape(height, width).copy()
        reach = 5 * sigma
        columns = np.arange(max(0, int(cx - reach)), min(width, int(cx + reach) + 1))
        rows = np.arange(max(0, int(cy - reach)), min(height, int(cy + reach) + 1))
        if columns.size and rows.size:
            row = np.exp(-((columns - cx) ** 2) / (2 * sigma**2))
            column = 1000 * np.exp(-((rows - cy) ** 2) / (2 * sigma**2))
            frame[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1] += np.outer(column, row).astype(np.uint32)
        return self._pixels(frame)

    def _pixels(self, counts: np.ndarray) -> np.ndarray:
        """``counts`` in the camera's image type.

        8-bit types divide by 8, signed ones and float sit 20 lower (the noise floor goes below
        zero), every type is clipped to its range.
        """
        dtype = np.dtype(IMAGE_TYPES[self._image_type])
        if dtype == np.uint32:
            return counts
        if dtype.kind == "f":
            return (counts - 20.5).astype(dtype)
        values = counts.astype(np.int64) // (8 if dtype.itemsize == 1 else 1) - (20 if dtype.kind == "i" else 0)
        limits = np.iinfo(dtype)
        return np.clip(values, limits.min, limits.max).astype(dtype)

    def _frame_path(self) -> str:
        return frame_path(self._instrument or "instrument", self._settings["user_detector_name"])

    def _save(self, index: int, frame: np.ndarray) -> bool:
        """Frame ``index`` to its file; False (acquisition in Fault) when ABORT finds the file there already."""
        if not self._files.save(self._settings, self._frame_path(), index, frame):
            self._fault, self._status = "Saving: overwrite error", "Fault"
            return False
        with self._lock:
            self._last["saved"] = index
        return True

    def _halt(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
        self._worker = None

    def _close_files(self) -> None:
        self._files.close()
