"""What scan commands need from the open session: its name, Redis, SCAN_SAVING, SCANS, ACTIVE_MG."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import redis

from bliss_shell.controllers import MeasurementGroup
from bliss_shell.data.retention import Retention

from .scan_saving import ScanSaving


@dataclass
class ScanContext:
    session: str
    client: redis.Redis
    scan_saving: ScanSaving
    scans: deque
    namespace: dict[str, Any]
    plot_selection: list[str] = field(default_factory=list)  # counter names chosen by plotselect()
    retention: Retention = field(default_factory=Retention)  # how long and how much Redis keeps
    # The live display: called with a scan's db_name once its tree is published; what it
    # returns is called after END, to wait until the display has shown the whole scan.
    watch: Callable[[str], Callable[[], None]] | None = None
    revive: Callable[[], Any] | None = None  # starts the embedded Redis again if it died (None: external)

    @property
    def active_mg(self) -> MeasurementGroup | None:
        """What scans count when given no counter: ``ACTIVE_MG`` of the namespace, else the
        session's first measurement group (also while the setup file runs)."""
        chosen = self.namespace.get("ACTIVE_MG")
        if chosen is not None:
            return chosen
        return next((v for v in self.namespace.values() if isinstance(v, MeasurementGroup)), None)


_current: ScanContext | None = None


def activate(context: ScanContext) -> None:
    global _current
    _current = context


def current() -> ScanContext:
    if _current is None:
        raise RuntimeError("no session is open: scans run in a session (bliss -s NAME)")
    return _current
