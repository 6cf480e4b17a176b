"""``class: Lima``: a LimaCCDs Tango device (real or our simulator) as a scan detector."""

from __future__ import annotations

import time

import gevent

from bliss_shell.config import ConfigNode

from .lima_protocol import FRAME_PATH
from .tango_client import TangoClient

_COUNTERS = ("last_image_acquired", "last_image_ready", "last_image_saved")
_FIRST_POLL = 0.0005
_POLL = 0.005


class Lima:
    """One frame per scan point (``INTERNAL_TRIGGER_MULTI``); saved to ``images_directory`` when given."""

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self._device = TangoClient(node)
        self.url = self._device.url
        for key in ("sim_image_size", "sim_motor_url"):  # simulator settings, when the config gives them
            if key in node:
                self._device.write(key, node[key])
        self.timeout = float(node.get("tango_timeout", 3.0))

    def __repr__(self) -> str:
        return f"Lima({self.name!r}, {self.url})"

    def prepare(self, npoints: int, count_time: float, images_directory: str | None) -> dict:
        device = self._device
        device.write("user_detector_name", self.name)
        device.write("acq_trigger_mode", "INTERNAL_TRIGGER_MULTI")
        device.write("acq_nb_frames", npoints)  # 0: until stopAcq, as LimaCCDs reads it (endless timescan)
        device.write("acq_expo_time", count_time)
        saving = {
            "saving_mode": "AUTO_FRAME" if images_directory else "MANUAL",
            "saving_directory": images_directory or "",
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

    def start_point(self) -> None:
        self._device.command("startAcq")

    def wait_point(self, index: int) -> dict[str, int]:
        deadline = time.monotonic() + self.timeout + 1.0
        poll = _FIRST_POLL
        while True:
            counters = self.counters()
            if counters["last_image_ready"] >= index:
                return counters
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: frame {index} not ready after {self.timeout:g} s ({self.url})")
            gevent.sleep(poll)
            poll = min(2 * poll, _POLL)  # a fast frame is seen soon, a slow one costs few calls

    def counters(self) -> dict[str, int]:
        return {name: int(value) for name, value in zip(_COUNTERS, self._device.read_many(_COUNTERS))}

    def stop(self) -> None:
        self._device.command("stopAcq")
