"""Closing a scan in Redis without its publisher: an orphan (its shell died, or lost Redis in a failover).

A running scan is listed in ``running_scans|{session}`` (a hash: db_name -> retention seconds)
from its first pipeline to its END. A scan listed there whose heartbeat stayed away
(``heartbeat.py``) is an orphan: whichever shell or reader finds it first closes it, if its
Redis takes writes. Closing is one script in the session's slot: it seals the channels where
this Redis's data ends (blissdata 2's seal, ``encoding.SEAL_ID``, whose ``id`` is the channel's length), writes END (``failed``, with the reason and the points this Redis has)
unless an END is already there, and the scan's keys then get the retention TTL, as a finished
scan's do. A scan with a blissdata 2 document (``blissdata.py``) is closed for blissdata's readers in
the same script: its Lima streams sealed too, its ``end_reason`` (FAILURE for an orphan) and
``end_time`` set, its state CLOSED. The publisher closes its own scan the same way after a failover (``close_scan``).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import redis

from . import blissdata, keys
from .encoding import SEAL_ID
from .heartbeat import GRACE, LOOK_PERIOD, Heartbeats
from .retention import Retention, release, subtree

PUBLISHER_GONE = "the scan's publisher stopped without ending it (its process died); points sent before are kept"

HELD = "{held}"
"""In a reason given to ``close_scan``: replaced by the points this Redis holds, as the closing script finds them."""

# KEYS: events, alive, running, blissdata document, its state stream, the channels' streams, then the Lima nodes'
# blissdata streams. ARGV: state, the reason before and after the points held ("" after when the reason has no
# HELD, "1" in ARGV[10] when it has), time, scan db_name, "1" to close only a silent scan, the seal's ID, the
# document's end_reason and end_time (JSON), the number of channels. The streams' lengths are read here, in the
# script: a block that a late publisher adds before it runs is counted and sealed after.
_CLOSE = """
if ARGV[5] == '1' and redis.call('exists', KEYS[2]) == 1 then return -1 end
local last = redis.call('xrevrange', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local fields = last[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'event' and fields[i + 1] == 'end' then
      redis.call('hdel', KEYS[3], ARGV[4])
      return -1
    end
  end
end
local held = nil
for i = 6, #KEYS do
  local entry = redis.call('xrevrange', KEYS[i], '+', '-', 'COUNT', 1)[1]
  local length, count = 0, 1
  if entry then
    for j = 1, #entry[2], 2 do
      if entry[2][j] == 'len' or entry[2][j] == 'id' then count = tonumber(entry[2][j + 1]) end
    end
    if entry[1] == ARGV[6] then length = count else length = tonumber(string.match(entry[1], '^(%d+)')) + count end
  end
  if not entry or entry[1] ~= ARGV[6] then redis.call('xadd', KEYS[i], ARGV[6], 'id', length) end
  if i < 6 + tonumber(ARGV[9]) and (held == nil or length < held) then held = length end
end
held = held or 0
local reason = ARGV[2]
if ARGV[10] == '1' then reason = reason .. held .. ARGV[11] end
redis.call('xadd', KEYS[1], '*', 'event', 'end', 'state', ARGV[1], 'reason', reason, 'time', ARGV[3], 'published', held)
if redis.call('exists', KEYS[4]) == 1 then
  redis.call('JSON.SET', KEYS[4], '$.info.end_reason', ARGV[7])
  redis.call('JSON.SET', KEYS[4], '$.info.end_time', ARGV[8])
  redis.call('xadd', KEYS[5], '*', 'state', 4)
end
redis.call('del', KEYS[2])
return held
"""


def close_scan(client: Any, scan_db: str, state: str, reason: str, silent_only: bool = True) -> int | None:
    """End ``scan_db`` in this Redis as its publisher would have; the points it holds, or None.

    None when the scan needs no closing: it has ended already, or (``silent_only``) its heartbeat is there.

    Parameters
    ----------
    client : redis.Redis
        The Redis that holds the scan (a primary).
    scan_db : str
        The scan's db_name.
    state : str
        The END's state: ``failed`` for an orphan.
    reason : str
        The END's reason; ``HELD`` in it (its last one) becomes the points this Redis holds.
    silent_only : bool
        Leave the scan alone if its heartbeat is there (its publisher lives).

    Returns
    -------
    int or None
        The points every channel holds (the fewest of them), or None.

    Raises
    ------
    LookupError
        This Redis has nothing of the scan.
    redis.ReadOnlyError
        ``client`` is a replica.

    Examples
    --------
    A scan that ended needs no closing:

    >>> close_scan(client, SCANS[-1].node.db_name, "failed", PUBLISHER_GONE) is None
    True
    >>> close_scan(client, "test_session:tmp:scans:99_ascan", "failed", PUBLISHER_GONE)
    Traceback (most recent call last):
    ...
    LookupError: test_session:tmp:scans:99_ascan is not in this Redis
    """
    session = keys.session_of(scan_db)
    fields = client.hgetall(keys.node_key(scan_db))
    if not fields:
        client.hdel(keys.running_key(session), scan_db)
        raise LookupError(f"{scan_db} is not in this Redis")
    nodes = subtree(client, scan_db)
    pipe = client.pipeline(transaction=False)
    pipe.exists(blissdata.scan_key(scan_db))
    for db_name in nodes:
        pipe.hget(keys.node_key(db_name), "type")
    documented, *kinds = pipe.execute()
    channels = [keys.stream_key(db_name) for db_name, kind in zip(nodes, kinds) if kind == b"channel"]
    lima = [keys.stream_key(db_name) for db_name, kind in zip(nodes, kinds) if kind == b"lima" and documented]
    before, marked, after = reason.rpartition(HELD) if HELD in reason else (reason, "", "")
    held = client.eval(
        _CLOSE,
        5 + len(channels) + len(lima),
        keys.events_key(scan_db),
        keys.alive_key(scan_db),
        keys.running_key(session),
        *blissdata.document_keys(scan_db),
        *channels,
        *lima,
        state,
        before,
        int(time.time() * 1000),
        scan_db,
        "1" if silent_only else "0",
        SEAL_ID,
        json.dumps(blissdata.END_REASONS.get(state, "FAILURE")),
        json.dumps(datetime.now().astimezone().isoformat()),
        len(channels),
        "1" if marked else "0",
        after,
    )
    if held < 0:
        return None
    retention = Retention(seconds=int(client.hget(keys.running_key(session), scan_db) or Retention.seconds))
    parents = _parents(client, fields)
    pipe = client.pipeline(transaction=False)
    release(pipe, scan_db, nodes, parents, retention)
    pipe.execute()
    return held


def _parents(client: Any, fields: dict[bytes, bytes]) -> list[str]:
    """The scan's folder and session nodes (made permanent while it ran)."""
    parents, parent = [], fields.get(b"parent", b"").decode()
    while parent:
        parents.append(parent)
        parent = (client.hget(keys.node_key(parent), "parent") or b"").decode()
    return parents


def close_orphans(client: Any, session: str) -> list[tuple[str, int]]:
    """Close the session's orphans; ``(db_name, points held)`` of those closed here.

    An orphan is a scan listed running whose heartbeat stays away for ``GRACE`` s of a responsive
    Redis. Waits only while some scan is suspect (its heartbeat missing, not yet for long enough).

    Examples
    --------
    No scan is running here, so there is none to close. After a shell died in the middle of ``7_ascan``,
    having sent 1204 points, it would give ``[('test_session:tmp:scans:7_ascan', 1204)]``.

    >>> close_orphans(client, "test_session")
    []
    """
    running = keys.running_key(session)
    scans = sorted(name.decode() for name in client.hkeys(running))
    if not scans:
        return []
    pipe = client.pipeline(transaction=False)
    for scan in scans:
        pipe.exists(keys.node_key(scan), keys.alive_key(scan))
    lost = [scan for scan, found in zip(scans, pipe.execute()) if not found]  # nothing of it reached this Redis
    if lost:
        client.hdel(running, *lost)
        scans = [scan for scan in scans if scan not in lost]
    watch, dead = Heartbeats(client), set()
    deadline = time.monotonic() + GRACE + 8 * LOOK_PERIOD
    dead |= watch.dead(scans)
    while (suspects := [scan for scan in scans if watch.suspects(scan) and scan not in dead]) and time.monotonic() < deadline:
        time.sleep(LOOK_PERIOD)  # gevent-patched in the shell
        dead |= watch.dead(suspects)
    closed: list[tuple[str, int]] = []
    for scan in sorted(dead):
        try:
            held = close_scan(client, scan, "failed", PUBLISHER_GONE)
        except redis.ReadOnlyError:  # a replica: a shell or reader on the primary closes it
            return closed
        except LookupError:  # removed meanwhile
            continue
        if held is not None:
            closed.append((scan, held))
    return closed
