"""Redis key names of the data tree, and the rules for node names.

Keys carry their kind first (``node|{demo}:tmp``), never as a suffix, so no node name can
collide with another node's keys. A channel's values are in blissdata 2's stream,
``esrf:stream:{demo}:...`` (``stream_key``), which blissdata 2 readers read too. The session, first component of every db_name, is in
braces: Redis Cluster's hash tag, so all of a session's keys live in one slot and its Lua
scripts, transactions and multi-stream reads work on a cluster as on one Redis.
See docs/redis-layout.md.
"""

from __future__ import annotations

import re

SEPARATOR = ":"
SESSIONS = "sessions"  # the one key outside every session's slot: a set of names
NODE_KINDS = ("node", "info", "children", "data", "events", "alive")
STREAM_PREFIX = "esrf:stream:"  # blissdata 2's streams: its StreamModel.key() is this prefix and the stream's pk
_NAME = re.compile(r"[^:|\x00-\x1f\x7f]+")
_SESSION_NAME = re.compile(r"[^:|{}\x00-\x1f\x7f]+")


def tagged(db_name: str) -> str:
    """``demo:tmp:3_ascan`` as it appears in keys: ``{demo}:tmp:3_ascan`` (the session is the hash tag).

    Examples
    --------
    >>> tagged("demo:tmp:3_ascan")
    '{demo}:tmp:3_ascan'
    >>> tagged("demo")
    '{demo}'
    """
    session, separator, rest = db_name.partition(SEPARATOR)
    return f"{{{session}}}{separator}{rest}"


def session_of(db_name: str) -> str:
    """The session of a db_name: its first component.

    Examples
    --------
    >>> session_of("demo:tmp:3_ascan")
    'demo'
    """
    return db_name.partition(SEPARATOR)[0]


def node_key(db_name: str) -> str:
    """The hash of a node's fields (``name``, ``type``, ``parent``, ...).

    Examples
    --------
    >>> node_key("demo:tmp:3_ascan")
    'node|{demo}:tmp:3_ascan'
    """
    return f"node|{tagged(db_name)}"


def info_key(db_name: str) -> str:
    """A node's info: JSON (a scan's scan_info, a Lima node's references).

    Examples
    --------
    >>> info_key("demo:tmp:3_ascan")
    'info|{demo}:tmp:3_ascan'
    """
    return f"info|{tagged(db_name)}"


def children_key(db_name: str) -> str:
    """The stream that announces a node's children, in creation order.

    Examples
    --------
    >>> children_key("demo:tmp:3_ascan")
    'children|{demo}:tmp:3_ascan'
    """
    return f"children|{tagged(db_name)}"


def data_key(db_name: str) -> str:
    """A Lima node's stream of frame counters (a channel's values are in ``stream_key``).

    Examples
    --------
    >>> data_key("demo:tmp:3_ascan")
    'data|{demo}:tmp:3_ascan'
    """
    return f"data|{tagged(db_name)}"


def stream_key(db_name: str) -> str:
    """A channel's stream of typed binary blocks, in blissdata 2's layout (``encoding.py``).

    blissdata 2's readers open it as the stream whose pk is ``tagged(db_name)``.

    Examples
    --------
    >>> stream_key("demo:tmp:3_ascan:axis:roby")
    'esrf:stream:{demo}:tmp:3_ascan:axis:roby'
    """
    return f"{STREAM_PREFIX}{tagged(db_name)}"


def events_key(db_name: str) -> str:
    """A scan's stream of events: ``prepared``, then ``end``.

    Examples
    --------
    >>> events_key("demo:tmp:3_ascan")
    'events|{demo}:tmp:3_ascan'
    """
    return f"events|{tagged(db_name)}"


def alive_key(scan_db_name: str) -> str:
    """A running scan's heartbeat: refreshed by its publisher, gone when it ends or dies.

    Examples
    --------
    >>> alive_key("demo:tmp:3_ascan")
    'alive|{demo}:tmp:3_ascan'
    """
    return f"alive|{tagged(scan_db_name)}"


