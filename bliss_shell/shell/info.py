"""``info(obj)``: the block of facts the shell shows for an object, as BLISS's ``info`` and ``__info__``.

An object's own ``__info__()`` comes first (BLISS's protocol); a motor and a counter get the block
below; anything else its ``repr``. Typing an object's name alone at the prompt shows the same block
(``roby`` as BLISS shows it), where plain Python would show the one-line ``repr``.

Examples
--------
>>> info(roby)
AXIS:
     name (R): roby
     unit (R): mm
     offset (R): 0.00000
     sign (R): 1
     limits (RW): Low: -100.00000 High: 100.00000 (dial Low: -100.00000 High: 100.00000)
     dial (RW): 4.00000
     position (RW): 4.00000
     state (R): READY
     acceleration (RW): ...
     velocity (RW): ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bliss_shell.controllers import Axis, Counter, looks_like

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples


class InfoText(str):
    """A text shown as it reads at the prompt (no quotes, no escaped line ends), as BLISS's ``info()`` result is."""

    def __repr__(self) -> str:
        return str(self)

    def __pt_repr__(self) -> StyleAndTextTuples:
        """Plain, not highlighted as Python, by ptpython."""
        return [("", str(self))]


def info(obj: Any) -> InfoText:
    """The block of facts about ``obj``: its ``__info__()``, a motor's or counter's block, else its ``repr``.

    Parameters
    ----------
    obj : object
        Any object of the session (a motor, a counter, ``MG1``, ``SCAN_SAVING``...).

    Returns
    -------
    str
        The block; at the prompt it shows as it reads.

    Raises
    ------
    TypeError
        The object's ``__info__`` does not give a text.

    Examples
    --------
    >>> info(diode)
    'diode' counter info:
      controller = diode
      unit = mm
      dtype = float64
      shape = () (scalar)
    >>> info(42)
    42
    """
    own = getattr(type(obj), "__info__", None)
    if own is not None:
        text = own(obj)
        if not isinstance(text, str):
            raise TypeError(f"info: {type(obj).__name__}.__info__() gave {type(text).__name__}, not a text")
        return InfoText(text)
    block = _block(obj)
    return InfoText(block if block is not None else repr(obj))


def shown(value: Any) -> Any:
    """What the prompt shows for ``value``: its info block when it has one (BLISS shows ``__info__``), else itself."""
    if hasattr(type(value), "__info__") or _block(value) is not None:
        return info(value)
    return value


def _block(obj: Any) -> str | None:
    if looks_like(obj, Axis):
        return _axis_block(obj)
    if looks_like(obj, Counter):
        return _counter_block(obj)
    return None


def _axis_block(axis: Any) -> str:
    lines = [
        "AXIS:",
        f"name (R): {axis.name}",
        f"unit (R): {axis.unit}",
        f"offset (R): {_read(lambda: axis.offset, _number)}",
        f"sign (R): {_read(lambda: axis.sign, str)}",
        f"limits (RW): {_read(lambda: axis.limits, _limits)} (dial {_read(lambda: axis.dial_limits, _limits)})",
        f"dial (RW): {_read(lambda: axis.dial, _number)}",
        f"position (RW): {_read(lambda: axis.position, _number)}",
        f"state (R): {_read(lambda: axis.state, str)}",
        f"acceleration (RW): {_read(lambda: axis.acceleration, _number)}",
        f"velocity (RW): {_read(lambda: axis.velocity, _number)}",
    ]
    return "\n     ".join(lines)


def _counter_block(counter: Any) -> str:
    lines = [
        f"{counter.name!r} counter info:",
        f"controller = {counter.controller_name}",
        f"unit = {_read(lambda: counter.unit, str)}",
        f"dtype = {_read(lambda: counter.dtype, str)}",
        f"shape = {_read(lambda: tuple(counter.shape), _shape)}",
    ]
    return "\n  ".join(lines)


def _read(get: Callable[[], Any], show: Callable[[Any], str]) -> str:
    """A value read from the device, shown; ``!ERR`` and the reason when it cannot be (a dead server hides no other line)."""
    try:
        return show(get())
    except Exception as error:
        return f"!ERR ({type(error).__name__}: {error})"


def _number(value: float) -> str:
    return f"{value:.5f}"


_KINDS = {0: "scalar", 1: "spectrum", 2: "image"}


def _shape(shape: tuple[int, ...]) -> str:
    return f"{shape} ({_KINDS.get(len(shape), f'{len(shape)}D')})"


def _limits(limits: tuple[float, float]) -> str:
    return f"Low: {limits[0]:.5f} High: {limits[1]:.5f}"
