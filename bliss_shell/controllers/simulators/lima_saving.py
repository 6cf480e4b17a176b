"""The frame files of our LimaCCDs simulator: the real server's HDF5 layout and its overwrite policy.

Frames go to ``<directory>/<prefix><index><suffix>``, ``saving_frame_per_file`` to a file, dataset
``entry_0000/<instrument>/<detector>/data`` with the soft link ``entry_0000/measurement/data`` (Lima core,
``CtSaving_Hdf5.cpp``). Under ABORT a file that exists refuses ``prepareAcq``, and one that appears
during the acquisition stops it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np
from tango import Except

from ..lima_protocol import saved_frame


def check_overwrite(settings: Mapping[str, Any]) -> None:
    """PrepareAcq under ABORT: refused if a file the acquisition would write exists (as Lima core's check)."""
    if settings["saving_mode"] != "AUTO_FRAME" or settings["saving_overwrite_policy"] != "ABORT":
        return
    frames = max(1, settings["acq_nb_frames"])
    per_file = max(1, settings["saving_frame_per_file"])
    for first in range(0, frames, per_file):  # the first frame of each file
        path, _ = saved_frame(settings, first)
        if os.path.exists(path):
            Except.throw_exception("SAVING_OVERWRITE", f"File : {os.path.basename(path)} already exist", "LimaCCDs.prepareAcq")


class FrameFiles:
    """The files of one acquisition, open until it ends.

    Examples
    --------
    >>> import shutil, tempfile
    >>> settings = {"saving_directory": tempfile.mkdtemp(), "saving_prefix": "cam_", "saving_suffix": ".h5",
    ...             "saving_index_format": "%04d", "saving_next_number": 0, "saving_frame_per_file": 100,
    ...             "saving_overwrite_policy": "ABORT"}
    >>> files = FrameFiles()
    >>> files.save(settings, "entry_0000/instrument/cam/data", 0, np.zeros((4, 6), dtype=np.uint16))
    True
    >>> files.close()
    >>> FrameFiles().save(settings, "entry_0000/instrument/cam/data", 0, np.zeros((4, 6), dtype=np.uint16))
    False
    >>> shutil.rmtree(settings["saving_directory"])

    The second acquisition finds ``cam_0000.h5`` there already: under ABORT it is not overwritten.
    """

    def __init__(self) -> None:
        self._files: dict[str, h5py.File] = {}

    def save(self, settings: Mapping[str, Any], dataset_path: str, index: int, frame: np.ndarray) -> bool:
        """Frame ``index`` to its file; False when ABORT finds the file there already (the acquisition faults)."""
        path, _ = saved_frame(settings, index)
        file = self._files.get(path)
        if file is None:
            os.makedirs(settings["saving_directory"], exist_ok=True)
            mode = "x" if settings["saving_overwrite_policy"] == "ABORT" else "w"
            try:
                file = self._files[path] = h5py.File(path, mode)
            except FileExistsError:
                return False
            file.create_dataset(
                dataset_path, shape=(0, *frame.shape), maxshape=(None, *frame.shape), dtype=frame.dtype, chunks=(1, *frame.shape),
            )  # fmt: skip
            file["entry_0000/measurement/data"] = h5py.SoftLink("/" + dataset_path)  # as the real files have
            _add_nexus_classes(file, dataset_path)
        dataset = file[dataset_path]
        dataset.resize(dataset.shape[0] + 1, axis=0)
        dataset[-1] = frame
        file.flush()
        return True

    def close(self) -> None:
        """Close the files: the acquisition is over."""
        for file in self._files.values():
            file.close()
        self._files.clear()


def _add_nexus_classes(file: h5py.File, dataset_path: str) -> None:
    """Mark the file's groups with the NeXus classes Lima core writes, and the frames as images.

    The classes are NXroot, NXentry, NXinstrument, NXdetector and NXcollection, so NeXus validators
    and readers walk the file.
    """
    file.attrs["NX_class"] = "NXroot"
    entry, instrument, detector, _ = dataset_path.split("/", 3)
    classes = {entry: "NXentry", f"{entry}/{instrument}": "NXinstrument", f"{entry}/{instrument}/{detector}": "NXdetector",
               f"{entry}/measurement": "NXcollection"}  # fmt: skip
    for group, nx_class in classes.items():
        file[group].attrs["NX_class"] = nx_class
    file[dataset_path].attrs["interpretation"] = "image"
