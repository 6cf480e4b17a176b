"""A scan's info as readers get it (Redis, the file), in BLISS's schema; the device states its scan warns of.

The keys BLISS 2.4 gives (blissdata's ``ScanInfoDict``): ``title``, ``type``, ``npoints``, ``count_time``,
``sleep_time``, ``session_name``, ``user_name``, ``data_policy``, ``data_writer``, ``writer_options``,
``publisher``, ``publisher_version``, ``save``, ``filename``; once numbered ``scan_nb`` and ``name``
(``2_ascan``, ``_3_ct`` unsaved); once started ``start_time`` and the chain (``acquisition_chain``, ``devices``,
``channels``); ``positioners`` (``positioners_start``, ``positioners_dial_start``, then ``_end``); at the end
``end_time`` and ``end_reason`` (``SUCCESS``, ``USER_ABORT``, ``FAILURE``). What BLISS's commands add (``plots``,
``start``, ``stop``, a mesh's ``data_dim``, ``npoints1``, ``npoints2``): ``scan_info_layout``. Ours beside them: ``motors``,
``counters``, ``points_acquired``, ``device_states``. What ``scan_info=`` gives is merged in, but for the keys
that say which scan it is, when it ran and how it ended (its ``channels``/``devices`` entries: what ours do not say);
its ``positioners``, ``channels``, ``devices`` and their entries must be dicts (``given_scan_info``, before the scan).

Examples
--------
>>> info = describe(SCANS[-1].plan, "test_session", None, None, None, 0)
>>> info["title"], info["type"], info["save"], "start_time" in info
('ascan roby 0 4 5 0', 'ascan', False, False)
"""

from __future__ import annotations

import functools
import getpass
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from bliss_shell import __version__
from bliss_shell.controllers.acquisition import DeviceState
from bliss_shell.data.blissdata import END_REASONS

from .chain import AcquisitionChain
from .plan import ScanPlan
from .records import channel_fullname
from .scan_identity import data_policy
from .scan_info_layout import layout

PUBLISHER = "bliss_shell"
# set by the scan, never by ``scan_info=`` (BLISS sets them after the user's scan_info too)
_OWN = ("session_name", "user_name", "data_policy", "data_writer", "publisher", "publisher_version", "save", "filename",
        "scan_nb", "name", "start_time", "end_time", "end_reason", "acquisition_chain", "points_acquired",
        "device_states")  # fmt: skip
# keys of ``scan_info=`` the scan adds its own to, and what it adds
_MERGED = {"positioners": "positioners_start, positioners_end, ...", "channels": "each channel's dim, device, ...",
           "devices": "each device's name, channels, ..."}  # fmt: skip


def given_scan_info(command: str, given: Any) -> dict[str, Any]:
    """What ``scan_info=`` gives a scan, checked before anything is numbered or moved; a copy of it.

    It must be a dict, and so must ``positioners``, ``channels`` and ``devices`` if it has them (and each entry
    of the last two), and ``plots`` a list: the scan adds its own to them. The keys that say which scan it is and how it ended are
    the scan's (``describe`` leaves out what ``scan_info=`` gives of them).

    Parameters
    ----------
    command : str
        The scan command, for the error (``loopscan``).
    given : dict or None
        What ``scan_info=`` gave (None: nothing).

    Returns
    -------
    dict
        A copy of it.

    Raises
    ------
    TypeError
        It, or one of those keys, is not a dict: the error names the key and what it must be.

    Examples
    --------
    >>> given_scan_info("loopscan", {"sample": "quartz", "channels": {"diode:diode": {"decimals": 2}}})
    {'sample': 'quartz', 'channels': {'diode:diode': {'decimals': 2}}}
    >>> given_scan_info("loopscan", {"positioners": None})
    Traceback (most recent call last):
    ...
    TypeError: loopscan: scan_info['positioners'] must be a dict, not None: the scan adds positioners_start, ...
    """
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise TypeError(f"{command}: scan_info must be a dict ({{'sample': 'quartz'}}), not {given!r}")
    for key, added in _MERGED.items():
        value = given.get(key, {})
        if not isinstance(value, Mapping):
            raise TypeError(f"{command}: scan_info[{key!r}] must be a dict, not {value!r}: the scan adds {added} to it")
        for name, entry in value.items() if key != "positioners" else ():
            if not isinstance(entry, Mapping):
                raise TypeError(f"{command}: scan_info[{key!r}][{name!r}] must be a dict of its metadata "
                                f"({{'unit': 'mm'}}), not {entry!r}: the scan adds its own to it")  # fmt: skip
    plots = given.get("plots", [])
    if not isinstance(plots, list):
        raise TypeError(f"{command}: scan_info['plots'] must be a list of plots ([{{'kind': 'curve-plot', 'items': []}}]), "
                        f"not {plots!r}: the scan adds its default plot to it")  # fmt: skip
    return dict(given)


