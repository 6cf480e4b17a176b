"""``elog_add``: what a command typed at the prompt showed, sent to the session's logbook, as BLISS's ``elog_add``.

The shell keeps its last 20 commands with what they printed (a scan's table, ``wa``'s positions) and
the result shown under ``Out [N]``; of a long output, its last 20000 characters. A progress bar
redrawn in place (carriage returns) is kept as it looked last.

Examples
--------
>>> log = CellLog()
>>> with log.recording(3, "wa()"):
...     print("roby  4.00000")
roby  4.00000
>>> log.find(3).text
'roby  4.00000'
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from .logbook_commands import add_to_logbook

_KEPT = 20  # commands, as BLISS keeps
_KEPT_CHARS = 20_000  # of one command's output


class Cell:
    """One command typed at the prompt: its number, its text and what it showed."""

    def __init__(self, number: int, command: str):
        self.number = number
        self.command = command
        self._output: list[str] = []
        self._size = 0

    def add(self, text: str) -> None:
        """Output of the command; only the last ``_KEPT_CHARS`` characters are kept."""
        self._output.append(text)
        self._size += len(text)
        while self._size > _KEPT_CHARS and len(self._output) > 1:
            self._size -= len(self._output.pop(0))

    @property
    def text(self) -> str:
        """The output as the screen shows it at the end: each line as its last carriage return left it."""
        lines = "".join(self._output)[-_KEPT_CHARS:].split("\n")
        return "\n".join(line.rsplit("\r", 1)[-1] for line in lines).strip("\n")


class CellLog:
    """The shell's last commands and their output (``SessionRepl`` records them); ``elog_add`` reads them."""

    def __init__(self) -> None:
        self._cells: deque[Cell] = deque(maxlen=_KEPT)

    @contextmanager
    def recording(self, number: int, command: str) -> Iterator[Cell]:
        """While the command runs, what it prints goes to the screen and to its cell."""
        cell = Cell(number, command)
        self._cells.append(cell)
        screen = sys.stdout
        sys.stdout = _Tee(screen, cell)
        try:
            yield cell
        finally:
            sys.stdout = screen

    @property
    def current(self) -> int | None:
        """The number of the command running (``elog_add``'s own), None before the first."""
        return self._cells[-1].number if self._cells else None

    def find(self, number: int) -> Cell | None:
        """The command of that number, if still kept."""
        return next((cell for cell in self._cells if cell.number == number), None)


class _Tee:
    """Standard output that also keeps what is written in a cell; the rest is the screen's."""

    def __init__(self, screen: TextIO, cell: Cell):
        self._screen = screen
        self._cell = cell

    def write(self, text: str) -> int:
        self._cell.add(text)
        return self._screen.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._screen, name)


_log: CellLog | None = None


def keep_cells(log: CellLog | None) -> None:
    """Make ``log`` the one ``elog_add`` reads (the shell's); None when the shell closes."""
    global _log
    _log = log


def elog_add(index: int = -1) -> None:
    """Send what a command typed at the prompt showed (its prints and its result) to the session's logbook.

    The entry is ``output of [N] command:`` followed by the output, as the screen showed it. The
    shell keeps its last 20 commands. BLISS's ``beamline_only`` (an ICAT logbook's choice) has no
    meaning for the logbook file, so there is no such parameter.

    Parameters
    ----------
    index : int
        The command: its prompt number (``3`` for ``DEMO [3]``), or negative, counted back from this one;
        default -1, the command before.

    Raises
    ------
    RuntimeError
        Not at the shell's prompt (a script has no prompt numbers).
    ValueError
        No such command among the last 20, or ``index`` is 0.

    Examples
    --------
    >>> wa()  # doctest: +SKIP
    >>> elog_add()  # the positions wa printed go to the logbook  # doctest: +SKIP
    >>> elog_add(3)  # what DEMO [3] showed  # doctest: +SKIP
    """
    if _log is None or _log.current is None:
        raise RuntimeError("elog_add: only at the shell's prompt, which numbers the commands; use elog_print in a script")
    if isinstance(index, bool) or not isinstance(index, int) or index == 0:
        raise ValueError(f"elog_add: index is a prompt number (3 for [3]) or negative (-1: the command before), not {index!r}")
    number = index if index > 0 else _log.current + index
    cell = _log.find(number)
    if cell is None or number == _log.current:
        raise ValueError(f"elog_add: no command [{number}] among the last {_KEPT - 1} of this shell; give a prompt number "
                         "that the screen shows above")  # fmt: skip
    add_to_logbook(f"output of [{cell.number}] {cell.command}:\n{cell.text or '(nothing shown)'}")
