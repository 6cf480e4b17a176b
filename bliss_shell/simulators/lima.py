"""``LimaCCDs``: the part of the real LimaCCDs Tango interface that a scan uses, with simulated frames.

Every attribute and command here is the real server's (Lima-tango-python 1.12.2, commit 7a44684c,
``lima/server/LimaCCDs.py``), with its name, Tango type, format, access and enumeration values, so that
a client that works on this one works on a real one; ``tests/test_lima_interface.py`` compares them with a
table of the real ones. Only ``sim_*`` attributes and commands are the simulator's own.

Frames are images of the camera's ``image_type`` (``Bpp32`` unless ``sim_image_type`` says otherwise)
with a spot that follows a motor device (``sim_motor_url``); the last ``buffer_max_number`` frames stay
in memory for ``readImage``; with ``saving_mode = AUTO_FRAME`` frames are also written to HDF5 files, in
the real server's layout, folder checks and overwrite policy (``lima_saving.py``). ``image_bin``,
``image_flip``, ``image_rotation`` and ``image_roi`` shape the frames as Lima core does (``lima_image.py``);
they take effect at ``prepareAcq``. ``startAcq`` follows Lima core's ``CtControl``: refused in Fault and
until ``prepareAcq``; one start per acquisition, or one per frame in ``INTERNAL_TRIGGER_MULTI``. The live
view (``video_last_image``) is updated while ``video_active`` is true, as Lima core's ``CtVideo``. A
RoiCounter device of the same server (``roi_counter.py``) gets every frame.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any, NoReturn

import numpy as np
from tango import AttrWriteType, DevError, DevFailed, DeviceProxy, DevState, ErrSeverity
from tango.server import Device, attribute, command

from bliss_shell.controllers.lima_protocol import (
    FAULT_ERRORS,
    IMAGE_TYPES,
    REAL_CHOICES,
    encode_data_array,
    encode_video_image,
    frame_path,
)

from .lima_image import ROTATIONS, Geometry, in_pixel_type, spot_frame
from .lima_saving import FORMAT_SUFFIXES, FrameFiles, SavingFailed, check_directory, next_number, prepare_saving
from .roi_counter import plugin_for

LONG, ULONG = "int32", "uint32"  # the real attributes' DevLong and DevULong (PyTango's int is DevLong64)
LIMA_VERSION = "1.10.2"  # lima_version: the Lima core release whose behaviour this simulator follows
# What a LimaCCDs server of Lima's Simulator camera (Lima-camera-simulator, frame builder mode) says it is:
# lima_type (the server's camera type), camera_type and camera_model (its DetInfoCtrlObj) and camera_pixelsize
# (x, y in meters: the plugin's default 1 micron).
CAMERA = {"lima_type": "Simulator", "camera_type": "Simulator", "camera_model": "Generator"}
PIXEL_SIZE = (1e-6, 1e-6)
NO_ERROR = "No error"  # acq_status_fault_error when not in fault, as the real server says it
# What this camera offers of the real values (lima_protocol.REAL_CHOICES), as getAttrStringValueList lists them (a
# real camera too lists its own trigger modes and formats); a real value outside is refused, saying so.
CHOICES = {
    "acq_mode": ("SINGLE",),
    "acq_trigger_mode": ("INTERNAL_TRIGGER", "INTERNAL_TRIGGER_MULTI"),
    "saving_mode": ("MANUAL", "AUTO_FRAME"),
    "saving_format": ("HDF5",),
    "saving_overwrite_policy": ("ABORT", "OVERWRITE"),
    "image_rotation": tuple(ROTATIONS),
}
PLUGIN_TYPES = {"roicounter": plugin_for}  # getPluginDeviceNameFromType: the plugin devices simulated


def _throw(message: str, origin: str, reason: str = "LIMA_ERROR") -> NoReturn:
    """Refuse with ``message``: a DevFailed of one error, as Tango's ``Except.throw_exception`` makes it."""
    error = DevError()
    error.reason, error.desc, error.origin, error.severity = reason, message, origin, ErrSeverity.ERR
    raise DevFailed(error)


