"""A scan file whose writer died (the shell killed, the terminal closed) is finished without a manual step.

A writer in SWMR mode marks the file "open for write" in its superblock; after a kill the mark
stays, and plain ``h5py.File(f, "r")``, silx and the next scan refuse the file. Recovery, once no
live writer holds the file (``writer_lock``, released by the kernel when a writer dies):

- clear the superblock's file-consistency flags (what ``h5clear -s`` does: HDF5's superblock
  versions 2 and 3 keep them in one byte, covered by a Jenkins lookup3 checksum);
- mark every entry still ``RUNNING`` as ``FAILED``, its reason saying it was interrupted. Its
  points are those flushed before the kill: the writer flushes after every batch;
- give every entry of ours without ``end_time`` one: the time the dead writer last wrote the
  file. Readers that wait for a scan's end (ewoksdata, blissdata) wait for ``end_time``, so they
  stop waiting then (until then, only their ``retry_timeout`` stops them).

HDF5 cannot write a file still marked open for write, and readers may open it as soon as the mark
is cleared: the file is moved aside (``.data.h5.recovering``, in its folder) while both are done,
then back, so that no reader ever finds a dead scan ``RUNNING``. A recovery cut short (its process
killed) is finished by the next one, which moves the file back first.

It runs in the guard process of the shell that wrote (``guard.py``) as soon as that shell died,
and before every saved scan and when a session opens, for a file left by any earlier shell.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

from bliss_shell.comm import runtime_dir

from .known_files import known, remember
from .scalars import text

SIGNATURE = b"\x89HDF\r\n\x1a\n"
INTERRUPTED = "interrupted: the shell writing this scan died before it ended; the points flushed before are kept"
_SUPERBLOCK_PLACES = (0, 512, 1024, 2048, 4096)  # after a user block, if any
_MASK = 0xFFFFFFFF


def _lock_path(filename: str) -> Path:
    folder = runtime_dir() / "writing"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / (hashlib.sha1(os.path.abspath(filename).encode()).hexdigest() + ".lock")


class WriterLock:
    """The lock a file's writer holds while it writes (the kernel releases it when the writer dies).

    Examples
    --------
    >>> lock = WriterLock("/tmp/scans/demo/data.h5")
    >>> lock.acquire()
    True
    >>> WriterLock("/tmp/scans/demo/data.h5").acquire()  # a second writer is refused
    False
    >>> lock.release()
    """

    def __init__(self, filename: str):
        self._path = _lock_path(filename)
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        """Take it unless a live writer holds it; True when taken."""
        lock = open(self._path, "w")  # noqa: SIM115  (held open as long as the lock is)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return False
        self._file = lock
        return True

    def release(self) -> None:
        """Let it go (nothing happens when it is not held)."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


@contextlib.contextmanager
def writer_lock(filename: str) -> Iterator[bool]:
    """Hold the file's writer lock while the block runs; yields False when a live writer holds it."""
    lock = WriterLock(filename)
    free = lock.acquire()
    try:
        yield free
    finally:
        lock.release()


def recover(filename: str) -> list[str]:
    """Finish a file whose writer died; return the entries marked interrupted.

    Does nothing while a live writer holds the file, or to a file that is not HDF5 (``check_target``
    refuses those).

    Examples
    --------
    >>> recover(SCANS[-1].path)  # its scans ended: nothing to finish
    []
    """
    with writer_lock(filename) as free:
        if not free:
            return []
        aside = _aside(filename)
        if os.path.exists(aside) and not os.path.exists(filename):  # a recovery cut short
            os.rename(aside, filename)
        seen = known(filename)
        if seen is not None and seen.finished:  # as this process left it or found it: nothing to finish
            return []
        import h5py

        if not os.path.exists(filename) or not h5py.is_hdf5(filename):
            return []
        if not marked_open(filename):
            marked = _mark_interrupted(filename)
        else:
            os.rename(filename, aside)  # readers find no file until its scans say how they ended
            try:
                clear_write_flags(aside)
                marked = _mark_interrupted(aside)
            finally:
                os.rename(aside, filename)
        remember(filename, finished=True)
        return marked


