"""``class: Lima``: a LimaCCDs Tango device (real or our simulator) as a counter of a scan.

The Lima object is its own controller: in a scan it becomes one acquisition object whose
channel ``image`` holds frame references (the server's frame counters), never pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bliss_shell.config import ConfigNode

from .acquisition import AcquisitionBase, AcquisitionParameters, Block, ChannelInfo, Timing
from .counting import poll_until
from .lima_protocol import FRAME_PATH
from .tango_client import TangoClient

_COUNTERS = ("last_image_acquired", "last_image_ready", "last_image_saved")


class Lima:
    """A 2D detector: ``INTERNAL_TRIGGER_MULTI`` (one ``startAcq`` per point) in step scans,
    ``INTERNAL_TRIGGER`` (``acq_nb_frames`` frames after one ``startAcq``) in ct, loopscan,
    timescan and continuous scans; frames saved to the scan's images folder when it is saved.

    Example
    -------
    >>> loopscan(10, 0.1, lima_simulator)
    >>> SCANS[-1].get_data()["lima_simulator:image"].get_image(-1).shape
    (256, 256)
    """

    unit = None

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.controller_name = self.name
        self._device = TangoClient(node)
        self.url = self._device.url
        for key in ("sim_image_size", "sim_motor_url"):  # simulator settings, when the config gives them
            if key in node:
                self._device.write(key, node[key])
        self.timeout = float(node.get("tango_timeout", 3.0))
        _, depth, width, height = self._device.read("image_sizes")
        self.dtype = f"uint{8 * int(depth)}"
        self.shape = (int(height), int(width))

    def __repr__(self) -> str:
        return f"Lima({self.name!r}, {self.url})"

    @property
    def controller(self) -> Lima:
        return self

    def acquisition_object(self, counters: Any) -> LimaAcquisition:
        return LimaAcquisition(self)

    def prepare(self, parameters: AcquisitionParameters) -> dict[str, Any]:
        """Set the acquisition up and ``prepareAcq``; return where the frames are (references for readers)."""
        device = self._device
        device.write("user_detector_name", self.name)
        trigger = "INTERNAL_TRIGGER_MULTI" if parameters.timing is Timing.STEP else "INTERNAL_TRIGGER"
        device.write("acq_trigger_mode", trigger)
        device.write("acq_nb_frames", parameters.npoints)  # 0: until stopAcq, as LimaCCDs reads it (endless timescan)
        device.write("acq_expo_time", parameters.count_time)
        folder = parameters.images_directory
        saving = {
            "saving_mode": "AUTO_FRAME" if folder else "MANUAL",
            "saving_directory": folder or "",
            "saving_prefix": f"{self.name}_",
            "saving_suffix": ".h5",
            "saving_format": "HDF5",
            "saving_frame_per_file": 100,
            "saving_index_format": "%04d",
            "saving_next_number": 0,
        }
        for key, value in saving.items():
            device.write(key, value)
        device.command("prepareAcq")
        _, depth, width, height = device.read("image_sizes")
        return {
            "server_url": self.url,
            "width": int(width),
            "height": int(height),
            "dtype": f"uint{8 * int(depth)}",
            "frame_path": FRAME_PATH.format(detector=self.name),
            **saving,
        }

    def start_acquisition(self) -> None:
        self._device.command("startAcq")

    def counters(self) -> dict[str, int]:
        return {name: int(value) for name, value in zip(_COUNTERS, self._device.read_many(_COUNTERS))}

    def stop(self) -> None:
        self._device.command("stopAcq")


class LimaAcquisition(AcquisitionBase):
    """One Lima detector in a scan: its ``image`` channel's values are frame counters, one per frame."""

    continuous_capable = True

    def __init__(self, lima: Lima):
        self.name = lima.name
        self._lima = lima
        self._step = True
        self._count_time = 0.0
        self._npoints = 0
        self._triggered = 0  # frames asked for (step scans)
        self._reported = 0  # frames handed to the scan so far
        self._status: dict[str, int] = {}
        self._channels = [ChannelInfo("image", np.dtype(lima.dtype), lima.shape, kind="lima", source=lima)]

    @property
    def channels(self) -> list[ChannelInfo]:
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        self._step = parameters.timing is Timing.STEP
        self._count_time = parameters.count_time
        self._npoints = parameters.npoints
        self._triggered = self._reported = 0
        self._channels[0].info.update(self._lima.prepare(parameters))

    def trigger(self) -> None:
        """Step scans: one frame per trigger. Otherwise the first trigger starts ``acq_nb_frames`` frames."""
        if self._step or not self._triggered:
            self._lima.start_acquisition()
        self._triggered += 1

    def wait_ready(self) -> None:
        """Until the frame of the point is ready (step), or a new frame is (free running)."""
        wanted = self._triggered - 1 if self._step else self._reported
        if self._npoints and wanted >= self._npoints:
            return
        seconds = self._count_time + self._lima.timeout

        def ready() -> bool:
            self._status = self._lima.counters()
            return self._status["last_image_ready"] >= wanted

        poll_until(ready, seconds, lambda: f"{self.name}: frame {wanted} not ready after {seconds:g} s ({self._lima.url})")

    def read(self) -> Block:
        ready = self._status.get("last_image_ready", -1) + 1
        if self._npoints:
            ready = min(ready, self._npoints)
        new = max(0, ready - self._reported)
        self._reported += new
        return {"image": [dict(self._status)] * new}

    def stop(self) -> None:
        self._lima.stop()
