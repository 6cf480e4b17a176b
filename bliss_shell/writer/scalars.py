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

import h5py
import numpy as np

_SCALAR = h5py.h5s.create(h5py.h5s.SCALAR)
_TEXT = h5py.string_dtype()  # a Python str in h5py: variable-length UTF-8
_TEXT_TYPE = h5py.h5t.py_create(_TEXT, logical=True)
_UNTIMED = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
_UNTIMED.set_obj_track_times(False)  # as h5py creates datasets


def number(group: h5py.Group, name: str, value: float) -> None:
    """``group[name] = float(value)``: a scalar float64 dataset."""
    if not name.isascii():  # h5py marks such a link name UTF-8
        group[name] = float(value)
        return
    dataset = h5py.h5d.create(group.id, name.encode(), h5py.h5t.IEEE_F64LE, _SCALAR, dcpl=_UNTIMED)
    dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(value, dtype="<f8"))


def text(group: h5py.Group, name: str, value: str) -> None:
    """``group[name] = value`` for a str: a scalar variable-length UTF-8 dataset."""
    if not name.isascii():
        group[name] = value
        return
    dataset = h5py.h5d.create(group.id, name.encode(), _TEXT_TYPE, _SCALAR, dcpl=_UNTIMED)
    dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(value, dtype=_TEXT))


def set_number(group: h5py.Group, name: str, value: float) -> None:
    """Write ``value`` into the scalar float dataset ``name`` of ``group`` (``group[name][()] = value``)."""
    h5py.h5d.open(group.id, name.encode()).write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(value, dtype="<f8"))


def text_attribute(node: h5py.HLObject, name: str, value: str) -> None:
    """``node.attrs[name] = value`` for a str (replacing what was there): a variable-length UTF-8 attribute."""
    key = name.encode()
    if h5py.h5a.exists(node.id, key):
        h5py.h5a.delete(node.id, key)
    attribute = h5py.h5a.create(node.id, key, _TEXT_TYPE, _SCALAR)
    attribute.write(np.array(value, dtype=_TEXT))
