"""``clear()``: a clean terminal, as BLISS's ``clear`` (which runs the ``clear`` command)."""

from __future__ import annotations

import sys

# Cursor home, erase the screen, erase the scroll-back: what ``clear`` writes on xterm-like terminals.
_CLEAR = "\x1b[H\x1b[2J\x1b[3J"


def clear() -> None:
    """Clear the terminal screen and its scroll-back; the next prompt comes at the top.

    Nothing is written when the output is not a terminal (``bliss --script`` into a file).

    Examples
    --------
    >>> clear()
    """
    if sys.stdout.isatty():
        sys.stdout.write(_CLEAR)
        sys.stdout.flush()
