"""An ended dataset in its files (ESRF data policy): its metadata in every entry, its entries linked from master files.

``scanning/esrf_saving.py`` decides when a dataset ends and where its files are; the writing is here.

Examples
--------
A copy of the file of ``loopscan(5, 0, diode)`` then ``ascan(roby, 0, 4, 5, 0, diode)`` as dataset ``sample_0001``,
its entries linked from the proposal's master file:

>>> import h5py, shutil, tempfile
>>> folder = tempfile.mkdtemp()
>>> dataset_file = shutil.copy(SCANS[-1].path, f"{folder}/sample_0001.h5")
>>> metadata = {"proposal": "hg123", "beamline": "id00", "collection": "sample", "sample": "sample",
...             "dataset": "0001", "start_time": "", "end_time": "2026-12-07T10:00:00+01:00"}
>>> end_dataset(dataset_file, metadata, [f"{folder}/hg123_id00.h5"], "sample_0001")
>>> with h5py.File(f"{folder}/hg123_id00.h5", "r") as master:
...     sorted(master), master["sample_0001_2.1/dataset/proposal"].asstr()[()]
(['sample_0001_1.1', 'sample_0001_2.1'], 'hg123')
>>> shutil.rmtree(folder)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .nexus import CREATOR, PUBLISHER
from .recovery import writer_lock

if TYPE_CHECKING:
    import h5py


def end_dataset(filename: str, metadata: Mapping[str, str | None], masters: Sequence[str], prefix: str) -> None:
    """Write a dataset's metadata into every entry of its file, then link each entry from each master file.

    Parameters
    ----------
    filename : str
        The dataset's file (it exists).
    metadata : mapping
        ``proposal``, ``beamline``, ``collection``, ``sample``, ``dataset``, ``start_time``, ``end_time``; an empty
        ``start_time`` is the earliest of the entries' own (the dataset started with its first scan).
    masters : sequence of str
        The master files (made if needed): each gets an external link ``<prefix>_<entry>`` per entry, relative to
        its folder, and keeps the links it has.
    prefix : str
        The dataset's name in the master files, ``<collection>_<dataset>``.

    Raises
    ------
    RuntimeError
        Another shell's scan is writing the file: nothing was written.
    """
    import h5py

    with writer_lock(filename) as free:
        if not free:
            raise RuntimeError(f"{filename} is being written by another shell; end the dataset once its scan ended")
        with h5py.File(filename, "a") as file:
            entries = [name for name, item in file.items() if item.attrs.get("NX_class") == "NXentry"]
            written = dict(metadata)
            if not written["start_time"]:
                starts = [_text(file[entry].get("start_time")) for entry in entries]
                written["start_time"] = min((start for start in starts if start), default="")
            for entry in entries:
                _write_metadata(file[entry], written)
    for master in masters:
        with h5py.File(master, "a") as file:
            file.attrs["NX_class"] = "NXroot"
            file.attrs["creator"], file.attrs["publisher"] = CREATOR, PUBLISHER
            for entry in entries:
                link = f"{prefix}_{entry}"
                if link not in file:
                    file[link] = h5py.ExternalLink(os.path.relpath(filename, os.path.dirname(master)), f"/{entry}")


def _text(dataset: Any) -> str:
    if dataset is None:
        return ""
    value = dataset[()]
    return value.decode() if isinstance(value, bytes) else str(value)


def _write_metadata(entry: h5py.Group, metadata: Mapping[str, str | None]) -> None:
    """``sample`` (NXsample, its name) and ``dataset`` (NXcollection: proposal, beamline, collection, dataset, times)."""
    for group_name, nx_class, fields in (
        ("sample", "NXsample", {"name": metadata["sample"]}),
        ("dataset", "NXcollection", metadata),
    ):
        group = entry.require_group(group_name)
        group.attrs["NX_class"] = nx_class
        for key, value in fields.items():
            if key in group:
                del group[key]
            group[key] = value
