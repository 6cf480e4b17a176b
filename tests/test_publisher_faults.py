"""Redis refusing a scan's commands, or gone when its data is read: said at once, in one line, the scan goes on, and
every record (Redis, the file, the scan, its readers) says the same. Real Redis, its rights changed from outside with
an ACL, or killed."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Iterator

import gevent
import h5py
import numpy as np
import pytest
import redis

from bliss_shell.config import ConfigRoot
from bliss_shell.data import EventType, get_node, keys
from bliss_shell.data.publisher import ChannelSpec, ScanPublisher, ensure_container, register_session
from conftest import BEAMLINE, open_session, wait_for
from test_faults import own_redis  # noqa: F401  (a Redis this test may kill)

USER = "publisher_faults"


@pytest.fixture
def restricted_client(redis_server, redis_client) -> Iterator[redis.Redis]:
    """A client of its own Redis user, whose rights an administrator (``redis_client``) may take away during a scan."""
    redis_client.acl_setuser(USER, enabled=True, passwords=[f"+{USER}"], commands=["+@all"], keys=["*"], channels=["*"])
    client = redis.Redis(unix_socket_path=str(redis_server.socket), username=USER, password=USER)
    yield client
    client.close()
    redis_client.acl_deluser(USER)


def refreshed(client: redis.Redis, key: str) -> Callable[[], bool]:
    """For ``wait_for``: whether ``key``'s TTL went up since the last look (its owner refreshed it)."""
    last = [client.pttl(key)]

    def went_up() -> bool:
        ttl = client.pttl(key)
        up, last[0] = ttl > last[0] + 100, ttl
        return up

    return went_up


def test_redis_refusing_info_mid_scan_is_one_warning_at_once_and_every_record_and_reader_says_done(
    restricted_client, redis_client, tmp_path, capsys
):
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", restricted_client, tmp_path / "scans")
    scan = session["loopscan"](400, 0.01, session["diode"], run=False)
    command = gevent.spawn(scan.run)
    wait_for(lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:elapsed_time") or ()) >= 3,
             "the scan did not take 3 points")  # fmt: skip
    ends = []
    reader = gevent.spawn(
        lambda: ends.extend(
            data.data
            for kind, _, data in get_node(scan.node.db_name).walk_events(include_filter="scan")
            if kind is EventType.END_SCAN
        )
    )  # fmt: skip  (a reader with its own rights)
    redis_client.acl_setuser(USER, commands=["-info"])  # an administrator takes a right away, from outside
    said = []
    wait_for(lambda: said.append(capsys.readouterr()) or "Redis refused" in "".join(o.out + o.err for o in said),
             "no warning while the scan runs")  # fmt: skip
    assert not command.dead  # said at once, not at the end
    wait_for(refreshed(redis_client, keys.alive_key(scan.node.db_name)), "the heartbeat stopped when Redis refused")
    command.join(timeout=60)
    reader.join(timeout=10)
    said.append(capsys.readouterr())
    text = "".join(o.out + o.err for o in said)
    assert command.dead and command.exception is None and scan.state == "done"
    assert text.count("WARNING") == 1, text
    assert re.search(r"WARNING: Redis refused a command of the scan \(NoPermissionError: .*'info'.*\); it gets no more "
                     r"of its points: the scan goes on and its file gets every point; Redis has the first \d+\n", text)  # fmt: skip
    with h5py.File(scan.path, "r") as file:
        assert file[f"{scan.number}.1/writer/status"][()] == b"SUCCEEDED"
        assert len(file[f"{scan.number}.1/measurement/diode"]) == 400
    assert len(scan.get_data()["diode"]) == 400  # from the file
    end = get_node(scan.node.db_name).end_state()
    held = len(get_node(f"{scan.node.db_name}:timer:elapsed_time"))
    assert 3 <= held < 400
    assert end["state"] == "done" and re.fullmatch(rf"Redis refused a command of the scan \(NoPermissionError: [^)]*'info'"
                                                   rf"[^)]*\): it has the first {held} of the scan's 400 points; the "
                                                   "file has them all", end["reason"])  # fmt: skip
    assert reader.dead and ends == [end]  # the reader saw the scan end as it did, never "publisher gone"


def test_points_are_dropped_never_queued_once_redis_refuses(restricted_client, redis_client):
    register_session(redis_client, "demo")
    ensure_container(redis_client, "demo:tmp", "tmp", "demo")
    warnings: list[str] = []
    publisher = ScanPublisher(restricted_client, max_pending=10, parents=["demo:tmp", "demo"], on_warning=warnings.append)
    publisher.add_node("demo:tmp:1_loopscan", "1_loopscan", "scan", parent="demo:tmp")
    publisher.add_node("demo:tmp:1_loopscan:timer", "timer", "container", parent="demo:tmp:1_loopscan")
    elapsed = ChannelSpec("demo:tmp:1_loopscan:timer:elapsed_time", "elapsed_time", "timer:elapsed_time", np.dtype("f8"))
    publisher.add_channel(elapsed, parent="demo:tmp:1_loopscan:timer")
    publisher.prepared("demo:tmp:1_loopscan")
    publisher.wait_tree_sent()
    redis_client.acl_setuser(USER, commands=["-info"])
    points = gevent.spawn(lambda: [publisher.add_points({"timer:elapsed_time": [float(i)]}, 1) for i in range(1000)])
    points.join(timeout=10)
    assert points.successful(), "add_points waited for a sender that takes nothing any more"
    publisher.end("demo:tmp:1_loopscan", "done")
    assert len(warnings) == 1 and "Redis refused a command of the scan (NoPermissionError" in warnings[0]
    assert not publisher.complete and publisher.points == 1000
    assert get_node("demo:tmp:1_loopscan").end_state()["state"] == "done"


def test_get_data_of_an_unsaved_scan_redis_missed_points_of_is_one_line(restricted_client, redis_client, tmp_path):
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", restricted_client, tmp_path / "scans")
    scan = session["loopscan"](100, 0.01, session["diode"], save=False, run=False)
    command = gevent.spawn(scan.run)
    wait_for(lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:elapsed_time") or ()) >= 3,
             "the scan did not take 3 points")  # fmt: skip
    redis_client.acl_setuser(USER, commands=["-info"])
    command.join(timeout=60)
    assert command.dead and scan.state == "done"
    held = len(get_node(f"{scan.node.db_name}:timer:diode:diode"))
    assert held < 100
    with pytest.raises(RuntimeError, match=rf"^scan {scan.node.name} was not saved and Redis missed points of it \(it "
                       rf"has {held} of 100\): the rest are lost; save scans to keep them$"):  # fmt: skip
        scan.get_data()
    assert len(get_node(f"{scan.node.db_name}:timer:diode:diode")) == held  # what Redis has stays


def test_get_data_with_redis_gone_reads_the_file_or_says_an_unsaved_scan_cannot_be_read(own_redis, tmp_path):  # noqa: F811
    server, client = own_redis
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", client, tmp_path / "scans")
    saved = session["loopscan"](5, 0, session["diode"])
    unsaved = session["loopscan"](5, 0, session["diode"], save=False)
    os.kill(server.pid(), signal.SIGKILL)
    wait_for(lambda: not server.answers(), "Redis still answers after SIGKILL", timeout=5)
    assert len(saved.get_data()["diode"]) == 5  # the file has every point
    with pytest.raises(RuntimeError, match=rf"^scan {unsaved.node.name} was not saved and Redis is unreachable \(.*\): "
                       "its data cannot be read until Redis is back; save scans to keep them$"):  # fmt: skip
        unsaved.get_data()
