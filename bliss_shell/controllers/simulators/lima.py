"""``LimaCCDs``: the subset of the real LimaCCDs Tango interface that a scan uses, with simulated frames.

Attribute and command names are the real server's, so a real LimaCCDs device can replace
this one. Frames are ``uint32`` images with a spot that follows a motor device
(``sim_motor_url``); the last ``buffer_max_number`` frames stay in memory for
``readImage``; with ``saving_mode = AUTO_FRAME`` frames are also written to HDF5 files.
Only ``sim_*`` attributes are the simulator's own.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict

import h5py
import numpy as np
from tango import AttrWriteType, DeviceProxy, DevState, Except
from tango.server import Device, attribute, command

from ..lima_protocol import FRAME_PATH, encode_data_array, encode_video_image, saved_frame


class LimaCCDs(Device):
    def init_device(self) -> None:
        super().init_device()
        self._lock = threading.Lock()
        self._settings = {
            "acq_nb_frames": 1, "acq_expo_time": 0.1, "acq_trigger_mode": "INTERNAL_TRIGGER", "latency_time": 0.0,
            "saving_mode": "MANUAL", "saving_directory": "", "saving_prefix": "lima_", "saving_suffix": ".h5",
            "saving_format": "HDF5", "saving_frame_per_file": 100, "saving_index_format": "%04d",
            "saving_next_number": 0, "user_detector_name": "lima_simulator",
        }  # fmt: skip
        self._size = (256, 256)
        self._noise = np.zeros(0, dtype=np.uint32)
        self._buffer: OrderedDict[int, np.ndarray] = OrderedDict()
        self._buffer_max = 64
        self._last = {"acquired": -1, "ready": -1, "saved": -1}
        self._status = "Ready"
        self._motor: DeviceProxy | None = None
        self._motor_url = ""
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._files: dict[str, h5py.File] = {}
        self.set_state(DevState.ON)

    # -- settings a scan writes ----------------------------------------------------------

    def _setting(name: str, dtype: type):  # type: ignore[misc]  # noqa: N805
        def read(self: LimaCCDs):  # type: ignore[no-untyped-def]
            return self._settings[name]

        def write(self: LimaCCDs, value) -> None:  # type: ignore[no-untyped-def]
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

    # -- what the server reports ---------------------------------------------------------

    @attribute(dtype=str)
    def acq_status(self) -> str:
        return self._status

    @attribute(dtype=int)
    def image_width(self) -> int:
        return self._size[0]

    @attribute(dtype=int)
    def image_height(self) -> int:
        return self._size[1]

    @attribute(dtype=str)
    def image_type(self) -> str:
        return "Bpp32"

    @attribute(dtype=(int,), max_dim_x=4)
    def image_sizes(self) -> list[int]:
        return [0, 4, self._size[0], self._size[1]]  # unsigned, 4 bytes per pixel, width, height

    def _counter(key: str):  # type: ignore[misc]  # noqa: N805
        def read(self: LimaCCDs) -> int:
            return self._last[key]

        return attribute(fget=read, name=f"last_image_{key}", dtype=int)

    last_image_acquired = _counter("acquired")
    last_image_ready = _counter("ready")
    last_image_saved = _counter("saved")
    del _counter

    @attribute(dtype=bool)
    def ready_for_next_image(self) -> bool:
        return self._status != "Running" or self._settings["acq_trigger_mode"] == "INTERNAL_TRIGGER_MULTI"

    @attribute(dtype=int, access=AttrWriteType.READ_WRITE)
    def buffer_max_number(self) -> int:
        return self._buffer_max

    @buffer_max_number.write
    def buffer_max_number(self, value: int) -> None:
        self._buffer_max = max(1, value)

    @attribute(dtype=(int,), max_dim_x=2, access=AttrWriteType.READ_WRITE)
    def sim_image_size(self) -> list[int]:
        """Simulator only: the frame width and height."""
        return list(self._size)

    @sim_image_size.write
    def sim_image_size(self, value: list[int]) -> None:
        self._size = (int(value[0]), int(value[1]))

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def sim_motor_url(self) -> str:
        """Simulator only: the motor device the spot follows."""
        return self._motor_url

    @sim_motor_url.write
    def sim_motor_url(self, url: str) -> None:
        self._motor = DeviceProxy(url) if url else None
        self._motor_url = url

    # -- commands ------------------------------------------------------------------------

    @attribute(dtype="DevEncoded")
    def video_last_image(self) -> tuple[str, bytes]:
        """The last frame, as the live view reads it (``-1`` frame number when there is none)."""
        with self._lock:
            index = self._last["ready"]
            frame = self._buffer.get(index)
        if frame is None:
            index, frame = -1, np.zeros(self._size[::-1], dtype=np.uint32)
        return "VIDEO_IMAGE", encode_video_image(frame, index)

    @command
    def prepareAcq(self) -> None:
        self._halt()
        self._close_files()
        with self._lock:
            self._buffer.clear()
            self._last = {"acquired": -1, "ready": -1, "saved": -1}
            self._status = "Ready"

    @command
    def startAcq(self) -> None:
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
        self._halt()
        self._status = "Ready"

    @command(dtype_in=int, dtype_out="DevEncoded")
    def readImage(self, index: int) -> tuple[str, bytes]:
        with self._lock:
            ready = self._last["ready"]
            if index < 0:
                index += ready + 1
            frame = self._buffer.get(index)
        if frame is None:
            reason = "not acquired yet" if index > ready else "no longer in the server's buffer"
            Except.throw_exception("IMAGE_NOT_AVAILABLE", f"image {index} is {reason}", "LimaCCDs.readImage")
        return "DATA_ARRAY", encode_data_array(frame)

    # -- the simulated camera ------------------------------------------------------------

    def _acquire(self, count: int) -> None:
        """Take ``count`` frames, or frames until stopAcq when ``count`` is 0 (LimaCCDs' endless acquisition)."""
        period = self._settings["acq_expo_time"] + self._settings["latency_time"]
        for _ in range(count) if count else itertools.count():
            if self._stop.wait(self._settings["acq_expo_time"]):
                break
            frame = self._frame()
            with self._lock:
                index = self._last["ready"] + 1
                self._buffer[index] = frame
                while len(self._buffer) > self._buffer_max:
                    self._buffer.popitem(last=False)
                self._last["acquired"] = self._last["ready"] = index
            if self._settings["saving_mode"] == "AUTO_FRAME":
                self._save(index, frame)
            if self._stop.wait(max(0.0, period - self._settings["acq_expo_time"])):
                break
        with self._lock:
            nb_frames = self._settings["acq_nb_frames"]
            done = nb_frames > 0 and self._last["ready"] + 1 >= nb_frames
        if done or self._settings["acq_trigger_mode"] != "INTERNAL_TRIGGER_MULTI" or self._stop.is_set():
            self._status = "Ready"
            self._close_files()
        elif self._settings["acq_trigger_mode"] == "INTERNAL_TRIGGER_MULTI":
            self._status = "Running"

    def _frame(self) -> np.ndarray:
        """A gaussian spot that moves with the motor, on Poisson noise (a slice of a pool drawn once per size)."""
        width, height = self._size
        x = self._motor.read_attribute("Position").value if self._motor is not None else 0.0
        sigma = width / 32
        cx, cy = width / 2 + x * width / 20, height / 2
        row = np.exp(-((np.arange(width) - cx) ** 2) / (2 * sigma**2))
        column = 1000 * np.exp(-((np.arange(height) - cy) ** 2) / (2 * sigma**2))
        if self._noise.size < 2 * width * height:
            self._noise = np.random.default_rng().poisson(5, 2 * width * height).astype(np.uint32)
        start = int(np.random.default_rng().integers(width * height))
        frame = self._noise[start : start + width * height].reshape(height, width).copy()
        frame += np.outer(column, row).astype(np.uint32)
        return frame

    def _save(self, index: int, frame: np.ndarray) -> None:
        settings = self._settings
        path, _ = saved_frame(settings, index)
        file = self._files.get(path)
        if file is None:
            os.makedirs(settings["saving_directory"], exist_ok=True)
            file = self._files[path] = h5py.File(path, "w")
            file.create_dataset(
                FRAME_PATH.format(detector=settings["user_detector_name"]),
                shape=(0, *frame.shape), maxshape=(None, *frame.shape), dtype=frame.dtype, chunks=(1, *frame.shape),
            )  # fmt: skip
        dataset = file[FRAME_PATH.format(detector=settings["user_detector_name"])]
        dataset.resize(dataset.shape[0] + 1, axis=0)
        dataset[-1] = frame
        file.flush()
        with self._lock:
            self._last["saved"] = index

    def _halt(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
        self._worker = None

    def _close_files(self) -> None:
        for file in self._files.values():
            file.close()
        self._files.clear()
