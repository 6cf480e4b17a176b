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
from .context import ScanContext, activate, current
from .listing import lscnt, lsmg, lsobj
from .motors import lsmot, mv, mvd, mvr, set_lim, sta, sync, umv, umvd, umvr, wa, wm, wu
from .scan_tools import cen, com, fwhm, goto_cen, goto_com, goto_peak, peak, plotselect, where
from .plan import ScanPlan
from .scan import Scan
from .scan_saving import ScanSaving
from .esrf_saving import POLICY_COMMANDS, ESRFScanSaving, enddataset, newcollection, newdataset, newproposal, newsample, scan_saving_of

COMMANDS = [a2scan, amesh, anscan, ascan, ct, d2scan, dmesh, dnscan, dscan, fscan, ftimescan, lineup, lookupscan,
            loopscan, pointscan, sct, timescan,  # scans, then the helpers
            wa, wm, wu, mv, umv, mvr, umvr, mvd, umvd, sync, sta, set_lim, where, lsmot, lscnt, lsmg, lsobj, plotselect,
            cen, peak, com, fwhm, goto_cen, goto_peak, goto_com]  # fmt: skip

__all__ = [
    "COMMANDS", "Scan", "ScanContext", "ScanPlan", "ScanSaving", "activate", "current",
    "ESRFScanSaving", "POLICY_COMMANDS", "enddataset", "newcollection", "newdataset", "newproposal", "newsample",
    "scan_saving_of",
    "a2scan", "amesh", "anscan", "ascan", "ct", "d2scan", "dmesh", "dnscan", "dscan", "fscan", "ftimescan", "lineup",
    "lookupscan",
    "loopscan", "pointscan", "sct", "timescan",
]  # fmt: skip