@functools.cache
def _user() -> str:
    """Who runs the shell (``user_name``): looked up once, not at every scan."""
    return getpass.getuser()


def saving_facts(saving: Any) -> dict[str, Any]:
    """What a scan's info says of its saving, read from SCAN_SAVING once as the scan starts (``describe``'s ``saving``).

    Examples
    --------
    >>> saving_facts(SCAN_SAVING)
    {'data_policy': 'None', 'data_writer': 'nexus', 'separate_scan_files': False}
    """
    return {"data_policy": data_policy(saving), "data_writer": str(saving.writer),
            "separate_scan_files": bool(saving.number_in_path)}  # fmt: skip


def describe(plan: ScanPlan, session: str, path: str | None, start: datetime | None, end: datetime | None, points: int,
             device_states: dict[str, str] | None = None, *, chain: AcquisitionChain | None = None,
             number: int | None = None, saving: Mapping[str, Any] | None = None, end_state: Any = None,
             positioners: Mapping[str, Mapping[str, float | None]] | None = None) -> dict[str, Any]:  # fmt: skip
    """The scan's info as published and written, in BLISS's schema, with what ``scan_info=`` gave.

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
    chain : AcquisitionChain, optional
        Its chain: ``acquisition_chain``, ``devices`` and ``channels`` (left out when None).
    number : int, optional
        Its number, once numbered: ``scan_nb`` and ``name``.
    saving : dict, optional
        ``saving_facts`` of SCAN_SAVING as the scan started: ``data_policy``, ``data_writer``, ``writer_options``.
    end_state : EndState or str, optional
        How it ended (``'done'``, ``'aborted'``, ``'failed'``): ``end_reason``.
    positioners : dict, optional
        ``positioners_start``, ``positioners_dial_start``, ... as ``positioners_at`` makes them.

    Examples
    --------
    >>> s = SCANS[-1]
    >>> info = describe(s.plan, "test_session", s.path, None, None, 5, chain=s.chain, number=s.number,
    ...                 saving=saving_facts(SCAN_SAVING), end_state="done")
    >>> info["scan_nb"], info["name"], info["end_reason"], list(info["acquisition_chain"])
    (2, '2_ascan', 'SUCCESS', ['axis'])
    >>> info["channels"]["diode:diode"]["dim"], info["channels"]["diode:diode"]["device"]
    (0, 'axis:timer:diode')
    """
    info: dict[str, Any] = {key: value for key, value in plan.scan_info.items() if key not in _OWN}
    info.setdefault("title", plan.title)
    info.setdefault("type", plan.name)
    info.setdefault("npoints", plan.npoints)
    info.setdefault("count_time", plan.count_time)
    info.setdefault("sleep_time", plan.sleep_time)
    facts = saving or {"data_policy": data_policy(None), "data_writer": "nexus", "separate_scan_files": False}
    info.update(session_name=session, user_name=_user(), data_policy=facts["data_policy"],
                data_writer=facts["data_writer"], publisher=PUBLISHER, publisher_version=__version__, filename=path,
                save=path is not None)  # fmt: skip
    if path is not None:
        info["writer_options"] = {"chunk_options": {}, "separate_scan_files": facts["separate_scan_files"]}
    if number is not None:
        info["scan_nb"] = number
        info["name"] = f"{number}_{plan.name}" if path is not None else f"_{number}_{plan.name}"
    if start is not None:
        info["start_time"] = start.isoformat()
    if chain is not None:
        for part, described in describe_chain(chain, plan).items():  # a channel's meta of scan_info= kept, ours first
            given: dict[str, Any] = info[part] if isinstance(info.get(part), dict) else {}
            info[part] = {**given, **{key: {**given.get(key, {}), **value} for key, value in described.items()}}
        info.update(layout(plan, info["channels"], info["devices"]))  # BLISS's command sets them over the user's
    if positioners:
        info["positioners"] = {**info.get("positioners", {}), **{key: dict(value) for key, value in positioners.items()}}
    info.update(motors=[axis.name for axis in plan.axes], counters=[counter.name for counter in plan.counters],
                points_acquired=points)  # fmt: skip
    if device_states:
        info["device_states"] = dict(device_states)
    if end is not None:
        info["end_time"] = end.isoformat()
    if end_state is not None:
        info["end_reason"] = end_reason(end_state)
    return info


def end_reason(end_state: Any) -> str:
    """BLISS's ``end_reason`` of a scan that ended ``'done'``, ``'aborted'`` or ``'failed'`` (an ``EndState``).

    Examples
    --------
    >>> end_reason("done"), end_reason("aborted"), end_reason("failed")
    ('SUCCESS', 'USER_ABORT', 'FAILURE')
    """
    state = str(getattr(end_state, "value", end_state))
    if state not in END_REASONS:
        raise ValueError(f"end_reason: a scan ends {', '.join(map(repr, END_REASONS))}, not {state!r}")
    return END_REASONS[state]


