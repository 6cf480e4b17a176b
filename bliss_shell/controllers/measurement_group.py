"""Measurement groups: named lists of counters, the default counters of a scan (``ACTIVE_MG``)."""

from __future__ import annotations

from bliss_shell.config import ConfigError, ConfigNode

from .interfaces import Counter


class MeasurementGroup:
    """``class: MeasurementGroup`` with ``counters: [diode, diode2]``."""

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        names = node.get("counters") or []
        self.counters: list[Counter] = []
        for name in names:
            counter = node.config.get(name)
            if not isinstance(counter, Counter):
                raise ConfigError(f"{node.where}: {self.name}: '{name}' is not a counter")
            self.counters.append(counter)

    def __repr__(self) -> str:
        return f"MeasurementGroup: {self.name} ({', '.join(c.name for c in self.counters)})"
