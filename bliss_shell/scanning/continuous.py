"""Continuous scans: the motor runs at constant velocity while the devices count periods on their own.

``fscan(roby, 0, 0.1, 100, 0.01, p201)``: roby runs at 0.1 / 0.01 = 10 units/s from a run-up
distance before 0 (where it reaches that velocity) to a run-down distance after 10; the
devices start when roby passes 0 and count 100 periods of 0.01 s (an MCA takes a spectrum
per period, gated by the card: ``controllers/tango_mca.py``); the ``axis:roby`` channel
holds where roby was at the start of each period, computed from the trajectory.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import gevent
import numpy as np

from bliss_shell.controllers import AcquisitionParameters, Axis, Block, ChannelInfo
from bliss_shell.controllers.acquisition import AcquisitionBase
from bliss_shell.controllers.motion import Move


@dataclass(frozen=True)
class Trajectory:
    """The run of one motor through ``npoints`` periods of ``acq_time``, ``step_size`` per period.

    Examples
    --------
    ``fscan(roby, 0, 0.1, 100, 0.01, ...)`` with roby accelerating at 1000 units/s²:

    >>> run = Trajectory(roby, start=0.0, step_size=0.1, npoints=100, acq_time=0.01, acceleration=1000.0)
    >>> run.velocity, run.run_up, run.first, run.last
    (10.0, 0.05, -0.05, 10.05)
    """

    axis: Axis
    start: float
    step_size: float
    npoints: int
    acq_time: float
    acceleration: float

    @property
    def velocity(self) -> float:
        """The constant velocity of the run: ``|step_size| / acq_time``."""
        return abs(self.step_size) / self.acq_time

    @property
    def run_up(self) -> float:
        """The distance the motor needs to reach the velocity (signed: before ``start``)."""
        return math.copysign(self.velocity**2 / (2 * self.acceleration), self.step_size)

    @property
    def first(self) -> float:
        """Where the run starts: ``start`` minus the run-up."""
        return self.start - self.run_up

    @property
    def last(self) -> float:
        """Where the run ends: one run-up past the end of the last period."""
        return self.start + self.step_size * self.npoints + self.run_up

    def check(self, command: str) -> None:
        """Refuse, before anything moves, a run the motor cannot make."""
        name = self.axis.name
        if not self.step_size or not math.isfinite(self.step_size):
            raise ValueError(f"{command}: step_size must be a non-zero number, not {self.step_size!r}")
        if self.velocity > self.axis.velocity_limit:
            raise ValueError(f"{command}: {name} would run at {self.velocity:g}/s (step_size / acq_time), above its velocity "
                             f"limit {self.axis.velocity_limit:g}; use a smaller step or a longer acq_time")  # fmt: skip
        low, high = self.axis.limits
        for where, position in (("run-up start", self.first), ("run-down end", self.last)):
            if not low <= position <= high:
                raise ValueError(f"{command}: {name}'s trajectory goes outside its limits ({low:g}, {high:g}): "
                                 f"{where} at {position:g}")  # fmt: skip


class ContinuousMotorMaster(AcquisitionBase):
    """``axis`` of a continuous scan: moves to the run-up start, runs, and computes each period's position."""

    name = "axis"

    def __init__(self, trajectory: Trajectory):
        self._trajectory = trajectory
        self._saved_velocity: float | None = None
        self._run: Move | None = None
        self._first_period = 0.0  # when the devices were started: the run passed ``start``
        self._sent = 0
        axis = trajectory.axis
        self._channels = [ChannelInfo(axis.name, np.dtype("float64"), (), axis.unit, source=axis)]

    @property
    def channels(self) -> list[ChannelInfo]:
        """One channel, named after the motor: its position at the start of each period."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Move the motor to the run-up start, then set its velocity to the run's (restored by ``stop``)."""
        axis = self._trajectory.axis
        axis.move(self._trajectory.first)
        self._saved_velocity = axis.velocity
        axis.velocity = self._trajectory.velocity
        self._sent = 0

    def start(self) -> None:
        """Start the run; return when the motor passes ``start`` at full velocity (the devices start then)."""
        trajectory, axis = self._trajectory, self._trajectory.axis
        began = time.monotonic()
        axis.move(trajectory.last, wait=False)
        self._run = Move(trajectory.first, trajectory.last, trajectory.velocity, trajectory.acceleration, began=began)
        gevent.sleep(max(0.0, began + trajectory.velocity / trajectory.acceleration - time.monotonic()))
        self._first_period = time.monotonic()

    def read(self) -> Block:
        """Every period's position at once, computed from the run (none before ``start``)."""
        if self._run is None:
            return {self._channels[0].name: []}
        trajectory = self._trajectory
        periods = range(self._sent, trajectory.npoints)
        self._sent = trajectory.npoints
        return {self._channels[0].name: [self._run.position(self._first_period + i * trajectory.acq_time) for i in periods]}

    def stop(self) -> None:
        """After the last period the run-down finishes (a fraction of a second); before it, the motor stops now."""
        trajectory, axis = self._trajectory, self._trajectory.axis
        try:
            periods_over = (
                self._run is not None and time.monotonic() >= self._first_period + trajectory.npoints * trajectory.acq_time
            )
            if periods_over:
                axis.wait_move()
            else:
                axis.stop()
        finally:
            if self._saved_velocity is not None:
                axis.velocity, self._saved_velocity = self._saved_velocity, None
