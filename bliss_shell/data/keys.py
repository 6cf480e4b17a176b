"""Redis key names of the data tree, and the rules for node names.

Keys carry their kind first (``node|{demo}:tmp``), never as a suffix, so no node name can
collide with another node's keys. The session, first component of every db_name, is in
braces: Redis Cluster's hash tag, so all of a session's keys live in one slot and its Lua
scripts, transactions and multi-stream reads work on a cluster as on one Redis.
See docs/redis-layout.md.
"""

from __future__ import annotations

import re

SEPARATOR = ":"
SESSIONS = "sessions"  # the one key outside every session's slot: a set of names
NODE_KINDS = ("node", "info", "children", "data", "events", "alive")
_NAME = re.compile(r"[^:|\x00-\x1f\x7f]+")
_SESSION_NAME = re.compile(r"[^:|{}\x00-\x1f\x7f]+")


def tagged(db_name: str) -> str:
    """``demo:tmp:3_ascan`` as it appears in keys: ``{demo}:tmp:3_ascan`` (the session is the hash tag)."""
    session, separator, rest = db_name.partition(SEPARATOR)
    return f"{{{session}}}{separator}{rest}"


def session_of(db_name: str) -> str:
    return db_name.partition(SEPARATOR)[0]


def node_key(db_name: str) -> str:
    return f"node|{tagged(db_name)}"


def info_key(db_name: str) -> str:
    return f"info|{tagged(db_name)}"


def children_key(db_name: str) -> str:
    return f"children|{tagged(db_name)}"


def data_key(db_name: str) -> str:
    return f"data|{tagged(db_name)}"


def events_key(db_name: str) -> str:
    return f"events|{tagged(db_name)}"


def alive_key(scan_db_name: str) -> str:
    """A running scan's heartbeat: refreshed by its publisher, gone when it ends or dies."""
    return f"alive|{tagged(scan_db_name)}"


def node_keys(db_name: str) -> list[str]:
    """Every key a node may have."""
    return [f"{kind}|{tagged(db_name)}" for kind in NODE_KINDS]


def finished_key(session: str) -> str:
    """A sorted set: the session's finished scans by end time (ms), the order the memory cap removes them."""
    return f"finished_scans|{{{session}}}"


def running_key(session: str) -> str:
    """A hash: the session's scans published and not ended (db_name -> retention seconds), where a
    closer looks for orphans (``orphans.py``)."""
    return f"running_scans|{{{session}}}"


def session_key(kind: str, session: str) -> str:
    """Another per-session key in the session's slot: ``scan_saving|{demo}``, ``lock|session|{demo}``."""
    return f"{kind}|{{{session}}}"


def check_name(name: str, what: str = "node name") -> str:
    """A node name is one db_name component: no ``:``, no ``|``, no control characters; a session
    name has no braces either (they mark it in keys)."""
    pattern = _SESSION_NAME if what == "session name" else _NAME
    if not isinstance(name, str) or not pattern.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"{what} {name!r} is not valid: use letters, digits, '_', '-' or '.', without ':', '|', '{{' or '}}'")
    return name


def check_db_name(db_name: str) -> str:
    if not isinstance(db_name, str) or not db_name:
        raise ValueError(f"{db_name!r} is not a node db_name (like 'demo:tmp:scans:1_ascan')")
    for index, part in enumerate(db_name.split(SEPARATOR)):
        if not (_NAME if index else _SESSION_NAME).fullmatch(part):
            raise ValueError(
                f"{db_name!r} is not a node db_name: components are separated by one ':' and "
                "contain no '|' or control characters (the first, the session, no braces)"
            )
    return db_name


def plot_key(session: str) -> str:
    """A session's plot settings, a hash: ``select`` (plotselect's counters, JSON list), ``marker``
    (the last peak tool's result, JSON) and ``viewer`` (where the session's viewer listens, JSON)."""
    return session_key("plot", session)
