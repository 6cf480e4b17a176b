"""Writing a scan into a NeXus/HDF5 file, a peer of the Redis publisher.

The scan loop hands points over and goes on; one greenlet writes what has accumulated
through gevent's thread pool (h5py calls block), so a slow disk never stops the hub.
The file is in SWMR mode during the scan and flushed after every batch (whatever
accumulated while the previous one was written), so readers opening it with
``swmr=True`` see points arrive within a write's time. What the scan writes again at
its end (end positions, status, scan_info) is created before SWMR starts, because SWMR
allows writing data but not creating objects.

The entry's ``end_time`` is the exception, on purpose: it is the last object of the entry,
created once the scan has ended (the file closed, then opened again without SWMR, with the
images' links), as BLISS's writer does. BLISS's readers take its presence as "this scan
ended": ewoksdata's ``get_data`` and blissdata's ``dynamic_hdf5`` (under ewoksdata's
``iter_bliss_scan_data``) wait for it, so they wait for a running scan's last point. They
look at the root's ``creator``/``publisher`` too: see ``CREATOR`` and ``PUBLISHER``.
"""

from __future__ import annotations

import errno
import os
import resource
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import gevent
import numpy as np

from bliss_shell.comm.json_text import json_text
from bliss_shell.comm.point_buffer import PointBuffer

from . import guard
from .image_links import ImageFrames, add_image_links
from .known_files import known, remember
from .layout import create_groups, entry_number, fill_end_positions, interpretation
from .recovery import WriterLock, recover, writer_lock
from .scalars import text, text_attribute

if TYPE_CHECKING:
    import h5py

CREATOR = "bliss_shell"  # the root's ``creator``: the program that wrote the file
# The root's ``publisher``: the scans follow BLISS's model, and the entries its writer's rule that ``end_time``
# comes last. ewoksdata waits for a running scan only in files whose creator or publisher is "bliss" or
# "blissdata"; the file says which program wrote it in ``creator`` (docs/saving.md).
PUBLISHER = "bliss"
_STATUS_LENGTH = 1024


class Channel(Protocol):
    """What the writer needs of a channel (read-only: a frozen dataclass qualifies)."""

    @property
    def name(self) -> str:
        """The short name: ``'diode'``."""
        ...

    @property
    def fullname(self) -> str:
        """``controller:name``: ``'diode:diode'``; the key of its values in the points."""
        ...

    @property
    def dtype(self) -> np.dtype:
        """The type of its values."""
        ...

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one point: ``()`` for a scalar, ``(1024,)`` for a spectrum."""
        ...

    @property
    def unit(self) -> str | None:
        """The unit, written as the dataset's ``units`` (None: none)."""
        ...


class SavingError(Exception):
    """The scan's file cannot be written; the message says which file and why."""


def check_target(filename: str) -> None:
    """Check, before anything moves, that a scan can be saved in ``filename``.

    Makes the folder if needed; finishes a file whose writer died (``recovery.py``).

    Raises
    ------
    SavingError
        The folder cannot be made or written, the file is not HDF5, a live writer holds it, or a dead
        writer's file cannot be finished.

    Examples
    --------
    >>> check_target(SCANS[-1].path)
    >>> check_target(SCAN_SAVING.get_path() + "/test_session_logbook.txt")
    Traceback (most recent call last):
    ...
    bliss_shell.writer.nexus.SavingError: /.../test_session_logbook.txt exists and is not an HDF5 file; move it away or change SCAN_SAVING.data_filename
    """
    import h5py

    folder = os.path.dirname(filename)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise SavingError(f"cannot create the saving folder {folder}: {error.strerror}; check SCAN_SAVING.base_path") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SavingError(f"the saving folder {folder} is not writable; check SCAN_SAVING.base_path")
    if known(filename) is None and os.path.exists(filename) and not h5py.is_hdf5(filename):
        raise SavingError(f"{filename} exists and is not an HDF5 file; move it away or change SCAN_SAVING.data_filename")
    with writer_lock(filename) as free:
        if not free:
            raise SavingError(f"{filename} is being written by another shell; wait for its scan to end or change "
                              "SCAN_SAVING.data_filename")  # fmt: skip
    try:
        recover(filename)
    except OSError as error:
        raise SavingError(f"{filename} was left open by a shell that died and cannot be finished: {_reason(error)}; "
                          "move it away or change SCAN_SAVING.data_filename") from None  # fmt: skip


