"""Motors, counters, Lima detectors and the simulator device servers behind them.

Layer: above ``comm`` and ``config``; see docs/architecture.md.
"""

from .interfaces import Axis, Counter, Detector, looks_like
from .measurement_group import MeasurementGroup

__all__ = ["Axis", "Counter", "Detector", "MeasurementGroup", "looks_like"]
