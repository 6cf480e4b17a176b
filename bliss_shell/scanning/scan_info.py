"""A scan's info as readers get it (Redis, the file), and the device states its scan warns of.

Examples
--------
>>> info = describe(SCANS[-1].plan, "test_session", None, None, None, 0)
>>> info["title"], info["type"], info["save"], "start_time" in info
('ascan roby 0 4 5 0', 'ascan', False, False)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bliss_shell.controllers.acquisition import DeviceState

from .chain import AcquisitionChain
from .plan import ScanPlan


def describe(plan: ScanPlan, session: str, path: str | None, start: datetime | None, end: datetime | None, points: int,
             device_states: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """The scan's info as published and written, with what ``scan_info=`` gave.

    Parameters
    ----------
    plan : ScanPlan
        What the scan does.
    session : str
        The session's name.
    path : str or None
        Its file; None when not saved.
    start, end : datetime or None
        When it started and ended (left out when None).
    points : int
        The points acquired so far.
    device_states : dict, optional
        Counters whose device was in a state their config does not allow, and that state.
    """
    info: dict[str, Any] = {
        "title": plan.title,
        "type": plan.name,
        "npoints": plan.npoints,
        "count_time": plan.count_time,
        "session_name": session,
        "filename": path,
        "save": path is not None,
    }
    if start is not None:
        info["start_time"] = start.isoformat()
    info.update(motors=[axis.name for axis in plan.axes], counters=[counter.name for counter in plan.counters],
                points_acquired=points)  # fmt: skip
    if device_states:
        info["device_states"] = dict(device_states)
    if end is not None:
        info["end_time"] = end.isoformat()
    info.update(plan.scan_info)
    return info


def note_device_states(chain: AcquisitionChain, known: dict[str, str]) -> bool:
    """Print each device found in a state its config does not allow, one line per device and scan; True if new.

    ``known`` (counter -> state) gets the new ones.
    """
    found: dict[tuple[str, str, str, bool], DeviceState] = {}
    for level in chain.levels():
        for device in level:
            for state in getattr(device, "device_states", list)():
                new = tuple(counter for counter in state.counters if counter not in known)
                key = (state.device, state.state, state.allowed, state.at_end)  # counters of several controllers
                if new:
                    counters = found[key].counters if key in found else ()
                    found[key] = replace(state, counters=counters + new)
    for state in found.values():
        known.update(dict.fromkeys(state.counters, state.state))
        print(f"WARNING: {state.line}", flush=True)
    return bool(found)