def dataset_names(channels: Sequence[Channel]) -> list[str]:
    """The channels' dataset names: short names, or the fullname where two channels share a short name.

    Examples
    --------
    >>> from bliss_shell.data.publisher import ChannelSpec
    >>> f8 = np.dtype("float64")
    >>> channels = [ChannelSpec("s:1_ascan:axis:roby", "roby", "axis:roby", f8),
    ...             ChannelSpec("s:1_ascan:axis:timer:sim:c1", "c1", "sim:c1", f8),
    ...             ChannelSpec("s:1_ascan:axis:timer:sim2:c1", "c1", "sim2:c1", f8)]
    >>> dataset_names(channels)
    ['roby', 'sim:c1', 'sim2:c1']
    """
    short = [channel.name for channel in channels]
    return [c.name if short.count(c.name) == 1 else c.fullname for c in channels]


class NexusScanWriter:
    """Writes one scan entry, in the layout of BLISS's NeXus writer (``layout.py``).

    ``start``, then ``add_points`` as often as needed (it returns at once: a greenlet writes), then
    ``end``, always, which closes the file.

    Parameters
    ----------
    filename : str
        The HDF5 file; made if needed, the entry added to it.
    entry : str
        The entry's name: ``'1.1'`` (``entry_name``).
    channels : sequence of Channel
        What the points hold: each one's dataset is made at ``start``.
    plot : tuple
        ``(signal, axes)``: the dataset names of the ``plot`` NXdata silx draws on opening the file
        (signal None: no plot).
    max_pending : int, optional
        Points that may wait for the disk before ``add_points`` waits too.

    Examples
    --------
    >>> from datetime import datetime
    >>> from bliss_shell.data.publisher import ChannelSpec
    >>> from bliss_shell.writer import read_measurement
    >>> f8 = np.dtype("float64")
    >>> channels = [ChannelSpec("demo:1_ascan:axis:roby", "roby", "axis:roby", f8, unit="mm"),
    ...             ChannelSpec("demo:1_ascan:axis:timer:diode:diode", "diode", "diode:diode", f8)]
    >>> filename = SCAN_SAVING.get_path() + "/demo.h5"
    >>> writer = NexusScanWriter(filename, "1.1", channels, plot=("diode", ["roby"]))
    >>> now = datetime.now().astimezone()
    >>> writer.start("ascan roby 0 1 2 0.1", now, {"roby": 0.0}, {"title": "ascan roby 0 1 2 0.1"})
    >>> writer.add_points({"axis:roby": [0.0, 1.0], "diode:diode": [56.0, 61.0]}, 2)
    >>> writer.end("SUCCEEDED", "", now, {"roby": 1.0}, {"title": "ascan roby 0 1 2 0.1"})
    >>> writer.failure is None
    True
    >>> read_measurement(filename, 1, "ascan")
    {'diode': array([56., 61.]), 'roby': array([0., 1.])}
    """

    def __init__(self, filename: str, entry: str, channels: Sequence[Channel], plot: tuple[str | None, list[str]],
                 max_pending: int = 100_000):  # fmt: skip
        self.filename = filename
        self.entry = entry
        self._channels = list(channels)
        self._names = dataset_names(self._channels)
        self._plot = plot
        self._paths: dict[str, str] = {}
        self._buffer = PointBuffer([channel.fullname for channel in self._channels], max_pending=max_pending)
        self._written = 0
        self._file: h5py.File | None = None
        self._ending: tuple | None = None
        self.error: BaseException | None = None
        self._writer: gevent.Greenlet | None = None
        self._pool = gevent.get_hub().threadpool
        self._info_length = 0
        self._datasets: list[h5py.Dataset] = []
        self._end_fields: dict[str, h5py.Dataset] = {}  # scan_info, status, reason: written again at the end
        self._end_group: h5py.Group | None = None  # the entry
        self._lock = WriterLock(filename)
        self._closed = False  # the end was written and the SWMR file closed
        self._finished = False  # ... and end_time was written (``_seal``)
        self._highest: int | None = None  # the file's highest scan number once this entry is in, when known

    def start(self, title: str, start: datetime, positioners: Mapping[str, float], scan_info: dict,
              dial: Mapping[str, float] | None = None) -> None:  # fmt: skip
        """Create the entry and every dataset, then switch the file to SWMR.

        ``positioners`` and ``dial`` are every motor's user and dial positions as the scan starts.

        From here until ``end`` this shell holds the file's writer lock, and its guard finishes the file if
        the shell dies (``guard.py``).

        Raises
        ------
        SavingError
            Another shell writes the file, or the entry cannot be created (it exists, the disk refuses).
        """
        if not self._lock.acquire():
            raise SavingError(f"{self.filename} is being written by another shell; wait for its scan to end or change "
                              "SCAN_SAVING.data_filename")  # fmt: skip
        guard.watch(self.filename)
        seen = known(self.filename)
        if seen is not None and seen.highest is not None:
            self._highest = max(seen.highest, entry_number(self.entry) or 0)
        try:
            self._in_thread(self._create, title, start, positioners, dial or {}, scan_info)
        except (OSError, ValueError, RuntimeError) as error:
            self._release()
            raise SavingError(f"cannot write {self.filename}: {_reason(error)}") from None
        self._writer = gevent.spawn(self._write_loop)

    def add_points(self, points: Mapping[str, Sequence[Any]], count: int) -> None:
        """Queue ``count`` points, values keyed by channel fullname (channels not in the file are ignored).

        Raises
        ------
        SavingError
            An earlier write failed: the message says after how many points and why.
        """
        if self.error is not None:
            raise SavingError(f"writing {self.filename} failed after {self._written} points: {_reason(self.error)}")
        self._buffer.add(points, count)

    def end(self, status: str, reason: str, end: datetime, positioners: Mapping[str, float], scan_info: dict,
            images: Sequence[ImageFrames] = (), dial: Mapping[str, float] | None = None) -> None:  # fmt: skip
        """Write what is left, the positions (user, ``dial``), status; close the file, link the images, ``end_time``.

        ``end_time`` comes last: a reader that waits for it (ewoksdata, blissdata) then finds every point and image.
        """
        self._ending = (status, reason, end, positioners, dial or {}, scan_info)
        self._buffer.wake(urgent=True)
        if self._writer is None:  # never started: nothing was written
            self._release()
            return
        try:
            self._writer.join()  # the last points, the end and the close: one job in the thread pool
            if self._closed:
                try:  # objects cannot be created in SWMR mode: after the close
                    self._in_thread(self._seal, end, images if self.error is None else ())
                    self._finished = True
                except (OSError, ValueError, RuntimeError, KeyError) as error:
                    self.error = SavingError(f"cannot write the end time of the scan into {self.filename}: "
                                             f"{_reason(error)}; readers waiting for its end wait until their "
                                             "timeout, or until a scan is saved into this file again: recovery, run "
                                             "before it writes, gives the entry the time the file was last written "
                                             "as its end time")  # fmt: skip
            if self._finished:  # every entry of the file says how it ended: the next scan need not check it
                remember(self.filename, finished=True, highest=self._highest)
        finally:
            self._release()

    def _release(self) -> None:
        """The file is closed: nothing for the guard to finish, and another writer may take it."""
        guard.done()
        self._lock.release()

    @property
    def failure(self) -> str | None:
        """Why the file is incomplete (a write or the image links failed), else None."""
        if self.error is None or isinstance(self.error, SavingError):
            return None if self.error is None else str(self.error)
        return f"writing {self.filename} failed after {self._written} points: {_reason(self.error)}"

    # -- the writing greenlet (h5py calls go to the thread pool) -----------------------

    def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the thread pool; its error is raised here, in the greenlet.

        The pool would also print the error as a traceback: the user gets one line from the scan instead.
        """
        failed, result = self._pool.apply(_outcome, (function, args))
        if failed:
            raise result
        return result

    def _write_loop(self) -> None:
        while True:
            self._buffer.wait()
            ending = self._ending  # read first: once it is set, every point is in the buffer
            if ending is not None:
                try:
                    self._in_thread(self._write_last, *self._buffer.take(), ending)
                finally:
                    self._buffer.release()
                return
            try:
                if self.error is None:
                    self._in_thread(self._append, *self._buffer.take())
            except (OSError, ValueError, RuntimeError) as error:
                self.error = error
            self._buffer.release()

    # -- h5py, in a pool thread --------------------------------------------------------

    @property
    def _open_file(self) -> h5py.File:
        """The file ``_create`` opened: every other h5py call comes after it, and before ``_close``."""
        assert self._file is not None, "_create first"
        return self._file

    def _create(
        self, title: str, start: datetime, positioners: dict[str, float], dial: dict[str, float], scan_info: dict
    ) -> None:
        import h5py

        self._file = h5py.File(self.filename, "a", libver="latest", locking=False)
        root = self._file
        text_attribute(root, "NX_class", "NXroot")
        text_attribute(root, "creator", CREATOR)
        text_attribute(root, "publisher", PUBLISHER)
        text_attribute(root, "default", self.entry)
        if self.entry in root:
            raise ValueError(f"entry {self.entry} already exists in the file")
        entry = root.create_group(self.entry)
        text_attribute(entry, "NX_class", "NXentry")
        text(entry, "title", title)
        text(entry, "start_time", start.isoformat())
        # No end_time yet: readers take it as the scan's end (``_seal``).
        self._end_fields = {}
        shapes = [tuple(channel.shape) for channel in self._channels]
        fullnames = [channel.fullname for channel in self._channels]
        self._paths = create_groups(entry, self._names, fullnames, shapes, positioners, dial)
        self._datasets = []
        for name, channel, shape in zip(self._names, self._channels, shapes):
            rows = max(1, 8192 // max(1, int(np.prod(shape))))
            dataset = entry.create_dataset(
                self._paths[name], shape=(0, *shape), maxshape=(None, *shape), dtype=channel.dtype, chunks=(rows, *shape)
            )
            if channel.unit:
                text_attribute(dataset, "units", channel.unit)
            shown_as = interpretation(shape)
            if shown_as:
                text_attribute(dataset, "interpretation", shown_as)
            self._datasets.append(dataset)  # kept open: closing a dataset may write, and hide an error
        self._create_plot(entry)
        info = info_json(scan_info)
        self._info_length = 2 * len(info) + 1024  # room for what the end adds (positioners_end, end_reason, ...)
        self._end_fields["scan_info"] = entry.create_dataset(
            "scan_info", data=info, dtype=h5py.string_dtype(length=self._info_length)
        )
        # Created with a value so their space exists before SWMR and before the disk fills; written again at the end.
        writer = entry.create_group("writer")
        text_attribute(writer, "NX_class", "NXcollection")
        self._end_fields["status"] = writer.create_dataset("status", data="RUNNING", dtype=h5py.string_dtype(length=16))
        self._end_fields["reason"] = writer.create_dataset("reason", data="", dtype=h5py.string_dtype(length=_STATUS_LENGTH))
        self._end_group = entry
        root.swmr_mode = True

    def _create_plot(self, entry: h5py.Group) -> None:
        import h5py

        signal, axes = self._plot
        if signal is None:
            return
        text_attribute(entry, "default", "plot")
        plot = entry.create_group("plot")
        text_attribute(plot, "NX_class", "NXdata")
        text_attribute(plot, "signal", signal)
        if axes:
            plot.attrs["axes"] = axes if len(axes) > 1 else axes[0]
        for name in {signal, *axes}:
            plot[name] = h5py.SoftLink(f"/{self.entry}/{self._paths[name]}")

    def _append(self, columns: list[list[Any]], count: int) -> None:
        if not count:
            return
        self._check_room(count)
        for dataset, channel, column in zip(self._datasets, self._channels, columns):
            dataset.resize(self._written + count, axis=0)
            dataset[self._written :] = np.asarray(column, dtype=channel.dtype)
        self._open_file.flush()  # every batch reaches the disk (and SWMR readers) before the next one
        self._written += count

    def _check_room(self, count: int) -> None:
        """Stop before the disk (or the file size limit) is full.

        HDF5 records the space it allocates before writing it; a write refused half way
        leaves a file that no longer opens. Stopping while there is room for the next
        batch and a new chunk per dataset keeps every point written so far readable.
        """
        needed = 65536 + sum(
            dataset.dtype.itemsize * int(np.prod(dataset.shape[1:])) * (count + dataset.chunks[0]) for dataset in self._datasets
        )
        folder = os.statvfs(os.path.dirname(self.filename))
        room = folder.f_bavail * folder.f_frsize
        limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if limit != resource.RLIM_INFINITY:
            room = min(room, limit - os.path.getsize(self.filename))
        if room < needed:
            raise OSError(errno.ENOSPC, f"no room left on the disk for {self.filename} ({room} bytes free)")

    def _write_end(self, status: str, reason: str, positioners: dict[str, float], dial: dict[str, float],
                   scan_info: dict) -> None:  # fmt: skip
        """What the scan's end changes, in the datasets made at the start (SWMR: values only; ``end_time`` is ``_seal``'s)."""
        fields, entry = self._end_fields, self._end_group
        assert entry is not None, "_create first"
        fill_end_positions(entry, positioners, dial)
        info = info_json(scan_info)
        if len(info) > self._info_length:  # never cut: without the positioners (instrument/ holds them), else as it began
            info = info_json({key: value for key, value in scan_info.items() if key != "positioners"})
        if len(info) <= self._info_length:
            _set_text(fields["scan_info"], info)
        _set_text(fields["reason"], reason.encode()[: _STATUS_LENGTH - 1])
        _set_text(fields["status"], status.encode())
        self._open_file.flush()

    def _write_last(self, columns: list[list[Any]], count: int, ending: tuple) -> None:
        """The last points, the end (``FAILED`` if a write failed) and the close, in one go."""
        if self.error is None:
            try:
                self._append(columns, count)
            except (OSError, ValueError, RuntimeError) as error:
                self.error = error
        status, reason, _end, positioners, dial, scan_info = ending
        if self.error is not None:
            status, reason = "FAILED", reason or f"writing the file failed: {_reason(self.error)}"
        try:
            self._write_end(status, reason, positioners, dial, scan_info)
        except (OSError, ValueError, RuntimeError) as error:
            self._close()  # the disk refuses even the status: the points already flushed stay readable
            if self.error is None:  # the file still says RUNNING: the scan must not say done
                self.error = SavingError(f"cannot write the end of the scan into {self.filename} (it stays RUNNING "
                                         f"there): {_reason(error)}")  # fmt: skip
            return
        self._closed = self._close()

    def _seal(self, end: datetime, images: Sequence[ImageFrames]) -> None:
        """Open the closed file again (without SWMR), link the images, then create ``end_time``, the entry's last object."""
        import h5py

        with h5py.File(self.filename, "a", locking=False) as file:
            entry = file[self.entry]
            if images:
                try:
                    add_image_links(entry, images)
                except (OSError, ValueError, RuntimeError) as error:
                    self.error = SavingError(f"cannot link the images into {self.filename}: {_reason(error)}")
                    entry["writer/status"][()] = b"FAILED"
                    entry["writer/reason"][()] = str(self.error).encode()[: _STATUS_LENGTH - 1]
            text(entry, "end_time", end.isoformat())

    def _close(self) -> bool:
        """Close the file; False when HDF5 failed to (after a failed write: what was flushed before stays readable)."""
        self._datasets, self._end_fields, self._end_group = [], {}, None
        try:
            self._open_file.close()
        except (OSError, RuntimeError):
            return False
        finally:
            self._file = None
        return True


def info_json(scan_info: Mapping[str, Any]) -> bytes:
    """``scan_info`` as strict JSON (``comm.json_text``: NaN and infinities as null), in bytes.

    Examples
    --------
    >>> info_json({"title": "ct 0.1", "positioners": {"positioners_start": {"roby": float("nan")}}, "count_time": 0.1})
    b'{"title": "ct 0.1", "positioners": {"positioners_start": {"roby": null}}, "count_time": 0.1}'
    """
    return json_text(scan_info).encode()


def _set_text(dataset: h5py.Dataset, value: bytes) -> None:
    """``dataset[()] = value`` for a fixed-length string dataset (its room, made at the start, cuts what is longer)."""
    import h5py

    dataset.id.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(value, dtype=dataset.dtype))


def _outcome(function: Callable[..., Any], args: tuple) -> tuple[bool, Any]:
    try:
        return False, function(*args)
    except Exception as error:
        return True, error


def _reason(error: BaseException) -> str:
    """The first line of an HDF5 error: the rest is its internal detail."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__
