"""The session's logbook: a plain text file that lives with the data, one timestamped entry per line.

``<saving folder>/<session>_logbook.txt`` (``SCAN_SAVING.logbook_folder()``: the saving folder, or under
the ESRF data policy the proposal's session folder, beside RAW_DATA): ``elog_print``
writes comments, ``lprint`` info lines, and every scan its own line when it ends (``LogbookConsumer``).
A write that fails (full disk, a folder that cannot be made) prints one warning line with the entry
and never stops what wrote it: the scan's result stands.

Examples
--------
Every scan of the session has its line:

>>> from bliss_shell.scanning import current
>>> print(session_logbook(current()).read_text())
20...  scan 1 (loopscan 5 0): finished; file .../data.h5
20...  scan 2 (ascan roby 0 4 5 0): finished; file .../data.h5

>>> from datetime import datetime
>>> logbook = logbook_file(SCAN_SAVING.get_path(), "demo")
>>> add_entry(logbook, "comment: sample changed", datetime(2026, 11, 24, 19, 30, 49))
True
>>> print(logbook.read_text())
2026-11-24 19:30:49  comment: sample changed
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .consumers import Ending, EndState, ScanConsumer, ScanStart

if TYPE_CHECKING:
    from .context import ScanContext

_TIME = "%Y-%m-%d %H:%M:%S"
_INDENT = " " * (len("2026-01-01 00:00:00") + 2)  # continuation lines of a multi-line entry


def logbook_file(folder: str, session: str) -> Path:
    """The logbook of ``session`` in the saving folder ``folder``.

    Examples
    --------
    >>> logbook_file("/data/id00/inhouse/demo", "demo")
    PosixPath('/data/id00/inhouse/demo/demo_logbook.txt')
    """
    return Path(folder) / f"{session}_logbook.txt"


def session_logbook(context: ScanContext) -> Path:
    """The logbook of the open session, in the folder where its next scan is saved."""
    return logbook_file(context.scan_saving.logbook_folder(), context.session)


def entry_line(text: str, when: datetime | None = None) -> str:
    r"""``2026-11-24 19:30:49  text``; the lines after the first one are indented under the text.

    Examples
    --------
    >>> from datetime import datetime
    >>> print(entry_line("sample changed\nnew holder", datetime(2026, 11, 24, 19, 30, 49)), end="")
    2026-11-24 19:30:49  sample changed
                         new holder
    """
    stamp = (when or datetime.now().astimezone()).strftime(_TIME)
    return f"{stamp}  " + f"\n{_INDENT}".join(text.rstrip("\n").splitlines() or [""]) + "\n"


def add_entry(path: Path, text: str, when: datetime | None = None) -> bool:
    """Append one entry (the folder is made if needed); False, after a one-line warning, if it could not be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8", errors="replace") as logbook:
            logbook.write(entry_line(text, when))
    except OSError as error:
        warn_unwritten(str(path), error.strerror or str(error), text)
        return False
    return True


def warn_unwritten(where: str, reason: str, text: str) -> None:
    """Print the one-line warning of an entry that could not be written, with the entry's first line."""
    first = text.splitlines()[0] if text.strip() else "(empty)"
    print(f"WARNING: logbook {where} not written ({reason}); the entry was: {first}", flush=True)


def scan_entry(number: int | None, title: str, state: EndState, reason: str, path: str | None) -> str:
    """The scan's line: its number, title, how it ended and where it was saved.

    Only a saved scan shows a number: the one of its entry in the file (``N.1``), the numbering of every
    scan line of the logbook. An unsaved scan (``ct``) has no number a user can find anywhere (its Redis
    node's ``_N_ct`` counts apart, as in BLISS, whose ``Scan`` repr shows none either), so it has none here.

    Examples
    --------
    >>> scan_entry(3, "ascan roby 0 4 5 0.02", EndState.DONE, "", "/data/demo/data.h5")
    'scan 3 (ascan roby 0 4 5 0.02): finished; file /data/demo/data.h5'
    >>> scan_entry(4, "ct 0.1", EndState.ABORTED, "interrupted by user (Ctrl-C)", None)
    'ct 0.1: aborted: interrupted by user (Ctrl-C); not saved'
    """
    ended = {EndState.DONE: "finished", EndState.ABORTED: f"aborted: {reason}", EndState.FAILED: f"failed: {reason}"}[state]
    ended = " / ".join(ended.splitlines())
    if not path:
        return f"{title}: {ended}; not saved"
    return f"scan {number} ({title}): {ended}; file {path}"


class LogbookConsumer(ScanConsumer):
    """The scan's line in the logbook at its end, with the end state the file and Redis got.

    An observer that always ends: a forced abort (a second Ctrl-C) is recorded too, and it never fails the scan.
    """

    def __init__(self, context: ScanContext, number: int | None, title: str, path: str | None):
        self._context = context
        self._number = number
        self._title = title
        self._path = path
        self._logbook: Path | None = None
        self._unreadable = ""
        try:  # where the logbook is when the scan starts (SCAN_SAVING may change while it runs)
            self._logbook = session_logbook(context)
        except Exception as error:  # SCAN_SAVING unreadable (Redis gone, a bad value): only the logbook misses it
            self._unreadable = f"{type(error).__name__}: {error}"

    def end(self, ending: Ending) -> None:
        """Append the scan's line, or warn with it when the logbook cannot be found or written."""
        text = scan_entry(self._number, self._title, ending.state, ending.reason, self._path)
        if self._logbook is None:
            warn_unwritten(f"of session {self._context.session}", self._unreadable, text)
            return
        add_entry(self._logbook, text, ending.time)


def logbook_consumer(start: ScanStart) -> LogbookConsumer:
    """The scan's line in the session's logbook."""
    return LogbookConsumer(start.context, start.number, start.plan.title, start.path)
