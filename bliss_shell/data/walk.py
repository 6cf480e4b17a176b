"""Following a subtree: replay what exists depth first, then one XREAD over every stream of interest.

Guarantees (see docs/redis-layout.md): every node once, parent before child; for a scan,
PREPARED before its data before END; every point exactly once with contiguous
``first_index``. They hold because a node's streams are added to the read set (from ID
0) before the node is yielded, and because END is held back until every stream is
caught up, so data written before END is always yielded before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import redis

from bliss_shell.comm import through_failover

from . import keys
from .encoding import SEAL_ID, block_first, block_id
from .events import Event, EventData, EventType
from .heartbeat import LOOK_PERIOD, Heartbeats
from .orphans import PUBLISHER_GONE, close_scan

NodeFilter = str | Sequence[str] | Callable[[Any], bool] | None

BATCH = 1000  # entries per stream per read
_IDLE_MS = 1000  # one blocking read; stays below the client's socket timeout
_SETTLE_MS = 20  # how long to look for more data before an END is yielded


def _matcher(node_filter: NodeFilter, default: bool) -> Callable[[Any], bool]:
    if node_filter is None:
        return lambda node: default
    if callable(node_filter):
        return node_filter
    types = {node_filter} if isinstance(node_filter, str) else set(node_filter)
    return lambda node: node.type in types


def _has_data(node: Any) -> bool:
    """Nodes with a stream of points (channels) or of frame status (Lima)."""
    return node.type in ("channel", "lima")


def _data_key(node: Any) -> str:
    """A channel's stream of points (blissdata 2's layout), or a Lima node's ``data|`` stream of frame status."""
    return keys.stream_key(node.db_name) if node.type == "channel" else keys.data_key(node.db_name)


def _kind(key: str) -> int:
    """The order in which one read's streams are handled: nodes, then PREPARED/END, then points."""
    return 0 if key.startswith("children|") else 1 if key.startswith("events|") else 2


def _end_data(fields: dict[bytes, bytes]) -> EventData:
    state = fields.get(b"state", b"done").decode()
    reason = fields.get(b"reason", b"").decode()
    return EventData(data={"state": state, "reason": reason}, description=reason)


