"""Acquisition chain, scan engine, scan commands and ``SCAN_SAVING``.

Layer: above ``data`` and ``writer``; see docs/architecture.md.
"""

from .commands import (
    a2scan,
    amesh,
    anscan,
    ascan,
    ct,
    d2scan,
    dmesh,
    dnscan,
    dscan,
    lineup,
    lookupscan,
    loopscan,
    pointscan,
    sct,
    timescan,
)
from .context import ScanContext, activate, current
from .scan import Scan, ScanPlan
from .scan_saving import ScanSaving

COMMANDS = [a2scan, amesh, anscan, ascan, ct, d2scan, dmesh, dnscan, dscan, lineup, lookupscan, loopscan,
            pointscan, sct, timescan]  # fmt: skip

__all__ = [
    "COMMANDS", "Scan", "ScanContext", "ScanPlan", "ScanSaving", "activate", "current",
    "a2scan", "amesh", "anscan", "ascan", "ct", "d2scan", "dmesh", "dnscan", "dscan", "lineup", "lookupscan",
    "loopscan", "pointscan", "sct", "timescan",
]  # fmt: skip
