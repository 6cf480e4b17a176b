"""Scan titles as BLISS prints them: ``ascan roby 0 0.1235 10 0.1``.

Numbers print as typed (``10000000``, not ``1e+07``), a motor by its name, and the two positions
after a motor rounded to its display digits (from its ``tolerance``).

Examples
--------
>>> scan_title("ascan", roby, 0, 0.123456789, 10, 0.1)
'ascan roby 0 0.1235 10 0.1'
"""

from __future__ import annotations

import numbers
from typing import Any

from bliss_shell.controllers import Axis, looks_like


def as_typed(value: Any) -> str:
    """A number as typed: ``10000000``, ``0.1``, not ``1e+07``; an object by its name.

    Examples
    --------
    >>> as_typed(1e7), as_typed(0.1), as_typed(np.int64(3)), as_typed(roby)
    ('10000000', '0.1', '3', 'roby')
    """
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else f"{value:.12g}"
    return getattr(value, "name", str(value))


def _at(axis: Axis, value: Any) -> str:
    """A position of ``axis`` rounded to its display digits (from its ``tolerance``, as BLISS): ``0.1235``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return as_typed(value)
    return as_typed(round(float(value), axis.display_digits))


def scan_title(command: str, *args: Any) -> str:
    """``ascan roby 0 0.1235 10 0.1``: the two numbers after a motor are its positions, rounded for it.

    Examples
    --------
    >>> scan_title("a2scan", roby, 0, 1.000001, robz, -1, 1, 10, 0.1)
    'a2scan roby 0 1 robz -1 1 10 0.1'
    """
    words, axis, positions = [command], None, 0
    for arg in args:
        if looks_like(arg, Axis):
            axis, positions = arg, 2
            words.append(arg.name)
        elif positions and axis is not None:
            words.append(_at(axis, arg))
            positions -= 1
        else:
            words.append(as_typed(arg))
    return " ".join(words)
