"""Publishing a scan: the scan loop hands over points and goes on; one greenlet sends them.

Everything a scan publishes (nodes, PREPARED, points, END) goes through one ordered
buffer, sent in one pipeline per round: as soon as the sender is free, so a slow scan
is seen within a round trip and a fast one is sent in blocks. When the buffer holds
``max_pending`` points the scan waits for the sender: it never drops a point.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gevent
import numpy as np
import redis

from bliss_shell.comm.point_buffer import PointBuffer

from . import keys
from .encoding import encode_block

# Creates a container node once, however many scans ask for it at the same time.
_ENSURE_CONTAINER = """
if redis.call('hsetnx', KEYS[1], 'name', ARGV[1]) == 1 then
  redis.call('hset', KEYS[1], 'type', 'container', 'parent', ARGV[2], 'created', ARGV[3])
  if ARGV[2] ~= '' then
    redis.call('xadd', KEYS[2], '*', 'db', ARGV[4], 'name', ARGV[1], 'type', 'container')
  end
  return 1
end
return 0
"""


def ensure_container(client: redis.Redis, db_name: str, name: str, parent: str) -> None:
    """Create a session or saving-folder node unless it exists (one round trip)."""
    keys.check_db_name(db_name)
    client.eval(
        _ENSURE_CONTAINER,
        2,
        keys.node_key(db_name),
        keys.children_key(parent),
        name,
        parent,
        _now_ms(),
        db_name,
    )


def register_session(client: redis.Redis, session: str) -> None:
    """The session node, and the session in the ``sessions`` set that ``get_sessions`` reads."""
    keys.check_name(session, "session name")
    ensure_container(client, session, session, "")
    client.sadd(keys.SESSIONS, session)


@dataclass(frozen=True)
class ChannelSpec:
    """A channel to publish: where it goes and how its values are typed."""

    db_name: str
    name: str
    fullname: str
    dtype: np.dtype
    shape: tuple[int, ...] = ()
    unit: str | None = None


def _now_ms() -> int:
    return int(time.time() * 1000)


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v))


class ScanPublisher:
    """Publishes one scan's subtree.

    Example
    -------
    >>> publisher = ScanPublisher(client)
    >>> publisher.add_node("demo:tmp:1_loopscan", "1_loopscan", "scan", parent="demo:tmp")
    >>> publisher.prepared()
    >>> publisher.add_point([0.0, 12.5])
    >>> publisher.end("done")
    """

    def __init__(self, client: redis.Redis, max_pending: int = 100_000):
        self._client = client
        self._channels: list[ChannelSpec] = []
        self._buffer = PointBuffer(max_pending=max_pending)
        self._commands: list[tuple[str, tuple, dict]] = []
        self._published = 0
        self._end: tuple[str, str, str] | None = None  # scan db_name, state, reason
        self._error: BaseException | None = None
        self._sender = gevent.spawn(self._send_loop)

    @property
    def points(self) -> int:
        """Points handed over so far."""
        return self._published + self._buffer.pending

    def add_node(self, db_name: str, name: str, node_type: str, parent: str, info: dict | None = None, **fields: Any) -> None:
        keys.check_db_name(db_name)
        created = {"name": name, "type": node_type, "parent": parent, "created": _now_ms()}
        created.update({key: value for key, value in fields.items() if value is not None})
        self._queue("hset", keys.node_key(db_name), mapping=created)
        if info is not None:
            self._queue("set", keys.info_key(db_name), _json(info))
        self._queue("xadd", keys.children_key(parent), {"db": db_name, "name": name, "type": node_type})

    def add_channel(self, channel: ChannelSpec, parent: str) -> None:
        self._buffer.add_column()
        self.add_node(
            channel.db_name,
            channel.name,
            "channel",
            parent,
            fullname=channel.fullname,
            short_name=channel.name,
            dtype=channel.dtype.str,
            shape=json.dumps(list(channel.shape)),
            unit=channel.unit,
        )
        self._channels.append(channel)

    def lima_status(self, db_name: str, counters: dict[str, int]) -> None:
        """A Lima node's frame counters (``last_image_ready``, ...): the references a reader follows."""
        self._queue("xadd", keys.data_key(db_name), counters)

    def set_info(self, db_name: str, info: dict) -> None:
        self._queue("set", keys.info_key(db_name), _json(info))

    def prepared(self, scan_db: str) -> None:
        self._queue("xadd", keys.events_key(scan_db), {"event": "prepared", "time": _now_ms()})

    def add_point(self, values: Sequence[Any]) -> None:
        """One value per channel, in the order the channels were added. Never waits on Redis
        unless ``max_pending`` points are already waiting to be sent."""
        self._buffer.add(values)

    def end(self, scan_db: str, state: str = "done", reason: str = "") -> None:
        """Send everything left, seal every channel, publish END; return when it is in Redis."""
        self._end = (scan_db, state, reason)
        self._buffer.wake()
        self._sender.join()
        if self._error is not None:
            raise self._error

    def _queue(self, command: str, *args: Any, **kwargs: Any) -> None:
        self._commands.append((command, args, kwargs))
        self._buffer.wake()

    def _send_loop(self) -> None:
        try:
            while True:
                self._buffer.wait()
                ending = self._end is not None
                self._send()
                if ending:
                    return
        except BaseException as error:  # kept for end(): the scan decides what to tell the user
            self._error = error
            self._buffer.release()

    def _send(self) -> None:
        pipe = self._client.pipeline(transaction=False)
        commands, self._commands = self._commands, []
        for command, args, kwargs in commands:
            getattr(pipe, command)(*args, **kwargs)
        columns, count = self._buffer.take()
        if count:
            for channel, column in zip(self._channels, columns):
                block = encode_block(column, channel.dtype, channel.shape)
                pipe.xadd(keys.data_key(channel.db_name), {"n": count, "b": block}, id=f"{self._published + 1}-0")
            self._published += count
        if self._end is not None:
            scan_db, state, reason = self._end
            for channel in self._channels:
                pipe.xadd(keys.data_key(channel.db_name), {"n": 0, "end": 1}, id=f"{self._published + 1}-0")
            pipe.xadd(keys.events_key(scan_db), {"event": "end", "state": state, "reason": reason, "time": _now_ms()})
        pipe.execute()
        self._buffer.release()
