"""Redis key names of the data tree, and the rules for node names.

Keys carry their kind first (``node|a:b``), never as a suffix, so no node name can
collide with another node's keys. See docs/redis-layout.md.
"""

from __future__ import annotations

import re

SEPARATOR = ":"
SESSIONS = "sessions"
FINISHED = "finished_scans"  # sorted set: finished scans by end time (ms), oldest removed first
NODE_KINDS = ("node", "info", "children", "data", "events", "alive")
_NAME = re.compile(r"[^:|\x00-\x1f\x7f]+")


def node_key(db_name: str) -> str:
    return f"node|{db_name}"


def info_key(db_name: str) -> str:
    return f"info|{db_name}"


def children_key(db_name: str) -> str:
    return f"children|{db_name}"


def data_key(db_name: str) -> str:
    return f"data|{db_name}"


def events_key(db_name: str) -> str:
    return f"events|{db_name}"


def alive_key(scan_db_name: str) -> str:
    """A running scan's heartbeat: refreshed by its publisher, gone when it ends or dies."""
    return f"alive|{scan_db_name}"


def node_keys(db_name: str) -> list[str]:
    """Every key a node may have."""
    return [f"{kind}|{db_name}" for kind in NODE_KINDS]


def check_name(name: str, what: str = "node name") -> str:
    """A node name is one db_name component: no ``:``, no ``|``, no control characters."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"{what} {name!r} is not valid: use letters, digits, '_', '-' or '.', without ':' or '|'")
    return name


def check_db_name(db_name: str) -> str:
    if not isinstance(db_name, str) or not db_name:
        raise ValueError(f"{db_name!r} is not a node db_name (like 'demo:tmp:scans:1_ascan')")
    for part in db_name.split(SEPARATOR):
        if not _NAME.fullmatch(part):
            raise ValueError(
                f"{db_name!r} is not a node db_name: components are separated by one ':' and "
                "contain no '|' or control characters"
            )
    return db_name


def plot_key(session: str) -> str:
    """A session's plot settings, a hash: ``select`` (plotselect's counters, JSON list), ``marker``
    (the last peak tool's result, JSON) and ``viewer`` (where the session's viewer listens, JSON)."""
    return f"plot|{session}"
