"""What scan commands need from the open session: its name, Redis, SCAN_SAVING, SCANS, ACTIVE_MG, its consumers."""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bliss_shell.comm import Settings
from bliss_shell.comm.redis_types import RedisClient
from bliss_shell.controllers import Axis, MeasurementGroup, looks_like
from bliss_shell.controllers.measurement_group import on_set_active
from bliss_shell.data.retention import Retention

from .scan_saving import ScanSaving
from .subscriptions import Subscriptions, default_subscriptions


@dataclass
class ScanContext:
    """The open session as its scans see it; ``current()`` gives it, one per shell.

    Examples
    --------
    >>> context = current()
    >>> context.session
    'test_session'
    >>> context.scans[-1] is SCANS[-1]
    True
    >>> context.active_mg.name
    'MG1'
    >>> context.consumers
    Subscriptions(lima frames, file, redis, display, logbook)
    """

    session: str
    client: RedisClient
    scan_saving: ScanSaving
    scans: deque
    namespace: dict[str, Any]
    plot_selection: list[str] = field(default_factory=list)  # counter names chosen by plotselect()
    retention: Retention = field(default_factory=Retention)  # how long and how much Redis keeps
    # The live display: called with a scan's db_name once its tree is published; what it
    # returns is called after END, to wait until the display has shown the whole scan.
    watch: Callable[[str], Callable[[], None]] | None = None
    revive: Callable[[], Any] | None = None  # starts the embedded Redis again if it died (None: external)
    consumers: Subscriptions = field(default_factory=default_subscriptions)  # what every scan hands its points to
    _axes: tuple[list[Any], list[Axis]] = field(default_factory=lambda: ([], []), init=False, repr=False)  # values, axes

    def positioners(self, dial: bool = False) -> dict[str, float]:
        """Every motor of the session, by name: user positions, or dial (a scan's ``instrument/positioners*``).

        NaN for a motor that cannot be read. The motors are looked for in the namespace only when
        something in it changed since the last call.

        Examples
        --------
        >>> current().positioners()
        {'roby': 4.0, 'robz': 0.0, ...}
        """
        positions = {}
        for axis in self._session_axes():
            try:
                positions[axis.name] = axis.dial if dial else axis.position
            except Exception:  # its server is gone: the position is unknown, the scan's own error says why
                positions[axis.name] = math.nan
        return positions

    def positioner_units(self) -> dict[str, str | None]:
        """Every motor of the session's unit, by name (a scan's ``positioners_units``); None where none is given.

        Examples
        --------
        >>> current().positioner_units()
        {'roby': ..., 'robz': ..., ...}
        """
        return {axis.name: axis.unit for axis in self._session_axes()}

    def _session_axes(self) -> list[Axis]:
        """The namespace's motors, in its order; found again only when a name was added, removed or bound anew."""
        values = list(self.namespace.values())
        seen, axes = self._axes
        if len(values) != len(seen) or any(map(operator.is_not, values, seen)):
            axes = [value for value in values if looks_like(value, Axis)]
            self._axes = (values, axes)
        return axes

    @property
    def active_mg(self) -> MeasurementGroup | None:
        """What scans count when given no counter.

        ``ACTIVE_MG`` of the namespace (a group the user or the setup file assigned there becomes the
        active one), else the group chosen last in this session (``set_active``, a setting), else the
        session's first measurement group.

        Raises
        ------
        TypeError
            ``ACTIVE_MG`` holds something that is not a measurement group.
        """
        chosen = self.namespace.get("ACTIVE_MG")
        if isinstance(chosen, MeasurementGroup):
            if chosen.name != self._active_setting.get("name"):
                self.set_active_mg(chosen)
            return chosen
        if chosen is not None:
            raise TypeError(f"ACTIVE_MG is {getattr(chosen, 'name', chosen)!r}, not a measurement group: choose one "
                            "with MG1.set_active() (lsmg() lists them)")  # fmt: skip
        groups = {name: v for name, v in self.namespace.items() if isinstance(v, MeasurementGroup) and v.name == name}
        return groups.get(self._active_setting.get("name")) or next(iter(groups.values()), None)

    def set_active_mg(self, group: MeasurementGroup) -> None:
        """``MG2.set_active()``: ``ACTIVE_MG`` of the namespace, and of the session's next shells."""
        self.namespace["ACTIVE_MG"] = group
        self._active_setting.set(name=group.name)

    @property
    def _active_setting(self) -> Settings:
        return Settings(f"active_mg:{self.session}", client=self.client)


_current: ScanContext | None = None


def activate(context: ScanContext) -> None:
    """Make ``context`` the open session's: what ``current()`` gives and ``MG.set_active()`` updates."""
    global _current
    _current = context
    on_set_active(context.set_active_mg)


def current() -> ScanContext:
    """The open session's context.

    Raises
    ------
    RuntimeError
        No session is open.

    Examples
    --------
    >>> current().scan_saving is SCAN_SAVING
    True
    """
    if _current is None:
        raise RuntimeError("no session is open: scans run in a session (bliss -s NAME)")
    return _current
