"""What the session holds: ``lscnt``, ``lsmg``, ``lsobj``, and the lookups the other helpers share."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

from bliss_shell.config import ObjectUnavailable, Unavailable
from bliss_shell.controllers import Axis, Counter, MeasurementGroup, looks_like

from .context import current
from .tables import format_table


def session_objects() -> dict[str, Any]:
    """The namespace's devices, by name, each once (the user's own variables and ``ACTIVE_MG`` left out)."""
    found: dict[int, tuple[str, Any]] = {}
    for name, value in current().namespace.items():
        device = isinstance(value, (MeasurementGroup, Unavailable)) or any(looks_like(value, p) for p in (Axis, Counter))
        if not name.startswith("_") and device:
            found.setdefault(id(value), (name, value))
    return dict(found.values())


def available(command: str, item: Any) -> None:
    """Refuse an object whose device could not be reached when the session opened."""
    if isinstance(item, Unavailable):
        raise ObjectUnavailable(f"{command}: {item.name} is unavailable: {item.reason}")


def motors_given(command: str, motors: Iterable[Any]) -> list[Axis]:
    """The motors a command was given, each reachable, each a motor, each once."""
    axes: list[Axis] = []
    for motor in motors:
        available(command, motor)
        if not isinstance(motor, Axis):
            raise TypeError(f"{command}: {motor!r} is not a motor")
        if any(motor is axis for axis in axes):
            raise ValueError(f"{command}: {motor.name} is given twice; a motor moves once per command")
        axes.append(motor)
    return axes


def lscnt() -> None:
    """Every counter of the session: name, shape, controller, unit."""
    counters = [value for value in session_objects().values() if isinstance(value, Counter)]
    rows = [
        [c.name, "0D" if not c.shape else f"{len(c.shape)}D {tuple(c.shape)}", c.controller_name, c.unit or ""] for c in counters
    ]
    print(format_table(["Name", "Shape", "Controller", "Unit"], rows))


def lsmg() -> None:
    """The measurement groups; ``*`` marks the active one (``ACTIVE_MG``), what scans count by default,
    and disabled counters are listed apart: `` * MG1: diode (disabled: diode2)``.
    """
    active = current().active_mg
    for group in (value for value in session_objects().values() if isinstance(value, MeasurementGroup)):
        mark = "*" if group is active else " "
        disabled = f" (disabled: {', '.join(group.disabled)})" if group.disabled else ""
        print(f" {mark} {group.name}: {', '.join(group.enabled) or '(none enabled)'}{disabled}")


def lsobj(pattern: str = "*") -> None:
    """The session's objects whose name matches a shell pattern: ``lsobj("rob*")``."""
    if not isinstance(pattern, str):
        raise TypeError(f"lsobj: the pattern is a string such as 'rob*', not {pattern!r}")
    print("  ".join(name for name in session_objects() if fnmatch.fnmatchcase(name, pattern)))
