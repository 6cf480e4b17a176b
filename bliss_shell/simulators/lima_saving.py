"""The frame files of our LimaCCDs simulator: the real server's HDF5 layout, its overwrite policy, its folder checks.

Frames go to ``<directory>/<prefix><index><suffix>``, ``saving_frame_per_file`` to a file, dataset
``entry_0000/<instrument>/<detector>/data`` with the soft link ``entry_0000/measurement/data`` (Lima core,
``CtSaving_Hdf5.cpp``). As Lima core's ``CtSaving`` (``Stream::checkDirectoryAccess``, ``checkWriteAccess``):
``saving_directory`` takes a folder that exists or whose parent exists (an empty name is refused),
``prepareAcq`` in ``AUTO_FRAME`` creates the missing last folder, and under ABORT a file that exists refuses
``prepareAcq`` while one that appears during the acquisition stops it. As Lima-tango-python's ``LimaCCDs.py``,
writing ``saving_prefix`` sets ``saving_next_number`` (after the files already there under ABORT, else 0),
and writing ``saving_format`` sets ``saving_suffix`` (``.h5`` for HDF5).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np
from tango import Except

from bliss_shell.controllers.lima_protocol import DISK_FULL, saved_frame

FORMAT_SUFFIXES = {"HDF5": ".h5"}  # saving_format: the suffix writing it sets (CtSaving::setFormatSuffix)


def _refuse(message: str, origin: str) -> None:
    Except.throw_exception("LIMA_SAVING", message, origin)


def check_directory(directory: str) -> None:
    """``saving_directory``: a folder that exists, or whose parent does (the last folder is made at ``prepareAcq``).

    As Lima core: the folder kept must be a writable directory; an empty name is refused (no folder).
    """
    checked = directory
    if not os.access(checked, os.F_OK):  # then its parent must exist
        stripped = directory.rstrip("/")
        checked = stripped.rpartition("/")[0] if "/" in stripped else stripped
        if not os.access(checked, os.F_OK):
            _refuse(f"Directory :{checked} doesn't exist", "CtSaving::Stream::checkDirectoryAccess")
    if not os.path.isdir(checked):
        _refuse(f"Path : {checked} is not a directory", "CtSaving::Stream::checkDirectoryAccess")
    if not os.access(checked, os.W_OK):
        _refuse(f"Directory : {checked} is not writable", "CtSaving::Stream::checkDirectoryAccess")


def next_number(directory: str, prefix: str, suffix: str, policy: str) -> int:
    """The ``saving_next_number`` writing ``saving_prefix`` sets: after the last file of that name under ABORT, else 0.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "cam_0004.h5").write_bytes(b""), (folder / "cam_x.h5").write_bytes(b"")
    >>> next_number(str(folder), "cam_", ".h5", "ABORT"), next_number(str(folder), "cam_", ".h5", "OVERWRITE")
    (5, 0)
    """
    if policy != "ABORT":
        return 0
    last = -1
    for path in glob.glob(os.path.join(glob.escape(directory), f"{glob.escape(prefix)}*{glob.escape(suffix)}")):
        name = os.path.basename(path)
        try:
            last = max(last, int(name[len(prefix) : len(name) - len(suffix)]))
        except ValueError:
            continue
    return last + 1


def prepare_saving(settings: Mapping[str, Any]) -> None:
    """What ``prepareAcq`` checks in ``AUTO_FRAME``: the folder (made when missing), then ABORT's files in the way."""
    if settings["saving_mode"] != "AUTO_FRAME":
        return
    directory = settings["saving_directory"]
    if os.access(directory, os.F_OK):
        if not os.path.isdir(directory):
            _refuse(f"Path : {directory} is not a directory", "CtSaving::Stream::checkWriteAccess")
        if not os.access(directory, os.W_OK):
            _refuse(f"Directory : {directory} is not writable", "CtSaving::Stream::checkWriteAccess")
    else:
        try:
            os.mkdir(directory, 0o777)
        except OSError:
            _refuse(f"Directory : {directory} can't be created", "CtSaving::Stream::checkWriteAccess")
        return  # a new folder holds no file
    check_overwrite(settings)


