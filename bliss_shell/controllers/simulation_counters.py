"""Counters simulated in-process: a random diode, a peak that follows a motor, a 1D spectrum.

Each counter names its controller (``controller:`` key; by default its own name, as the
BLISS documentation's ``diode`` under controller ``diode``): the controller is the node
that holds the counter's channel in the data tree.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from bliss_shell.config import ConfigNode

from .interfaces import Axis, ConfiguredCounter
from .sampling import SamplingController, SamplingMode, sampling_settings

_DISTRIBUTIONS = ("GAUSSIAN", "LINEAR", "FLAT")


def _read_in_process(counters: Any, count_time: float) -> dict[str, Any]:
    return {counter.name: counter.read(count_time) for counter in counters}


class _SimulationCounter(ConfiguredCounter):
    """Computed in-process: its controller never waits (``blocking`` False)."""

    default_mode = SamplingMode.MEAN

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self._random = random.Random(node.get("seed"))  # a scalar draw: far cheaper than numpy's
        self.mode, self.sampling_period = sampling_settings(node, self.default_mode)
        self.controller = SamplingController(self.controller_name, _read_in_process, blocking=False)


class SimulationDiode(_SimulationCounter):
    """``class: SimulationDiode``: a random value in [-100, 100) per reading (``mode`` MEAN averages them)."""

    def read(self, count_time: float) -> float:
        return float(self._random.randrange(-100, 100))


class SimulationCounter(_SimulationCounter):
    """``class: SimulationCounter``: ``distribution`` (GAUSSIAN, LINEAR, FLAT) against ``axis``.

    Keys: ``axis`` (a motor name), ``mu``, ``sigma``, ``height``, ``noise`` (a fraction of
    ``height``). Example: a gaussian of height 100 at roby = 5 that ``lineup`` finds.
    """

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self.distribution = str(node.get("distribution", "GAUSSIAN")).upper()
        if self.distribution not in _DISTRIBUTIONS:
            raise ValueError(f"{node.where}: {self.name}: distribution must be one of {', '.join(_DISTRIBUTIONS)}")
        axis_name = node.get("axis")
        self._axis: Axis | None = node.config.get(axis_name) if axis_name else None
        if self._axis is not None and not isinstance(self._axis, Axis):
            raise TypeError(f"{node.where}: {self.name}: axis '{axis_name}' is not a motor")
        self.mu = float(node.get("mu", 0.0))
        self.sigma = float(node.get("sigma", 1.0))
        self.height = float(node.get("height", 100.0))
        self.noise = float(node.get("noise", 0.0))

    def value_at(self, x: float) -> float:
        if self.distribution == "GAUSSIAN":
            return self.height * math.exp(-((x - self.mu) ** 2) / (2 * self.sigma**2))
        if self.distribution == "LINEAR":
            return self.height * (x - self.mu)
        return self.height

    def read(self, count_time: float) -> float:
        x = self._axis.position if self._axis is not None else 0.0
        return self.value_at(x) + self.noise * self.height * self._random.gauss(0.0, 1.0)


class SimulationMCA(_SimulationCounter):
    """``class: SimulationMCA``: a spectrum of ``nbins`` bins (a peak on a flat background), one per point."""

    default_mode = SamplingMode.SINGLE

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        nbins = int(node.get("nbins", 128))
        if nbins < 1:
            raise ValueError(f"{node.where}: {self.name}: nbins must be at least 1")
        self.shape = (nbins,)
        bins = np.arange(nbins)
        self._profile = 10 + 1000 * np.exp(-((bins - nbins / 2) ** 2) / (2 * (nbins / 16) ** 2))
        self._spectra = np.random.default_rng(node.get("seed"))

    def read(self, count_time: float) -> Any:
        return self._spectra.poisson(self._profile * max(count_time, 1e-3)).astype("float64")
