"""``class: Lima``: a LimaCCDs Tango device (real or our simulator) as a counter of a scan, and what a user types.

The Lima object is its own controller: in a scan it becomes one acquisition object whose
channel ``image`` holds frame references (the server's frame counters), never pixels, and
whose ROI counter channels (``roi_counters:r1_sum``, ...) hold the statistics the server
computed for each frame (``lima_roi.py``). A camera fault (``acq_status`` Fault) ends the wait
for a frame at once, with the server's ``acq_status_fault_error``.

It uses only the real LimaCCDs server's interface (Lima-tango-python 1.12.2, ``LimaCCDs.py``;
``tests/test_lima_interface.py`` holds the table): ``acq_*``, ``saving_*``, ``user_*``, ``image_*`` and
``last_image_*`` attributes, ``prepareAcq``, ``startAcq`` (once, or once per frame in
``INTERNAL_TRIGGER_MULTI``), ``stopAcq``. Its writes suit the real server: ``saving_next_number`` after
``saving_prefix`` (which sets it), ``saving_directory`` only when the scan saves, made first (the server
makes only its last folder; BLISS makes it too).

At the prompt: ``lima.proxy`` (the device), ``lima.image``, ``lima.acquisition``, ``lima.saving``
(``lima_settings.py``) and ``lima.roi_counters``; what the user sets there is a setting of the
object (``lima:<name>``), given back to the device whenever the object is built.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import tango

from bliss_shell.comm import Settings
from bliss_shell.config import ConfigNode

from .acquisition import AcquisitionBase, AcquisitionParameters, Block, ChannelInfo, Timing
from .counting import poll_until
from .lima_protocol import DISK_FULL, FrameReferences, frame_path, image_dtype
from .lima_roi import RoiCounters, RoiReader, device_url
from .lima_settings import AcquisitionSettings, ImageSettings, SavingSettings
from .tango_client import TangoClient, TangoDeviceError

_COUNTERS = ("last_image_acquired", "last_image_ready", "last_image_saved")
OVERWRITE_POLICY = "ABORT"  # a scan never overwrites frames saved before: the server refuses instead
FRAMES_PER_FILE = 100  # saving_frame_per_file of a scan's files until the user sets lima.saving.frames_per_file


def full_url(proxy: tango.DeviceProxy) -> str:
    """The device's URL with its Tango host, so that a reader needs nothing else to reach it.

    Examples
    --------
    >>> full_url(tango.DeviceProxy("id00/limaccds/simulator"))  # doctest: +SKIP
    'tango://127.0.0.1:10000/id00/limaccds/simulator'
    >>> full_url(tango.DeviceProxy("tango://127.0.0.1:10000/id00/limaccds/simulator#dbase=no"))
    'tango://127.0.0.1:10000/id00/limaccds/simulator#dbase=no'

    The first with ``TANGO_HOST=127.0.0.1:10000``; the second names a server without a database.
    """
    return device_url(proxy, proxy.dev_name())


class Lima:
    """A 2D detector behind a LimaCCDs Tango device (the demo's ``lima_simulator``): one frame per point.

    Config: ``class: Lima`` with ``tango_url`` and ``tango_timeout`` (s beyond the count time for a
    frame and its ROI statistics to be ready, default 3); for our simulator ``sim_image_size``,
    ``sim_image_type`` and ``sim_motor_url`` (the motor its spot follows). Step scans take one
    frame per ``startAcq`` (``INTERNAL_TRIGGER_MULTI``); ct, loopscan, timescan and continuous
    scans take ``acq_nb_frames`` frames after one ``startAcq`` (``INTERNAL_TRIGGER``). Frames are
    saved to the scan's images folder when the scan is saved; the scan's channel holds
    references to them, never pixels. ``lima.image``, ``lima.acquisition``, ``lima.saving`` and
    ``lima.roi_counters`` are what a user sets.

    Examples
    --------
    >>> lima_simulator.roi_counters["r1"] = (100, 100, 40, 20)  # doctest: +SKIP
    >>> loopscan(10, 0.1, lima_simulator)  # doctest: +SKIP
    Scan(number=..., name=loopscan, path=...)
    >>> data = SCANS[-1].get_data()  # doctest: +SKIP
    >>> data["lima_simulator:image"].get_image(-1).shape, data["r1_sum"].shape  # doctest: +SKIP
    ((256, 256), (10,))
    """

    unit = None
    device_type = "lima"  # BLISS's ``type`` of its device in a scan's info (its DEVICE_TYPE)

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.controller_name = self.name
        self._device = TangoClient(node)
        self.url = self._device.url
        self.proxy: tango.DeviceProxy = self._device.proxy
        for key in ("sim_image_size", "sim_image_type", "sim_motor_url"):  # simulator settings, when the config gives them
            if key in node:
                self._device.write(key, node[key])
        self.timeout = float(node.get("tango_timeout", 3.0))
        self.server_url = full_url(self._device.proxy)  # what readers get: the URL with its Tango host
        self.settings = Settings(f"lima:{self.name}")
        self.image = ImageSettings(self.name, self._device, self.settings)
        self.acquisition = AcquisitionSettings(self.name, self._device, self.settings)
        self.saving = SavingSettings(self.name, self._device, self.settings)
        self.roi_counters = RoiCounters(self, self._device, self.settings)
        saved = self.settings.get_all()
        for group in (self.image, self.acquisition, self.saving, self.roi_counters):
            group.restore(saved)
        self.dtype, self.shape = self._image()

    def _image(self) -> tuple[str, tuple[int, int]]:
        """The pixel type (``int16`` for ``Bpp16S``, ...) and (height, width) the server reports now."""
        image_type, sizes = self._device.read_many(("image_type", "image_sizes"))
        return image_dtype(image_type, sizes).name, (int(sizes[3]), int(sizes[2]))

    def __repr__(self) -> str:
        return f"Lima({self.name!r}, {self.url})"

    @property
    def fullname(self) -> str:
        """``lima_simulator:image``: the image counter's name, as BLISS's and as the scan's data names its channel."""
        return f"{self.name}:image"

    @property
    def controller(self) -> Lima:
        """The detector itself: its frames and ROI counters are read together."""
        return self

    def acquisition_object(self, counters: Sequence[Any]) -> LimaAcquisition:
        """The detector in a scan: its frames, and the ROI counters it counts (all of them when given the detector)."""
        return LimaAcquisition(self, counters)

    def prepare(self, parameters: AcquisitionParameters, frames_per_file: int, before: Callable[[], None]) -> FrameReferences:
        """Set the acquisition up, call ``before`` (the ROIs go to the server), then ``prepareAcq``.

        Returns where the frames are: the server's URL, the frames' size, pixel type and dataset,
        and the ``saving_*`` values of the acquisition.
        """
        device = self._device
        device.write("user_detector_name", self.name)
        instrument, detector = device.read_many(("user_instrument_name", "user_detector_name"))
        instrument, detector = instrument or "instrument", detector or self.name  # Lima core's defaults
        trigger = "INTERNAL_TRIGGER_MULTI" if parameters.timing is Timing.STEP else "INTERNAL_TRIGGER"
        device.write("acq_trigger_mode", trigger)
        device.write("acq_nb_frames", parameters.npoints)  # 0: until stopAcq, as LimaCCDs reads it (endless timescan)
        device.write("acq_expo_time", parameters.count_time)
        images = parameters.images_path.format(img_acq_device=self.name) if parameters.images_path else ""
        folder, prefix = os.path.split(images) if images else ("", f"{self.name}_")  # SCAN_SAVING.images_path_template
        planned = FrameReferences(
            self.server_url, self.shape[1], self.shape[0], self.dtype, frame_path(instrument, detector),
            saving_mode="AUTO_FRAME" if folder else "MANUAL", saving_directory=folder, saving_prefix=prefix,
            saving_frame_per_file=frames_per_file, saving_overwrite_policy=OVERWRITE_POLICY,
        )  # fmt: skip
        if folder:  # LimaCCDs makes only the last folder of saving_directory: the others first, as BLISS does
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError:
                pass  # a server that sees other disks than this shell: its refusal of the folder names it
        for key, value in planned.saving().items():
            if key != "saving_directory" or folder:  # LimaCCDs refuses a folder that is not there (""): MANUAL needs none
                device.write(key, value)
        before()
        try:
            device.command("prepareAcq")
        except TangoDeviceError as error:
            if "already exist" not in str(error):  # Lima core's words when ABORT finds a file in the way
                raise
            raise TangoDeviceError(f"{error}: a scan never overwrites saved frames (saving_overwrite_policy "
                                   f"{OVERWRITE_POLICY}); move that file out of {folder}") from None  # fmt: skip
        self.dtype, self.shape = dtype, (height, width) = self._image()
        buffered = int(self._device.read("buffer_max_number"))  # Lima core sizes its ring buffer at prepareAcq
        return replace(planned, width=width, height=height, dtype=dtype, buffer_max_number=buffered)

    def start_acquisition(self) -> None:
        """Start taking frames (``startAcq``)."""
        self._device.command("startAcq")

    def frame_counters(self) -> dict[str, int]:
        """The frame counters; a camera in fault raises at once, naming the device and the server's reason."""
        *values, status = self._device.read_many((*_COUNTERS, "acq_status"))
        if status == "Fault":
            reason = self._device.read("acq_status_fault_error")
            fault = f"{self.name}: Tango device {self.url}: camera fault: {reason}"
            if reason == DISK_FULL:
                raise TangoDeviceError(f"{fault} (acq_status Fault): make room on the disk of "
                                       f"{self._device.read('saving_directory')} (as the Lima server sees it); the next "
                                       "scan's prepareAcq resets the fault")  # fmt: skip
            raise TangoDeviceError(f"{fault} (acq_status Fault; the next scan's prepareAcq resets it)")
        return {name: int(value) for name, value in zip(_COUNTERS, values)}

    def stop(self) -> None:
        """Stop taking frames (``stopAcq``)."""
        self._device.command("stopAcq")


class LimaAcquisition(AcquisitionBase):
    """One Lima detector in a scan: a frame per point, and the ROI statistics of each frame.

    Its ``image`` channel's values are the server's frame counters, one per frame; each ROI
    counter's channel holds the statistic the server computed for that frame. A point is ready
    once both are.
    """

    continuous_capable = True

    def __init__(self, lima: Lima, counters: Sequence[Any]):
        self.name = lima.name
        self._lima = lima
        self._saved = lima.settings.get_all()  # this scan's ROIs and frames per file, whatever changes meanwhile
        self._rois = lima.roi_counters.counted(counters, self._saved)
        self._reader: RoiReader | None = None
        self._step = True
        self._count_time = 0.0
        self._npoints = 0
        self._triggered = 0  # frames asked for (step scans)
        self._reported = 0  # frames handed to the scan so far
        self._ready = 0  # frames ready, with their ROI statistics
        self._status: dict[str, int] = {}
        self._channels = [ChannelInfo("image", np.dtype(lima.dtype), lima.shape, kind="lima", source=lima)]
        self._channels += [ChannelInfo(counter.channel, np.dtype(counter.dtype), source=counter) for counter in self._rois]

    @property
    def channels(self) -> list[ChannelInfo]:
        """``image`` (frame references), then one channel per ROI counter counted."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Set the detector up for the scan, its ROIs included; the ``image`` channel then states where its frames are."""
        self._step = parameters.timing is Timing.STEP
        self._count_time = parameters.count_time
        self._npoints = parameters.npoints
        self._triggered = self._reported = self._ready = 0

        def give_rois() -> None:
            self._reader = self._lima.roi_counters.prepare(self._rois, self._saved)

        frames_per_file = int(self._saved.get("saving_frame_per_file", FRAMES_PER_FILE))
        references = self._lima.prepare(parameters, frames_per_file, give_rois)
        self._channels[0] = replace(self._channels[0], references=references)

    def trigger(self) -> None:
        """Step scans: one frame per trigger. Otherwise the first trigger starts ``acq_nb_frames`` frames."""
        if self._step or not self._triggered:
            self._lima.start_acquisition()
        self._triggered += 1

    def wait_ready(self) -> None:
        """Until the frame of the point is ready (step), or a new frame is (free running), with its ROI statistics."""
        wanted = self._triggered - 1 if self._step else self._reported
        if self._npoints and wanted >= self._npoints:
            return
        seconds = self._count_time + self._lima.timeout
        reader = self._reader

        def ready() -> bool:
            self._status = self._lima.frame_counters()
            self._ready = self._status["last_image_ready"] + 1
            if reader is not None:
                if self._ready > reader.count:
                    reader.fetch()
                self._ready = min(self._ready, reader.count)
            return self._ready > wanted

        poll_until(ready, seconds, lambda: f"{self.name}: frame {wanted} not ready after {seconds:g} s ({self._lima.url})")

    def read(self) -> Block:
        """The frames ready since the last read (their frame counters), with their ROI statistics."""
        ready = min(self._ready, self._npoints) if self._npoints else self._ready
        new = max(0, ready - self._reported)
        self._reported += new
        block: Block = {"image": [dict(self._status)] * new}
        if self._reader is not None:
            block.update(self._reader.take(new))
        return block

    def stop(self) -> None:
        """Stop the detector (``stopAcq``)."""
        self._lima.stop()
