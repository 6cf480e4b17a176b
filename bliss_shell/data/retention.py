"""How long published data stays in Redis, and how much of it: whole scans, never parts of one.

- A finished scan's keys expire after the retention time; a running scan's keys never do.
  Its session and folder nodes are made permanent while it runs and get the same TTL when it
  ends, so they live as long as their newest scan.
- Redis runs with ``noeviction``: it never drops part of a tree. The memory cap is kept here,
  by removing whole finished scans of the session (``finished_scans|{session}``, oldest first)
  when the used memory of the Redis (the cluster node) that holds the session passes
  ``HIGH_WATER`` of the cap, down to ``LOW_WATER``.
"""

from __future__ import annotations

import math
import re
import time
import weakref
from dataclasses import dataclass
from typing import Any

import redis

from bliss_shell.comm import server_info
from bliss_shell.comm.connection import takes_scripts

from . import blissdata, keys

HIGH_WATER = 0.90  # of the cap: start removing finished scans
LOW_WATER = 0.80  # of the cap: stop removing
FULL = 0.95  # of the cap: a running scan stops sending points (the file keeps them)
MEMORY_CHECK = 0.5  # s between two looks at Redis's used memory by one process (sooner when near the cap)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Retention:
    """``data_retention`` (seconds, or ``12h``, ``1d``) and ``redis_memory_cap`` (bytes, or ``1gb``) of the config.

    Examples
    --------
    >>> Retention()
    Retention(seconds=86400, memory_cap=1073741824)
    """

    seconds: int = 86_400
    memory_cap: int = 1 << 30

    @classmethod
    def from_config(cls, settings: dict[str, Any]) -> Retention:
        """From the config's globals (the root ``__init__.yml``); what they lack keeps its default.

        Raises
        ------
        ValueError
            A value that is not a positive duration or size; the message names the setting.

        Examples
        --------
        >>> Retention.from_config({"data_retention": "12h", "redis_memory_cap": "512mb"})
        Retention(seconds=43200, memory_cap=536870912)
        >>> Retention.from_config({})
        Retention(seconds=86400, memory_cap=1073741824)
        """
        seconds = parse_duration(settings.get("data_retention", cls.seconds), "data_retention")
        cap = parse_size(settings.get("redis_memory_cap", cls.memory_cap), "redis_memory_cap")
        return cls(seconds, cap)


def parse_size(value: Any, what: str) -> int:
    """A size in bytes: a positive number of bytes, or a number with ``k``, ``m`` or ``g`` (powers of 1024).

    The unit may be followed by ``b`` or ``ib`` and is case-insensitive: ``1gb``, ``1G``, ``1.5GiB``.

    Parameters
    ----------
    value : int or str
        What the config says.
    what : str
        The setting's name, for the message.

    Raises
    ------
    ValueError
        Not a positive size; the message names ``what`` and the value.

    Examples
    --------
    >>> parse_size("1gb", "redis_memory_cap"), parse_size("512MiB", "redis_memory_cap"), parse_size(4096, "cap")
    (1073741824, 536870912, 4096)
    >>> parse_size("1.5k", "cap")
    1536
    >>> parse_size("lots", "redis_memory_cap")
    Traceback (most recent call last):
    ...
    ValueError: redis_memory_cap must be a size such as 1gb, 512mb or a number of bytes, not 'lots'
    """
    units = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    return _parse(value, _SIZE, units, f"{what} must be a size such as 1gb, 512mb or a number of bytes, not {value!r}")


def parse_duration(value: Any, what: str) -> int:
    """A duration in seconds: a positive number of seconds, or a number with ``s``, ``m``, ``h`` or ``d``.

    Parameters
    ----------
    value : int or str
        What the config says.
    what : str
        The setting's name, for the message.

    Raises
    ------
    ValueError
        Not a positive duration; the message names ``what`` and the value.

    Examples
    --------
    >>> parse_duration("12h", "data_retention"), parse_duration("1d", "data_retention"), parse_duration(600, "x")
    (43200, 86400, 600)
    >>> parse_duration("1.5m", "data_retention")
    90
    >>> parse_duration(0, "data_retention")
    Traceback (most recent call last):
    ...
    ValueError: data_retention must be a duration such as 86400, 12h or 1d, not 0
    """
    units = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return _parse(value, _DURATION, units, f"{what} must be a duration such as 86400, 12h or 1d, not {value!r}")


