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

    Every scan command makes one before anything moves; a scan keeps it as ``plan``.

    Parameters
    ----------
    name : str
        The command: ``'ascan'``, ``'loopscan'``, ...
    title : str
        The title as BLISS prints it: ``'ascan roby 0 4 5 0'``.
    axes : list of Axis
        The motors moved between points (none: loopscan, timescan, ct).
    positions : numpy.ndarray
        One row per point, one column per axis.
    counters : list of Counter
        What each point counts.
    count_time : float
        Seconds each point counts.
    npoints : int
        The number of points; 0 means "until interrupted" (timescan).
    save : bool, optional
        False: published to Redis only, no file (``ct``, ``save=False``).
    sleep_time : float, optional
        Seconds between points.
    scan_info : dict, optional
        What the command adds to the scan's info (``scan_info=``).
    return_to : dict, optional
        Where each motor goes back afterwards (``dscan``, ``dmesh``, ``lineup``), else None.
    continuous : bool, optional
        The devices time themselves (``fscan``, ``ftimescan``).
    trajectory : Trajectory, optional
        ``fscan``: the motor's run at constant velocity.

    Examples
    --------
    >>> plan = SCANS[-1].plan
    >>> plan.name, plan.title, plan.npoints, plan.count_time
    ('ascan', 'ascan roby 0 4 5 0', 5, 0.0)
    >>> [axis.name for axis in plan.axes], [counter.name for counter in plan.counters]
    (['roby'], ['diode'])
    >>> plan.positions[:, 0]
    array([0., 1., 2., 3., 4.])
    >>> plan.timing
    <Timing.STEP: 'STEP'>

    What ``loopscan(3, 0.1, diode)`` runs:

    >>> ScanPlan("loopscan", "loopscan 3 0.1", [], np.empty((3, 0)), [diode], 0.1, 3).timing
    <Timing.FREE: 'FREE'>
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
        """``STEP`` when motors move between points; ``FREE`` when nothing does or in a continuous scan."""
        return Timing.STEP if self.axes and not self.continuous else Timing.FREE
