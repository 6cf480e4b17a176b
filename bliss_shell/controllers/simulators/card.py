"""``CT2``: a P201 counter/timer card as the BLISS CT2 Tango device shows it, counting simulated rates.

Channels are numbered as on the P201: 1-10 count input pulses, 11 is the timer, 12 the
point number. One acquisition (``acq_mode = IntTrigReadout``, the real device's name for
"software start, internal timer") counts ``acq_nb_points`` periods of ``acq_expo_time``
back to back (0 points: until ``stop_acq``); State is RUNNING while it counts, ON otherwise.

Counts integrate each input's rate (``sim_rates``, counts/s) over the real elapsed time:
a period of the buffer holds ``rate * period`` counts (Poisson drawn when ``sim_noise``),
the timer channel holds the period in seconds (the real card counts timer clock ticks).
A thread adds the rows of finished periods in batches as time passes, and every read first
catches up with the clock, so a reader never sees a period that is over but missing.

Reading (names of the real device):

- ``data``: the rows not read yet through ``data`` (rows = points, 12 columns: channels
  1-12), a FIFO as on the real card; ``last_point_nb`` is the index of the last row counted
  (-1: none yet).
- ``counters``: the 12 channels of the point being counted (live), or of the last point.

Only ``sim_*`` attributes are the simulator's own.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from tango import AttrWriteType, DevState, Except
from tango.server import Device, attribute, command

from .card_run import COLUMNS, INPUTS, CardRun

_MODES = ("IntTrigReadout",)
_MAX_ROWS = 65535  # rows per read of ``data`` (the real device's max_dim_y); the rest comes next read
_BATCH = 0.005  # s: the longest the counting thread sleeps while periods are shorter than this


class CT2(Device):
    """A counter/timer card; see the module docstring for the interface."""

    def init_device(self) -> None:
        """A card at rest: no acquisition, every rate 0, 1 point of 1 s."""
        super().init_device()
        self._lock = threading.Lock()
        self._mode = _MODES[0]
        self._expo_time = 1.0
        self._nb_points = 1
        self._rates = np.zeros(INPUTS)
        self._noise = False
        self._random = np.random.default_rng()
        self._run: CardRun | None = None
        self._read = 0  # rows of the run handed out by ``data``
        self._halt = threading.Event()
        self._worker: threading.Thread | None = None
        self.set_state(DevState.ON)

    def delete_device(self) -> None:
        """Stop counting when the device goes away."""
        self._stop()

    def _refuse(self, reason: str, where: str) -> None:
        Except.throw_exception("CT2_REFUSED", f"{self.get_name()}: {reason}", f"CT2.{where}")

    def _caught_up(self) -> CardRun | None:
        """The current run, its rows brought up to now (call with the lock held)."""
        if self._run is not None:
            self._run.catch_up(time.monotonic())
        return self._run

    def dev_state(self) -> DevState:
        """RUNNING while an acquisition counts, ON otherwise."""
        with self._lock:
            run = self._caught_up()
            return DevState.RUNNING if run is not None and run.running else DevState.ON

    # -- settings ------------------------------------------------------------------------

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def acq_mode(self) -> str:
        """Only ``IntTrigReadout``: software start, periods timed by the card's clock."""
        return self._mode

    @acq_mode.write
    def acq_mode(self, mode: str) -> None:
        """Set the mode; any other than ``IntTrigReadout`` is refused."""
        if mode not in _MODES:
            self._refuse(f"acq_mode {mode!r} is not simulated; use {', '.join(_MODES)}", "acq_mode")
        self._mode = mode

    @attribute(dtype=float, unit="s", access=AttrWriteType.READ_WRITE)
    def acq_expo_time(self) -> float:
        """Seconds of each period (the real device's count time per point)."""
        return self._expo_time

    @acq_expo_time.write
    def acq_expo_time(self, value: float) -> None:
        """Set the period; below 0 s is refused."""
        if not value >= 0:
            self._refuse(f"acq_expo_time must be 0 s or more, not {value:g}", "acq_expo_time")
        self._expo_time = value

    @attribute(dtype=int, access=AttrWriteType.READ_WRITE)
    def acq_nb_points(self) -> int:
        """Periods per acquisition; 0: until ``stop_acq``."""
        return self._nb_points

    @acq_nb_points.write
    def acq_nb_points(self, value: int) -> None:
        """Set the number of periods; below 0 is refused."""
        if value < 0:
            self._refuse(f"acq_nb_points must be 0 (until stop_acq) or more, not {value}", "acq_nb_points")
        self._nb_points = value

    @attribute(dtype=(float,), max_dim_x=INPUTS, access=AttrWriteType.READ_WRITE)
    def sim_rates(self) -> np.ndarray:
        """Simulator only: counts per second of inputs 1-10 (fewer values: the others count 0)."""
        return self._rates

    @sim_rates.write
    def sim_rates(self, rates: np.ndarray) -> None:
        """Set the rates of the first inputs; a negative one is refused."""
        if np.any(np.asarray(rates) < 0):
            self._refuse(f"sim_rates must be 0 or more, not {list(rates)}", "sim_rates")
        padded = np.zeros(INPUTS)
        padded[: len(rates)] = rates
        self._rates = padded

    @attribute(dtype=bool, access=AttrWriteType.READ_WRITE)
    def sim_noise(self) -> bool:
        """Simulator only: counts of each period Poisson drawn around ``rate * period``."""
        return self._noise

    @sim_noise.write
    def sim_noise(self, value: bool) -> None:
        """Turn the Poisson noise on or off."""
        self._noise = value

    # -- what the card reports -----------------------------------------------------------

    @attribute(dtype=str)
    def acq_status(self) -> str:
        """``Running`` while an acquisition counts, else ``Ready``."""
        with self._lock:
            run = self._caught_up()
            return "Running" if run is not None and run.running else "Ready"

    @attribute(dtype=int)
    def last_point_nb(self) -> int:
        """Index of the last period counted in the acquisition (-1: none yet)."""
        with self._lock:
            run = self._caught_up()
            return -1 if run is None else run.count - 1

    @attribute(dtype=(float,), max_dim_x=COLUMNS)
    def counters(self) -> np.ndarray:
        """The 12 channels of the period being counted (live), or of the last one."""
        with self._lock:
            run = self._caught_up()
            return np.zeros(COLUMNS) if run is None else run.live(time.monotonic())

    @attribute(dtype=((float,),), max_dim_x=COLUMNS, max_dim_y=_MAX_ROWS)
    def data(self) -> np.ndarray:
        """The rows counted and not read yet (a FIFO): one row of 12 channels per period."""
        with self._lock:
            run = self._caught_up()
            if run is None:
                return np.zeros((0, COLUMNS))
            end = min(run.count, self._read + _MAX_ROWS)
            rows = run.rows[self._read : end].copy()
            self._read = end
            return rows

    # -- commands ------------------------------------------------------------------------

    @command
    def prepare_acq(self) -> None:
        """Stop what runs and forget its points; the next ``start_acq`` counts with the settings."""
        self._stop()
        with self._lock:
            self._run, self._read = None, 0

    @command
    def start_acq(self) -> None:
        """Count ``acq_nb_points`` periods of ``acq_expo_time`` from now, into an empty buffer."""
        with self._lock:
            run = self._caught_up()
            if run is not None and run.running:
                self._refuse("an acquisition is running; stop_acq first", "start_acq")
            if self._nb_points == 0 and self._expo_time == 0:
                self._refuse("acq_expo_time must be more than 0 s when acq_nb_points is 0 (until stop_acq)", "start_acq")
        self._stop()
        with self._lock:
            self._run = CardRun(self._expo_time, self._nb_points, self._rates, self._noise, self._random, time.monotonic())
            self._read = 0
            self._halt = threading.Event()
            self._worker = threading.Thread(target=self._count, args=(self._run, self._halt), daemon=True)
            self._worker.start()

    @command
    def stop_acq(self) -> None:
        """Stop counting now: periods over stay in the buffer, the one under way is dropped."""
        self._stop()

    def _stop(self) -> None:
        with self._lock:
            if self._run is not None:
                self._run.stop(time.monotonic())
            self._halt.set()
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.join()

    def _count(self, run: CardRun, halt: threading.Event) -> None:
        """Add the rows of finished periods as time passes, until the acquisition ends or is stopped.

        It sleeps until the next period is due (batches of ``_BATCH`` seconds when periods are
        shorter), so short periods never busy-loop a CPU.
        """
        while True:
            with self._lock:
                now = time.monotonic()
                run.catch_up(now)
                if not run.running:
                    return
                wake = run.next_due()
                if run.period < _BATCH:
                    wake = min(now + _BATCH, run.end)
            if halt.wait(max(0.0, wake - now)):
                return
