"""The Redis data tree as readers see it: get, walk, walk_events, and their guarantees."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import gevent
import numpy as np
import pytest
import redis

from bliss_shell.data import EventType, get_node, get_session_node, get_sessions, keys
from conftest import wait_for


def check_complete(events, npoints: int) -> dict[str, list[float]]:
    """Every scan event in order: NEW_NODE before anything of its node, PREPARED before DATA
    before END, each channel's points exactly once with contiguous first_index."""
    seen, prepared, ended, next_index, values = set(), False, False, {}, {}
    for event in events:
        node = event.node
        if event.type is EventType.NEW_NODE:
            assert node.db_name not in seen, f"{node.db_name} announced twice"
            assert not prepared or node.type != "channel", f"{node.db_name} announced after PREPARED"
            assert not seen or node.parent.db_name in seen, f"{node.db_name} came before its parent"
            seen.add(node.db_name)
        elif event.type is EventType.PREPARED_SCAN:
            assert node.db_name in seen and not prepared
            prepared = True
        elif event.type is EventType.NEW_DATA:
            assert prepared and not ended and node.db_name in seen
            assert event.data.first_index == next_index.get(node.db_name, 0), f"gap or repeat in {node.name}"
            next_index[node.db_name] = event.data.first_index + event.data.block_size
            values.setdefault(node.name, []).extend(np.asarray(event.data.data).tolist())
        elif event.type is EventType.END_SCAN:
            assert prepared and not ended
            ended = True
    assert ended, "no END_SCAN"
    assert set(next_index.values()) == {npoints}
    return values


class Following(redis.Redis):
    """A client that tells when a reader on it has replayed what exists and waits for what comes: its first XREAD.

    Example
    -------
    >>> client = Following(connection_pool=redis_client.connection_pool)
    >>> reader = gevent.spawn(list, get_session_node("test_session", client).walk())
    >>> wait_for(lambda: client.following, "the reader did not start following")
    """

    following = False

    def xread(self, *args, **kwargs):
        self.following = True
        return super().xread(*args, **kwargs)


def follow_until_end(events_of_session, events: list, client: redis.Redis | None = None) -> gevent.Greenlet:
    """A greenlet that appends the session's events to ``events`` until the first END_SCAN."""

    def read():
        for event in events_of_session(get_session_node("test_session", client)):
            events.append(event)
            if event.type is EventType.END_SCAN:
                return

    return gevent.spawn(read)


def test_get_semantics_on_a_five_point_channel(session):
    scan = session["loopscan"](5, 0, session["diode"])
    channel = get_node(f"{scan.node.db_name}:timer:diode:diode")
    every = channel.get(0, -1)
    assert len(channel) == 5 and every.shape == (5,)
    assert channel.get(0) == every[0] and channel.get(-1) == every[-1]
    assert channel.get(1, 3).tolist() == every[1:4].tolist()
    assert channel.get(3, 1).tolist() == [] and channel.get(100) is None
    assert channel[1:3].tolist() == every[1:3].tolist() and channel[-2:].tolist() == every[-2:].tolist()
    assert channel.get(2, 100).tolist() == every[2:].tolist()


def test_get_node_absent_and_malformed(session):
    assert get_node("test_session").type == "container"
    assert get_node("test_session:nope") is None
    for bad in ("", "a::b", "a|b", "a:b\n", ":a", 42):
        with pytest.raises(ValueError, match="is not a node db_name"):
            get_node(bad)
    assert [s.name for s in get_sessions()] == ["test_session"]
    assert get_session_node("test_session").db_name == "test_session"


def test_walk_filters_and_exclude_children(session):
    scan = session["ascan"](session["roby"], 0, 1, 2, 0, session["diode"])
    root = get_session_node("test_session")
    channels = list(root.walk(include_filter="channel", wait=False))
    assert [c.name for c in channels] == ["roby", "elapsed_time", "epoch", "diode"]
    assert [c.short_name for c in root.walk(include_filter=lambda n: n.name == "roby", wait=False)] == ["roby"]
    shallow = [(n.name, n.type) for n in root.walk(exclude_children="scan", wait=False)]
    assert shallow == [("test_session", "container"), ("scans", "container"), ("1_ascan", "scan")]
    events = [(e.type, e.node.name) for e in root.walk_events(exclude_children="scan", wait=False)]
    assert events == [
        (EventType.NEW_NODE, "test_session"),
        (EventType.NEW_NODE, "scans"),
        (EventType.NEW_NODE, "1_ascan"),
        (EventType.PREPARED_SCAN, "1_ascan"),
        (EventType.END_SCAN, "1_ascan"),
    ]
    assert [e.node.name for e in scan.node.walk_events(include_filter="channel", wait=False)] == [
        "roby",
        "elapsed_time",
        "epoch",
        "diode",
    ] * 2


