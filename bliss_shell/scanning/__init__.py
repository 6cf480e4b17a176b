"""Acquisition chain, scan engine, scan commands and ``SCAN_SAVING``.

Layer: above ``data`` and ``writer``; see docs/architecture.md.
"""
