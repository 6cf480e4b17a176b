"""Where things go in a scan entry, and how an entry is found again, in this layout or in the older one.

The layout is BLISS's NeXus writer's: ``/N.1``, ``instrument/<device>``, ``measurement/<name>`` soft links.
``instrument/<group>`` holds each channel's data once: ``value`` of an NXpositioner for a motor, ``data``
of an NXdetector for a counter and for the timer's ``elapsed_time`` and ``epoch``. ``measurement/<name>``
links to it (short name, or ``controller:name`` where two short names clash, as the file always named
them), and so does the ``plot`` NXdata. Files written before this layout have ``N_name`` entries whose
``measurement`` holds the datasets themselves; ``find_entry`` and ``highest_scan_number`` read both.

Examples
--------
The file of ``loopscan(5, 0, diode)`` then ``ascan(roby, 0, 4, 5, 0, diode)``:

>>> import h5py
>>> file = h5py.File(SCANS[-1].path, "r")
>>> list(file)
['1.1', '2.1']
>>> entry = file["2.1"]
>>> list(entry)
['end_time', 'instrument', 'measurement', 'plot', 'scan_info', 'start_time', 'title', 'writer']
>>> entry["title"].asstr()[()], entry["writer/status"].asstr()[()]
('ascan roby 0 4 5 0', 'SUCCEEDED')
>>> list(entry["measurement"])
['diode', 'elapsed_time', 'epoch', 'roby']
>>> entry["measurement/roby"][()]
array([0., 1., 2., 3., 4.])
>>> entry["measurement"].get("roby", getlink=True).path
'/2.1/instrument/roby/value'
>>> entry["instrument/roby/value"].attrs["units"]
'mm'
>>> list(entry["instrument/positioners"])
['roby', 'robz', 'slowy']
>>> dict(entry["plot"].attrs)
{'NX_class': 'NXdata', 'axes': 'roby', 'signal': 'diode'}
>>> file.close()
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .known_files import known, remember
from .scalars import number, set_number, text, text_attribute

if TYPE_CHECKING:
    import h5py

MOTOR_PREFIX = "axis:"  # the step and continuous motor masters
TIMER_PREFIX = "timer:"
_INTERPRETATION = {1: "spectrum", 2: "image"}  # by the number of dimensions of one point
_KIND = {0: "point", 1: "spectrum", 2: "image"}
POSITIONER_GROUPS = ("positioners_start", "positioners_end", "positioners_dial_start", "positioners_dial_end")


def entry_name(number: int, subscan: int = 1) -> str:
    """The entry of scan ``number`` in its file: ``1.1`` is scan 1, its first (and here only) sub-scan.

    A command with several top masters would add ``1.2``.

    Examples
    --------
    >>> entry_name(3)
    '3.1'
    """
    return f"{number}.{subscan}"


def group_name(dataset_name: str) -> str:
    """The ``instrument`` group of a channel: its dataset name, ``:`` made ``_`` (NeXus names are identifiers).

    Examples
    --------
    >>> group_name("sim:c1")
    'sim_c1'
    """
    return dataset_name.replace(":", "_")


def create_groups(entry: h5py.Group, names: Sequence[str], fullnames: Sequence[str], shapes: Sequence[tuple[int, ...]],
                  positions: Mapping[str, float], dial: Mapping[str, float]) -> dict[str, str]:  # fmt: skip
    """Create ``instrument`` (with the positioners) and ``measurement``; return each dataset's path in the entry.

    The paths are keyed by dataset name; the datasets themselves are created by the caller at those paths.
    """
    import h5py

    instrument = _group(entry, "instrument", "NXinstrument")
    measurement = _group(entry, "measurement", "NXcollection")
    paths = {}
    for name, fullname, shape in zip(names, fullnames, shapes):
        motor = fullname.startswith(MOTOR_PREFIX)
        device = _group(instrument, group_name(name), "NXpositioner" if motor else "NXdetector")
        paths[name] = f"instrument/{device.name.rsplit('/', 1)[1]}/{'value' if motor else 'data'}"
        if not motor and not fullname.startswith(TIMER_PREFIX):
            text(device, "mode", "MEAN" if not shape else "SINGLE")
            text(device, "type", _KIND.get(len(shape), "array"))
        measurement[name] = h5py.SoftLink(f"{entry.name}/{paths[name]}")
    _create_positioners(entry, instrument, names, fullnames, paths, positions, dial)
    return paths


def _create_positioners(entry: h5py.Group, instrument: h5py.Group, names: Sequence[str], fullnames: Sequence[str],
                        paths: Mapping[str, str], positions: Mapping[str, float], dial: Mapping[str, float]) -> None:  # fmt: skip
    """Create the positioner groups of ``instrument``.

    ``positioners``: the scanned motors' values (links), every other motor where it was at the start;
    ``positioners_start``/``_end`` and ``positioners_dial_start``/``_end``: every motor, user and dial, at
    the start and the end (the ends NaN until the scan ends: written before SWMR, filled in then).
    """
    import h5py

    scanned = {
        fullname[len(MOTOR_PREFIX) :]: name for name, fullname in zip(names, fullnames) if fullname.startswith(MOTOR_PREFIX)
    }
    positioners = _group(instrument, "positioners", "NXcollection")
    for motor, position in positions.items():
        if motor in scanned:
            positioners[motor] = h5py.SoftLink(f"{entry.name}/{paths[scanned[motor]]}")
        else:
            number(positioners, motor, position)
    for title, start in zip(POSITIONER_GROUPS, (positions, None, dial, None)):
        group = _group(instrument, title, "NXcollection")
        for motor in positions:
            number(group, motor, start.get(motor, np.nan) if start is not None else np.nan)


def fill_end_positions(entry: h5py.Group, positions: Mapping[str, float], dial: Mapping[str, float]) -> None:
    """The motors' user and dial positions at the end, into the datasets ``create_groups`` made."""
    for group_path, values in (("instrument/positioners_end", positions), ("instrument/positioners_dial_end", dial)):
        group = entry.get(group_path)
        for motor, position in values.items():
            if group is not None and motor in group:
                set_number(group, motor, position)


