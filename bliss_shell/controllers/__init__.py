"""Motors, counters, Lima detectors and the simulator device servers behind them.

Layer: above ``comm`` and ``config``; see docs/architecture.md.
"""

from .acquisition import AcquisitionObject, AcquisitionParameters, Block, ChannelInfo, CounterController, Timing
from .interfaces import Axis, Counter, looks_like, stop_all, wait_all
from .measurement_group import MeasurementGroup

__all__ = ["AcquisitionObject", "AcquisitionParameters", "Axis", "Block", "ChannelInfo", "Counter", "CounterController",
           "MeasurementGroup", "Timing", "looks_like", "stop_all", "wait_all"]  # fmt: skip
