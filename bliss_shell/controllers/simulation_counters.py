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


class _SimulationCounter(ConfiguredCounter):
    """Computed in-process: its controller never waits (``blocking`` False)."""

    default_mode = SamplingMode.MEAN

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self._random = random.Random(node.get("seed"))  # a scalar draw: far cheaper than numpy's
        self.mode, self.sampling_period = sampling_settings(node, self.default_mode)
        self.controller = SamplingController(self.controller_name, None, blocking=False)  # each read by its own ``read``


class SimulationDiode(_SimulationCounter):
    """A counter simulated in-process: a random whole number in [-100, 100) per reading.

    Config: ``class: SimulationDiode``, and optionally ``controller`` (counters naming the same
    one are read together; default: its own name), ``unit``, ``mode`` (``MEAN``, the default,
    averages the readings made every ``sampling_period`` seconds of the count; ``SINGLE``,
    ``INTEGRATE``) and ``seed`` (the same values at every start).

    Examples
    --------
    >>> ct(0.1, diode)
    diode = ... (... /s) diode
    Scan(number=..., name=ct, path=<no saving>)
    >>> -100 <= diode.read(0.1) < 100
    True
    >>> diode.controller_name, diode.mode
    ('diode', <SamplingMode.MEAN: 'MEAN'>)
    """

    def read(self, count_time: float) -> float:
        """One reading, now."""
        return float(int(self._random.random() * 200) - 100)  # as randrange(-100, 100), in half its time


class SimulationCounter(_SimulationCounter):
    """A counter simulated in-process whose value follows a motor's position: a peak to find.

    Config: ``class: SimulationCounter`` with ``distribution`` (``GAUSSIAN``, the default:
    ``height`` at ``mu``, of width ``sigma``; ``LINEAR``: ``height * (x - mu)``; ``FLAT``:
    ``height``) of ``x``, the position of motor ``axis`` (0 without one); ``noise`` adds a
    gaussian noise of ``noise * height``. Defaults: ``mu`` 0, ``sigma`` 1, ``height`` 100,
    ``noise`` 0. Other keys as ``SimulationDiode``'s.

    Examples
    --------
    >>> mv(roby, 3.2)
    Moving roby from ... to 3.20000
    >>> sim_ct_gauss.read(0.1)  # at mu: the height
    100.0
    >>> round(sim_ct_gauss.value_at(3.2 + 1), 2)  # one sigma away
    60.65
    >>> s = ascan(roby, 0, 6, 13, 0.01, sim_ct_gauss)
    >>> cen()  # the middle of the peak's full width at half maximum
    3.20...
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
        """The value at motor position ``x``, without noise."""
        if self.distribution == "GAUSSIAN":
            return self.height * math.exp(-((x - self.mu) ** 2) / (2 * self.sigma**2))
        if self.distribution == "LINEAR":
            return self.height * (x - self.mu)
        return self.height

    def read(self, count_time: float) -> float:
        """One reading, now: the value at the motor's position, plus noise."""
        x = self._axis.position if self._axis is not None else 0.0
        return self.value_at(x) + self.noise * self.height * self._random.gauss(0.0, 1.0)


class SimulationMCA(_SimulationCounter):
    """An MCA simulated in-process: a spectrum of ``nbins`` bins per point, a peak on a flat background.

    Config: ``class: SimulationMCA`` with ``nbins`` (default 128); ``mode`` is ``SINGLE`` by
    default (one spectrum after the count time). Each bin is Poisson drawn, its mean
    proportional to the count time.

    Examples
    --------
    >>> simu1.shape
    (16,)
    >>> ct(0.1, simu1)
    simu1 = (16,) spectrum, sum ...  simu1
    Scan(number=..., name=ct, path=<no saving>)
    >>> simu1.read(0.1).shape
    (16,)
    """

    default_mode = SamplingMode.SINGLE
    device_type = "mca"  # BLISS's ``type`` of its device in a scan's info (its DEVICE_TYPE)

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
        """One spectrum, counted over ``count_time`` (at least 1 ms)."""
        return self._spectra.poisson(self._profile * max(count_time, 1e-3)).astype("float64")
