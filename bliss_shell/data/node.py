"""Reading the data tree: ``get_sessions``, ``get_session_node``, ``get_node`` and the node types.

Examples
--------
After ``loopscan(5, 0, diode)`` and ``ascan(roby, 0, 4, 5, 0, diode)`` in ``test_session``:

>>> from bliss_shell.data import get_node
>>> for node in get_node("test_session").walk(wait=False):
...     print(node.type, node.name)
container test_session
container scans
scan 1_loopscan
container timer
channel elapsed_time
channel epoch
container diode
channel diode
scan 2_ascan
container axis
channel roby
...
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import redis

from bliss_shell.comm import get_redis

from . import keys
from .encoding import block_end, block_first, block_id, decode_block, is_seal
from .events import Event
from .heartbeat import LOOK_PERIOD, Heartbeats
from .lima_view import LimaDataView, check_index, checked_slice, image_fullname, points_range
from .orphans import PUBLISHER_GONE
from .walk import NodeFilter, Walker


class NodeExpired(LookupError):
    """A node that was in Redis and is not any more.

    Its scan passed the retention time, or was removed to keep the memory cap. The scan's file
    still has the data (``SCANS[i].get_data()`` reads it).
    """

    def __init__(self, db_name: str):
        super().__init__(f"{db_name} has expired from Redis (retention time or memory cap); its scan's file keeps the data")


def get_sessions(client: redis.Redis | None = None) -> list[DataNode]:
    """The sessions that have published data, as session nodes, by name.

    Parameters
    ----------
    client : redis.Redis, optional
        The Redis to read; by default the process's (``get_redis()``).

    Examples
    --------
    >>> get_sessions()
    [<DataNode test_session type=container>]
    >>> [session.name for session in get_sessions()]
    ['test_session']
    """
    client = client or get_redis()
    names = sorted(name.decode() for name in client.smembers(keys.SESSIONS))
    return [get_session_node(name, client) for name in names]


def get_session_node(name: str, client: redis.Redis | None = None) -> DataNode:
    """The node of session ``name``; it exists (empty) even before the session's first scan.

    Raises
    ------
    ValueError
        ``name`` is not a session name (it has ``:``, ``|`` or braces).

    Examples
    --------
    >>> get_session_node("test_session")
    <DataNode test_session type=container>
    >>> get_session_node("other_session").children()
    []
    """
    keys.check_name(name, "session name")
    client = client or get_redis()
    return get_node(name, client) or DataNode(client, name, {"name": name, "type": "container", "parent": ""})


def get_node(db_name: str, client: redis.Redis | None = None) -> DataNode | None:
    """The node called ``db_name`` (``'test_session:tmp:sample1:1_ascan'``), or None when absent.

    Parameters
    ----------
    db_name : str
        The node's name in the tree: its ancestors' names and its own, joined by ``:``.
    client : redis.Redis, optional
        The Redis to read; by default the process's (``get_redis()``).

    Returns
    -------
    DataNode or None
        A ``ScanNode``, ``ChannelDataNode`` or ``LimaNode`` as its type says, else a ``DataNode``.

    Raises
    ------
    ValueError
        ``db_name`` is not a db_name (an empty component, a ``|``).

    Examples
    --------
    >>> get_node("test_session")
    <DataNode test_session type=container>
    >>> get_node(SCANS[-1].node.db_name)
    <ScanNode test_session:...:scans:2_ascan type=scan>
    >>> get_node(SCANS[-1].node.db_name + ":axis:roby")
    <ChannelDataNode test_session:...:scans:2_ascan:axis:roby type=channel>
    >>> get_node("test_session:nothing") is None
    True
    """
    keys.check_db_name(db_name)
    client = client or get_redis()
    fields = client.hgetall(keys.node_key(db_name))
    return make_node(client, db_name, fields) if fields else None


def make_node(client: redis.Redis, db_name: str, raw: dict[bytes, bytes]) -> DataNode:
    """The node of class fit for its ``type`` field, from its ``node|`` hash as Redis gives it.

    Examples
    --------
    >>> make_node(client, "demo:tmp:1_ascan", {b"name": b"1_ascan", b"type": b"scan", b"parent": b"demo:tmp"})
    <ScanNode demo:tmp:1_ascan type=scan>
    """
    fields = {key.decode(): value.decode() for key, value in raw.items()}
    kind = fields.get("type", "")
    cls = {"channel": ChannelDataNode, "scan": ScanNode, "lima": LimaNode}.get(kind, DataNode)
    return cls(client, db_name, fields)


_GET_USAGE = "get(0) is the first, get(-1) the last, get(0, -1) all of them"
_POINTS_USAGE = "node[0] is the first point, node[-1] the last, node[2:5] points 2 to 4"


class DataNode:
    """A node of the tree: a session, a saving folder, a scan, a master or a controller.

    Read it, never build it: ``get_node``, ``get_session_node``, ``children()`` and ``walk()`` give nodes.

    Examples
    --------
    >>> scans = get_node(SCANS[-1].node.db_name).parent
    >>> scans.name, scans.type
    ('scans', 'container')
    >>> [child.name for child in scans.children()]
    ['1_loopscan', '2_ascan']
    """

    def __init__(self, client: redis.Redis, db_name: str, fields: dict[str, str]):
        self._client = client
        self.db_name = db_name
        self._fields = fields

    @property
    def name(self) -> str:
        """The last component of the db_name: ``2_ascan``, ``roby``.

        Examples
        --------
        >>> get_node(SCANS[-1].node.db_name).name
        '2_ascan'
        """
        return self._fields.get("name", self.db_name.rsplit(keys.SEPARATOR, 1)[-1])

    @property
    def type(self) -> str:
        """``container`` (a session, a folder, a master, a controller), ``scan``, ``channel`` or ``lima``.

        Examples
        --------
        >>> [node.type for node in get_node(SCANS[-1].node.db_name).children()]
        ['container']
        """
        return self._fields.get("type", "container")

    @property
    def parent(self) -> DataNode | None:
        """The parent node; None for a session (or when the parent has left Redis).

        Examples
        --------
        >>> get_node(SCANS[-1].node.db_name + ":axis:roby").parent
        <DataNode test_session:...:2_ascan:axis type=container>
        >>> get_node("test_session").parent is None
        True
        """
        parent = self._fields.get("parent")
        return get_node(parent, self._client) if parent else None

    @property
    def info(self) -> dict[str, Any]:
        """The node's info (a scan's scan_info, a Lima node's references), read now; ``{}`` when it has none.

        Examples
        --------
        >>> info = get_node(SCANS[-1].node.db_name).info
        >>> info["title"], info["npoints"], info["motors"], info["counters"]
        ('ascan roby 0 4 5 0', 5, ['roby'], ['diode'])
        >>> get_node("test_session").info
        {}
        """
        raw = self._client.get(keys.info_key(self.db_name))
        return json.loads(raw) if raw else {}

    def children(self) -> list[DataNode]:
        """The child nodes, in creation order (what exists now).

        Examples
        --------
        >>> get_node(SCANS[-1].node.db_name + ":axis").children()
        [<ChannelDataNode ...:axis:roby type=channel>, <DataNode ...:axis:timer type=container>]
        """
        return self.nodes_of_children(self._client.xrange(keys.children_key(self.db_name)))

    def nodes_of_children(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[DataNode]:
        """The nodes named by entries of this node's ``children|`` stream, read in one round trip.

        Examples
        --------
        >>> session_node = get_node("test_session")
        >>> session_node.nodes_of_children(client.xrange(keys.children_key("test_session")))
        [<DataNode test_session:...:scans type=container>]
        """
        names = [fields[b"db"].decode() for _, fields in entries]
        pipe = self._client.pipeline(transaction=False)
        for db_name in names:
            pipe.hgetall(keys.node_key(db_name))
        return [make_node(self._client, db_name, raw) for db_name, raw in zip(names, pipe.execute()) if raw]

    def walk(
        self, include_filter: NodeFilter = None, exclude_children: NodeFilter = None, wait: bool = True
    ) -> Iterator[DataNode]:
        """The node itself and its descendants, depth first in creation order; ``wait`` then follows new ones.

        Parameters
        ----------
        include_filter : str, list of str or callable, optional
            Which nodes to yield: a type (``"channel"``), types, or a function of the node; default all.
        exclude_children : str, list of str or callable, optional
            Nodes whose descendants are not walked (the node itself still is), given the same way.
        wait : bool
            After what exists, wait for new nodes and yield them (forever); False stops at what exists.

        Examples
        --------
        >>> scan = get_node(SCANS[-1].node.db_name)
        >>> [node.fullname for node in scan.walk(include_filter="channel", wait=False)]
        ['axis:roby', 'timer:elapsed_time', 'timer:epoch', 'diode:diode']
        >>> [node.name for node in scan.walk(exclude_children="container", wait=False)]
        ['2_ascan', 'axis']
        >>> [node.name for node in get_node("test_session").walk(include_filter="scan", wait=False)]
        ['1_loopscan', '2_ascan']
        """
        walker = Walker(self, include_filter, exclude_children, nodes_only=True)
        for event in walker.events(wait):
            yield event.node

    def walk_events(
        self,
        include_filter: NodeFilter = None,
        exclude_children: NodeFilter = None,
        wait: bool = True,
        first_index: int = 0,
        read_period: float = 0.0,
    ) -> Iterator[Event]:
        """Every event under this node: what exists first (in order), then, with ``wait``, what comes.

        Each event is ``(type, node, data)``: NEW_NODE for every node (parent first), PREPARED_SCAN, NEW_DATA
        with points ``data.first_index`` on (``data.data`` a numpy array), END_SCAN (``data.data`` the end state).

        Parameters
        ----------
        include_filter, exclude_children : str, list of str or callable, optional
            As for ``walk``: the nodes whose events are yielded, the nodes not descended into.
        wait : bool
            Then follow what comes, until every scan under this node has ended (forever on a session or folder).
        first_index : int
            Points before this index are left out (resume a reader where it stopped).
        read_period : float
            At most one read of what comes per period (s). A display refreshed 20 times a second loses nothing
            with 0.02 and reads a 1 kHz scan in 50 reads a second, not one per point.

        Examples
        --------
        >>> scan = get_node(SCANS[-1].node.db_name)
        >>> for event_type, node, data in scan.walk_events(include_filter=["scan", "channel"], wait=False):
        ...     print(event_type, node.name, data.first_index if data else "")
        event.NEW_NODE 2_ascan
        event.NEW_NODE roby
        event.NEW_NODE elapsed_time
        event.NEW_NODE epoch
        event.NEW_NODE diode
        event.PREPARED_SCAN 2_ascan -1
        event.NEW_DATA roby 0
        event.NEW_DATA elapsed_time 0
        event.NEW_DATA epoch 0
        event.NEW_DATA diode 0
        event.END_SCAN 2_ascan -1
        >>> [event.data.data for event in scan.walk_events(include_filter="channel", first_index=3, wait=True)
        ...  if event.node.name == "roby" and event.data]
        [array([3., 4.])]
        """
        return Walker(self, include_filter, exclude_children, first_index=first_index, read_period=read_period).events(wait)

    def walk_on_new_events(self, include_filter: NodeFilter = None, exclude_children: NodeFilter = None) -> Iterator[Event]:
        """Like ``walk_events(wait=True)``, from now on: nothing that already exists is yielded.

        "Now" is the first ``next()``, not the call: what appears in between counts as existing.

        Examples
        --------
        >>> events = get_node("test_session").walk_on_new_events(include_filter="scan")
        >>> running = gevent.spawn_later(0.5, loopscan, 3, 0, diode)  # as another shell would, meanwhile
        >>> next(events)
        Event(type=<EventType.NEW_NODE: 'new_node'>, node=<ScanNode test_session:...:3_loopscan type=scan>, data=None)
        >>> running.join()
        """
        return Walker(self, include_filter, exclude_children, from_now=True).events(wait=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.db_name} type={self.type}>"


class ScanNode(DataNode):
    """A scan: its info holds the scan_info; its events stream holds PREPARED and END.

    Examples
    --------
    >>> scan = next(get_node("test_session").walk(include_filter="scan", wait=False))
    >>> scan.name, scan.info["title"], scan.end_state()
    ('1_loopscan', 'loopscan 5 0', {'state': 'done', 'reason': ''})
    """

    def end_state(self) -> dict[str, str] | None:
        """``{"state": ..., "reason": ...}`` once the scan has ended, else None.

        The state is ``failed`` when its publisher died without ending it. When the heartbeat is missing it
        watches it for a couple of seconds first: after a stalled Redis, a live publisher refreshes it as
        soon as Redis answers again.

        Returns
        -------
        dict or None
            ``state`` is ``done``, ``aborted`` or ``failed``; ``reason`` is ``''`` for a scan that ended normally.

        Examples
        --------
        >>> get_node(SCANS[-1].node.db_name).end_state()
        {'state': 'done', 'reason': ''}
        """
        watch = Heartbeats(self._client)
        while True:
            dead = watch.dead([self.db_name])
            for _, fields in self._client.xrevrange(keys.events_key(self.db_name), count=1):
                if fields.get(b"event") == b"end":
                    return {"state": fields[b"state"].decode(), "reason": fields[b"reason"].decode()}
            if dead:
                return {"state": "failed", "reason": PUBLISHER_GONE}
            if not watch.suspects(self.db_name):
                return None
            time.sleep(LOOK_PERIOD / 2)


class ChannelDataNode(DataNode):
    """A channel: one value (scalar or array) per point, in typed binary blocks.

    Examples
    --------
    >>> roby = get_node(SCANS[-1].node.db_name + ":axis:roby")
    >>> roby.fullname, roby.short_name, roby.dtype, roby.shape, roby.unit
    ('axis:roby', 'roby', dtype('float64'), (), 'mm')
    >>> len(roby), roby.get(0, -1)
    (5, array([0., 1., 2., 3., 4.]))
    """

    @property
    def short_name(self) -> str:
        """The channel's own name (``roby``, ``diode``), without its controller."""
        return self._fields.get("short_name", self.name)

    @property
    def fullname(self) -> str:
        """Controller and name (``axis:roby``, ``diode:diode``): the key of the channel in ``scan.get_data()``."""
        return self._fields.get("fullname", self.name)

    @property
    def dtype(self) -> np.dtype:
        """The numpy type of the values (``float64`` when the node does not say)."""
        return np.dtype(self._fields.get("dtype", "float64"))

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one point's value: ``()`` for a scalar, ``(1024,)`` for a spectrum."""
        return tuple(json.loads(self._fields.get("shape", "[]")))

    @property
    def unit(self) -> str | None:
        """The unit of the values, or None."""
        return self._fields.get("unit") or None

    def __len__(self) -> int:
        last = self._client.xrevrange(keys.stream_key(self.db_name), count=1)
        if not last:
            _check_present(self)
        return block_end(last[0]) if last else 0

    def decode(self, entry: tuple[bytes, dict[bytes, bytes]]) -> tuple[int, np.ndarray]:
        """``(first_index, values)`` of one entry of the channel's stream (the seal: its length, no values).

        Examples
        --------
        >>> roby = get_node(SCANS[-1].node.db_name + ":axis:roby")
        >>> entries = client.xrange(keys.stream_key(roby.db_name))  # a step scan sends each point as it comes
        >>> roby.decode(entries[0]), roby.decode(entries[-1])  # the first block, the seal
        ((0, array([0.])), (5, array([], dtype=float64)))
        """
        if is_seal(entry):
            return block_end(entry), np.empty((0, *self.shape), self.dtype)
        entry_id, fields = entry
        return block_first(entry_id), decode_block(fields[b"payload"], self.dtype, self.shape)

    def get(self, from_index: int | None, to_index: int | None = None) -> Any:
        """The value of point ``from_index``, or the points ``from_index`` to ``to_index`` (inclusive).

        Parameters
        ----------
        from_index : int or None
            The first point; negative counts from the end (``-1`` is the last point); None is the first
            point (``get(None)`` is ``get(0)``), as in BLISS.
        to_index : int, optional
            The last point, inclusive (``-1``: up to the last point). Without it, one value.

        Returns
        -------
        numpy.ndarray, numpy scalar or None
            One value (None past the end) without ``to_index``; else a numpy array, empty when nothing is in range.

        Raises
        ------
        TypeError
            An index is not a whole number.
        NodeExpired
            The scan has left Redis (retention time, memory cap); its file keeps the data.

        Examples
        --------
        >>> roby = get_node(SCANS[-1].node.db_name + ":axis:roby")
        >>> roby.get(0, -1)
        array([0., 1., 2., 3., 4.])
        >>> roby.get(-1), roby.get(1, 2)
        (np.float64(4.0), array([1., 2.]))
        >>> roby.get(5) is None, roby.get(5, 9)
        (True, array([], dtype=float64))
        >>> roby.get(None), roby.get(None, 1)
        (np.float64(0.0), array([0., 1.]))
        """
        from_index = _checked_get_indexes(self.fullname, from_index, to_index)
        length = len(self)
        start = from_index + length if from_index < 0 else from_index
        if to_index is None:
            if not 0 <= start < length:
                return None
            return self._range(start, start)[0]
        stop = to_index + length if to_index < 0 else to_index
        return self._range(max(start, 0), min(stop, length - 1))

    def get_as_array(self, from_index: int, to_index: int | None = None) -> np.ndarray:
        """``get(from_index, to_index)`` as a numpy array of the channel's dtype, same indexes.

        ``get_as_array(i)`` is the value of point i as an array (0-d for a scalar channel) and raises
        ``IndexError`` past the end, where ``get(i)`` gives None.

        Examples
        --------
        >>> roby = get_node(SCANS[-1].node.db_name + ":axis:roby")
        >>> roby.get_as_array(2, 4)
        array([2., 3., 4.])
        >>> roby.get_as_array(-1)
        array(4.)
        >>> roby.get_as_array(5)
        Traceback (most recent call last):
        ...
        IndexError: axis:roby: no point 5: the channel has 5 points (indexes 0 to 4, or -5 to -1 from the end)
        """
        values = self.get(from_index, to_index)
        if to_index is None and values is None:
            raise IndexError(self._past_the_end(from_index, len(self)))
        return np.asarray(values, self.dtype)

    def __getitem__(self, index: int | slice) -> Any:
        """``node[i]`` one value (negative from the end), ``node[i:j:k]`` a numpy array, as Python slices.

        Examples
        --------
        >>> roby = get_node(SCANS[-1].node.db_name + ":axis:roby")
        >>> roby[-1], roby[2:5], roby[::-2]
        (np.float64(4.0), array([2., 3., 4.]), array([4., 2., 0.]))
        """
        if isinstance(index, slice):
            points = range(len(self))[checked_slice(self.fullname, index, _POINTS_USAGE)]
            if not points:
                return np.empty((0, *self.shape), self.dtype)
            low, high = sorted((points[0], points[-1]))
            return self._range(low, high)[points[0] - low :: points.step][: len(points)]
        check_index(self.fullname, index, _POINTS_USAGE)
        value = self.get(index)
        if value is None:
            raise IndexError(self._past_the_end(index, len(self)))
        return value

    def _past_the_end(self, index: int, length: int) -> str:
        return f"{self.fullname}: no point {index}: the channel has {length} points ({points_range(length)})"

    def _range(self, start: int, stop: int) -> np.ndarray:
        if start > stop:
            return np.empty((0, *self.shape), self.dtype)
        key = keys.stream_key(self.db_name)
        first_block = self._client.xrevrange(key, max=block_id(start), count=1)
        low = first_block[0][0] if first_block else "-"
        blocks = [self.decode(entry) for entry in self._client.xrange(key, min=low, max=block_id(stop))]
        if not blocks:
            return np.empty((0, *self.shape), self.dtype)
        values = np.concatenate([block for _, block in blocks])
        offset = start - blocks[0][0]
        return values[offset : offset + stop - start + 1]


