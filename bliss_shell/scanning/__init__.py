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
    fscan,
    ftimescan,
    lineup,
    lookupscan,
    loopscan,
    pointscan,
    sct,
    timescan,
)
from .consumers import ScanConsumer, ScanStart
from .context import ScanContext, activate, current
from .esrf_saving import (
    POLICY_COMMANDS,
    ESRFScanSaving,
    enddataset,
    newcollection,
    newdataset,
    newproposal,
    newsample,
    scan_saving_of,
)
from .listing import lscnt, lsmg, lsobj
from .motors import lsmot, mv, mvd, mvr, set_lim, sta, sync, umv, umvd, umvr, wa, wm, wu
from .multi_motor import a3scan, a4scan, a5scan, d3scan, d4scan, d5scan
from .plan import ScanPlan
from .scan import Scan
from .scan_saving import ScanSaving
from .scan_tools import cen, com, fwhm, goto_cen, goto_com, goto_min, goto_peak, peak, plotselect, trough, where
from .subscriptions import ConsumerError, Subscription, Subscriptions

COMMANDS = [a2scan, a3scan, a4scan, a5scan, amesh, anscan, ascan, ct, d2scan, d3scan, d4scan, d5scan, dmesh, dnscan,
            dscan, fscan, ftimescan, lineup, lookupscan, loopscan, pointscan, sct, timescan,  # scans, then the helpers
            wa, wm, wu, mv, umv, mvr, umvr, mvd, umvd, sync, sta, set_lim, where, lsmot, lscnt, lsmg, lsobj, plotselect,
            cen, peak, trough, com, fwhm, goto_cen, goto_peak, goto_min, goto_com]  # fmt: skip

__all__ = [
    "COMMANDS",
    "POLICY_COMMANDS",
    "ConsumerError",
    "ESRFScanSaving",
    "Scan",
    "ScanConsumer",
    "ScanContext",
    "ScanPlan",
    "ScanSaving",
    "ScanStart",
    "Subscription",
    "Subscriptions",
    "a2scan",
    "a3scan",
    "a4scan",
    "a5scan",
    "activate",
    "amesh",
    "anscan",
    "ascan",
    "ct",
    "current",
    "d2scan",
    "d3scan",
    "d4scan",
    "d5scan",
    "dmesh",
    "dnscan",
    "dscan",
    "enddataset",
    "fscan",
    "ftimescan",
    "lineup",
    "lookupscan",
    "loopscan",
    "newcollection",
    "newdataset",
    "newproposal",
    "newsample",
    "pointscan",
    "scan_saving_of",
    "sct",
    "timescan",
]  # fmt: skip
