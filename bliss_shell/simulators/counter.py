"""``SimCounter``: a counter device; a gaussian (or line, or constant) of a motor device's position."""

from __future__ import annotations

import math

import numpy as np
from tango import AttrWriteType, DeviceProxy, DevState
from tango.server import Device, attribute

_DISTRIBUTIONS = ("GAUSSIAN", "LINEAR", "FLAT")


class SimCounter(Device):
    """``Value`` is read once per point. ``MotorUrl`` names the motor device it follows (empty: none)."""

    def init_device(self) -> None:
        """A gaussian of mu 0, sigma 1, height 100, no noise, following no motor."""
        super().init_device()
        self._distribution = "GAUSSIAN"
        self._mu, self._sigma, self._height, self._noise = 0.0, 1.0, 100.0, 0.0
        self._motor_url = ""
        self._motor: DeviceProxy | None = None
        self._random = np.random.default_rng()
        self.set_state(DevState.ON)

    @attribute(dtype=float)
    def Value(self) -> float:
        """The counter's value now: the distribution at the motor's position (0 without one), plus noise."""
        x = self._motor.read_attribute("Position").value if self._motor is not None else 0.0
        if self._distribution == "GAUSSIAN":
            value = self._height * math.exp(-((x - self._mu) ** 2) / (2 * self._sigma**2))
        elif self._distribution == "LINEAR":
            value = self._height * (x - self._mu)
        else:
            value = self._height
        return value + self._noise * self._height * float(self._random.standard_normal())

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def Distribution(self) -> str:
        """GAUSSIAN, LINEAR or FLAT."""
        return self._distribution

    @Distribution.write
    def Distribution(self, value: str) -> None:
        """Set the distribution, any case; another name is refused."""
        if value.upper() not in _DISTRIBUTIONS:
            raise ValueError(f"{self.get_name()}: distribution must be one of {', '.join(_DISTRIBUTIONS)}")
        self._distribution = value.upper()

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE)
    def MotorUrl(self) -> str:
        """The motor device whose ``Position`` is the distribution's x (empty: none)."""
        return self._motor_url

    @MotorUrl.write
    def MotorUrl(self, url: str) -> None:
        """Follow that motor device (empty: none)."""
        self._motor = DeviceProxy(url) if url else None
        self._motor_url = url

    @attribute(dtype=(float,), max_dim_x=4, access=AttrWriteType.READ_WRITE)
    def Shape(self) -> list[float]:
        """mu, sigma, height, noise (noise as a fraction of height)."""
        return [self._mu, self._sigma, self._height, self._noise]

    @Shape.write
    def Shape(self, values: list[float]) -> None:
        """Set mu, sigma, height and noise."""
        self._mu, self._sigma, self._height, self._noise = (float(v) for v in values)
