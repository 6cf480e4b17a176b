"""Measurement groups: named lists of counters, some enabled, one group of a session active (``ACTIVE_MG``).

As in BLISS, a scan given no counter counts the enabled counters of the active group, and a counter is
chosen by its name, its fullname (``diode:diode``), its controller's name or a pattern of either. Which
counters are disabled is a setting of the group (``measurement_group:<name>``, comm/settings.py): it is
the same in every session and shell, and survives restarts. Counters ``add``-ed last for the shell, as
in BLISS.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from bliss_shell.comm import Settings
from bliss_shell.config import ConfigError, ConfigNode

from .error_text import shown
from .interfaces import Counter, looks_like

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
    >>> MG1.disable("diode2:diode2")  # or "diode2", "diode*": names, fullnames, controllers, patterns
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
        self._configured: list[Counter] = []
        for name in names:
            counter = node.config.get(name)
            if not isinstance(counter, Counter):
                raise ConfigError(f"{node.where}: {self.name}: '{name}' is not a counter")
            self._configured.append(counter)
        self._added: list[Counter] = []  # by ``add``, for this shell
        self._where = node.where
        self._settings = Settings(f"measurement_group:{self.name}")

    @property
    def _members(self) -> list[Counter]:
        return self._configured + self._added

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
        """Enable counters, given as objects, names or fullnames (shell patterns such as ``"diode*"`` allowed).

        A controller's name stands for all its counters (``"sim"``: ``c1`` and ``c2``), as in BLISS.

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
        """Disable counters, given as objects, names, fullnames or controllers' names (patterns allowed).

        Scans given this group no longer count them.

        Raises
        ------
        TypeError
            No counter is given, or one is neither a counter nor a name.
        ValueError
            A counter or pattern matches no counter of the group.
        """
        chosen = self._matching("disable", counters)
        self._settings.set(disabled=[name for name in self.available if name in chosen or name in self.disabled])

    def add(self, *counters: Any) -> None:
        """Add counters to the group, enabled, for this shell (as BLISS's ``add``); those already in it stay as they are.

        The config's ``counters`` are the lasting list: the next shell has those only.

        Raises
        ------
        TypeError
            No counter is given, or one is not a counter object; nothing is added.
        ValueError
            A counter has the name of another counter of the group; nothing is added.

        Examples
        --------
        >>> MG1.add(simu1)
        >>> MG1.enabled
        ['diode', 'diode2', 'simu1']
        >>> MG1.remove(simu1)
        """
        new = [counter for counter in self._counter_objects("add", counters) if not self._holds(counter)]
        taken = {member.name: member for member in self._members}
        for counter in new:
            if counter.name in taken:
                raise ValueError(f"{self.name}.add: {counter.fullname}: {self.name} has a counter of that name already "
                                 f"({taken[counter.name].fullname}); add one of them only")  # fmt: skip
            taken[counter.name] = counter
        self._added.extend(new)
        added = {counter.name for counter in new}
        self._settings.set(disabled=[name for name in self.disabled if name not in added])

    def remove(self, *counters: Any) -> None:
        """Take counters ``add``-ed in this shell out of the group (as BLISS's ``remove``).

        Raises
        ------
        TypeError
            No counter is given, or one is not a counter object; nothing is removed.
        ValueError
            A counter is one of the config's (disable it instead), or not in the group; nothing is removed.
        """
        chosen = self._counter_objects("remove", counters)
        for counter in chosen:
            if any(counter is member for member in self._configured):
                raise ValueError(f"{self.name}.remove: {counter.name} is in {self.name}'s config ({self._where}): "
                                 f"disable it instead, {self.name}.disable({counter.name!r})")  # fmt: skip
            if not self._holds(counter):
                raise ValueError(f"{self.name}.remove: {counter.name} is not in {self.name} "
                                 f"(its counters: {', '.join(self.available)})")  # fmt: skip
        self._added = [member for member in self._added if not any(member is counter for counter in chosen)]

    def _holds(self, counter: Counter) -> bool:
        return any(counter is member for member in self._members)

    def _counter_objects(self, action: str, counters: tuple[Any, ...]) -> list[Counter]:
        """``counters`` if each is a counter object, else TypeError saying what to give."""
        if not counters:
            raise TypeError(f"{self.name}.{action}: give counters, e.g. {self.name}.{action}(diode2)")
        for item in counters:
            if isinstance(item, str):
                raise TypeError(f"{self.name}.{action}: {item!r} is a name: give the counter itself, "
                                f"e.g. {self.name}.{action}({item.split(':')[-1]})")  # fmt: skip
            if not looks_like(item, Counter):
                raise TypeError(f"{self.name}.{action}: {shown(item)} is not a counter: give counters, "
                                f"e.g. {self.name}.{action}(diode2)")  # fmt: skip
        return list(counters)

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
                found = self._named(item)
            elif looks_like(item, Counter):
                found = [item.name] if self._holds(item) else []
            else:
                raise TypeError(f"{self.name}.{action}: {shown(item)} is neither a counter nor a counter name: give "
                                f"counters, names or patterns, e.g. {self.name}.{action}('diode*')")  # fmt: skip
            if not found:
                asked = item if isinstance(item, str) else item.name
                raise ValueError(f"{self.name}.{action}: no counter '{asked}' in {self.name} "
                                 f"(its counters: {', '.join(self.available)})")  # fmt: skip
            chosen.update(found)
        return chosen

    def _named(self, pattern: str) -> list[str]:
        """The names of the counters ``pattern`` chooses, by BLISS's rule.

        A controller's name chooses its counters; else the pattern is matched (``fnmatch``) against
        each counter's fullname and name.
        """
        members = self._members
        if any(member.fullname.split(":")[0] == pattern for member in members):
            return [member.name for member in members if member.fullname.startswith(f"{pattern}:")]
        return [
            member.name for member in members
            if fnmatch.fnmatch(member.fullname, pattern) or fnmatch.fnmatch(member.name, pattern)
        ]  # fmt: skip

    def __repr__(self) -> str:
        enabled, disabled = self.enabled, self.disabled
        rows = [f"MeasurementGroup: {self.name}", "", f"  {'Enabled':<30} Disabled", f"  {'-' * 30} {'-' * 30}"]
        for row in range(max(len(enabled), len(disabled), 1)):
            left = enabled[row] if row < len(enabled) else ""
            right = disabled[row] if row < len(disabled) else ""
            rows.append(f"  {left:<30} {right}".rstrip())
        return "\n".join(rows)