def _parse(value: Any, pattern: re.Pattern, units: dict[str, int], refusal: str) -> int:
    """A positive whole number, or a number with a unit letter (``1.5g``, ``12h``)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = pattern.match(str(value))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(refusal)
    return int(float(match.group(1)) * units[match.group(2).lower()])


# What ``release`` and ``hold`` do to every key they are given: one command where there would be dozens.
_EXPIRE_ALL = "for _, key in ipairs(KEYS) do redis.call('expire', key, ARGV[1]) end"
_PERSIST_ALL = "for _, key in ipairs(KEYS) do redis.call('persist', key) end"


def hold(pipe: Any, parents: list[str]) -> None:
    """A scan starts: its session and folder nodes (``held_keys``) lose their TTL while it runs.

    Queues the command on ``pipe``, the pipeline that also sends the scan's tree (``ScanPublisher``).
    """
    held = held_keys(parents)
    if held and takes_scripts(pipe):  # one command (the keys are all in the session's slot)
        pipe.eval(_PERSIST_ALL, len(held), *held)
    else:
        for key in held:
            pipe.persist(key)


def held_keys(parents: list[str]) -> list[str]:
    """The keys of a running scan's session and folder nodes: made permanent while it runs.

    Examples
    --------
    >>> held_keys(["demo:tmp", "demo"])
    ['node|{demo}:tmp', 'info|{demo}:tmp', 'children|{demo}:tmp', 'data|{demo}:tmp', 'events|{demo}:tmp', 'alive|{demo}:tmp',
     'esrf:stream:{demo}:tmp', 'node|{demo}', 'info|{demo}', 'children|{demo}', 'data|{demo}', 'events|{demo}',
     'alive|{demo}', 'esrf:stream:{demo}']
    """
    return [key for parent in parents for key in keys.node_keys(parent)]


def release(pipe: Any, scan_db: str, nodes: list[str], parents: list[str], retention: Retention) -> None:
    """A scan ended: its keys and its parents' expire after the retention time; it may now be removed.

    Queues the commands on ``pipe``, the pipeline that also sends the scan's END (``ScanPublisher``, ``close_scan``).

    Parameters
    ----------
    pipe : redis.client.Pipeline
        Where the commands go; the caller executes it.
    scan_db : str
        The scan's db_name.
    nodes : list of str
        The scan's nodes (the scan and its descendants).
    parents : list of str
        Its folder and session nodes.
    retention : Retention
        The TTL to give.
    """
    expiring = [key for db_name in [*nodes, *parents] for key in keys.node_keys(db_name)]
    expiring += blissdata.document_keys(scan_db)  # its blissdata 2 document and state stream, if it has them
    if takes_scripts(pipe):  # one command (the keys are all in the session's slot)
        pipe.eval(_EXPIRE_ALL, len(expiring), *expiring, retention.seconds)
    else:
        for key in expiring:
            pipe.expire(key, retention.seconds)
    now, finished = time.time(), keys.finished_key(keys.session_of(scan_db))
    pipe.hdel(keys.running_key(keys.session_of(scan_db)), scan_db)
    pipe.zadd(finished, {scan_db: now * 1000})
    pipe.zremrangebyscore(finished, "-inf", (now - retention.seconds) * 1000)  # expired by now
    pipe.expire(finished, retention.seconds)


def used_memory(client: redis.Redis, session: str) -> int:
    """Used memory of the Redis, or of the cluster node, that holds the session, in bytes.

    Examples
    --------
    >>> used_memory(client, "test_session") > 0
    True
    """
    return int(server_info(client, keys.finished_key(session), "memory")["used_memory"])


def subtree(client: redis.Redis, db_name: str) -> list[str]:
    """The node and all its descendants, read from the ``children|`` streams (the node first).

    Examples
    --------
    >>> [db_name.rsplit(":", 1)[-1] for db_name in subtree(client, SCANS[-1].node.db_name)]
    ['2_ascan', 'axis', 'timer', 'diode', 'diode', 'epoch', 'elapsed_time', 'roby']
    """
    found, todo = [], [db_name]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(fields[b"db"].decode() for _, fields in client.xrange(keys.children_key(current)))
    return found


def remove_scan(client: redis.Redis, scan_db: str) -> None:
    """Delete every key of a finished scan in one transaction: readers see all of it or none.

    Its blissdata 2 document and streams go too (its ``_SCAN_HISTORY_`` entry stays: blissdata's readers
    skip a scan whose key is gone). Its file keeps the data: a reader that still holds one of its nodes
    gets ``NodeExpired``.

    Examples
    --------
    >>> scan = loopscan(2, 0, diode)
    >>> remove_scan(client, scan.node.db_name)
    >>> get_node(scan.node.db_name) is None
    True
    >>> len(scan.get_data()["diode:diode"])
    2
    """
    pipe = client.pipeline(transaction=True)
    for db_name in subtree(client, scan_db):
        pipe.delete(*keys.node_keys(db_name))
    pipe.delete(*blissdata.document_keys(scan_db))
    pipe.zrem(keys.finished_key(keys.session_of(scan_db)), scan_db)
    pipe.execute()


def used_after_room(client: redis.Redis, session: str, cap: int, incoming: int = 0) -> int:
    """Make room, then give the used memory it leaves, in bytes: one ``INFO`` when there is room already.

    Nothing is removed unless used memory plus ``incoming`` bytes is above ``HIGH_WATER`` of the cap;
    then the session's finished scans go, oldest first, until it is down to ``LOW_WATER`` (or none is
    left). Running scans are never in ``finished_scans``.

    Examples
    --------
    >>> used_after_room(client, "test_session", cap=1 << 30) == used_memory(client, "test_session")
    True
    """
    used = used_memory(client, session)
    if used + incoming <= HIGH_WATER * cap:
        return used
    while used + incoming > LOW_WATER * cap:
        oldest = client.zrange(keys.finished_key(session), 0, 0)
        if not oldest:
            break
        remove_scan(client, oldest[0].decode())
        used = used_memory(client, session)
    return used


@dataclass
class MemoryGauge:
    """Redis's used memory as this process last looked at it, and the bytes it sent since.

    One per Redis client and session, shared by the session's scans (``memory_gauge``): a run of short scans
    looks at Redis's memory once every ``MEMORY_CHECK`` seconds, not once per scan.

    Examples
    --------
    >>> gauge = memory_gauge(client, "test_session")
    >>> gauge is memory_gauge(client, "test_session")
    True
    >>> gauge.looks_due(time.monotonic() + MEMORY_CHECK, 0, 1 << 30)
    True
    """

    used: int = 0  # at the last look, in bytes
    unchecked: int = 0  # bytes sent since the last look
    looked: float = -math.inf  # time.monotonic() of the last look

    def looks_due(self, now: float, incoming: int, cap: int) -> bool:
        """Whether to look again before sending ``incoming`` bytes: the last look is old, or the estimate nears the cap."""
        return now - self.looked >= MEMORY_CHECK or self.used + self.unchecked + incoming > HIGH_WATER * cap

    def looked_at(self, used: int, now: float) -> None:
        """A fresh look found ``used`` bytes."""
        self.used, self.unchecked, self.looked = used, 0, now


_gauges: weakref.WeakKeyDictionary[Any, dict[str, MemoryGauge]] = weakref.WeakKeyDictionary()


def memory_gauge(client: redis.Redis, session: str) -> MemoryGauge:
    """The process's ``MemoryGauge`` of the Redis ``client`` talks to, for ``session`` (made on first use)."""
    return _gauges.setdefault(client, {}).setdefault(session, MemoryGauge())


def status(client: redis.Redis, session: str, retention: Retention) -> dict[str, Any]:
    """What ``bliss data status`` shows of a session.

    Returns
    -------
    dict
        ``used`` and ``cap`` (bytes), ``retention`` (s), ``scans`` (finished ones held), ``running``, and
        ``oldest``: ``(db_name, end time in s since the epoch)`` of the oldest finished scan, or None.

    Examples
    --------
    >>> status(client, "test_session", Retention())
    {'used': ..., 'cap': 1073741824, 'retention': 86400, 'scans': 2, 'running': 0, 'oldest': ('test_session:...:1_loopscan', ...)}
    """
    finished = keys.finished_key(session)
    oldest = client.zrange(finished, 0, 0, withscores=True)
    return {
        "used": used_memory(client, session),
        "cap": retention.memory_cap,
        "retention": retention.seconds,
        "scans": int(client.zcard(finished)),
        "running": int(client.hlen(keys.running_key(session))),
        "oldest": (oldest[0][0].decode(), oldest[0][1] / 1000) if oldest else None,
    }