def describe_chain(chain: AcquisitionChain, plan: ScanPlan | None = None) -> dict[str, Any]:
    """``acquisition_chain``, ``devices`` and ``channels`` of a scan's chain, as BLISS's scan_info has them.

    A device's key is its path in the chain (``axis:timer:diode``): its name is what follows the last ``:``,
    as readers of BLISS's keys take it. A channel's key is its fullname (``diode:diode``). The top master's
    own channels are its chain's ``master`` ones; Lima devices have ``type`` ``lima``, MCAs ``mca``.

    Examples
    --------
    >>> described = describe_chain(SCANS[-1].chain)
    >>> described["acquisition_chain"]["axis"]["master"]["scalars"], described["acquisition_chain"]["axis"]["scalars"]
    (['axis:roby'], ['timer:elapsed_time', 'timer:epoch', 'diode:diode'])
    >>> described["devices"]["axis:timer"]["triggered_devices"]
    ['axis:timer:diode']
    """
    keys: dict[int, str] = {}
    devices: dict[str, dict[str, Any]] = {}
    channels: dict[str, dict[str, Any]] = {}
    top = chain.top.device
    shapes: dict[str, list[str]] = {"scalars": [], "spectra": [], "images": []}
    master: dict[str, list[str]] = {"scalars": [], "spectra": [], "images": []}
    for node, parent in chain.walk():
        device = node.device
        key = keys[id(node)] = device.name if parent is None else f"{keys[id(parent)]}:{device.name}"
        names = []
        for channel in device.channels:
            fullname = channel_fullname(device.name, channel.name)
            names.append(fullname)
            meta: dict[str, Any] = {"display_name": channel.name.rsplit(":", 1)[-1], "dim": len(channel.shape)}
            if channel.unit:
                meta["unit"] = channel.unit
            meta["device"] = key
            channels[fullname] = meta
            kind = ("scalars", "spectra", "images")[min(len(channel.shape), 2)]
            (master if parent is None else shapes)[kind].append(fullname)
        described: dict[str, Any] = {"name": device.name, "channels": names}
        kind_of_device = _device_type(device)
        if kind_of_device:
            described["type"] = kind_of_device
        if node.children:
            described["triggered_devices"] = [f"{key}:{child.device.name}" for child in node.children]
        devices[key] = described
    if plan is not None:
        _axes_meta(plan, channels)
    top_chain = {"top_master": top.name, "devices": list(devices), **shapes, "master": master}
    return {"acquisition_chain": {top.name: top_chain}, "devices": devices, "channels": channels}


def _device_type(device: Any) -> str | None:
    """BLISS's device ``type``: the ``device_type`` its channels' sources declare (``lima``, ``mca``), else None."""
    for channel in device.channels:
        declared = getattr(channel.source, "device_type", None)  # counters and motors that have no type do not say
        if declared:
            return str(declared)
    return None


def _axes_meta(plan: ScanPlan, channels: dict[str, dict[str, Any]]) -> None:
    """What BLISS's scans say of their motors' channels: ``start``, ``stop``, ``points`` (a mesh's: ``layout``)."""
    positions = plan.positions
    if not plan.axes or positions is None or positions.ndim != 2 or not len(positions):
        return
    for index, axis in enumerate(plan.axes):
        meta = channels.get(channel_fullname("axis", axis.name))
        if meta is not None and index < positions.shape[1]:
            meta.update(start=float(positions[0, index]), stop=float(positions[-1, index]), points=len(positions))


def positioners_at(when: str, positions: Mapping[str, float], dial: Mapping[str, float] | None = None,
                   units: Mapping[str, str | None] | None = None) -> dict[str, dict[str, Any]]:  # fmt: skip
    """BLISS's ``positioners`` of a scan's info at its ``'start'`` or ``'end'``; a motor that could not be read: None.

    ``positioners_dial_<when>`` only when ``dial`` is given, ``positioners_units`` only at the start.

    Examples
    --------
    >>> positioners_at("start", {"roby": 1.0, "robz": float("nan")}, {"roby": 1.0, "robz": float("nan")})
    {'positioners_start': {'roby': 1.0, 'robz': None}, 'positioners_dial_start': {'roby': 1.0, 'robz': None}}
    """
    if when not in ("start", "end"):
        raise ValueError(f"positioners_at: when is 'start' or 'end', not {when!r}")

    def known(values: Mapping[str, float]) -> dict[str, float | None]:
        return {name: None if value is None or math.isnan(value) else float(value) for name, value in values.items()}

    described: dict[str, dict[str, Any]] = {f"positioners_{when}": known(positions)}
    if dial is not None:
        described[f"positioners_dial_{when}"] = known(dial)
    if units is not None and when == "start":
        described["positioners_units"] = dict(units)
    return described


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
