"""Measurement groups: named lists of counters, some enabled, one group of a session active (``ACTIVE_MG``).

As in BLISS, a scan given no counter counts the enabled counters of the active group. Which counters
are disabled is a setting of the group (``measurement_group:<name>``, comm/settings.py): it is the same
in every session and shell, and survives restarts.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from bliss_shell.comm import Settings
from bliss_shell.config import ConfigError, ConfigNode

from .interfaces import Counter

_activate: Callable[[MeasurementGroup], None] | None = None


def on_set_active(callback: Callable[[MeasurementGroup], None]) -> None:
    """What ``set_active`` calls: the open session makes the group its ``ACTIVE_MG`` (scanning/context.py)."""
    global _activate
    _activate = callback


class MeasurementGroup:
    """A named list of counters, some of them enabled: what a scan given the group counts.

    Config: ``class: MeasurementGroup`` with ``counters: [diode, diode2]`` (names of counters).
    Which counters are disabled is a setting of the group: the same in every session and shell,
    and kept after a restart. A scan given no counter counts the enabled counters of the
    session's active group, ``ACTIVE_MG`` (``lsmg()`` lists the groups).

    Examples
    --------
    >>> MG1.disable("diode2")
    >>> MG1.enabled, MG1.disabled
    (['diode'], ['diode2'])
    >>> MG1
    MeasurementGroup: MG1
    <BLANKLINE>
      Enabled                        Disabled
      ------------------------------ ------------------------------
      diode                          diode2
    >>> MG1.set_active()
    >>> ct(0.1)
    diode = ... (... /s) diode
    Scan(number=..., name=ct, path=<no saving>)
    >>> MG1.enable_all()
    """

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        names = node.get("counters") or []
        self._members: list[Counter] = []
        for name in names:
            counter = node.config.get(name)
            if not isinstance(counter, Counter):
                raise ConfigError(f"{node.where}: {self.name}: '{name}' is not a counter")
            self._members.append(counter)
        self._settings = Settings(f"measurement_group:{self.name}")

    @property
    def available(self) -> list[str]:
        """Every counter of the group, enabled or not."""
        return [counter.name for counter in self._members]

    @property
    def disabled(self) -> list[str]:
        """The names of the disabled counters, in the group's order."""
        disabled = set(self._settings.get("disabled", []))
        return [name for name in self.available if name in disabled]

    @property
    def enabled(self) -> list[str]:
        """The names of the enabled counters, in the group's order."""
        disabled = set(self.disabled)
        return [name for name in self.available if name not in disabled]

    @property
    def counters(self) -> list[Counter]:
        """The enabled counters: what a scan given this group counts."""
        enabled = set(self.enabled)
        return [counter for counter in self._members if counter.name in enabled]

    def enable(self, *counters: Any) -> None:
        """Enable counters, given as objects or names (shell patterns such as ``"diode*"`` allowed).

        Raises
        ------
        TypeError
            No counter is given, or one is neither a counter nor a name.
        ValueError
            A counter or pattern matches no counter of the group.
        """
        chosen = self._matching("enable", counters)
        self._settings.set(disabled=[name for name in self.disabled if name not in chosen])

    def disable(self, *counters: Any) -> None:
        """Disable counters, given as objects or names (patterns allowed): scans given this group no longer count them.

        Raises
        ------
        TypeError
            No counter is given, or one is neither a counter nor a name.
        ValueError
            A counter or pattern matches no counter of the group.
        """
        chosen = self._matching("disable", counters)
        self._settings.set(disabled=[name for name in self.available if name in chosen or name in self.disabled])

    def enable_all(self) -> None:
        """Enable every counter of the group."""
        self._settings.set(disabled=[])

    def disable_all(self) -> None:
        """Disable every counter of the group."""
        self._settings.set(disabled=self.available)

    def set_active(self) -> None:
        """Make this group the session's ``ACTIVE_MG``: what scans count when given no counter."""
        if _activate is None:
            raise RuntimeError(f"{self.name}.set_active: no session is open (bliss -s NAME)")
        _activate(self)

    def _matching(self, action: str, counters: tuple[Any, ...]) -> set[str]:
        if not counters:
            raise TypeError(f"{self.name}.{action}: name the counters, e.g. {self.name}.{action}('diode2'), "
                            f"or use {self.name}.{action}_all()")  # fmt: skip
        chosen: set[str] = set()
        for item in counters:
            if isinstance(item, str):
                found = fnmatch.filter(self.available, item)
            elif isinstance(item, Counter):
                found = [item.name] if any(item is member for member in self._members) else []
            else:
                raise TypeError(f"{self.name}.{action}: {item!r} is neither a counter nor a counter name")
            if not found:
                shown = item if isinstance(item, str) else item.name
                raise ValueError(f"{self.name}.{action}: no counter '{shown}' in {self.name} "
                                 f"(its counters: {', '.join(self.available)})")  # fmt: skip
            chosen.update(found)
        return chosen

    def __repr__(self) -> str:
        enabled, disabled = self.enabled, self.disabled
        rows = [f"MeasurementGroup: {self.name}", "", f"  {'Enabled':<30} Disabled", f"  {'-' * 30} {'-' * 30}"]
        for row in range(max(len(enabled), len(disabled), 1)):
            left = enabled[row] if row < len(enabled) else ""
            right = disabled[row] if row < len(disabled) else ""
            rows.append(f"  {left:<30} {right}".rstrip())
        return "\n".join(rows)