def test_walk_events_on_a_finished_scan_in_order(session):
    scan = session["loopscan"](50, 0, session["diode"], session["c1"])
    events = list(scan.node.walk_events(wait=False))
    assert [e.type for e in events[:8]] == [EventType.NEW_NODE] * 8  # scan, timer, 4 channels, 2 controllers
    assert events[8].type is EventType.PREPARED_SCAN and events[-1].type is EventType.END_SCAN
    assert events[-1].data.description == "" and events[-1].data.data["state"] == "done"
    values = check_complete(events, 50)
    assert values["diode"] == scan.get_data()["diode"].tolist()
    assert str(EventType.NEW_NODE) == "event.NEW_NODE" and EventType.NEW_CHILD is EventType.NEW_NODE
    event_type, node, event_data = events[-2]
    assert event_type is EventType.NEW_DATA and event_data.block_size == 50


@pytest.mark.parametrize("start", ["before", "during", "after"])
def test_a_greenlet_reader_sees_every_point_once_whenever_it_starts(session, redis_client, start):
    npoints = 3000
    scan = session["loopscan"](npoints, 0, session["diode"], session["c1"], run=False, sleep_time=0.0)
    events: list = []
    walk_events = lambda root: root.walk_events()  # noqa: E731

    if start == "before":
        client = Following(connection_pool=redis_client.connection_pool)
        reader = follow_until_end(walk_events, events, client)
        wait_for(lambda: client.following, "the reader did not start following the session")
        scan.run()
    elif start == "during":
        running = gevent.spawn(scan.run)
        wait_for(
            lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:diode:diode") or []) >= 100,
            "the scan did not publish 100 points",
        )
        reader = follow_until_end(walk_events, events)
        running.join()
    else:
        scan.run()
        reader = follow_until_end(walk_events, events)
    reader.join(timeout=30)
    values = check_complete(events, npoints)
    assert values["c1"] == scan.get_data()["c1"].tolist()


def test_a_reader_started_on_a_scan_node_before_it_is_published_gets_the_tree_before_prepared(session):
    from bliss_shell.data import ScanNode
    from bliss_shell.scanning import current

    followed = []

    def watch(db_name: str):  # what the shell's live display does for every scan
        node = ScanNode(current().client, db_name, {"name": db_name.rsplit(":", 1)[1], "type": "scan"})
        events: list = []
        followed.append(events)

        def read():
            for event in node.walk_events():
                events.append(event)
                if event.type is EventType.END_SCAN:
                    return

        reader = gevent.spawn(read)
        return lambda: reader.join(timeout=10)

    current().watch = watch
    for _ in range(20):  # the reader races the publisher; every run must see the same order
        session["loopscan"](5, 0, session["diode"], session["c1"])
    assert len(followed) == 20
    for events in followed:
        check_complete(events, 5)


class PreparingOnLook(redis.Redis):
    """A client whose first read of a scan's events is followed, at once, by the publisher's PREPARED and a point:
    the moment a reader that started before the scan was prepared can meet."""

    scan = ""

    def xrange(self, name, *args, **kwargs):
        entries = super().xrange(name, *args, **kwargs)
        if name == keys.events_key(self.scan) and not entries:
            self.xadd(name, {"event": "prepared"})
            self.xadd(keys.stream_key(f"{self.scan}:timer:elapsed_time"), {"payload": np.array([0.5]).tobytes()}, id="0-1")
        return entries


def test_a_reader_that_looks_before_prepared_still_gets_prepared_before_the_points(redis_client, redis_server):
    scan, channel = "test_session:tmp:1_loopscan", "test_session:tmp:1_loopscan:timer:elapsed_time"
    redis_client.hset(keys.node_key(scan), mapping={"name": "1_loopscan", "type": "scan", "parent": "test_session:tmp"})
    redis_client.hset(keys.node_key(f"{scan}:timer"), mapping={"name": "timer", "type": "container", "parent": scan})
    redis_client.hset(keys.node_key(channel), mapping={"name": "elapsed_time", "type": "channel", "parent": f"{scan}:timer",
                                                  "dtype": "<f8", "shape": "[]"})  # fmt: skip
    redis_client.xadd(keys.children_key(scan), {"db": f"{scan}:timer", "name": "timer", "type": "container"})
    redis_client.xadd(keys.children_key(f"{scan}:timer"), {"db": channel, "name": "elapsed_time", "type": "channel"})
    racing = PreparingOnLook(unix_socket_path=str(redis_server.socket))
    racing.scan = scan
    kinds = [event.type for event in get_node(scan, racing).walk_events(wait=False)]
    racing.close()
    # PREPARED came after the reader's look at the events: the point waits for it (docs/redis-layout.md's order)
    assert EventType.NEW_DATA not in kinds
    follow = [event.type for event in get_node(scan, redis_client).walk_events(wait=False)]
    assert follow.index(EventType.PREPARED_SCAN) < follow.index(EventType.NEW_DATA)


def test_walk_events_resumes_from_first_index(session):
    scan = session["loopscan"](40, 0, session["diode"])
    events = [e for e in scan.node.walk_events(wait=False, first_index=25) if e.type is EventType.NEW_DATA]
    assert {e.data.first_index for e in events} == {25}
    diode = next(e for e in events if e.node.name == "diode")
    assert diode.data.data.tolist() == scan.get_data()["diode"][25:].tolist()