def _choice(name: str, value: str) -> str:
    """An enumerated attribute's value, any case, upper case as the real server keeps it; another is refused."""
    value = value.upper()
    if value not in CHOICES[name]:
        offered = f" (a real LimaCCDs value this simulator does not offer: it offers {', '.join(CHOICES[name])})"
        _throw(f"Wrong value {name}: {value}{offered if value in REAL_CHOICES[name] else ''}", "LimaCCD Class", "WrongData")
    return value


class LimaCCDs(Device):
    """A simulated camera behind the real LimaCCDs Tango interface; see the module docstring."""

    def init_device(self) -> None:
        """A 256 x 256 Bpp32 camera at rest: no frame yet, saving MANUAL (not saving)."""
        super().init_device()
        self._lock = threading.Lock()
        self._settings: dict[str, Any] = {  # the attributes _setting makes, of their Tango types
            "acq_mode": "SINGLE", "acq_nb_frames": 1, "acq_expo_time": 0.1, "acq_trigger_mode": "INTERNAL_TRIGGER", "latency_time": 0.0,
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
        self._buffer_max = 64  # buffer_max_number: read only, as on the real server (Lima core sizes it)
        self._last = {"acquired": -1, "ready": -1, "saved": -1}
        self._status = "Ready"
        self._fault = NO_ERROR
        self._ready = False  # Lima core's m_ready: startAcq is taken (set by prepareAcq)
        self._video_active = False
        self._video: tuple[int, np.ndarray] | None = None  # the live view's last image, while video_active
        self._motor: DeviceProxy | None = None
        self._motor_url = ""
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._files = FrameFiles()
        self.set_state(DevState.ON)

    # -- settings a scan writes ----------------------------------------------------------

    def _setting(name: str, dtype: Any):
        def read(self: LimaCCDs):
            return self._settings[name]

        def write(self: LimaCCDs, value) -> None:
            self._settings[name] = _choice(name, value) if name in CHOICES else value

        return attribute(fget=read, fset=write, name=name, dtype=dtype, access=AttrWriteType.READ_WRITE)

    acq_mode = _setting("acq_mode", str)  # SINGLE: one exposure per frame (blissdata's LimaClient reads it)
    acq_nb_frames = _setting("acq_nb_frames", LONG)
    acq_expo_time = _setting("acq_expo_time", float)  # seconds
    acq_trigger_mode = _setting("acq_trigger_mode", str)
    latency_time = _setting("latency_time", float)  # seconds
    saving_mode = _setting("saving_mode", str)
    saving_suffix = _setting("saving_suffix", str)
    saving_frame_per_file = _setting("saving_frame_per_file", LONG)
    saving_index_format = _setting("saving_index_format", str)
    saving_next_number = _setting("saving_next_number", LONG)
    saving_overwrite_policy = _setting("saving_overwrite_policy", str)
    user_detector_name = _setting("user_detector_name", str)
    del _setting

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def saving_directory(self) -> str:
        """The frames' folder ("" until set)."""
        return self._settings["saving_directory"]

    @saving_directory.write
    def saving_directory(self, value: str) -> None:
        """A folder that exists, or whose parent does (``prepareAcq`` makes it); another is refused, as Lima core."""
        check_directory(value)
        self._settings["saving_directory"] = value

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def saving_prefix(self) -> str:
        """The files' name before their number."""
        return self._settings["saving_prefix"]

    @saving_prefix.write
    def saving_prefix(self, value: str) -> None:
        """Set the prefix and, as the real server, ``saving_next_number``: after the files there under ABORT, else 0."""
        settings = self._settings
        number = next_number(settings["saving_directory"], value, settings["saving_suffix"], settings["saving_overwrite_policy"])
        settings["saving_prefix"], settings["saving_next_number"] = value, number

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def saving_format(self) -> str:
        """HDF5 (the one format simulated)."""
        return self._settings["saving_format"]

    @saving_format.write
    def saving_format(self, value: str) -> None:
        """Set the format, any case, and the suffix to its own (``.h5``), as the real server does."""
        self._settings["saving_format"] = _choice("saving_format", value)
        self._settings["saving_suffix"] = FORMAT_SUFFIXES[self._settings["saving_format"]]

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
        """Why the acquisition is in Fault (one of the real server's ``FAULT_ERRORS``), else "No error"."""
        return self._fault

    @attribute(dtype=ULONG)
    def image_width(self) -> int:
        """The frames' width once binned, flipped, turned and cut to the roi."""
        return self._geometry.size[0]

    @attribute(dtype=ULONG)
    def image_height(self) -> int:
        """The frames' height once binned, flipped, turned and cut to the roi."""
        return self._geometry.size[1]

    @attribute(dtype=(ULONG,), max_dim_x=2, unit="pixel")
    def image_max_dim(self) -> list[int]:
        """The sensor's width and height."""
        return list(self._geometry.sensor)

    @attribute(dtype=(ULONG,), max_dim_x=2, access=AttrWriteType.READ_WRITE)
    def image_bin(self) -> list[int]:
        """[x, y]: pixels summed; the roi stays on the same pixels of the sensor."""
        return list(self._geometry.binning)

    @image_bin.write
    def image_bin(self, value: list[int]) -> None:
        """Set the binning; one below 1 or above the sensor's size is refused."""
        bx, by = (int(v) for v in value)
        width, height = self._geometry.sensor
        if not (1 <= bx <= width and 1 <= by <= height):
            _throw(f"Invalid binning [{bx}, {by}] of a {width}x{height} sensor", "CtImage::setBin", "InvalidValue")
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
        self._geometry = replace(self._geometry, rotation=ROTATIONS[_choice("image_rotation", value)])

    @attribute(dtype=(LONG,), max_dim_x=4, access=AttrWriteType.READ_WRITE)
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
            _throw(str(error), "CtSwBinRoiFlip::setRoi", "InvalidValue")

    @attribute(dtype=str)
    def image_type(self) -> str:
        """The camera's pixel type: Bpp8, Bpp16S, Bpp32, Bpp32F, ... (read only, as on the real server)."""
        return self._image_type

    @attribute(dtype=(ULONG,), max_dim_x=4)
    def image_sizes(self) -> list[int]:
        """[signed, bytes per pixel, width, height]; Bpp32F counts as signed, as in the real server."""
        dtype = np.dtype(IMAGE_TYPES[self._image_type])
        return [int(dtype.kind in "if"), dtype.itemsize, *self._geometry.size]

    def _counter(key: str):
        def read(self: LimaCCDs) -> int:
            return self._last[key]

        return attribute(fget=read, name=f"last_image_{key}", dtype=LONG)

    last_image_acquired = _counter("acquired")
    last_image_ready = _counter("ready")
    last_image_saved = _counter("saved")
    del _counter

    @attribute(dtype=bool)
    def ready_for_next_image(self) -> bool:
        """Whether the camera is idle or waits for a trigger: no frame being taken (Lima core's detector status)."""
        return self._worker is None or not self._worker.is_alive()

    @attribute(dtype=str)
    def lima_version(self) -> str:
        """The Lima core version (``1.10.2``: readImage(-1) gives the last frame, as blissdata's LimaClient expects)."""
        return LIMA_VERSION

    def _camera(name: str):
        def read(self: LimaCCDs) -> str:
            return CAMERA[name]

        return attribute(fget=read, name=name, dtype=str)

    lima_type = _camera("lima_type")  # the camera plugin the server runs
    camera_type = _camera("camera_type")  # the detector's maker or family, as its plugin names it
    camera_model = _camera("camera_model")  # the detector's model, as its plugin names it
    del _camera

    @attribute(
        dtype=(float,),
        max_dim_x=2,
        label="Pixel size:x_size, y_size",
        unit="meter",
        standard_unit="meter",
        display_unit="meter",
        format="%f",
        doc="Size of the pixel in meter",
    )
    def camera_pixelsize(self) -> list[float]:
        """The sensor's pixel width and height in meters, unbinned (the real server's label, units and format)."""
        return list(PIXEL_SIZE)

    @attribute(dtype=LONG)
    def buffer_max_number(self) -> int:
        """How many of the last frames stay in memory for ``readImage`` (64 here; read only, as on the real server)."""
        return self._buffer_max

    @attribute(dtype=bool, access=AttrWriteType.READ_WRITE)
    def video_active(self) -> bool:
        """Whether the live view (``video_last_image``) follows the frames (false until set, as Lima core)."""
        return self._video_active

    @video_active.write
    def video_active(self, value: bool) -> None:
        """Start or stop updating the live view."""
        self._video_active = bool(value)

    @attribute(dtype="DevEncoded")
    def video_last_image(self) -> tuple[str, bytearray]:
        """The live view's last image; frame -1 and no pixels before the first one (and for float pixels)."""
        video = self._video
        return "VIDEO_IMAGE", encode_video_image(None) if video is None else encode_video_image(video[1], video[0])

    # -- the simulator's own -------------------------------------------------------------

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
            _throw(f"Wrong value sim_image_type: {value} (one of {', '.join(IMAGE_TYPES)})", "LimaCCDs", "WrongData")
        self._image_type = value

    @command(dtype_in=str)
    def sim_fault(self, error: str) -> None:
        """Simulator only: the camera fails now with ``error``, one of the real server's words (empty: ``Camera: error``).

        No more frames; ``acq_status`` is Fault and ``acq_status_fault_error`` says ``error`` until ``prepareAcq``.
        """
        error = error or "Camera: error"
        if error not in FAULT_ERRORS:
            _throw(f"Wrong value sim_fault: {error!r}: one of the real acq_status_fault_error values: "
                   f"{', '.join(FAULT_ERRORS)}", "LimaCCDs", "WrongData")  # fmt: skip
        self._halt()
        self._fault, self._status, self._ready = error, "Fault", False

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

    @command(dtype_in=str, dtype_out=(str,))
    def getAttrStringValueList(self, name: str) -> list[str]:
        """The values an enumerated attribute takes here (empty for any other attribute), as the real server."""
        return list(CHOICES.get(name, ()))

    @command(dtype_in=str, dtype_out=str)
    def getPluginDeviceNameFromType(self, plugin_type: str) -> str:
        """The device of that plugin type (``roicounter``) working on this camera's frames; empty if none."""
        plugin = PLUGIN_TYPES[plugin_type.lower()](self.get_name()) if plugin_type.lower() in PLUGIN_TYPES else None
        return plugin.get_name() if plugin is not None else ""

    @command
    def prepareAcq(self) -> None:
        """Get ready for an acquisition: frame counters back to -1, a Fault cleared, the image settings applied.

        In AUTO_FRAME saving the folder is made if missing, and under ABORT a file the acquisition would
        write that is there already refuses it.
        """
        self._halt()
        self._close_files()
        prepare_saving(self._settings)
        with self._lock:
            self._buffer.clear()
            self._last = {"acquired": -1, "ready": -1, "saved": -1}
            self._status, self._fault, self._ready = "Ready", NO_ERROR, True
        self._acquiring = self._geometry
        plugin = plugin_for(self.get_name())
        if plugin is not None:
            plugin.reset()

    @command
    def startAcq(self) -> None:
        """Take ``acq_nb_frames`` frames (0: until ``stopAcq``), or one frame in INTERNAL_TRIGGER_MULTI mode.

        As Lima core: refused in Fault, and unless prepared; a second start needs ``prepareAcq`` again,
        except in INTERNAL_TRIGGER_MULTI until the start of the last frame.
        """
        if self._status == "Fault":
            _throw("Can't process startAcq: Acquisition is in fault", "CtControl::startAcq")
        if not self._ready:
            _throw("Run prepareAcq before starting acquisition", "CtControl::startAcq")
        multi = self._settings["acq_trigger_mode"] == "INTERNAL_TRIGGER_MULTI"
        if self._worker is not None and self._worker.is_alive():
            self._worker.join()  # INTERNAL_TRIGGER_MULTI: the previous frame is done first
        self._ready = multi and self._last["acquired"] != self._settings["acq_nb_frames"] - 2
        self._status = "Running"
        self._stop.clear()
        self._worker = threading.Thread(
            target=self._acquire, args=(1 if multi else self._settings["acq_nb_frames"],), daemon=True
        )
        self._worker.start()

    @command
    def stopAcq(self) -> None:
        """Stop taking frames now and close the frame files; Ready again (a Fault stays until ``prepareAcq``).

        As Lima core (``CtControl::_stopAcq`` closes the saving streams): the files of an aborted acquisition,
        or of a step scan stopped between two frames, can be read at once.
        """
        self._halt()
        self._close_files()
        self._ready = False
        if self._status != "Fault":
            self._status = "Ready"

    @command(dtype_in=LONG, dtype_out="DevEncoded")
    def readImage(self, index: int) -> tuple[str, bytearray]:
        """Frame ``index`` (negative: the last one ready) as a DATA_ARRAY, while it is in the buffer.

        Refused in Lima core's words: "Frame(s) not available yet", "Frame <index> not available".
        """
        with self._lock:
            ready = self._last["ready"]
            index = ready if index < 0 else index
            frame = self._buffer.get(index)
        if frame is None:
            if index < 0 or index > ready:
                _throw("Frame(s) not available yet", "CtControl::ReadImage")
            _throw(f"Frame {index} not available", "StdBufferCbMgr::getFrameInfo")
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
            if self._video_active and frame.dtype.kind in "iu":  # Lima core makes no video image of float pixels
                self._video = (index, frame)
            if self._settings["saving_mode"] == "AUTO_FRAME" and not self._save(index, frame):
                return  # in Fault: the file was there already, or could not be opened or written
            if self._stop.wait(max(0.0, period - self._settings["acq_expo_time"])):
                break
        with self._lock:
            nb_frames = self._settings["acq_nb_frames"]
            done = nb_frames > 0 and self._last["ready"] + 1 >= nb_frames
        if done or self._settings["acq_trigger_mode"] != "INTERNAL_TRIGGER_MULTI" or self._stop.is_set():
            self._close_files()  # first: a client that sees Ready may open the files (HDF5 refuses a file still held)
            self._status = "Ready"

    def _frame(self) -> np.ndarray:
        """The next picture of the sensor, in the camera's pixel type; the spot follows the motor."""
        position = self._motor.read_attribute("Position").value if self._motor is not None else 0.0
        counts, self._noise = spot_frame(self._acquiring.sensor, position, self._noise)
        return in_pixel_type(counts, IMAGE_TYPES[self._image_type])

    def _frame_path(self) -> str:
        return frame_path(self._instrument or "instrument", self._settings["user_detector_name"])

    def _save(self, index: int, frame: np.ndarray) -> bool:
        """Frame ``index`` to its file; False (files closed, acquisition in Fault) when it cannot be saved.

        Under ABORT the file was there already; or it could not be opened, or written (``Saving: disk full``,
        as the real server says it).
        """
        try:
            saved = self._files.save(self._settings, self._frame_path(), index, frame)
        except SavingFailed as error:
            return self._saving_fault(str(error))
        if not saved:
            return self._saving_fault("Saving: overwrite error")
        with self._lock:
            self._last["saved"] = index
        return True

    def _saving_fault(self, error: str) -> bool:
        """Close the files, then Fault with ``error``; False.

        The files first: a client that sees Fault may open them at once (HDF5 refuses a file still held).
        """
        self._close_files()
        self._fault, self._status, self._ready = error, "Fault", False
        return False

    def _halt(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
        self._worker = None

    def _close_files(self) -> None:
        self._files.close()
