"""Motors, counters, Lima detectors and the simulator device servers behind them.

Layer: above ``comm`` and ``config``; see docs/architecture.md.
"""
