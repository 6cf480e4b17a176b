"""What a scan does, decided by its command before anything moves: the scan's description."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bliss_shell.controllers import Axis, Counter, Timing

if TYPE_CHECKING:
    from .continuous import Trajectory


@dataclass
class ScanPlan:
    """A scan's description; ``build_chain`` turns it into the acquisition chain the engine walks.

    ``positions`` has one row per point and one column per axis; ``npoints`` 0 means "until
    interrupted" (timescan). ``timing`` is ``STEP`` when motors move between points, ``FREE``
    when nothing does or in a continuous scan (``continuous``: the devices time themselves).

    Example
    -------
    >>> ScanPlan("loopscan", "loopscan 3 0.1", [], np.empty((3, 0)), [diode], 0.1, 3)
    """

    name: str
    title: str
    axes: list[Axis]
    positions: np.ndarray
    counters: list[Counter]
    count_time: float
    npoints: int
    save: bool = True
    sleep_time: float = 0.0
    scan_info: dict[str, Any] = field(default_factory=dict)
    return_to: dict[Axis, float] | None = None  # dscan: where the motors go back afterwards
    continuous: bool = False  # the devices time themselves (fscan, ftimescan)
    trajectory: Trajectory | None = None  # fscan: the motor's run at constant velocity

    @property
    def timing(self) -> Timing:
        return Timing.STEP if self.axes and not self.continuous else Timing.FREE
