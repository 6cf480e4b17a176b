"""The small objects of a scan entry (numbers, texts, ``NX_class`` attributes), made through h5py's low-level API.

A scan entry holds dozens of them (every motor's position four times over, each group's ``NX_class``);
h5py's high-level ``group[name] = value`` and ``attrs[name] = value`` cost 50 to 140 us each, most of
it Python, which a short scan pays before and after its points. These make the same objects (the same
types, no timestamps, as h5py makes them) in a fifth of that time.

Examples
--------
>>> import h5py
>>> with h5py.File(SCAN_SAVING.get_path() + "/scalars.h5", "w") as file:
...     group = file.create_group("positioners")
...     text_attribute(group, "NX_class", "NXcollection")
...     number(group, "roby", 1.5)
...     text(group, "mode", "MEAN")
...     dict(group.attrs), group["roby"][()], group["mode"].asstr()[()]
({'NX_class': 'NXcollection'}, np.float64(1.5), 'MEAN')
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import h5py


class _Shared(NamedTuple):
    """The low-level objects every small object is made with."""

    scalar: Any  # the dataspace of one value
    text: np.dtype  # a Python str in h5py: variable-length UTF-8
    text_type: Any  # its HDF5 type
    untimed: Any  # dataset creation without timestamps, as h5py creates datasets


@cache
def _shared() -> _Shared:
    """Made on first use (h5py loads with the first saved scan, not with the session)."""
    import h5py

    text = h5py.string_dtype()
    untimed = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    untimed.set_obj_track_times(False)
    return _Shared(h5py.h5s.create(h5py.h5s.SCALAR), text, h5py.h5t.py_create(text, logical=True), untimed)


def number(group: h5py.Group, name: str, value: float) -> None:
    """``group[name] = float(value)``: a scalar float64 dataset."""
    import h5py

    if not name.isascii():  # h5py marks such a link name UTF-8
        group[name] = float(value)
        return
    shared = _shared()
    dataset = h5py.h5d.create(group.id, name.encode(), h5py.h5t.IEEE_F64LE, shared.scalar, dcpl=shared.untimed)
    dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(value, dtype="<f8"))


def text(group: h5py.Group, name: str, value: str) -> None:
    """``group[name] = value`` for a str: a scalar variable-length UTF-8 dataset."""
    import h5py

    if not name.isascii():
        group[name] = value
        return
    shared = _shared()
    dataset = h5py.h5d.create(group.id, name.encode(), shared.text_type, shared.scalar, dcpl=shared.untimed)
    dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(value, dtype=shared.text))


def set_number(group: h5py.Group, name: str, value: float) -> None:
    """Write ``value`` into the scalar float dataset ``name`` of ``group`` (``group[name][()] = value``)."""
    import h5py

    h5py.h5d.open(group.id, name.encode()).write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(value, dtype="<f8"))


def text_attribute(node: h5py.HLObject, name: str, value: str) -> None:
    """``node.attrs[name] = value`` for a str (replacing what was there): a variable-length UTF-8 attribute."""
    import h5py

    key = name.encode()
    if h5py.h5a.exists(node.id, key):
        h5py.h5a.delete(node.id, key)
    shared = _shared()
    attribute = h5py.h5a.create(node.id, key, shared.text_type, shared.scalar)
    attribute.write(np.array(value, dtype=shared.text))
