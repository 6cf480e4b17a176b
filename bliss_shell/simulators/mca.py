"""``SimMCA``: a multichannel analyser: one spectrum per acquisition of ``PresetTime`` seconds, or one per gate.

Names follow the MCA Tango servers of DESY's Sardana controllers (``Data``, ``DataLength``,
``Start``, ``Stop``, ``Clear``); ``PresetTime`` and ``ElapsedTime`` are ours. Those servers
have no gated mode: its names are those of BLISS's MCA controllers (``bliss/controllers/mca/base.py``
in BLISS 1.11.4, which ``McaAcquisitionSlave`` drives): ``trigger_mode``, ``hardware_points``,
``block_size``. Only ``sim_*`` attributes are the simulator's own.

- ``trigger_mode`` ``SOFTWARE`` (the default): ``Start`` clears the spectrum and counts for
  ``PresetTime``; State is RUNNING from ``Start`` until ``PresetTime + sim_readout_time`` have
  passed (or ``Stop``), ON otherwise. ``Data`` is the spectrum.
- ``trigger_mode`` ``GATE`` (mapping): ``Start`` arms the MCA for ``hardware_points`` gates, one
  spectrum per gate. The spectra are handed over in blocks of ``block_size`` (the rest when the
  last gate is over, or at ``Stop``) and read through ``block_data`` (int32, one row per gate; a
  FIFO: each read returns the spectra not read yet). State is RUNNING from ``Start`` until the last
  gate is over plus ``sim_readout_time``, or ``Stop``. ``SYNC`` (BLISS's third mode) is not simulated.
- The simulator has no gate input. It makes the gates a counter card would send: ``hardware_points``
  gates of ``PresetTime`` back to back from ``Start`` (a real MCA ignores ``PresetTime`` in GATE
  mode), as the card and Lima time themselves in a continuous scan. Gates shorter than
  ``MIN_GATE`` are refused, as is more than ``MAX_POINTS`` gates (its buffer).

Spectra are a peak on a flat background, Poisson drawn, their mean proportional to the time counted.

Examples
--------
>>> from bliss_shell.simulators.mca import MAX_POINTS, MIN_GATE, SIMULATED_MODES
>>> SIMULATED_MODES, MIN_GATE, MAX_POINTS
(('SOFTWARE', 'GATE'), 0.0005, 100000)
>>> mca = tango.DeviceProxy("id00/mca/mca1")  # doctest: +SKIP
>>> mca.trigger_mode, mca.hardware_points, mca.block_size = "GATE", 100, 10  # doctest: +SKIP
>>> mca.PresetTime = 0.01; mca.Start()  # doctest: +SKIP
>>> mca.block_data.shape  # doctest: +SKIP
(10, 1024)
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
from tango import AttrWriteType, DevState, Except
from tango.server import Device, attribute, command

TRIGGER_MODES = ("SOFTWARE", "SYNC", "GATE")  # BLISS's TriggerMode names (bliss/controllers/mca/base.py)
SIMULATED_MODES = ("SOFTWARE", "GATE")
MIN_GATE = 0.0005  # s: the shortest gate it takes
MAX_POINTS = 100000  # gates of one acquisition its buffer holds
_MAX_BINS = 65536
_MAX_VALUES = 2**22  # spectra x bins per read of ``block_data`` (16 MB); the rest comes next read
_BACKGROUND = 5.0  # counts/s per bin
_PEAK = 2000.0  # counts/s at the top of the peak


class SimMCA(Device):
    """An MCA; see the module docstring for the interface."""

    def init_device(self) -> None:
        """An MCA at rest: 1024 bins, 1 s preset time, SOFTWARE trigger, no readout time, an empty spectrum."""
        super().init_device()
        self._lock = threading.Lock()
        self._random = np.random.default_rng()
        self._preset = 1.0
        self._readout = 0.0
        self._nbins = 1024
        self._profile = self._rates(self._nbins)
        self._mode = "SOFTWARE"
        self._points = 1  # hardware_points
        self._block = 1  # block_size
        self._started: float | None = None  # when the acquisition under way started
        self._counted = 0.0  # seconds counted by the last acquisition
        self._spectrum: np.ndarray | None = np.zeros(self._nbins, dtype=np.int32)  # None: not drawn yet
        self._busy_until = 0.0
        self._gates_from: float | None = None  # GATE: when the first gate began
        self._gates_stopped = math.inf  # GATE: when Stop came
        self._gates_end = 0.0  # GATE: when the last gate is over
        self._gate = 1.0  # GATE: seconds of each gate (``PresetTime`` at ``Start``)
        self._handed = 0  # GATE: spectra read through ``block_data``

    @staticmethod
    def _rates(nbins: int) -> np.ndarray:
        """Counts per second of each bin: a gaussian peak at 40 % of the range on a flat background."""
        bins = np.arange(nbins)
        return _BACKGROUND + _PEAK * np.exp(-((bins - 0.4 * nbins) ** 2) / (2 * max(nbins / 50, 1.0) ** 2))

    def _refuse(self, reason: str, where: str) -> None:
        Except.throw_exception("MCA_REFUSED", f"{self.get_name()}: {reason}", f"SimMCA.{where}")

    def _refuse_while_running(self, what: str, where: str) -> None:
        if self.dev_state() == DevState.RUNNING:
            self._refuse(f"{what} while acquiring; Stop first", where)

    def _check_gate(self, seconds: float, where: str) -> None:
        if self._mode == "GATE" and not seconds >= MIN_GATE:
            self._refuse(f"a gate of {seconds:g} s (PresetTime) is shorter than the shortest it takes ({MIN_GATE:g} s); "
                         "use a longer count time", where)  # fmt: skip

    def _elapsed(self, now: float) -> float:
        """Seconds counted by the acquisition under way (or the last one)."""
        if self._gates_from is not None:
            return min(now, self._gates_stopped, self._gates_end) - self._gates_from
        if self._started is None:
            return self._counted
        return min(now - self._started, self._preset)

    def dev_state(self) -> DevState:
        """RUNNING from ``Start`` until the acquisition and its readout are over (or ``Stop``), else ON."""
        return DevState.RUNNING if time.monotonic() < self._busy_until else DevState.ON

    @attribute(dtype=float, unit="s", access=AttrWriteType.READ_WRITE)
    def PresetTime(self) -> float:
        """Seconds each acquisition counts after ``Start`` (SOFTWARE); the simulated gate's length (GATE)."""
        return self._preset

    @PresetTime.write
    def PresetTime(self, value: float) -> None:
        """Set the time; below 0 s is refused, and in GATE mode a gate shorter than ``MIN_GATE``."""
        if not value >= 0:
            self._refuse(f"PresetTime must be 0 s or more, not {value:g}", "PresetTime")
        self._check_gate(value, "PresetTime")
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
        """Set the number of bins (1 to 65536; the spectra are cleared); refused while acquiring."""
        if not 1 <= value <= _MAX_BINS:
            self._refuse(f"DataLength must be 1 to {_MAX_BINS} bins, not {value}", "DataLength")
        self._refuse_while_running("DataLength cannot change", "DataLength")
        with self._lock:
            self._nbins = value
            self._profile = self._rates(value)
            self._clear()

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def trigger_mode(self) -> str:
        """``SOFTWARE`` (``Start`` counts one spectrum) or ``GATE`` (one spectrum per gate); BLISS's names."""
        return self._mode

    @trigger_mode.write
    def trigger_mode(self, value: str) -> None:
        """Set the mode; refused while acquiring, and for a mode not simulated (``SYNC``) or unknown."""
        if value not in SIMULATED_MODES:
            known = "is not simulated" if value in TRIGGER_MODES else "is not a trigger mode"
            self._refuse(f"trigger_mode {value!r} {known}; use {' or '.join(SIMULATED_MODES)}", "trigger_mode")
        self._refuse_while_running("trigger_mode cannot change", "trigger_mode")
        self._mode = value

    @attribute(dtype=int, access=AttrWriteType.READ_WRITE)
    def hardware_points(self) -> int:
        """Gates (spectra) of the next GATE acquisition."""
        return self._points

    @hardware_points.write
    def hardware_points(self, value: int) -> None:
        """Set the number of gates: 1 to ``MAX_POINTS``, what the buffer holds."""
        self._points = self._spectra_setting("hardware_points", value, "take fewer points per scan")

    @attribute(dtype=int, access=AttrWriteType.READ_WRITE)
    def block_size(self) -> int:
        """Spectra handed over together in GATE mode (the last block may be shorter)."""
        return self._block

    @block_size.write
    def block_size(self, value: int) -> None:
        """Set the block size: 1 to ``MAX_POINTS``."""
        self._block = self._spectra_setting("block_size", value, "ask for smaller blocks")

    def _spectra_setting(self, name: str, value: int, advice: str) -> int:
        """``value`` for ``name``, a number of spectra: refused outside 1 to ``MAX_POINTS`` (``advice`` above) or while acquiring."""
        if not 1 <= value <= MAX_POINTS:
            more = f"; {advice}" if value > MAX_POINTS else ""
            self._refuse(f"{name} {value} is not 1 to {MAX_POINTS} (the spectra its buffer holds){more}", name)
        self._refuse_while_running(f"{name} cannot change", name)
        return value

    @attribute(dtype=float, unit="s", access=AttrWriteType.READ_WRITE)
    def sim_readout_time(self) -> float:
        """Simulator only: seconds the device stays RUNNING after counting, reading its spectra out."""
        return self._readout

    @sim_readout_time.write
    def sim_readout_time(self, value: float) -> None:
        """Set the readout time; below 0 s is refused."""
        if not value >= 0:
            self._refuse(f"sim_readout_time must be 0 s or more, not {value:g}", "sim_readout_time")
        self._readout = value

    @attribute(dtype=(np.int32,), max_dim_x=_MAX_BINS)
    def Data(self) -> np.ndarray:
        """The spectrum: counted so far while counting, else the last acquisition's (GATE: the last read)."""
        with self._lock:
            now = time.monotonic()
            if self._started is not None and now - self._started < self._preset:
                return self._draw(now - self._started)
            if self._started is not None:
                self._started, self._counted, self._spectrum = None, self._preset, None
            if self._spectrum is None:
                self._spectrum = self._draw(self._counted)
            return self._spectrum

    @attribute(dtype=((np.int32,),), max_dim_x=_MAX_BINS, max_dim_y=MAX_POINTS)
    def block_data(self) -> np.ndarray:
        """GATE: the spectra handed over and not read yet, one row per gate in order (a FIFO); none: 0 rows."""
        with self._lock:
            now = time.monotonic()
            over = self._gates(now)
            handed = over if over == self._points or now >= self._gates_stopped else over - over % self._block
            count = min(handed - self._handed, max(1, _MAX_VALUES // self._nbins))
            spectra = self._random.poisson(self._profile * self._gate, size=(max(count, 0), self._nbins)).astype(np.int32)
            if len(spectra):
                self._handed += len(spectra)
                self._spectrum = spectra[-1]
            return spectra

    def _gates(self, now: float) -> int:
        """Gates over in the GATE acquisition under way or the last one (0: none)."""
        if self._gates_from is None:
            return 0
        end = min(now, self._gates_stopped)
        if end >= self._gates_end:  # compared as State compares: all are over once it leaves RUNNING
            return self._points
        return min(self._points, math.floor((end - self._gates_from) / self._gate))

    def _draw(self, seconds: float) -> np.ndarray:
        return self._random.poisson(self._profile * seconds).astype(np.int32)

    def _clear(self) -> None:
        """No spectrum counted: a zero spectrum, no gate."""
        self._started, self._counted, self._gates_from = None, 0.0, None
        self._spectrum = np.zeros(self._nbins, dtype=np.int32)

    @command
    def Start(self) -> None:
        """SOFTWARE: clear the spectrum and count for ``PresetTime`` seconds; GATE: take ``hardware_points`` gates."""
        self._refuse_while_running("cannot start", "Start")
        self._check_gate(self._preset, "Start")
        with self._lock:
            now = time.monotonic()
            self._clear()
            if self._mode == "GATE":
                self._gates_from, self._gates_stopped, self._handed, self._gate = now, math.inf, 0, self._preset
                self._gates_end = now + self._points * self._gate
                self._busy_until = self._gates_end + self._readout
            else:
                self._started, self._spectrum = now, None
                self._busy_until = now + self._preset + self._readout

    @command
    def Stop(self) -> None:
        """Stop now; SOFTWARE: the spectrum keeps what was counted; GATE: the spectra of the gates over stay to read."""
        with self._lock:
            now = time.monotonic()
            if self._started is not None:
                self._started, self._counted, self._spectrum = None, self._elapsed(now), None
            if self._gates_from is not None:
                self._gates_stopped = min(self._gates_stopped, now)
            self._busy_until = min(self._busy_until, now)

    @command
    def Clear(self) -> None:
        """Zero the spectrum and drop the spectra not read (refused while acquiring)."""
        self._refuse_while_running("cannot clear", "Clear")
        with self._lock:
            self._clear()
