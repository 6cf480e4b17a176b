"""Publishing a scan: the scan loop hands over points and goes on; one greenlet sends them.

Everything a scan publishes (nodes, PREPARED, points, END) goes through one ordered
buffer. Nothing leaves before PREPARED (or END): the tree, the references of its devices
and PREPARED reach Redis in one pipeline, so a reader that sees a node of the scan's tree
finds PREPARED too. On a Redis that takes them (``blissdata_server.prepare_server``), the scan's
blissdata 2 document goes in that pipeline as well, STARTED, and is CLOSED in the END's: blissdata 2
readers follow the scan live, reading the same channel streams. Then it is sent in one pipeline per
round: as soon as the sender is free, so a slow scan is seen within a round trip and a fast one is
sent in blocks. When the buffer holds ``max_pending`` points the scan waits for the sender: it never
drops a point.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.event
import numpy as np
import redis
from redis.client import Pipeline

from bliss_shell.comm import TRANSIENT, follows_failover, through_failover
from bliss_shell.comm.connection import takes_scripts
from bliss_shell.comm.json_text import json_text
from bliss_shell.comm.point_buffer import PointBuffer

from . import blissdata, blissdata_server, keys
from .blissdata_server import PROTOCOL_KEY, PROTOCOL_VERSION, prepare_server, takes_documents
from .encoding import SEAL_ID, block_fields, block_id, encode_block, seal_fields
from .orphans import HELD, close_scan
from .retention import FULL, MemoryGauge, Retention, hold, memory_gauge, release, used_after_room

HEARTBEAT = 1.0  # s between refreshes of a running scan's alive| key
HEARTBEAT_TTL_MS = 3000  # the key lapses this long after its last refresh; readers then wait GRACE more (heartbeat.py)
_CHUNK = 1 << 20  # bytes of point data per pipeline at most...
_CHUNK_SHARE = 0.02  # ...and at most this share of the memory cap

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


def ensure_container(client: redis.Redis, db_name: str, name: str, parent: str, pipe: Pipeline | None = None) -> None:
    """Create a session or saving-folder node unless it exists (one round trip, or none with ``pipe``).

    Parameters
    ----------
    client : redis.Redis
        Where to create it.
    db_name : str
        The node's db_name.
    name : str
        Its name (the last component of ``db_name``).
    parent : str
        The parent's db_name, which announces it in its ``children|`` stream; ``""`` for a session.
    pipe : redis.client.Pipeline, optional
        A pipeline of ``client`` to queue it on, sent with what else it holds (a cluster's pipelines take
        no script: then it is sent at once).

    Examples
    --------
    >>> ensure_container(client, "demo:tmp", "tmp", "demo")
    >>> ensure_container(client, "demo:tmp", "tmp", "demo")  # already there: nothing changes
    >>> get_node("demo:tmp"), len(client.xrange(keys.children_key("demo")))
    (<DataNode demo:tmp type=container>, 1)
    """
    keys.check_db_name(db_name)
    # a session has no parent: its one key (a cluster refuses keys of two slots in one script)
    script_keys = [keys.node_key(db_name), keys.children_key(parent)] if parent else [keys.node_key(db_name)]
    target = pipe if pipe is not None and takes_scripts(pipe) else client
    target.eval(_ENSURE_CONTAINER, len(script_keys), *script_keys, name, parent, _now_ms(), db_name)


def register_session(client: redis.Redis, session: str) -> None:
    """The session node, and the session in the ``sessions`` set that ``get_sessions`` reads (one round trip).

    Raises
    ------
    ValueError
        ``session`` is not a session name.
    redis.ReadOnlyError
        ``client`` is a replica.

    Examples
    --------
    >>> register_session(client, "demo")
    >>> [session.name for session in get_sessions()]
    ['demo', 'test_session']
    """
    keys.check_name(session, "session name")
    pipe = client.pipeline(transaction=False)
    pipe.sadd(keys.SESSIONS, session)  # first: a replica refuses it with READONLY, a script's refusal is vaguer
    if takes_scripts(pipe):
        documents = takes_documents(client)
        if documents:  # set already, unless the server was flushed or started again empty since it was set up
            pipe.set(PROTOCOL_KEY, PROTOCOL_VERSION, nx=True)
        ensure_container(client, session, session, "", pipe)
        if documents and pipe.execute()[1]:
            prepare_server(client, again=True)  # the index and the seal function are gone too
        elif not documents:
            pipe.execute()
    else:  # a cluster's pipeline
        pipe.execute()
        ensure_container(client, session, session, "")


@dataclass(frozen=True)
class ChannelSpec:
    """A channel to publish: where it goes and how its values are typed.

    Examples
    --------
    >>> ChannelSpec("demo:tmp:1_loopscan:timer:elapsed_time", "elapsed_time", "timer:elapsed_time", np.dtype("f8"), unit="s")
    ChannelSpec(db_name='demo:tmp:1_loopscan:timer:elapsed_time', name='elapsed_time', fullname='timer:elapsed_time',
                dtype=dtype('float64'), shape=(), unit='s')
    """

    db_name: str
    name: str
    fullname: str
    dtype: np.dtype
    shape: tuple[int, ...] = ()
    unit: str | None = None


def _now_ms() -> int:
    return int(time.time() * 1000)


def _to_stderr(message: str) -> None:
    print(f"WARNING: {message}", file=sys.stderr, flush=True)


class ScanPublisher:
    """Publishes one scan's subtree.

    The tree first (``add_node``, ``add_channel``), then ``prepared``, points (``add_points``, keyed by
    the channels' fullnames) and ``end``. The scan's folder and session nodes exist already
    (``register_session``, ``ensure_container``): ``parents`` names them, nearest first.

    Redis never stops the scan: if it becomes unreachable, refuses a command of the scan (an ACL,
    out of memory), or the scan alone would pass the memory cap, the publisher warns once
    (``on_warning``), at once, and stops sending points (``add_points`` then drops them, never
    waits); the scan's file, a peer, keeps them all. ``complete`` says whether Redis got every point.
    A Redis that still answers (it refused, or a failover gave a new primary) keeps the scan's
    heartbeat and gets its END at the end, with a reason that says how many points it has.

    Parameters
    ----------
    client : redis.Redis
        Where to publish.
    max_pending : int
        Points waiting to be sent before ``add_points`` waits for the sender.
    retention : Retention, optional
        The TTL given at END and the memory cap kept; by default 1 day and 1 GiB.
    parents : sequence of str
        The scan's folder and session db_names: made permanent while it runs.
    on_warning : callable
        Told, once, why points stopped reaching Redis; by default printed on stderr.
    saved : bool
        Whether the scan's file gets every point (what the warnings say).
    identity : mapping, optional
        The scan's identity for blissdata 2 (``name``, ``number``, ``data_policy``, ``session``, ``proposal``,
        ``collection``, ``dataset``, ``path``; ``scanning.scan_identity``): with it, and a Redis that takes them,
        the scan also gets its blissdata 2 document, whose ``info`` is the scan node's info (``add_node``,
        ``set_info``: the one given last before PREPARED, then the one given last before END).

    Examples
    --------
    >>> register_session(client, "demo")
    >>> ensure_container(client, "demo:tmp", "tmp", "demo")
    >>> publisher = ScanPublisher(client, parents=["demo:tmp", "demo"])
    >>> publisher.add_node("demo:tmp:1_loopscan", "1_loopscan", "scan", parent="demo:tmp", info={"title": "loopscan 2 0"})
    >>> publisher.add_node("demo:tmp:1_loopscan:timer", "timer", "container", parent="demo:tmp:1_loopscan")
    >>> elapsed = ChannelSpec("demo:tmp:1_loopscan:timer:elapsed_time", "elapsed_time", "timer:elapsed_time", np.dtype("f8"))
    >>> publisher.add_channel(elapsed, parent="demo:tmp:1_loopscan:timer")
    >>> publisher.prepared("demo:tmp:1_loopscan")
    >>> publisher.add_points({"timer:elapsed_time": [0.0, 0.1]}, 2)
    >>> publisher.end("demo:tmp:1_loopscan", "done")
    >>> publisher.points, publisher.complete
    (2, True)
    >>> get_node("demo:tmp:1_loopscan:timer:elapsed_time").get(0, -1)
    array([0. , 0.1])
    >>> get_node("demo:tmp:1_loopscan").end_state()
    {'state': 'done', 'reason': ''}
    """

    def __init__(
        self,
        client: redis.Redis,
        max_pending: int = 100_000,
        retention: Retention | None = None,
        parents: Sequence[str] = (),
        on_warning: Callable[[str], None] = _to_stderr,
        saved: bool = True,
        identity: Mapping[str, Any] | None = None,
    ):
        self._client = client
        # blissdata 2: the scan's document, sent with PREPARED when the Redis takes it (``blissdata.py``)
        self._documents = identity is not None and takes_documents(client)
        self._identity = dict(identity or {})
        self._scan_info: dict[str, Any] = {}  # the scan node's info as last given: the document's
        self._streams: dict[str, dict[str, Any]] = {}  # the document's data streams, by channel fullname
        self._lima_entries: dict[str, int] = {}  # a Lima node's db_name -> the entries its blissdata stream holds
        self._documented = False  # the document was queued (with PREPARED)
        self._started = False  # ...and its state went to STARTED
        self._saved = saved  # whether the scan's file has every point, as the warnings say
        self._channels: list[ChannelSpec] = []
        self._buffer = PointBuffer(max_pending=max_pending)
        self._commands: list[tuple[str, tuple, dict, bool]] = []  # a pipeline's method, its arguments, blissdata's
        self._published = 0
        self._dropped = 0  # points handed over that never went to Redis
        self._end: tuple[str, str, str] | None = None  # scan db_name, state, reason
        self._held = True  # until PREPARED: the tree goes with it
        self._tree_sent = gevent.event.Event()  # set once the round with PREPARED was sent (or could not be)
        self._error: BaseException | None = None
        self._retention = retention or Retention()
        self._parents = list(parents)
        self._nodes: list[str] = []
        self._scan_db: str | None = None
        self._warn = on_warning
        self.complete = True  # False once points stopped reaching Redis
        self._offline = False
        self._refused: str | None = None  # why a Redis that answers refused the scan's commands
        self._last_beat = 0.0
        self._gauge: MemoryGauge | None = None  # Redis's used memory, shared with the session's other scans
        self._point_bytes = 0  # one point of every channel, as sent
        # the parents lose their TTL in the first pipeline, first: they cannot expire under a running scan
        self._parents_to_hold = True
        self._sender = gevent.spawn(self._send_loop)

    @property
    def points(self) -> int:
        """Points handed over so far (sent to Redis or not)."""
        return self._published + self._dropped + self._buffer.pending

    def add_node(self, db_name: str, name: str, node_type: str, parent: str, info: dict | None = None, **fields: Any) -> None:
        """Queue a node: its hash (``fields`` added to name, type, parent, created), its info, its entry in the parent.

        A ``scan`` node also gets its heartbeat and joins the session's running scans. Nothing is sent before
        ``prepared`` (or ``end``). See the class's example.

        Raises
        ------
        ValueError
            ``db_name`` is not a db_name.
        """
        keys.check_db_name(db_name)
        self._nodes.append(db_name)
        if node_type == "scan":  # the heartbeat exists before any reader can see the scan
            self._scan_db = db_name
            self._queue("set", keys.alive_key(db_name), 1, px=HEARTBEAT_TTL_MS)
            self._queue("hset", keys.running_key(keys.session_of(db_name)), db_name, self._retention.seconds)
        created = {"name": name, "type": node_type, "parent": parent, "created": _now_ms()}
        created.update({key: value for key, value in fields.items() if value is not None})
        self._queue("hset", keys.node_key(db_name), mapping=created)
        if info is not None:
            self.set_info(db_name, info)
        self._queue("xadd", keys.children_key(parent), {"db": db_name, "name": name, "type": node_type})

    def add_channel(self, channel: ChannelSpec, parent: str) -> None:
        """Queue a channel's node under ``parent``; ``add_points`` then takes its values by its fullname."""
        self._buffer.add_column(channel.fullname)
        self._point_bytes += channel.dtype.itemsize * int(np.prod(channel.shape, dtype=int))
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
        if self._documents and channel.dtype.kind in "biufc":  # what blissdata's numeric encoding takes
            self._streams[channel.fullname] = blissdata.numeric_stream(channel.db_name, channel.dtype, channel.shape,
                                                                       channel.unit)  # fmt: skip

    def add_lima(self, db_name: str, fullname: str, dtype: np.dtype, shape: Sequence[int], lima_info: Mapping[str, Any]) -> None:
        """A Lima node's blissdata 2 stream, in the scan's document: its frame counters for blissdata's LimaClient.

        Call it before ``prepared``; ``lima_status`` then feeds it too. Nothing happens without a document.

        Parameters
        ----------
        db_name : str
            The Lima node's db_name (added with ``add_node``).
        fullname : str
            Its name in the document (``lima_simulator:image``).
        dtype, shape :
            A frame's.
        lima_info : mapping
            See ``blissdata.lima_stream``.

        Examples
        --------
        >>> publisher.add_lima("demo:tmp:1_ct:timer:cam:image", "cam:image", np.dtype("u2"), (24, 32),
        ...                    {"server_url": "id00/limaccds/cam", "buffer_max_number": 64,
        ...                     "frame_per_acquisition": 0, "acquisition_offset": 1})  # doctest: +SKIP
        """
        if self._documents:
            self._streams[fullname] = blissdata.lima_stream(db_name, np.dtype(dtype), shape, lima_info)
            self._lima_entries[db_name] = 0

    def lima_status(self, db_name: str, counters: dict[str, int]) -> None:
        """A Lima node's frame counters (``last_image_ready``, ...): the references a reader follows.

        Its blissdata 2 stream (``add_lima``) gets them too, as blissdata's LimaClient reads them.
        """
        self._queue("xadd", keys.data_key(db_name), counters)
        if db_name in self._lima_entries:
            entry = self._lima_entries[db_name]
            self._lima_entries[db_name] = entry + 1
            fields = blissdata.lima_entry(int(counters.get("last_image_ready", -1)), int(counters.get("last_image_saved", -1)))
            self._queue_document("xadd", keys.stream_key(db_name), fields, id=block_id(entry))

    def set_info(self, db_name: str, info: dict) -> None:
        """Queue a node's info (JSON; numpy values as lists), replacing what it had; the scan's is its document's too."""
        self._queue("set", keys.info_key(db_name), json_text(info))
        if db_name == self._scan_db:
            self._scan_info = dict(info)

    def prepared(self, scan_db: str) -> None:
        """PREPARED: the tree queued so far and this event leave together (and the blissdata 2 document, STARTED)."""
        self._document(scan_db, started=True)
        self._queue("xadd", keys.events_key(scan_db), {"event": "prepared", "time": _now_ms()})
        self._held = False
        self._buffer.wake(urgent=True)

    def wait_tree_sent(self, timeout: float = 5.0) -> None:
        """Until the tree and PREPARED are in Redis (or Redis could not take them: then the scan goes on)."""
        self._tree_sent.wait(timeout)

    def add_points(self, points: Mapping[str, Sequence[Any]], count: int) -> None:
        """``count`` points, values keyed by channel fullname.

        Never waits on Redis unless ``max_pending`` points are already waiting to be sent; once points stopped
        going to Redis (``complete`` False) or the sender stopped, they are dropped here (the file has them).

        Parameters
        ----------
        points : mapping of str to sequence
            For every channel added, its ``count`` values (each of the channel's shape).
        count : int
            How many points.
        """
        if not self.complete or self._sender.dead:  # no point goes to Redis any more: the file has them
            self._dropped += count
            return
        self._buffer.add(points, count)

    def end(self, scan_db: str, state: str = "done", reason: str = "") -> None:
        """Send everything left, seal every channel, publish END; return when it is in Redis.

        Parameters
        ----------
        scan_db : str
            The scan's db_name.
        state : str
            ``done``, ``aborted`` or ``failed``.
        reason : str
            Why it was aborted or failed (``''`` for ``done``).

        Raises
        ------
        Exception
            What stopped the sender, other than Redis going away (which only warns).
        """
        self._document(scan_db, started=False)  # never PREPARED: blissdata 2 readers see it CREATED, then CLOSED
        self._end = (scan_db, state, reason)
        self._buffer.wake(urgent=True)
        self._sender.join()
        if self._error is not None:
            raise self._error

    def _document(self, scan_db: str, started: bool) -> None:
        """Queue the scan's blissdata 2 document, its history entry and its states up to STARTED (or CREATED)."""
        if self._documents and not self._documented:
            self._documented, self._started = True, started
            doc = blissdata.document(scan_db, self._identity, self._scan_info, self._streams)
            for command, args, kwargs in blissdata.creation(scan_db, doc, started):
                self._queue_document(command, *args, **kwargs)

    def _queue(self, command: str, *args: Any, **kwargs: Any) -> None:
        self._commands.append((command, args, kwargs, False))
        self._buffer.wake()

    def _queue_document(self, command: str, *args: Any, **kwargs: Any) -> None:
        """Queue a command of the blissdata 2 documents alone: if Redis refuses it, the documents stop, the rest goes on."""
        self._commands.append((command, args, kwargs, True))
        self._buffer.wake()

    def _send_loop(self) -> None:
        try:
            while not self._send():
                self._buffer.wait(timeout=HEARTBEAT)
        except BaseException as error:  # kept for end(): the scan decides what to tell the user
            self._error = error
            self.complete = False  # no point reaches Redis any more: readers of the scan go to its file
            self._buffer.release()
        finally:
            self._tree_sent.set()

    def _send(self) -> bool:
        """One round: what is queued, in pipelines of at most ``_CHUNK`` of point data; True once the END went.

        Also True when the END could not go (Redis gone).
        """
        end = self._end  # read first: once it is set, every point is already in the buffer
        if self._held and end is None:
            return False
        commands, self._commands = self._commands, []
        columns, count = self._buffer.take()
        now = time.monotonic()
        if self._offline:  # the points are dropped here; the file has them
            self._dropped += count
            self._buffer.release()
            self._tree_sent.set()
            if self._refused or follows_failover(self._client):  # a Redis that answers gets the heartbeat, an honest END
                self._keep_alive(end, now)
            return end is not None
        pipe = self._client.pipeline(transaction=False)
        if self._parents_to_hold:
            hold(pipe, self._parents)
            self._parents_to_hold = False
        documents: set[int] = set()  # the places in the pipeline of the documents' commands
        for command, args, kwargs, document in commands:
            if document and not self._documents:
                continue  # queued before Redis refused one of them
            if document:
                documents.add(len(pipe))
            getattr(pipe, command)(*args, **kwargs)
        step = max(1, int(min(_CHUNK, _CHUNK_SHARE * self._retention.memory_cap) // max(self._point_bytes, 1)))
        for offset in range(0, count, step):  # bounded pipelines: Redis's input buffer counts as used memory
            if offset:
                self._execute(pipe, documents)
                pipe, documents = self._client.pipeline(transaction=False), set()
            chunk = min(step, count - offset)
            sending = self._room_for(chunk, now) if self.complete and not self._offline else 0
            if sending:
                for channel, column in zip(self._channels, columns):
                    block = encode_block(column[offset : offset + sending], channel.dtype, channel.shape)
                    self._memory.unchecked += len(block)
                    pipe.xadd(keys.stream_key(channel.db_name), block_fields(block, sending), id=block_id(self._published))
                self._published += sending
            self._dropped += chunk - sending
        if self._scan_db is not None and end is None and now - self._last_beat >= HEARTBEAT:
            self._last_beat = now
            pipe.set(keys.alive_key(self._scan_db), 1, px=HEARTBEAT_TTL_MS)
        if end is not None:
            scan_db, state, reason = end
            for channel in self._channels:
                pipe.xadd(keys.stream_key(channel.db_name), seal_fields(self._published), id=SEAL_ID)
            if self._documented and self._documents:  # blissdata 2: Lima seals, STOPPED, the info at the end, CLOSED
                for command, args, kwargs in blissdata.closing(
                    scan_db, self._scan_info, state, self._lima_entries, stopped=self._started
                ):
                    documents.add(len(pipe))
                    getattr(pipe, command)(*args, **kwargs)
            if self._refused:  # points stopped, the rest went on: the END says why Redis lacks points
                reason = self._end_reason(reason, self._published)
            pipe.xadd(keys.events_key(scan_db), {"event": "end", "state": state, "reason": reason, "time": _now_ms(),
                                                 "published": self._published})  # fmt: skip
            pipe.delete(keys.alive_key(scan_db))  # after END: a reader that misses the heartbeat finds the END
            release(pipe, scan_db, self._nodes, self._parents, self._retention)
        self._execute(pipe, documents)
        self._buffer.release()
        self._tree_sent.set()
        return end is not None

    def _execute(self, pipe: Any, documents: set[int]) -> None:
        """Send ``pipe``; a refusal of only the blissdata 2 commands (at ``documents``) stops the documents alone."""
        if self._offline:
            return
        try:
            refused = [(place, reply) for place, reply in enumerate(pipe.execute(raise_on_error=False))
                       if isinstance(reply, redis.RedisError)]  # fmt: skip
            if refused and all(place in documents for place, _ in refused):
                self._stop_documents(refused[0][1])
            elif refused:
                raise next(reply for place, reply in refused if place not in documents)
        except TRANSIENT as error:
            if follows_failover(self._client):  # what the new primary got is not known yet
                self._stop_publishing(f"Redis is failing over ({error}): the scan goes on and its file gets every "
                                      f"point; the new primary may lack the last of the {self._published} points "
                                      "sent (replication is asynchronous): the scan's END in Redis will say how many "
                                      "it has", told=True)  # fmt: skip
            else:
                self._stop_publishing(f"Redis is unreachable ({error})")
            self._offline = True
        except redis.ReadOnlyError as error:
            self._stop_publishing(f"Redis became a read-only replica ({error}; a failover made another server the "
                                  "primary: give the shell redis+sentinel://HOST:PORT/SERVICE to follow it)")  # fmt: skip
            self._offline = True
        except redis.ResponseError as error:  # an ACL, out of memory in spite of the cap (an external Redis)
            self._refuse(error)
            self._offline = True

    def _stop_documents(self, error: redis.RedisError) -> None:
        """Redis refused a command of the blissdata 2 documents alone: none goes any more through this client."""
        why = f"the Redis refused a command of the scan's blissdata 2 document ({type(error).__name__}: {error})"
        blissdata_server.refuse(self._client, why)
        self._documents = False
        self._warn(f"blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see this scan: {why}; the scan goes on "
                   "and its 1.x readers get every point")  # fmt: skip

    def _refuse(self, error: redis.ResponseError) -> None:
        """Redis answers but refused a command of the scan: no more points go; the heartbeat and the END still do.

        When the pipeline itself was refused, the sender goes offline and ``_keep_alive`` sends them alone.
        """
        self._refused = f"Redis refused a command of the scan ({type(error).__name__}: {error})"
        self._stop_publishing(f"{self._refused}; it gets no more of its points")

    def _keep_alive(self, end: tuple[str, str, str] | None, now: float) -> None:
        """Points stopped (a refusal, a failover): keep the heartbeat going, and at the end close the scan in Redis.

        The heartbeat makes readers wait for the END rather than call the scan dead; the END has the scan's
        own state and says how many points Redis has. What Redis refuses of these is left out.
        """
        if end is None:
            if self._scan_db is not None and now - self._last_beat >= HEARTBEAT:
                self._last_beat = now
                try:
                    self._client.set(keys.alive_key(self._scan_db), 1, px=HEARTBEAT_TTL_MS)
                except (*TRANSIENT, redis.ResponseError):
                    pass  # still failing over, or refused too: the next round tries again
            return
        scan_db, state, reason = end
        try:
            held = through_failover(self._client, lambda: close_scan(
                self._client, scan_db, state, self._end_reason(reason, HELD), silent_only=False))  # fmt: skip
        except (*TRANSIENT, redis.ResponseError) as error:
            if self._refused:
                self._warn(f"Redis refused the scan's END too ({error}): readers of Redis will take the scan for failed "
                           "(its publisher died) a few seconds from now; its file, if saved, says how it ended")  # fmt: skip
            else:
                self._warn(f"Redis did not come back from the failover ({error}): the scan's END is not in Redis; the "
                           "next shell or reader that finds the scan closes it")  # fmt: skip
        except LookupError:
            self._warn("the new primary has nothing of this scan (the failover lost it); its file has every point")
        else:
            if held is None:
                self._warn("a reader closed this scan in Redis first, taking it for dead while it ran; its file has "
                           "every point")  # fmt: skip

    @property
    def _kept_all(self) -> str:
        """Where the points Redis missed are, as an END's reason says it."""
        return "the file has them all" if self._saved else "the scan was not saved: the rest are lost"

    def _end_reason(self, reason: str, held: int | str) -> str:
        """The END's reason once points stopped at a refusal or a failover: the scan's own, and what Redis has."""
        if self._refused:
            lost = f"{self._refused}: it has the first {held} of the scan's {self.points} points; {self._kept_all}"
        else:
            lost = f"Redis failed over during the scan: it has the first {held} of the {self._published} points sent; {self._kept_all}"
        return f"{reason}; {lost}" if reason else lost

    @property
    def _memory(self) -> MemoryGauge:
        """What this process knows of the used memory of the Redis that holds the scan's session."""
        if self._gauge is None:
            self._gauge = memory_gauge(self._client, self._session)
        return self._gauge

    @property
    def _session(self) -> str:
        return keys.session_of(self._scan_db or self._parents[-1])

    def _room_for(self, count: int, now: float) -> int:
        """How many of ``count`` points may go to Redis without passing the memory cap.

        Redis's used memory is estimated from the last look plus what was sent since (``MemoryGauge``,
        shared by the session's scans); a fresh look (which first removes old finished scans if needed)
        comes every ``MEMORY_CHECK`` seconds and whenever the estimate nears the cap. When this scan
        alone fills it, the points that fit go and the rest stay in the file only.
        """
        cap = self._retention.memory_cap
        size = count * self._point_bytes
        gauge = self._memory
        if gauge.looks_due(now, size, cap):
            try:
                gauge.looked_at(used_after_room(self._client, self._session, cap, size), now)
            except TRANSIENT:
                return count  # said by the pipeline that follows
            except redis.ResponseError as error:  # INFO refused (an ACL): points stop, the rest of the round goes
                self._refuse(error)
                return 0
        if gauge.used + gauge.unchecked + size <= FULL * cap:
            return count
        fits = max(0, int((FULL * cap - gauge.used - gauge.unchecked) // max(self._point_bytes, 1)))
        self._stop_publishing(f"this scan alone fills the Redis memory cap ({cap / 2**20:.0f} MiB)", self._published + fits)
        return min(fits, count)

    def _stop_publishing(self, why: str, kept: int | None = None, told: bool = False) -> None:
        """Warn once that Redis stops getting points: ``why``, with what Redis has unless ``told``."""
        if self.complete:
            self.complete = False
            kept = self._published if kept is None else kept
            gets = "its file gets every point" if self._saved else "it is not saved: the points Redis misses are lost"
            self._warn(why if told else f"{why}: the scan goes on and {gets}; Redis has the first {kept}")
