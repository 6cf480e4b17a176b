"""One acquisition of the simulated counter card, computed from the real clock (no Tango here).

The rows are what the real CT2 server's ``data`` holds (BLISS 1.11.4, ``bliss/controllers/ct2/device.py``):
one row per period, uint32, the latched counters of the active input channels in increasing
channel number, then the timer (channel 11, in ticks of ``timer_freq``), then the point number
(channel 12, from 0). Inputs count a regular pulse train of their rate (``noise``: Poisson counts).

Rows reach the server's buffer as the real server's sending loop hands them over: in batches,
when a period ends 0.1 s or more after the previous batch, and the rest just after the
acquisition ends (``TAIL_LAG`` after its status turned Ready), or at once when it is stopped.

Examples
--------
Four periods of 40 ms on inputs 3 and 1 (50 and 100 counts/s), a 1 MHz timer:

>>> run = CardRun(0.04, 4, [3, 1], 40000, np.array([100.0, 0, 50] + [0] * 7), False, np.random.default_rng(), start=0.0)
>>> run.catch_up(0.1); run.count, run.published, run.running  # counted, not handed over yet
(2, 0, True)
>>> run.catch_up(0.13); run.published  # a batch: period 2 ended more than 0.1 s after the start
3
>>> run.rows[:3].tolist()  # ch1, ch3, timer ticks, point number
[[4, 2, 40000, 0], [4, 2, 40000, 1], [4, 2, 40000, 2]]
>>> run.catch_up(0.16); run.published, run.running  # over: Ready comes before the last rows are handed over
(3, False)
>>> run.catch_up(0.16 + TAIL_LAG); run.published
4
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

INPUTS = 10  # channels 1-10 count input pulses
TIMER = 11  # the timer: ticks of timer_freq
POINT_NB = 12  # the point number
COUNTERS = 12
BATCH = 0.1  # s: the real server hands rows over when a period ends this long after the previous batch
TAIL_LAG = 0.001  # s: the last rows reach the buffer this long after the acquisition ended (Ready comes first)
_FIRST_ROWS = 1024  # rows allocated first for an acquisition until stopped; doubled when full
_EPS = 1e-9  # a period that ends at ``now`` is over, whatever the rounding of the division
_MAX_COUNT = 2**32  # the card's counters are 32 bits: they wrap


class CardRun:
    """``npoints`` periods of ``period`` seconds from ``start`` (0 points: until stopped).

    Parameters
    ----------
    period : float
        Seconds per point (``acq_expo_time``).
    npoints : int
        Points of the acquisition (``acq_nb_points``); 0: until stopped.
    channels : sequence of int
        The active input channels (``acq_channels``); their columns come in increasing order.
    ticks : int
        Timer ticks per period (``acq_expo_time * timer_freq``, rounded up).
    rates : numpy.ndarray
        Counts per second of inputs 1-10.
    noise : bool
        Poisson counts around ``rate * period``, else a regular pulse train.
    random : numpy.random.Generator
        Where the noise comes from.
    start : float
        When it started (``time.monotonic()``).
    """

    def __init__(
        self, period: float, npoints: int, channels: Sequence[int], ticks: int, rates: np.ndarray, noise: bool,
        random: np.random.Generator, start: float,
    ):  # fmt: skip
        self.period = period
        self.npoints = npoints
        self.channels = sorted(channels)
        self.ticks = ticks
        self.rates = np.array([rates[c - 1] for c in self.channels], dtype=float)
        self.noise = noise
        self.random = random
        self.start = start
        self.rows = np.zeros((npoints or _FIRST_ROWS, len(self.channels) + 2), dtype=np.uint32)
        self.count = 0  # rows counted
        self.published = 0  # rows handed over to the server's buffer
        self.running = True
        self._sent_at = start  # when the last batch was handed over
        self._stopped_at: float | None = None  # stopped by ``stop`` (not ended after its last point)
        self._tail_at = math.inf  # when the rows left are handed over

    @classmethod
    def unprepared(cls, start: float) -> CardRun:
        """An acquisition started without ``prepare_acq``: it ends at once without a point, as on the real card.

        Examples
        --------
        >>> run = CardRun.unprepared(0.0)
        >>> run.running, run.count
        (False, 0)
        """
        run = cls(1.0, 1, [], 0, np.zeros(INPUTS), False, np.random.default_rng(), start)
        run.running, run._tail_at = False, start
        return run

    def catch_up(self, now: float) -> None:
        """Count the periods over at ``now`` and hand over the rows the sending loop has sent by then."""
        if self.running:
            due = math.floor((now - self.start) / self.period + _EPS)
            if self.npoints:
                due = min(due, self.npoints)
            if due > self.count:
                self._add(due - self.count)
            if self.npoints and self.count >= self.npoints:
                self.running = False
                self._tail_at = self.start + self.npoints * self.period + TAIL_LAG
        self._send(now)

    def _send(self, now: float) -> None:
        while self.published < self.count:
            # the first row counted after the last batch whose period ends more than BATCH after it
            row = max(self.published, math.floor((self._sent_at + BATCH - self.start) / self.period))
            end = self.start + (row + 1) * self.period
            if row >= self.count or end > now:
                break
            self.published, self._sent_at = row + 1, end
        if now >= self._tail_at:
            self.published = self.count

    def _add(self, n: int) -> None:
        if self.count + n > len(self.rows):
            grown = np.zeros((max(2 * len(self.rows), self.count + n), self.rows.shape[1]), dtype=np.uint32)
            grown[: self.count] = self.rows[: self.count]
            self.rows = grown
        block = self.rows[self.count : self.count + n]
        if self.noise:
            block[:, :-2] = self.random.poisson(self.rates * self.period, size=(n, len(self.rates))) % _MAX_COUNT
        else:
            block[:, :-2] = np.diff(self._pulses(np.arange(self.count, self.count + n + 1) * self.period), axis=0) % _MAX_COUNT
        block[:, -2] = self.ticks
        block[:, -1] = np.arange(self.count, self.count + n) % _MAX_COUNT
        self.count += n

    def _pulses(self, elapsed: np.ndarray) -> np.ndarray:
        """Pulses of each active input since the start, ``elapsed`` seconds after it (one row per time)."""
        return np.floor(np.outer(elapsed, self.rates) + 1e-6)

    def stop(self, now: float) -> None:
        """Stop at ``now``: the periods over are kept and handed over at once, the one under way is dropped."""
        self.catch_up(now)
        if self.running:
            self.running = False
            self._stopped_at = now
        self._tail_at = min(self._tail_at, now)
        self._send(now)

    def live(self, now: float, timer_freq: float) -> np.ndarray:
        """Counters 1-12 now: the period under way (stopped: as they were at the stop), else the last row's."""
        values = np.zeros(COUNTERS, dtype=np.uint32)
        active = [channel - 1 for channel in self.channels]
        if self.running or self._stopped_at is not None:
            until = now if self._stopped_at is None else self._stopped_at
            begun = self.count * self.period
            elapsed = min(max(0.0, until - self.start - begun), self.period)
            counted = self._pulses(np.array([begun, begun + elapsed]))
            values[active] = (counted[1] - counted[0]) % _MAX_COUNT
            values[TIMER - 1] = min(math.floor(elapsed * timer_freq), self.ticks)
        elif self.count:
            last = self.rows[self.count - 1]
            values[active], values[TIMER - 1] = last[:-2], last[-2]
        values[POINT_NB - 1] = self.count
        return values