class Walker:
    """One reader's walk over a subtree: what ``DataNode.walk``, ``walk_events`` and ``walk_on_new_events`` use.

    Examples
    --------
    >>> [event.type.name for event in Walker(get_node(SCANS[-1].node.db_name), "scan").events(wait=False)]
    ['NEW_NODE', 'PREPARED_SCAN', 'END_SCAN']
    """

    def __init__(
        self,
        root: Any,
        include_filter: NodeFilter = None,
        exclude_children: NodeFilter = None,
        first_index: int = 0,
        nodes_only: bool = False,
        from_now: bool = False,
        read_period: float = 0.0,
    ):
        self._root = root
        self._client = root._client
        self._include = _matcher(include_filter, True)
        self._exclude = _matcher(exclude_children, False)
        self._first_index = first_index
        self._nodes_only = nodes_only
        self._silent = from_now
        self._positions: dict[str, str] = {}
        self._owners: dict[str, Any] = {}
        self._scan_streams: dict[str, list[str]] = {}
        self._scan_of: dict[str, str | None] = {}
        self._ended: dict[str, tuple[Any, dict[bytes, bytes]]] = {}  # by scan: one END each
        self._running: dict[str, Any] = {}  # scans without END yet: their heartbeat is watched
        self._heartbeats = Heartbeats(self._client)
        self._last_heartbeat_check = 0.0
        self._read_period = read_period
        self._read_at = 0.0  # when the last read that had caught up returned (0: read at once)

    def events(self, wait: bool) -> Iterator[Event]:
        """What exists, in order; then, with ``wait``, what comes (until the scans followed have all ended)."""
        yield from self._replay(self._root, None)
        self._silent = False
        if wait:
            yield from self._follow()

    # -- what exists -------------------------------------------------------------------

    def _replay(self, node: Any, scan: str | None) -> Iterator[Event]:
        scan = self._register(node, scan)
        yield from self._out(Event(EventType.NEW_NODE, node))
        if node.type == "scan" and not self._nodes_only:
            # PREPARED is published after the whole tree: read it first, and the descendants
            # read next are complete whenever it is there (a scan being published right now).
            scan_events = self._read_scan_events(node)
            prepared = any(fields.get(b"event") == b"prepared" for _, fields in scan_events)
            channels = []
            if not self._exclude(node):
                for descendant in self._descendants(node, scan):
                    yield from self._out(Event(EventType.NEW_NODE, descendant))
                    if _has_data(descendant):
                        channels.append(descendant)
            yield from self._on_events(node, scan_events)
            # Not PREPARED when its events were read: its points (maybe published since) wait for _follow,
            # which reads PREPARED before them; read now, they would come before it.
            for channel in channels if prepared else []:
                yield from self._data(channel)
            yield from self._release_ended(settled=True)
        elif _has_data(node) and not self._nodes_only:
            yield from self._data(node)
        elif not self._exclude(node):
            for child in self._read_children(node):
                yield from self._replay(child, scan)

    def _descendants(self, node: Any, scan: str | None) -> Iterator[Any]:
        for child in self._read_children(node):
            self._register(child, scan)
            yield child
            if not self._exclude(child):
                yield from self._descendants(child, scan)

    def _read_children(self, node: Any) -> list[Any]:
        key = keys.children_key(node.db_name)
        entries = self._client.xrange(key, min=f"({self._positions.get(key, '0-0')}")
        if entries:
            self._positions[key] = entries[-1][0].decode()
        return node.nodes_of_children(entries)

    def _read_scan_events(self, scan: Any) -> list:
        key = keys.events_key(scan.db_name)
        entries = self._client.xrange(key, min=f"({self._positions[key]}")
        if entries:
            self._positions[key] = entries[-1][0].decode()
        return entries

    def _data(self, channel: Any) -> Iterator[Event]:
        key = _data_key(channel)
        if self._silent:
            return
        while self._positions[key] != SEAL_ID:  # nothing comes after a seal (and Redis takes no ID above it)
            entries = self._client.xrange(key, min=f"({self._positions[key]}", count=BATCH)
            if not entries:
                return
            self._positions[key] = entries[-1][0].decode()
            yield from self._on_data(channel, entries)
            if len(entries) < BATCH:
                return

    # -- what comes --------------------------------------------------------------------

    def _follow(self) -> Iterator[Event]:
        while self._positions:
            self._check_heartbeats()
            block = _SETTLE_MS if self._ended else int(1000 * LOOK_PERIOD) if self._running else _IDLE_MS
            pause = self._read_at + self._read_period - time.monotonic()
            if pause > 0:  # a reader that wants batches, not every point as it comes
                time.sleep(pause)
            positions = dict(self._positions)  # a failover: the same read again, on the new primary
            reply = through_failover(self._client, lambda: self._client.xread(positions, count=BATCH, block=block))  # noqa: B023
            self._read_at = 0.0
            if not reply:
                yield from self._release_ended(settled=True)
                continue
            full, added = False, False
            batches = []
            for raw_key, entries in reply:
                key = raw_key.decode()
                self._positions[key] = entries[-1][0].decode()
                full |= len(entries) == BATCH
                batches.append((key, entries))
            if not full:
                self._read_at = time.monotonic()
            for kind in range(3):  # nodes, then PREPARED/END, then points
                for key, entries in batches:
                    if _kind(key) != kind:
                        continue
                    owner = self._owners[key]
                    if kind == 0:
                        for child in owner.nodes_of_children(entries):
                            scan = self._register(child, self._scan_of.get(owner.db_name))
                            added = True
                            yield from self._out(Event(EventType.NEW_NODE, child))
                            if not self._exclude(child):  # the whole subtree now, so a PREPARED read in
                                for descendant in self._descendants(child, scan):  # this batch comes after it
                                    yield from self._out(Event(EventType.NEW_NODE, descendant))
                    elif kind == 1:
                        yield from self._on_events(owner, entries)
                    else:
                        yield from self._on_data(owner, entries)
            yield from self._release_ended(settled=not full and not added)

    def _check_heartbeats(self) -> None:
        """Close the running scans whose publisher died: a killed shell never sends END.

        Once a heartbeat stayed away (``heartbeat.py``: a stalled Redis is not a death), the scan is closed in
        Redis (``orphans.py``), whose END then comes like any; on a replica, which takes no writes, it is
        ended for this reader alone.
        """
        now = time.monotonic()
        if not self._running or now - self._last_heartbeat_check < LOOK_PERIOD:
            return
        self._last_heartbeat_check = now
        for db_name in through_failover(self._client, lambda: self._heartbeats.dead(list(self._running))):
            scan = self._running.pop(db_name)
            try:
                if close_scan(self._client, db_name, "failed", PUBLISHER_GONE) is None:
                    self._running[db_name] = scan  # ended by another (its END comes), or its heartbeat is back
                continue  # closed here: its END is in the stream
            except (redis.ResponseError, LookupError):  # READONLY (a replica), NOPERM (a read-only user), gone
                pass
            self._ended.setdefault(db_name, (scan, {b"event": b"end", b"state": b"failed", b"reason": PUBLISHER_GONE.encode()}))

    # -- shared ------------------------------------------------------------------------

    def _register(self, node: Any, scan: str | None) -> str | None:
        """Add the node's streams to the read set before the node is yielded."""
        if node.type == "scan":
            scan = node.db_name
            if not self._nodes_only:
                self._running[scan] = node
        wanted = []
        if not _has_data(node) and not self._exclude(node):
            wanted.append((keys.children_key(node.db_name), "0-0"))
        if not self._nodes_only and node.type == "scan":
            wanted.append((keys.events_key(node.db_name), "0-0"))
        if not self._nodes_only and _has_data(node):
            wanted.append((_data_key(node), self._data_start(node)))
        for key, position in wanted:
            self._positions.setdefault(key, position)
            self._owners[key] = node
            if scan is not None:
                self._scan_streams.setdefault(scan, []).append(key)
        self._scan_of[node.db_name] = scan
        return scan

    def _data_start(self, channel: Any) -> str:
        """The position to read a channel from.

        Its end when only new events are wanted, else just before the block that holds ``first_index``.
        """
        key = _data_key(channel)
        if self._silent:
            last = self._client.xrevrange(key, count=1)
            return last[0][0].decode() if last else "0-0"
        if self._first_index <= 0 or channel.type == "lima":
            return "0-0"
        block = self._client.xrevrange(key, max=block_id(self._first_index), count=1)
        return f"{block_first(block[0][0])}-0" if block else "0-0"  # just before the block (IDs are {first}-1)

    def _on_events(self, scan: Any, entries: list) -> Iterator[Event]:
        for _, fields in entries:
            if fields.get(b"event") == b"prepared":
                yield from self._out(Event(EventType.PREPARED_SCAN, scan, EventData()))
            elif fields.get(b"event") == b"end":
                self._running.pop(scan.db_name, None)
                self._ended.setdefault(scan.db_name, (scan, fields))

    def _on_data(self, channel: Any, entries: list) -> Iterator[Event]:
        if channel.type == "lima":  # a status entry: the frames ready so far, as a view
            view = channel.get(0, -1)
            status = {key.decode(): int(value) for key, value in entries[-1][1].items()}
            data = EventData(first_index=view.last_image_ready, data=view, description=status, block_size=1)
            yield from self._out(Event(EventType.NEW_DATA, channel, data))
            return
        blocks = [channel.decode(entry) for entry in entries]
        blocks = [(first, values) for first, values in blocks if len(values)]
        if not blocks:
            return
        first = blocks[0][0]
        values = blocks[0][1] if len(blocks) == 1 else np.concatenate([v for _, v in blocks])
        if first < self._first_index:
            values = values[self._first_index - first :]
            first = self._first_index
        if len(values):
            description = {"dtype": channel.dtype.str, "shape": channel.shape, "unit": channel.unit}
            data = EventData(first_index=first, data=values, description=description, block_size=len(values))
            yield from self._out(Event(EventType.NEW_DATA, channel, data))

    def _release_ended(self, settled: bool) -> Iterator[Event]:
        """Yield held END events once nothing more is waiting to be read; stop following those scans."""
        if not settled:
            return
        ended, self._ended = self._ended, {}
        for scan, fields in ended.values():
            yield from self._out(Event(EventType.END_SCAN, scan, _end_data(fields)))
            for key in self._scan_streams.pop(scan.db_name, []):
                self._positions.pop(key, None)

    def _out(self, event: Event) -> Iterator[Event]:
        if not self._silent and self._include(event.node):
            yield event
