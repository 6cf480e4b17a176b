"""One acquisition of the simulated counter card, computed from the real clock (no Tango here).

Channels are numbered as on the P201: inputs 1-10, the timer 11 (seconds here), the point
number 12. Row ``i`` of ``rows`` is period ``i``: its counts, the period and ``i``.
"""

from __future__ import annotations

import math

import numpy as np

INPUTS = 10
TIMER = 11
POINT_NB = 12
COLUMNS = 12
_FIRST_ROWS = 1024  # rows allocated first for an acquisition until stopped; doubled when full


class CardRun:
    """``npoints`` periods of ``period`` seconds from ``start`` (0 points: until stopped).

    Examples
    --------
    >>> run = CardRun(0.1, 3, np.full(10, 100.0), False, np.random.default_rng(), start=0.0)
    >>> run.catch_up(0.25); run.count, float(run.rows[1, 0]), run.running
    (2, 10.0, True)
    """

    def __init__(self, period: float, npoints: int, rates: np.ndarray, noise: bool, random: np.random.Generator, start: float):
        self.period = period
        self.npoints = npoints
        self.rates = np.array(rates, dtype=float)
        self.noise = noise
        self.random = random
        self.start = start
        self.end = start + period * npoints if npoints else math.inf
        self.rows = np.zeros((npoints or _FIRST_ROWS, COLUMNS))
        self.count = 0
        self.running = True
        self._stopped_at: float | None = None

    def next_due(self) -> float:
        """When the period under way ends."""
        return self.start + (self.count + 1) * self.period

    def catch_up(self, now: float) -> None:
        """Add the rows of the periods over at ``now``; the run ends after its last one."""
        if not self.running:
            return
        # 1e-9: a period that ends at ``now`` is over, whatever the rounding of the division
        due = self.npoints if self.period == 0 else math.floor((now - self.start) / self.period + 1e-9)
        if self.npoints:
            due = min(due, self.npoints)
        if due > self.count:
            self._add(due - self.count)
        if self.npoints and self.count >= self.npoints:
            self.running = False

    def _add(self, n: int) -> None:
        if self.count + n > len(self.rows):
            grown = np.zeros((max(2 * len(self.rows), self.count + n), COLUMNS))
            grown[: self.count] = self.rows[: self.count]
            self.rows = grown
        block = self.rows[self.count : self.count + n]
        mean = self.rates * self.period
        block[:, :INPUTS] = self.random.poisson(mean, size=(n, INPUTS)) if self.noise else mean
        block[:, TIMER - 1] = self.period
        block[:, POINT_NB - 1] = np.arange(self.count, self.count + n)
        self.count += n

    def stop(self, now: float) -> None:
        """Stop at ``now``: the periods over are kept, the one under way is dropped."""
        self.catch_up(now)
        if self.running:
            self.running = False
            self._stopped_at = now

    def live(self, now: float) -> np.ndarray:
        """The 12 channels of the period under way (stopped: as they were at the stop), else of the last row."""
        if self.running or self._stopped_at is not None:
            until = now if self._stopped_at is None else self._stopped_at
            elapsed = min(max(0.0, until - (self.start + self.count * self.period)), self.period)
            values = np.zeros(COLUMNS)
            values[:INPUTS] = self.rates * elapsed
            values[TIMER - 1] = elapsed
            values[POINT_NB - 1] = self.count
            return values
        return self.rows[self.count - 1].copy() if self.count else np.zeros(COLUMNS)