class LimaNode(DataNode):
    """A Lima image channel: status entries (``last_image_ready``, ...) and the references in ``info``.

    Its frames are read with ``get`` (a ``LimaDataView``), from the camera's server or the file it saved.
    The examples need a Lima camera (a Tango device server), which the doctests do not start.

    Examples
    --------
    >>> lima_node = next(SCANS[-1].node.walk(include_filter="lima", wait=False))  # doctest: +SKIP
    >>> lima_node.fullname, len(lima_node), lima_node.status()  # doctest: +SKIP
    ('lima_simulator:image', 5, {'last_image_acquired': 4, 'last_image_ready': 4, 'last_image_saved': 4})
    """

    @property
    def short_name(self) -> str:
        """``image``."""
        return self.name

    @property
    def fullname(self) -> str:
        """``detector:image`` (``'lima_simulator:image'``), the key of its view in ``scan.get_data()``."""
        return self._fields.get("fullname") or image_fullname(self.db_name)

    def status(self) -> dict[str, int]:
        """The newest frame counters: ``last_image_acquired``, ``last_image_ready``, ``last_image_saved`` (-1: none)."""
        last = self._client.xrevrange(keys.data_key(self.db_name), count=1)
        if not last:
            _check_present(self)
        return {key.decode(): int(value) for key, value in last[0][1].items()} if last else {}

    def __len__(self) -> int:
        return self.status().get("last_image_ready", -1) + 1

    def get(self, from_index: int | None, to_index: int | None = None) -> LimaDataView:
        """A view of frames ``from_index`` (negative from the last ready; None: the first) to ``to_index`` (inclusive; -1: all).

        Examples
        --------
        With a camera (the doctests have none):

        >>> lima_node.get(-1).get_image(-1).shape  # doctest: +SKIP
        (24, 32)
        >>> [frame.max() for frame in lima_node.get(0, -1)]  # doctest: +SKIP
        [255, 255, 255, 255, 255]
        """
        from_index = _checked_get_indexes(self.fullname, from_index, to_index)
        return LimaDataView(self, from_index, to_index, len(self) - 1)

    def get_as_array(self, from_index: int, to_index: int | None = None) -> np.ndarray:
        """``get`` as one array: a frame, or the frames stacked (frames, height, width).

        Examples
        --------
        With a camera (the doctests have none):

        >>> lima_node.get_as_array(0, -1).mean(axis=0).shape  # doctest: +SKIP
        (24, 32)
        """
        return self.get(from_index, to_index).as_array()


def _checked_get_indexes(owner: str, from_index: Any, to_index: Any) -> int:
    """``from_index`` of ``get(i)`` and ``get(i, j)``: whole numbers, ``from_index`` None the first item (BLISS's rule).

    ``to_index`` None is one value. Raises TypeError for anything else.
    """
    from_index = 0 if from_index is None else from_index
    check_index(f"{owner}.get", from_index, _GET_USAGE)
    if to_index is not None:
        check_index(f"{owner}.get", to_index, _GET_USAGE)
    return from_index


def _check_present(node: DataNode) -> None:
    """An empty stream is a channel before its first point, or one whose scan was removed: tell them apart."""
    if not node._client.exists(keys.node_key(node.db_name)):
        raise NodeExpired(node.db_name)