def _aside(filename: str) -> str:
    """Where ``recover`` keeps a file while it finishes it: ``.NAME.recovering`` in the same folder."""
    folder, name = os.path.split(os.path.abspath(filename))
    return os.path.join(folder, f".{name}.recovering")


def _superblock(file: IO[bytes]) -> tuple[int, bytes] | None:
    """Where the superblock is and its first 12 bytes, when its version (2 or 3) keeps the write flags."""
    for place in _SUPERBLOCK_PLACES:
        file.seek(place)
        head = file.read(12)
        if head[:8] == SIGNATURE:
            return (place, head) if head[8] in (2, 3) else None  # versions 0 and 1 keep no such mark
    return None


def marked_open(filename: str) -> bool:
    """Whether the file is marked "open for write" (by a live writer, or one that died)."""
    with open(filename, "rb") as file:
        found = _superblock(file)
    return found is not None and found[1][11] != 0


def clear_write_flags(filename: str) -> bool:
    """Clear the "open for write" mark a dead writer left; True if there was one."""
    with open(filename, "r+b") as file:
        found = _superblock(file)
        if found is None or not found[1][11]:
            return False
        place, head = found
        size = 12 + 4 * head[9]  # signature, versions, sizes, flags, then 4 addresses
        file.seek(place)
        block = bytearray(file.read(size))
        block[11] = 0
        file.seek(place)
        file.write(bytes(block) + lookup3(bytes(block)).to_bytes(4, "little"))
        file.flush()
        os.fsync(file.fileno())
    return True


def _mark_interrupted(filename: str) -> list[str]:
    """Mark every entry still ``RUNNING`` as ``FAILED`` (reason ``INTERRUPTED``); return their names.

    Every entry of ours (it has ``writer/status``) without ``end_time`` gets one: the file's last change.
    """
    import h5py

    last_written = datetime.fromtimestamp(os.stat(filename).st_mtime).astimezone().isoformat()
    marked = []
    with h5py.File(filename, "a", locking=False) as file:
        for name, entry in file.items():
            status = entry.get("writer/status") if isinstance(entry, h5py.Group) else None
            if status is None:
                continue
            if status[()] == b"RUNNING":
                status[()] = b"FAILED"
                if "writer/reason" in entry:
                    entry["writer/reason"][()] = INTERRUPTED.encode()
                marked.append(name)
            if "end_time" not in entry:
                text(entry, "end_time", last_written)
    return marked


def _rotate(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & _MASK


def lookup3(data: bytes, initial: int = 0) -> int:
    """Bob Jenkins' lookup3 ``hashlittle``, the checksum of HDF5's metadata (written from its description)."""
    length = len(data)
    a = b = c = (0xDEADBEEF + length + initial) & _MASK
    offset = 0
    while length > 12:
        a = (a + int.from_bytes(data[offset : offset + 4], "little")) & _MASK
        b = (b + int.from_bytes(data[offset + 4 : offset + 8], "little")) & _MASK
        c = (c + int.from_bytes(data[offset + 8 : offset + 12], "little")) & _MASK
        for x, y, z, bits in ((0, 2, 1, 4), (1, 0, 2, 6), (2, 1, 0, 8), (0, 2, 1, 16), (1, 0, 2, 19), (2, 1, 0, 4)):
            abc = [a, b, c]  # mix: x -= y; x ^= rot(y, bits); y += z
            abc[x] = ((abc[x] - abc[y]) & _MASK) ^ _rotate(abc[y], bits)
            abc[y] = (abc[y] + abc[z]) & _MASK
            a, b, c = abc
        length -= 12
        offset += 12
    if length == 0:
        return c
    tail = data[offset:] + bytes(12 - length)
    a = (a + int.from_bytes(tail[0:4], "little")) & _MASK
    b = (b + int.from_bytes(tail[4:8], "little")) & _MASK
    c = (c + int.from_bytes(tail[8:12], "little")) & _MASK
    for x, y, bits in ((2, 1, 14), (0, 2, 11), (1, 0, 25), (2, 1, 16), (0, 2, 4), (1, 0, 14), (2, 1, 24)):
        abc = [a, b, c]  # final: x ^= y; x -= rot(y, bits)
        abc[x] = ((abc[x] ^ abc[y]) - _rotate(abc[y], bits)) & _MASK
        a, b, c = abc
    return c