def node_keys(db_name: str) -> list[str]:
    """Every key a node may have.

    Examples
    --------
    >>> node_keys("demo:tmp")
    ['node|{demo}:tmp', 'info|{demo}:tmp', 'children|{demo}:tmp', 'data|{demo}:tmp', 'events|{demo}:tmp', 'alive|{demo}:tmp',
     'esrf:stream:{demo}:tmp']
    """
    return [*(f"{kind}|{tagged(db_name)}" for kind in NODE_KINDS), stream_key(db_name)]


def finished_key(session: str) -> str:
    """A sorted set: the session's finished scans by end time (ms), the order the memory cap removes them.

    Examples
    --------
    >>> finished_key("demo")
    'finished_scans|{demo}'
    """
    return f"finished_scans|{{{session}}}"


def running_key(session: str) -> str:
    """A hash: the session's scans published and not ended (db_name -> retention seconds).

    A closer looks there for orphans (``orphans.py``).

    Examples
    --------
    >>> running_key("demo")
    'running_scans|{demo}'
    """
    return f"running_scans|{{{session}}}"


def session_key(kind: str, session: str) -> str:
    """Another per-session key in the session's slot: ``scan_saving|{demo}``, ``lock|session|{demo}``.

    Examples
    --------
    >>> session_key("scan_saving", "demo")
    'scan_saving|{demo}'
    """
    return f"{kind}|{{{session}}}"


def check_name(name: str, what: str = "node name") -> str:
    """``name`` if it can be one db_name component; else ValueError.

    A component has no ``:``, no ``|``, no control characters, and is not ``.`` or ``..``; a session
    name has no braces either (they mark it in keys).

    Parameters
    ----------
    name : str
        The name to check.
    what : str
        What the name is, for the message; ``"session name"`` also refuses braces.

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    ValueError
        The name is refused; the message names ``what`` and the value.

    Examples
    --------
    >>> check_name("sample1")
    'sample1'
    >>> check_name("a:b", "saving folder component")
    Traceback (most recent call last):
    ...
    ValueError: saving folder component 'a:b' is not valid: use letters, digits, '_', '-' or '.' (not ':', '|', control characters, '.' or '..' alone)
    >>> check_name("{demo}", "session name")
    Traceback (most recent call last):
    ...
    ValueError: session name '{demo}' is not valid: use letters, digits, '_', '-' or '.' (not ':', '|', '{', '}', control characters, '.' or '..' alone)
    """
    session = what == "session name"
    if not isinstance(name, str) or not (_SESSION_NAME if session else _NAME).fullmatch(name) or name in (".", ".."):
        refused = "':', '|', '{', '}'" if session else "':', '|'"
        raise ValueError(f"{what} {name!r} is not valid: use letters, digits, '_', '-' or '.' (not {refused}, control "
                         "characters, '.' or '..' alone)")  # fmt: skip
    return name


def check_db_name(db_name: str) -> str:
    """``db_name`` if it is components joined by ``:``, each a valid name (the first, the session, without braces).

    Raises
    ------
    ValueError
        Empty, not a string, an empty component (``a::b``), or a component with ``|`` or a control character.

    Examples
    --------
    >>> check_db_name("demo:tmp:scans:3_ascan")
    'demo:tmp:scans:3_ascan'
    >>> check_db_name("demo::3_ascan")
    Traceback (most recent call last):
    ...
    ValueError: 'demo::3_ascan' is not a node db_name: components are separated by one ':' and ...
    """
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
    """A session's plot settings, a hash of JSON values.

    ``select`` holds plotselect's counters (a list), ``marker`` the last peak tool's result, and
    ``viewer`` where the session's viewer listens.

    Examples
    --------
    >>> plot_key("demo")
    'plot|{demo}'
    """
    return session_key("plot", session)
