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
        if not looks_like(motor, Axis):  # isinstance would read every property: Tango calls, a failing one refused
            raise TypeError(f"{command}: {motor!r} is not a motor")
        if any(motor is axis for axis in axes):
            raise ValueError(f"{command}: {motor.name} is given twice; a motor moves once per command")
        axes.append(motor)
    return axes


def lscnt() -> None:
    """Print every counter of the session: name, shape, controller, unit.

    Examples
    --------
    >>> lscnt()
            Name       Shape    Controller  Unit
    ------------  ----------  ------------  ----
           diode          0D         diode    mm
          diode2          0D        diode2    mm
              c1          0D           sim    mm
              c2          0D           sim    mm
    sim_ct_gauss          0D  sim_ct_gauss    mm
           simu1    1D (16,)         simu1    mm
        simu_big  1D (4096,)      simu_big    mm
    """
    counters = [value for value in session_objects().values() if isinstance(value, Counter)]
    rows = [
        [c.name, "0D" if not c.shape else f"{len(c.shape)}D {tuple(c.shape)}", c.controller_name, c.unit or ""] for c in counters
    ]
    print(format_table(["Name", "Shape", "Controller", "Unit"], rows))


def lsmg() -> None:
    """Print the measurement groups and their enabled counters; ``*`` marks the active one.

    The active group (``ACTIVE_MG``) is what scans count when given no counter; a group's disabled
    counters are listed apart: `` * MG1: diode (disabled: diode2)``.

    Examples
    --------
    >>> lsmg()
     * MG1: diode, diode2
       MG2: c1, c2, diode
    >>> MG1.disable("diode2")
    >>> lsmg()
     * MG1: diode (disabled: diode2)
       MG2: c1, c2, diode
    >>> MG1.enable_all()
    """
    active = current().active_mg
    for group in (value for value in session_objects().values() if isinstance(value, MeasurementGroup)):
        mark = "*" if group is active else " "
        disabled = f" (disabled: {', '.join(group.disabled)})" if group.disabled else ""
        print(f" {mark} {group.name}: {', '.join(group.enabled) or '(none enabled)'}{disabled}")


def lsobj(pattern: str = "*") -> None:
    """Print the names of the session's objects (motors, counters, measurement groups) that match a pattern.

    Parameters
    ----------
    pattern : str
        A shell pattern (``*``, ``?``, ``[...]``), matched against the whole name, case sensitive;
        default ``"*"``: every object.

    Examples
    --------
    >>> lsobj("rob*")
    roby  robz
    >>> lsobj()
    diode  diode2  c1  c2  sim_ct_gauss  simu1  MG1  MG2  simu_big  roby  robz  slowy
    """
    if not isinstance(pattern, str):
        raise TypeError(f"lsobj: the pattern is a string such as 'rob*', not {pattern!r}")
    print("  ".join(name for name in session_objects() if fnmatch.fnmatchcase(name, pattern)))
