"""What a scan's info says of its shape and of how to plot it, as BLISS 2.4's scan commands say it.

BLISS's commands (``bliss/common/scans/step_by_step.py``, ``meshes.py``) give their scans:

- a motor scan (``ascan``, ``dscan``, ``a2scan`` ... ``d5scan``, ``anscan``, ``dnscan``, ``lineup``): ``start`` and
  ``stop`` (one per motor, absolute) and a default curve plot against the first motor;
- ``lookupscan``, ``pointscan``, and ``timescan``/``loopscan`` of more than one point: a default curve plot against
  the timer's elapsed time (``ct``, one point: no plot);
- a mesh (``amesh``, ``dmesh``): ``data_dim`` 2, ``npoints1``/``npoints2`` (points of the fast and of the slow
  motor), ``start``/``stop``, a scatter plot of the slow motor against the fast one, its motors' channels
  ``axis_id``, ``axis_points``, ``axis_kind``, ``group`` ``'scatter'``, and that group on every scalar channel of
  the devices that trigger nothing (the counters).

A default plot has no ``name`` (Flint shows it as its ``default-curve`` / ``default-scatter`` plot); a curve plot
of the user's ``scan_info=`` that has no name replaces ours, as in BLISS. Continuous scans (``fscan``,
``ftimescan``) get none of these: BLISS's own commands do not describe them.

Examples
--------
>>> from bliss_shell.scanning.scan_info import describe_chain
>>> described = describe_chain(SCANS[-1].chain)
>>> layout(SCANS[-1].plan, described["channels"], described["devices"])
{'plots': [{'kind': 'curve-plot', 'items': [{'kind': 'curve', 'x': 'axis:roby'}]}], 'start': [0.0], 'stop': [4.0]}
"""

from __future__ import annotations

from typing import Any

from .plan import ScanPlan
from .records import channel_fullname

# what BLISS draws a scan's default curve against, by its command; other commands: the motor, if any, else time
_TIME_AXIS = frozenset({"lookupscan", "pointscan"})
_ELAPSED = "elapsed_time"  # the timer's channel BLISS plots against (its first: ``chain.timer.channels[0]``)


def layout(plan: ScanPlan, channels: dict[str, dict[str, Any]], devices: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The top-level keys BLISS's command gives the scan (``plots``, ``start``, ``stop``, ``data_dim``, ...).

    ``channels`` (described by fullname) get what BLISS says of a mesh's motors and counters.

    Parameters
    ----------
    plan : ScanPlan
        What the scan does; ``plots`` of its ``scan_info`` are kept, ours after them.
    channels, devices : dict
        The scan's ``channels`` and ``devices`` as ``describe_chain`` makes them.

    Returns
    -------
    dict
        The keys to set in the scan's info (none for a scan BLISS gives none).

    Examples
    --------
    >>> from bliss_shell.scanning.scan_info import describe_chain
    >>> s = amesh(roby, 0, 2, 3, robz, 0, 1, 2, 0.01, diode)
    >>> described = describe_chain(s.chain)
    >>> shape = layout(s.plan, described["channels"], described["devices"])
    >>> shape["data_dim"], shape["npoints1"], shape["npoints2"], shape["start"], shape["stop"]
    (2, 3, 2, [0.0, 0.0], [2.0, 1.0])
    >>> shape["plots"]
    [{'kind': 'scatter-plot', 'items': [{'kind': 'scatter', 'x': 'axis:roby', 'y': 'axis:robz'}]}]
    >>> described["channels"]["diode:diode"]["group"]
    'scatter'
    """
    plots = list(plan.scan_info.get("plots", []))
    if plan.continuous or plan.trajectory is not None:
        return {}
    mesh = plan.scan_info.get("mesh")
    if isinstance(mesh, dict) and len(plan.axes) == 2:
        return _mesh(plan, mesh, plots, channels, devices)
    if plan.axes and plan.name not in _TIME_AXIS:
        positions = plan.positions
        ends = {"start": [float(value) for value in positions[0]], "stop": [float(value) for value in positions[-1]]}
        motor = channel_fullname("axis", plan.axes[0].name)
        return {**_default_curve(plots, motor, channels), **(ends if len(positions) else {})}
    if plan.npoints == 1 and not plan.axes:  # ct, sct, loopscan(1, ...): BLISS gives no plot
        return {}
    timer = next((key for key, device in devices.items() if device["name"] == "timer"), None)
    elapsed = [name for name in devices[timer]["channels"] if name.endswith(f":{_ELAPSED}")] if timer else []
    return _default_curve(plots, elapsed[0] if elapsed else None, channels)


def _default_curve(plots: list[Any], x: str | None, channels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``plots`` with BLISS's default curve plot against ``x`` after the user's, unless they have one (or no ``x``)."""
    has_default = any(isinstance(plot, dict) and plot.get("kind") == "curve-plot" and plot.get("name") is None
                      for plot in plots)  # fmt: skip
    if has_default or x is None or x not in channels:
        return {"plots": plots} if plots else {}
    return {"plots": [*plots, {"kind": "curve-plot", "items": [{"kind": "curve", "x": x}]}]}


def _mesh(plan: ScanPlan, mesh: dict[str, Any], plots: list[Any], channels: dict[str, dict[str, Any]],
          devices: dict[str, dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """A mesh's keys; its motors' and counters' channels get BLISS's scatter metadata."""
    (start1, stop1, n1), (start2, stop2, n2) = mesh["fast"], mesh["slow"]
    kind = "backnforth" if mesh["backnforth"] else "forth"
    fast, slow = (channel_fullname("axis", axis.name) for axis in plan.axes)
    for axis_id, (name, start, stop, points) in enumerate(((fast, start1, stop1, n1), (slow, start2, stop2, n2))):
        if name in channels:
            channels[name].update(start=float(start), stop=float(stop), points=n1 * n2, axis_id=axis_id,
                                  axis_points=int(points), axis_kind=kind, group="scatter")  # fmt: skip
    for device in devices.values():
        if not device.get("triggered_devices"):  # BLISS: every scalar of the devices that trigger nothing
            for name in device.get("channels", []):
                if channels.get(name, {}).get("dim") == 0:
                    channels[name]["group"] = "scatter"
    scatter = {"kind": "scatter-plot", "items": [{"kind": "scatter", "x": fast, "y": slow}]}
    return {"data_dim": 2, "npoints1": int(n1), "npoints2": int(n2), "start": [float(start1), float(start2)],
            "stop": [float(stop1), float(stop2)], "plots": [*plots, scatter]}  # fmt: skip
