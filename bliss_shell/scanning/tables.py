"""Plain-text tables for the shell helpers: right-aligned columns, a dashed rule under the header."""

from __future__ import annotations

from collections.abc import Sequence


def position(value: float) -> str:
    """Positions as BLISS shows them: five decimals.

    Examples
    --------
    >>> position(1.5)
    '1.50000'
    """
    return f"{value:.5f}"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of text cells: columns right-aligned, a dashed rule under the header.

    Rows may be shorter than the header (a label alone on its line); under an empty first header
    cell, the first column is a left-aligned label.

    Examples
    --------
    >>> print(format_table(["", "roby", "robz"], [["User", "0.00000", "1.50000"], ["Dial"]]))
             roby     robz
    ----  -------  -------
    User  0.00000  1.50000
    Dial
    """
    widths = [max([len(header[i]), *(len(row[i]) for row in rows if i < len(row))]) for i in range(len(header))]
    first = widths[0] if header[0] == "" else None
    lines = ["  ".join(f"{text:>{width}}" for text, width in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        cells = [f"{row[0]:<{first}}" if first is not None else f"{row[0]:>{widths[0]}}"]
        cells += [f"{text:>{width}}" for text, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
