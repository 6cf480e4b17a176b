"""``SimMCA``: a multichannel analyser: one spectrum per acquisition of ``PresetTime`` seconds.

Names follow the MCA Tango servers of DESY's Sardana controllers (``Data``, ``DataLength``,
``Start``, ``Stop``, ``Clear``); ``PresetTime`` and ``ElapsedTime`` are ours. ``Start``
clears the spectrum and counts for ``PresetTime``; State is RUNNING from ``Start`` until
``PresetTime + sim_readout_time`` have passed (or ``Stop``), ON otherwise. ``Data`` is the
spectrum (``int32`` counts, ``DataLength`` bins): a peak on a flat background, Poisson
drawn, its mean proportional to the time counted. Only ``sim_*`` attributes are the
simulator's own.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from tango import AttrWriteType, DevState, Except
from tango.server import Device, attribute, command

_MAX_BINS = 65536
_BACKGROUND = 5.0  # counts/s per bin
_PEAK = 2000.0  # counts/s at the top of the peak


class SimMCA(Device):
    """An MCA; see the module docstring for the interface."""

    def init_device(self) -> None:
        """An MCA at rest: 1024 bins, 1 s preset time, no readout time, an empty spectrum."""
        super().init_device()
        self._lock = threading.Lock()
        self._random = np.random.default_rng()
        self._preset = 1.0
        self._readout = 0.0
        self._nbins = 1024
        self._profile = self._rates(self._nbins)
        self._started: float | None = None  # when the acquisition under way started
        self._counted = 0.0  # seconds counted by the last acquisition
        self._spectrum: np.ndarray | None = np.zeros(self._nbins, dtype=np.int32)  # None: not drawn yet
        self._busy_until = 0.0

    @staticmethod
    def _rates(nbins: int) -> np.ndarray:
        """Counts per second of each bin: a gaussian peak at 40 % of the range on a flat background."""
        bins = np.arange(nbins)
        return _BACKGROUND + _PEAK * np.exp(-((bins - 0.4 * nbins) ** 2) / (2 * max(nbins / 50, 1.0) ** 2))

    def _refuse(self, reason: str, where: str) -> None:
        Except.throw_exception("MCA_REFUSED", f"{self.get_name()}: {reason}", f"SimMCA.{where}")

    def _elapsed(self, now: float) -> float:
        """Seconds counted by the acquisition under way (or the last one)."""
        if self._started is None:
            return self._counted
        return min(now - self._started, self._preset)

    def dev_state(self) -> DevState:
        """RUNNING from ``Start`` until ``PresetTime + sim_readout_time`` have passed (or ``Stop``), else ON."""
        return DevState.RUNNING if time.monotonic() < self._busy_until else DevState.ON

    @attribute(dtype=float, unit="s", access=AttrWriteType.READ_WRITE)
    def PresetTime(self) -> float:
        """Seconds each acquisition counts after ``Start``."""
        return self._preset

    @PresetTime.write
    def PresetTime(self, value: float) -> None:
        """Set the time; below 0 s is refused."""
        if not value >= 0:
            self._refuse(f"PresetTime must be 0 s or more, not {value:g}", "PresetTime")
        self._preset = value

    @attribute(dtype=float, unit="s")
    def ElapsedTime(self) -> float:
        """Seconds counted so far by the acquisition under way, or by the last one."""
        with self._lock:
            return self._elapsed(time.monotonic())

    @attribute(dtype=int, access=AttrWriteType.READ_WRITE)
    def DataLength(self) -> int:
        """Number of bins of the spectrum."""
        return self._nbins

    @DataLength.write
    def DataLength(self, value: int) -> None:
        """Set the number of bins (1 to 65536; the spectrum is cleared); refused while acquiring."""
        if not 1 <= value <= _MAX_BINS:
            self._refuse(f"DataLength must be 1 to {_MAX_BINS} bins, not {value}", "DataLength")
        if self.dev_state() == DevState.RUNNING:
            self._refuse("DataLength cannot change while acquiring; Stop first", "DataLength")
        with self._lock:
            self._nbins = value
            self._profile = self._rates(value)
            self._spectrum = np.zeros(value, dtype=np.int32)
            self._started, self._counted = None, 0.0

    @attribute(dtype=float, unit="s", access=AttrWriteType.READ_WRITE)
    def sim_readout_time(self) -> float:
        """Simulator only: seconds the device stays RUNNING after ``PresetTime``, reading its spectrum out."""
        return self._readout

    @sim_readout_time.write
    def sim_readout_time(self, value: float) -> None:
        """Set the readout time; below 0 s is refused."""
        if not value >= 0:
            self._refuse(f"sim_readout_time must be 0 s or more, not {value:g}", "sim_readout_time")
        self._readout = value

    @attribute(dtype=(np.int32,), max_dim_x=_MAX_BINS)
    def Data(self) -> np.ndarray:
        """The spectrum: counted so far while counting, else the last acquisition's."""
        with self._lock:
            now = time.monotonic()
            if self._started is not None and now - self._started < self._preset:
                return self._draw(now - self._started)
            if self._started is not None:
                self._started, self._counted, self._spectrum = None, self._preset, None
            if self._spectrum is None:
                self._spectrum = self._draw(self._counted)
            return self._spectrum

    def _draw(self, seconds: float) -> np.ndarray:
        return self._random.poisson(self._profile * seconds).astype(np.int32)

    @command
    def Start(self) -> None:
        """Clear the spectrum and count for ``PresetTime`` seconds."""
        if self.dev_state() == DevState.RUNNING:
            self._refuse("an acquisition is running; Stop first", "Start")
        with self._lock:
            now = time.monotonic()
            self._started, self._spectrum = now, None
            self._busy_until = now + self._preset + self._readout

    @command
    def Stop(self) -> None:
        """Stop now; the spectrum keeps what was counted until now."""
        with self._lock:
            now = time.monotonic()
            if self._started is not None:
                self._started, self._counted, self._spectrum = None, self._elapsed(now), None
            self._busy_until = min(self._busy_until, now)

    @command
    def Clear(self) -> None:
        """Zero the spectrum (refused while acquiring)."""
        if self.dev_state() == DevState.RUNNING:
            self._refuse("cannot clear while acquiring; Stop first", "Clear")
        with self._lock:
            self._started, self._counted = None, 0.0
            self._spectrum = np.zeros(self._nbins, dtype=np.int32)