def check_overwrite(settings: Mapping[str, Any]) -> None:
    """PrepareAcq under ABORT: refused if a file the acquisition would write exists (as Lima core's check)."""
    if settings["saving_mode"] != "AUTO_FRAME" or settings["saving_overwrite_policy"] != "ABORT":
        return
    frames = max(1, settings["acq_nb_frames"])
    per_file = max(1, settings["saving_frame_per_file"])
    for first in range(0, frames, per_file):  # the first frame of each file
        path, _ = saved_frame(settings, first)
        if os.path.exists(path):
            _refuse(f"File : {os.path.basename(path)} already exist", "CtSaving::Stream::checkWriteAccess")


class SavingFailed(Exception):
    """A frame could not be saved; the message is the real server's ``acq_status_fault_error``."""


DISK_FULL_BLOCKS = 1024  # fewer free blocks (or inodes) than this after a failed write: a full disk, as for Lima core


def write_error(directory: str) -> str:
    """Lima core's words for a frame it could not write: ``Saving: disk full`` when the disk has next to no room left.

    As ``CtSaving``: fewer than 1024 free blocks or inodes in the folder's file system is a full disk,
    any other failure an unknown error. A file system that counts no inodes (btrfs) is judged on its blocks.

    Examples
    --------
    >>> write_error("/tmp")  # a failure on a disk with room
    'Saving: unknown error'
    """
    try:
        space = os.statvfs(directory)
    except OSError:
        return "Saving: unknown error"
    no_inodes = space.f_files > 0 and space.f_favail < DISK_FULL_BLOCKS
    return DISK_FULL if space.f_bavail < DISK_FULL_BLOCKS or no_inodes else "Saving: unknown error"


def release(file: h5py.File) -> None:
    """Close a file HDF5 failed to write (a full disk), sending what it still holds to ``/dev/null``.

    libhdf5 crashes the whole process when it closes, or frees at exit, a file whose writes failed:
    its file descriptor is pointed at ``/dev/null`` first, so the close succeeds; what it flushed
    before stays in the file on disk, readable.
    """
    null = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(null, file.id.get_vfd_handle())
    finally:
        os.close(null)
    file.close()


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
        """Frame ``index`` to its file; False when ABORT finds the file there already (the acquisition faults).

        Raises
        ------
        SavingFailed
            The file cannot be opened (its folder was removed, ...) or written (a full disk): the file is
            closed then, with the frames written before.
        """
        path, _ = saved_frame(settings, index)
        file = self._files.get(path)
        if file is None:
            mode = "x" if settings["saving_overwrite_policy"] == "ABORT" else "w"
            try:
                file = self._files[path] = h5py.File(path, mode)
            except FileExistsError:
                return False  # "Saving: overwrite error"
            except OSError as error:
                raise SavingFailed("Saving: file open error") from error
        try:
            if dataset_path not in file:
                _create_frames(file, dataset_path, frame)
            dataset = file[dataset_path]
            dataset.resize(dataset.shape[0] + 1, axis=0)
            dataset[-1] = frame
            file.flush()
        except Exception as error:  # whatever libhdf5 raises when the disk refuses (RuntimeError, OSError)
            release(self._files.pop(path))
            raise SavingFailed(write_error(settings["saving_directory"])) from error
        return True

    def close(self) -> None:
        """Close the files: the acquisition is over (one that cannot be flushed any more is released)."""
        for file in self._files.values():
            try:
                file.flush()
            except Exception:  # a full disk: nothing more can be written to it
                release(file)
            else:
                file.close()
        self._files.clear()


def _create_frames(file: h5py.File, dataset_path: str, frame: np.ndarray) -> None:
    """The frames' dataset of a new file, growing by one frame at a time, with the real files' soft link and classes."""
    file.create_dataset(
        dataset_path, shape=(0, *frame.shape), maxshape=(None, *frame.shape), dtype=frame.dtype, chunks=(1, *frame.shape),
    )  # fmt: skip
    file["entry_0000/measurement/data"] = h5py.SoftLink("/" + dataset_path)  # as the real files have
    _add_nexus_classes(file, dataset_path)


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