def test_walk_on_new_events_ignores_what_exists(session, redis_client):
    session["loopscan"](3, 0, session["diode"])
    events: list = []
    client = Following(connection_pool=redis_client.connection_pool)
    reader = follow_until_end(lambda root: root.walk_on_new_events(), events, client)
    wait_for(lambda: client.following, "the reader did not start following the session")  # what exists is passed over
    second = session["loopscan"](4, 0, session["diode"])
    reader.join(timeout=10)
    assert {e.node.db_name for e in events if e.type is EventType.NEW_NODE} >= {second.node.db_name}
    assert all(
        second.node.db_name in e.node.db_name for e in events if e.type is not EventType.NEW_NODE or e.node.type != "container"
    )
    check_complete(events, 4)


def test_walk_with_wait_yields_new_nodes(session, redis_client):
    found = []
    client = Following(connection_pool=redis_client.connection_pool)

    def read():
        for node in get_session_node("test_session", client).walk():
            found.append(node.name)
            if node.name == "diode" and node.type == "channel":
                return

    reader = gevent.spawn(read)
    wait_for(lambda: client.following, "the reader did not start following the session")
    session["ascan"](session["roby"], 0, 1, 2, 0, session["diode"])
    reader.join(timeout=10)
    assert found == ["test_session", "scans", "1_ascan", "axis", "roby", "timer", "elapsed_time", "epoch", "diode", "diode"]


READER = """
import json, sys
from bliss_shell.comm import get_redis
from bliss_shell.data import EventType, get_session_node
client = get_redis()
read = client.xread
def following(*args, **kwargs):  # its first read of what comes: it replayed what exists
    client.xread = read
    print("following", flush=True)
    return read(*args, **kwargs)
client.xread = following
print("ready", flush=True)
counts, firsts = {}, {}
for event in get_session_node("test_session", client).walk_events():
    if event.type is EventType.NEW_DATA:
        expected = firsts.get(event.node.name, 0)
        assert event.data.first_index == expected, (event.node.name, event.data.first_index, expected)
        firsts[event.node.name] = expected + event.data.block_size
        counts[event.node.name] = counts.get(event.node.name, 0) + event.data.block_size
    if event.type is EventType.END_SCAN:
        print(json.dumps({"counts": counts, "end": event.data.data}), flush=True)
        break
"""


@pytest.mark.parametrize("start", ["before", "after"])
def test_another_process_follows_a_scan(session, redis_server, start):
    if start == "after":
        session["loopscan"](5000, 0, session["diode"], session["c1"], session["c2"])
    env = {"BLISS_REDIS_URL": redis_server.url, "PATH": "/usr/bin:/bin"}
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(READER)], env=env, stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready"
    if start == "before":
        assert reader.stdout.readline().strip() == "following"
        session["loopscan"](5000, 0, session["diode"], session["c1"], session["c2"])
    out, _ = reader.communicate(timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {
        "counts": {"elapsed_time": 5000, "epoch": 5000, "diode": 5000, "c1": 5000, "c2": 5000},
        "end": {"state": "done", "reason": ""},
    }


def test_a_million_point_scan_reads_back_whole_as_typed_binary(session, redis_client):
    scan = session["loopscan"](1_000_000, 0, session["c1"])
    elapsed = get_node(f"{scan.node.db_name}:timer:elapsed_time")
    times = elapsed.get(0, -1)
    assert len(elapsed) == 1_000_000 and times.shape == (1_000_000,)
    assert times[0] == 0 and np.all(np.diff(times) >= 0)  # every point, in order
    assert elapsed.get(654_321) == times[654_321] and elapsed[999_999:].tolist() == [times[-1]]
    # A non-Python reader needs only the node hash and the raw stream entries:
    key = elapsed.db_name
    dtype = redis_client.hget(keys.node_key(key), "dtype").decode()
    raw = b"".join(fields[b"payload"] for _, fields in redis_client.xrange(keys.stream_key(key)) if b"payload" in fields)
    assert np.array_equal(np.frombuffer(raw, dtype=dtype), times)


def test_finding_scans_never_lists_the_whole_database(session, redis_client, redis_server):
    session["loopscan"](2, 0, session["diode"])
    monitor_client = redis.Redis(unix_socket_path=str(redis_server.socket))  # a connection of its own
    commands = []

    def watch():
        with monitor_client.monitor() as monitor:
            for command in monitor.listen():
                commands.append(command["command"])

    def seen(marker: str) -> bool:  # MONITOR shows every command in order: all before the marker came first
        redis_client.echo(marker)
        return f"ECHO {marker}" in commands

    watcher = gevent.spawn(watch)
    wait_for(lambda: seen("watching"), "MONITOR did not start")
    start = len(commands)
    list(get_sessions())
    list(get_session_node("test_session").walk_events(wait=False))
    wait_for(lambda: seen("done"), "MONITOR did not show the reads")
    watcher.kill()
    monitor_client.close()
    names = {command.split()[0].upper() for command in commands[start : commands.index("ECHO done")]}
    assert names - {"ECHO"} and not {"KEYS", "SCAN"} & names
