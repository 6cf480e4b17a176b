"""How a one-line error message shows a value the user gave."""

from __future__ import annotations

from typing import Any

LONGEST = 40  # characters of a repr an error message shows whole


def shown(value: Any) -> str:
    """``value`` as a one-line error message shows it: its repr when short and on one line.

    A longer string is cut, with its length (``'ppp...'... (300 characters)``); another object is named
    by its type (``a ScanSaving object``: SCAN_SAVING's repr is a table).

    Examples
    --------
    >>> shown("sample1")
    "'sample1'"
    >>> shown("p" * 300)[-16:]
    '(300 characters)'
    >>> shown(SCAN_SAVING)
    'a ScanSaving object'
    """
    text = repr(value)
    if len(text) <= LONGEST and "\n" not in text:
        return text
    if isinstance(value, str):
        return f"{text[:LONGEST]}... ({len(value)} characters)"
    return f"a {type(value).__name__} object"
