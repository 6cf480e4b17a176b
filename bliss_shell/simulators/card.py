"""``CT2``: a P201 counter/timer card with the public interface of BLISS's CT2 Tango server, counting simulated rates.

The names, Tango types, access, states and semantics are those of BLISS 1.11.4's ``ct2_ds``
(``bliss/tango/servers/ct2_ds/ct2_ds.py`` over ``bliss/controllers/ct2/device.py``), for what
a scan uses; ``tests/test_card_mca.py`` compares them with a table taken from that source.

- State ON (FAULT only when the server has no card: ``sim_fault``); never RUNNING: counting
  shows in ``acq_status`` (``Running``, ``Ready``).
- ``acq_mode`` (only ``IntTrigReadout`` is simulated: software start, ``acq_nb_points``
  periods of ``acq_expo_time`` back to back, 0 points: until ``stop_acq``), ``acq_expo_time``
  (float64, s), ``acq_nb_points`` (uint32), ``acq_channels`` (int16[], the input channels
  1-10 to count), ``acq_channels_data_indexes`` (the column of each in a row of ``data``),
  ``timer_freq`` (float64, Hz: 1.25e3, 10e3, 125e3, 1e6, 12.5e6 or 100e6; default 12.5e6).
- ``prepare_acq`` takes the settings (and empties the buffer, ``last_point_nb`` -1); each
  ``start_acq`` needs one: started again without it, an acquisition ends at once without a
  point, as on the real card. ``stop_acq`` keeps the periods over and drops the one under way.
  As on the real server, ``prepare_acq`` empties the buffer before it stops what runs: the last
  rows of an acquisition it stops come after (``stop_acq`` first, and they do not).
- ``data`` (uint32 image): the rows not read yet, a FIFO. A row per point: the active input
  channels in increasing number, the timer in ticks of ``timer_freq``, the point number from 0.
  Rows come in batches as the real server sends them (``card_run.py``): a reader must not take
  ``acq_status`` Ready for "every row is in".
- ``last_point_nb`` (int32): the last point counted (-1: none); ``last_error``: why the card
  failed during the acquisition ("" when it did not); ``counters`` (uint32[12]): counters 1-12 now.

The simulator's own: ``sim_rates`` (counts/s of inputs 1-10), ``sim_noise`` (Poisson counts),
commands ``sim_fault(message)`` (the server loses its card: State FAULT, every call fails as
on the real server without a card, until ``Init``) and ``sim_error(message)`` (the card reports
an error in ``last_error`` while it counts on, until the next ``prepare_acq``).

Examples
--------
>>> from bliss_shell.simulators.card import SIMULATED_MODES, TIMER_FREQUENCIES
>>> SIMULATED_MODES, TIMER_FREQUENCIES[-2:]
(('IntTrigReadout',), (12500000.0, 100000000.0))
>>> card = tango.DeviceProxy("id00/ct2/p201")  # doctest: +SKIP
>>> card.acq_expo_time, card.acq_nb_points, card.acq_channels = 0.1, 1, [1, 2]  # doctest: +SKIP
>>> card.prepare_acq(); card.start_acq()  # doctest: +SKIP
>>> card.state(), card.acq_status  # doctest: +SKIP
(tango._tango.DevState.ON, 'Running')
>>> card.data  # doctest: +SKIP
array([[    100,   25000, 1250000,       0]], dtype=uint32)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from tango import AttrWriteType, DevState, Except
from tango.server import Device, attribute, command

from .card_run import COUNTERS, INPUTS, CardRun

# the real server's names (bliss/controllers/ct2/device.py: AcqMode, CT2.IntClockSrc)
REAL_MODES = ("IntTrigReadout", "SoftTrigReadout", "IntTrigSingle", "IntTrigMulti",
              "ExtTrigSingle", "ExtTrigMulti", "ExtGate", "ExtTrigReadout")  # fmt: skip
SIMULATED_MODES = ("IntTrigReadout",)
TIMER_FREQUENCIES = (1.25e3, 10e3, 125e3, 1e6, 12.5e6, 100e6)
_MAX_ROWS = 65535  # rows per read of ``data`` (its max_dim_y); the rest comes next read
_MAX_TICKS = 2**32 - 1  # the timer is a 32-bit counter


@dataclass(frozen=True)
class _Setup:
    """What ``prepare_acq`` took: the next ``start_acq`` counts with it."""

    period: float
    npoints: int
    channels: tuple[int, ...]
    ticks: int
    timer_freq: float


class CT2(Device):
    """A counter/timer card; see the module docstring for the interface."""

    def init_device(self) -> None:
        """A card at rest with the real server's defaults: ``IntTrigReadout``, 1 point of 1 s, a 12.5 MHz timer.

        ``Init`` comes here too: it clears a ``sim_fault``; ``sim_rates`` and ``sim_noise`` stay.
        """
        super().init_device()
        self._fault: str | None = None
        self._mode = "IntTrigReadout"
        self._expo_time = 1.0
        self._nb_points = 1
        self._channels: tuple[int, ...] = ()
        self._timer_freq = 12.5e6
        if not hasattr(self, "_rates"):  # the signals on the inputs do not change with an Init
            self._rates = np.zeros(INPUTS)
            self._noise = False
            self._random = np.random.default_rng()
        self._setup: _Setup | None = None  # taken by prepare_acq, used by one start_acq
        self._run: CardRun | None = None
        self._moved = 0  # rows of the run moved into the buffer
        self._buffer: list[np.ndarray] = []  # rows handed over and not read through ``data``
        self._last_point_nb = -1
        self._last_error = ""
        self.set_state(DevState.ON)
        self.set_status("Ready!")

    def delete_device(self) -> None:
        """Stop counting when the device goes away."""
        if self._run is not None:
            self._run.stop(time.monotonic())

    def _card(self, member: str) -> None:
        """Fail as the real server does when it has no card (its ``device`` is None)."""
        if self._fault is not None:
            raise AttributeError(f"'NoneType' object has no attribute '{member}'")

    def _refuse(self, reason: str, where: str) -> None:
        Except.throw_exception("CT2_REFUSED", f"{self.get_name()}: {reason}", f"CT2.{where}")

    def _caught_up(self) -> CardRun | None:
        """The current run brought up to now, the rows it handed over moved into the buffer."""
        run = self._run
        if run is not None:
            run.catch_up(time.monotonic())
            if run.published > self._moved:
                self._buffer.append(run.rows[self._moved : run.published].copy())
                self._moved = run.published
            if run.count:
                self._last_point_nb = run.count - 1
        return run

    # -- settings ------------------------------------------------------------------------

    @attribute(dtype="str", access=AttrWriteType.READ_WRITE, doc="Acquisition mode")
    def acq_mode(self) -> str:
        """The acquisition mode; only ``IntTrigReadout`` is simulated."""
        self._card("acq_mode")
        return self._mode

    @acq_mode.write
    def acq_mode(self, mode: str) -> None:
        """Set the mode: a name of the real server's, and one that is simulated."""
        self._card("acq_mode")
        if mode not in REAL_MODES:
            self._refuse(f"acq_mode {mode!r} is not a CT2 mode ({', '.join(REAL_MODES)})", "acq_mode")
        if mode not in SIMULATED_MODES:
            self._refuse(f"acq_mode {mode} is not simulated; use {', '.join(SIMULATED_MODES)}", "acq_mode")
        self._mode = mode

    @attribute(dtype="float64", unit="s", access=AttrWriteType.READ_WRITE, doc="Acquisition exposition time (s)")
    def acq_expo_time(self) -> float:
        """Seconds of each point."""
        self._card("acq_expo_time")
        return self._expo_time

    @acq_expo_time.write
    def acq_expo_time(self, value: float) -> None:
        """Set the time of each point (checked by ``prepare_acq``)."""
        self._card("acq_expo_time")
        self._expo_time = value

    @attribute(dtype="uint32", access=AttrWriteType.READ_WRITE, doc="Number of points per acquisition")
    def acq_nb_points(self) -> int:
        """Points per acquisition; 0: until ``stop_acq``."""
        self._card("acq_nb_points")
        return self._nb_points

    @acq_nb_points.write
    def acq_nb_points(self, value: int) -> None:
        """Set the number of points."""
        self._card("acq_nb_points")
        self._nb_points = value

    @attribute(dtype=("int16",), max_dim_x=12, access=AttrWriteType.READ_WRITE, doc="List of active channels (first is 1)")
    def acq_channels(self) -> tuple[int, ...]:
        """The input channels counted, as written."""
        self._card("acq_channels")
        return self._channels

    @acq_channels.write
    def acq_channels(self, channels: np.ndarray) -> None:
        """Set the input channels to count: each of 1-10 once (the timer and the point number always are)."""
        self._card("acq_channels")
        values = [int(channel) for channel in channels]
        if any(not 1 <= channel <= INPUTS for channel in values) or len(set(values)) != len(values):
            self._refuse(f"acq_channels must be input channels 1-{INPUTS}, each once, not {values}", "acq_channels")
        self._channels = tuple(values)

    @attribute(dtype=("int16",), max_dim_x=12, doc="List of indexes in data point (first is 0)")
    def acq_channels_data_indexes(self) -> list[int]:
        """The column of each channel of ``acq_channels`` in a row of ``data``."""
        self._card("acq_channels_data_indexes")
        ordered = sorted(self._channels)
        return [ordered.index(channel) for channel in self._channels]

    @attribute(dtype="float64", unit="Hz", access=AttrWriteType.READ_WRITE, doc="Timer clock frequency (Hz)")
    def timer_freq(self) -> float:
        """Ticks per second of the timer (channel 11)."""
        self._card("timer_freq")
        return self._timer_freq

    @timer_freq.write
    def timer_freq(self, value: float) -> None:
        """Set the timer clock: one of the card's clocks."""
        self._card("timer_freq")
        if value not in TIMER_FREQUENCIES:
            self._refuse(f"Invalid timer clock: {value} (the card's: {', '.join(f'{f:g}' for f in TIMER_FREQUENCIES)} Hz)",
                         "timer_freq")  # fmt: skip
        self._timer_freq = value

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
        """Simulator only: counts of each point Poisson drawn around ``rate * acq_expo_time``."""
        return self._noise

    @sim_noise.write
    def sim_noise(self, value: bool) -> None:
        """Turn the Poisson noise on or off."""
        self._noise = value

    # -- what the card reports -----------------------------------------------------------

    @attribute(dtype="str", doc="Acquisition status")
    def acq_status(self) -> str:
        """``Running`` while an acquisition counts, else ``Ready``."""
        self._card("acq_status")
        run = self._caught_up()
        return "Running" if run is not None and run.running else "Ready"

    @attribute(dtype="int32", doc="Last acquisition point ready")
    def last_point_nb(self) -> int:
        """The last point counted since ``prepare_acq`` (-1: none yet)."""
        self._card("last_point_nb")
        self._caught_up()
        return self._last_point_nb

    @attribute(dtype="str")
    def last_error(self) -> str:
        """What went wrong in the acquisition ("": nothing); cleared by ``prepare_acq``."""
        self._card("last_error")
        return self._last_error

    @attribute(dtype=("uint32",), max_dim_x=COUNTERS)
    def counters(self) -> np.ndarray:
        """Counters 1-12 now: those of the point being counted, or of the last one."""
        self._card("counter_values")
        run = self._caught_up()
        return np.zeros(COUNTERS, dtype=np.uint32) if run is None else run.live(time.monotonic(), self._timer_freq)

    @attribute(dtype=(("uint32",),), max_dim_x=65535, max_dim_y=_MAX_ROWS)
    def data(self) -> np.ndarray:
        """The rows handed over and not read yet (a FIFO); none: an empty image, as on the real server."""
        self._caught_up()
        if not self._buffer:
            return np.array([[]], dtype=np.uint32)
        rows = np.concatenate(self._buffer)
        self._buffer = [rows[_MAX_ROWS:]] if len(rows) > _MAX_ROWS else []
        return rows[:_MAX_ROWS]

    # -- commands ------------------------------------------------------------------------

    @command
    def prepare_acq(self) -> None:
        """Empty the buffer, stop what runs and take the settings for the next ``start_acq``.

        As on the real server (``CT2.prepare_acq`` empties its buffer, then the card's ``prepare_acq``
        calls ``stop_acq``): the rows its sending loop handed over before are gone, but the last rows
        of an acquisition still running, or whose loop has not sent them yet, land in the buffer
        after it was emptied (its ``data`` slot stays connected until ``stop_acq``). A client that
        wants an empty ``data`` calls ``stop_acq`` first.
        """
        self._caught_up()  # what the real server's loop has sent by now is in the buffer: emptied with it
        self._buffer = []
        self._card("prepare_acq")
        self._stop()
        self._setup = None
        if self._expo_time <= 0:
            self._refuse(f"acq_expo_time must be above 0 s, not {self._expo_time:g}", "prepare_acq")
        ticks = math.ceil(self._expo_time * self._timer_freq - 1e-6)
        if ticks > _MAX_TICKS:
            self._refuse(f"acq_expo_time {self._expo_time:g} s is {ticks} ticks of timer_freq {self._timer_freq:g} Hz, "
                         f"more than the 32-bit timer counts; lower timer_freq", "prepare_acq")  # fmt: skip
        self._setup = _Setup(self._expo_time, self._nb_points, self._channels, ticks, self._timer_freq)
        self._run, self._moved = None, 0
        self._last_point_nb, self._last_error = -1, ""

    @command
    def start_acq(self) -> None:
        """Count the prepared points from now (not prepared since the last acquisition: it ends at once)."""
        self._card("start_acq")
        run = self._caught_up()
        if run is not None and run.running:
            self._refuse("an acquisition is running; stop_acq first", "start_acq")
        self._stop()  # hands the last rows of the previous acquisition over
        setup, self._setup, now = self._setup, None, time.monotonic()
        if setup is None:
            self._run = CardRun.unprepared(now)
        else:
            self._run = CardRun(setup.period, setup.npoints, setup.channels, setup.ticks, self._rates, self._noise,
                                self._random, now)  # fmt: skip
        self._moved = 0

    @command
    def stop_acq(self) -> None:
        """Stop counting now: the points over stay in the buffer, the one under way is dropped."""
        self._card("stop_acq")
        self._stop()

    def _stop(self) -> None:
        if self._run is not None:
            self._run.stop(time.monotonic())
            self._caught_up()

    @command(dtype_in=str, doc_in="why the server has no card")
    def sim_fault(self, message: str) -> None:
        """Simulator only: the server loses its card: State FAULT, every call fails, until ``Init``."""
        self._stop()
        self._fault = message
        self.set_state(DevState.FAULT)
        self.set_status(f"Exception initializing device: {message}")

    @command(dtype_in=str, doc_in="the card's error")
    def sim_error(self, message: str) -> None:
        """Simulator only: the card reports ``message`` in ``last_error`` and counts on, until ``prepare_acq``."""
        self._last_error = message