def interpretation(shape: tuple[int, ...]) -> str | None:
    """``spectrum`` for a 1D point (an MCA), ``image`` for a 2D one: how silx and PyMca show them.

    Examples
    --------
    >>> interpretation(()), interpretation((1024,)), interpretation((512, 256))
    (None, 'spectrum', 'image')
    """
    return _INTERPRETATION.get(len(shape))


def find_entry(file: h5py.File, number: int, name: str) -> h5py.Group:
    """Scan ``number``'s entry: ``N.1`` (this layout) or ``N_name`` (files written before it).

    Raises
    ------
    KeyError
        The file has neither.
    """
    for candidate in (entry_name(number), f"{number}_{name}"):
        if candidate in file:
            return file[candidate]
    raise KeyError(f"{file.filename} has no entry for scan {number} ({entry_name(number)} or {number}_{name})")


def entry_number(entry: str) -> int | None:
    """The scan number of an entry name: ``3`` of ``3.1``, ``3.2`` and of an older file's ``3_ascan``.

    Examples
    --------
    >>> entry_number("3.1"), entry_number("3_ascan"), entry_number("plot")
    (3, 3, None)
    """
    head = entry.split(".", 1)[0] if "." in entry else entry.split("_", 1)[0]
    return int(head) if head.isdigit() else None


def highest_scan_number(filename: str) -> int:
    """The highest scan number of the entries of an existing file (0 when none), in either layout.

    Examples
    --------
    >>> highest_scan_number(SCANS[-1].path)
    2
    >>> highest_scan_number("/tmp/no/such/file.h5")
    0
    """
    seen = known(filename)
    if seen is not None and seen.highest is not None:  # unchanged since this process read or wrote it
        return seen.highest
    import h5py

    if not os.path.exists(filename) or not h5py.is_hdf5(filename):
        return 0
    with h5py.File(filename, "r", locking=False) as file:
        numbers = [entry_number(name) for name in file]
    highest = max((number for number in numbers if number is not None), default=0)
    remember(filename, highest=highest)
    return highest


def read_measurement(filename: str, number: int, name: str) -> dict[str, np.ndarray]:
    """Every dataset of scan ``number``'s ``measurement`` group, by dataset name (links followed).

    Examples
    --------
    >>> data = read_measurement(SCANS[-1].path, 2, "ascan")
    >>> sorted(data)
    ['diode', 'elapsed_time', 'epoch', 'roby']
    >>> data["roby"]
    array([0., 1., 2., 3., 4.])
    """
    import h5py

    with h5py.File(filename, "r", locking=False) as file:
        return {key: dataset[()] for key, dataset in find_entry(file, number, name)["measurement"].items()}


def _group(parent: h5py.Group, name: str, nx_class: str) -> Any:
    """The group ``name`` of ``parent`` (made if needed), of NeXus class ``nx_class``."""
    group = parent.require_group(name)
    text_attribute(group, "NX_class", nx_class)
    return group
