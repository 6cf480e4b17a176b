"""Errors at the prompt: one line when they happen, the traceback on demand (``last_error``)."""

from __future__ import annotations

import sys
import traceback
from collections import deque
from pathlib import Path
from types import TracebackType

HINT = "( for more details type cmd 'last_error()' )"
_KEPT = 100


class ErrorReport:
    """Keeps the last errors; ``last_error`` is the user-facing function.

    The shell reports each error of a command in one line; ``last_error()`` at the prompt prints
    its traceback, without the frames of the shell's own machinery.

    Examples
    --------
    >>> errors = ErrorReport()
    >>> errors.report(ValueError("bad"))
    !!! === ValueError: bad === !!! ( for more details type cmd 'last_error()' )
    >>> errors.last_error()  # an error made here has no traceback: its last line only
    ValueError: bad
    >>> ErrorReport(hint="").report(ValueError("bad"))  # a script run (bliss -c): no prompt to type last_error() at
    !!! === ValueError: bad === !!!
    """

    def __init__(self, hint: str = HINT) -> None:
        self._errors: deque[BaseException] = deque(maxlen=_KEPT)
        self._hint = f" {hint}" if hint else ""  # a script run has no prompt to type last_error() at

    def report(self, error: BaseException) -> None:
        """Keep ``error`` (the last 100 are kept) and print it in one line."""
        self._errors.append(error)
        print(f"!!! === {type(error).__name__}: {error} === !!!{self._hint}", flush=True)

    def last_error(self, index: int = -1) -> None:
        """Print the full traceback of an error: the last one, or ``index`` (0 is the oldest kept).

        Examples
        --------
        >>> last_error()  # at the prompt, before any command failed
        No error so far.
        """
        if not self._errors:
            print("No error so far.")
            return
        error = self._errors[index]
        lines = traceback.format_exception(type(error), error, _user_frames(error.__traceback__))
        print("".join(lines), end="")


def _user_frames(tb: TracebackType | None) -> TracebackType | None:
    machinery = _machinery()
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(machinery):
        tb = tb.tb_next
    return tb


def _machinery() -> tuple[str, ...]:
    """The folders of the machinery that runs a command: their frames say nothing about the user's error.

    The shell's own, and ptpython's once the prompt has imported it (a script run never does).
    """
    folders = [str(Path(__file__).parent)]
    ptpython = sys.modules.get("ptpython")
    if ptpython is not None and ptpython.__file__:
        folders.append(str(Path(ptpython.__file__).parent))
    return tuple(folders)
