"""What this process last learnt of a scan file, trusted only while the file is unchanged since.

Before every saved scan the file is checked (a dead writer's file finished, ``recovery.py``) and its
highest scan number read (``layout.py``): both open the file with HDF5, a cost that grows with its
entries. A file that this process itself left finished (its writer closed it, every entry's status
written) or found finished, and that nobody changed since (same inode, size, modification and change
times), needs neither: what was learnt of it then still holds.

Examples
--------
>>> remember(SCANS[-1].path, finished=True, highest=2)  # what the writer of its last scan notes
>>> known(SCANS[-1].path).highest
2
>>> known("/tmp/no/such/file.h5") is None
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

Signature = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class KnownFile:
    """What is known of a file at one ``signature`` of it: ``finished`` (no entry left running), its ``highest`` scan number."""

    signature: Signature
    finished: bool = False
    highest: int | None = None


_known: dict[str, KnownFile] = {}


def signature(filename: str) -> Signature | None:
    """The file's device, inode, size, modification and change times (ns); None when there is no such file."""
    try:
        found = os.stat(filename)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def known(filename: str) -> KnownFile | None:
    """What is known of the file as it is now; None when nothing is, or it changed since."""
    path = os.path.abspath(filename)
    entry = _known.get(path)
    if entry is None:
        return None
    if entry.signature != signature(path):
        del _known[path]
        return None
    return entry


def remember(filename: str, finished: bool | None = None, highest: int | None = None) -> None:
    """Note what was just learnt of the file as it is now (the rest of what was known is kept if it did not change)."""
    path = os.path.abspath(filename)
    now = signature(path)
    if now is None:
        _known.pop(path, None)
        return
    entry = _known.get(path)
    entry = entry if entry is not None and entry.signature == now else KnownFile(now)
    if finished is not None:
        entry = replace(entry, finished=finished)
    if highest is not None:
        entry = replace(entry, highest=highest)
    _known[path] = entry
