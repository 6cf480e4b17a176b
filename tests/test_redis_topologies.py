"""bliss_shell on Redis's own distributed machinery: readers on replicas, Sentinel failover, Redis Cluster.

Every server is a real redis-server on 127.0.0.1 started by the test (tests/redis_topology.py);
faults are a SIGKILL from outside, as at a beamline.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gevent
import h5py
import pytest
import redis

from bliss_shell.comm import RedisChoice, connect, use_redis
from bliss_shell.config import ConfigRoot
from bliss_shell.data import get_node, get_session_node, keys
from bliss_shell.data.orphans import PUBLISHER_GONE
from bliss_shell.data.retention import Retention, used_memory
from bliss_shell.scanning import current
from conftest import BEAMLINE, open_session, wait_for
from redis_topology import RedisProcess, Topology, free_port
from terminal import BLISS, run_bliss
from test_scans import reference_walkthrough

FOLLOWER = str(Path(__file__).parent / "follow_points.py")


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    with Topology(tmp_path / "redis") as servers:
        yield servers


def shell_on(url: str) -> redis.Redis:
    """The client a shell opens on ``url``, made the one every layer of this process uses."""
    client = connect(RedisChoice(url, "the test"))
    use_redis(client)
    return client


def follower(shell_env: dict, url: str, scan_name: str, session: str = "test_session") -> subprocess.Popen:
    """A reader process on ``url`` following ``scan_name`` (tests/follow_points.py), once it is ready."""
    reader = subprocess.Popen([sys.executable, FOLLOWER, session, scan_name], env=dict(shell_env, BLISS_REDIS_URL=url),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert reader.stdout.readline().strip() == "ready", reader.stderr.read()
    return reader


def result_of(reader: subprocess.Popen) -> dict:
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    return json.loads(out)


def holders(nodes: list[RedisProcess], session: str) -> list[int]:
    """The ports of the cluster nodes that hold keys of the session."""
    return [node.port for node in nodes if node.ask(lambda client: client.keys(f"*{{{session}}}*"))]


# -- replicas ------------------------------------------------------------------------------


def test_readers_on_two_replicas_see_every_point_once_in_order(topology, shell_env, tmp_path):
    primary = topology.primary()
    replicas = [topology.replica(primary) for _ in range(2)]
    readers = [follower(shell_env, replica.url, "1_loopscan") for replica in replicas for _ in range(2)]
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", shell_on(primary.url), tmp_path / "scans")
    npoints = 20_000
    session["loopscan"](npoints, 0, session["diode"], session["c1"])
    for reader in readers:
        assert result_of(reader) == {"counts": {name: npoints for name in ("timer:elapsed_time", "timer:epoch", "diode:diode", "sim:c1")},
                                     "in_order": True, "state": "done", "reason": ""}  # fmt: skip


def test_a_shell_refuses_a_replica_and_a_sentinel_port_in_one_line(topology, shell_env):
    primary = topology.primary()
    replica = topology.replica(primary)
    sentinel = topology.sentinels(primary, count=1)[0]
    for server, told in ((replica, f"is a read-only replica of 127.0.0.1:{primary.port}: a shell publishes, so give it "
                                   "the primary's address, or redis+sentinel://HOST:PORT/SERVICE to follow failovers; readers may use the replica"),
                         (sentinel, "is a Redis Sentinel, which holds no data: give its address as "
                                    "redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE (services it watches: mymaster)")):  # fmt: skip
        result = run_bliss("-s", "test_session", "--config", str(BEAMLINE), "-c", "print('opened')",
                           env=dict(shell_env, BLISS_REDIS_URL=server.url))  # fmt: skip
        assert result.returncode == 1 and "opened" not in result.stdout
        assert result.stderr == f"bliss: {server.url} (from BLISS_REDIS_URL) {told}\n"
    assert primary.ask(lambda client: client.dbsize()) == 0  # nothing was written
    nobody = free_port()
    wrong = f"redis+sentinel://127.0.0.1:{nobody},127.0.0.1:1/mymaster"  # no Sentinel there: no waiting
    result = run_bliss(
        "-s", "test_session", "--config", str(BEAMLINE), "-c", "print('opened')", env=dict(shell_env, BLISS_REDIS_URL=wrong)
    )
    assert result.stderr == (f"bliss: cannot reach Redis at {wrong} (from BLISS_REDIS_URL): no Sentinel answers "
                             f"(127.0.0.1:{nobody}, 127.0.0.1:1)\n")  # fmt: skip
    replicas = f"{topology.sentinel_url([sentinel])}?role=replica"  # for readers: a replica the Sentinels name
    assert connect(RedisChoice(replicas, "the test"), writer=False).execute_command("ROLE")[0] == b"slave"


def test_a_scan_on_a_primary_demoted_to_replica_says_so_and_moves_nothing(topology, tmp_path):
    primary, other = topology.primary(), topology.primary()
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", shell_on(primary.url), tmp_path / "scans")
    position = session["roby"].position
    primary.ask(lambda client: client.replicaof("127.0.0.1", other.port))  # what a failover does to the old primary
    with pytest.raises(RuntimeError, match=r"^ascan: Redis answers as a read-only replica \(a failover made another server the "
                                           r"primary\); nothing was moved\. Give the shell the primary's address, or "
                                           r"redis\+sentinel://HOST:PORT/SERVICE to follow failovers$"):  # fmt: skip
        session["ascan"](session["roby"], 0, 1, 2, 0, session["diode"])
    assert session["roby"].position == position and len(session["SCANS"]) == 0


# -- Sentinel ------------------------------------------------------------------------------


def sentinel_setup(topology: Topology) -> tuple[RedisProcess, list[RedisProcess], str]:
    primary = topology.primary()
    for _ in range(2):
        topology.replica(primary)
    sentinels = topology.sentinels(primary)
    return primary, sentinels, topology.sentinel_url(sentinels)


def test_a_failover_mid_scan_the_file_is_whole_redis_says_what_it_kept_and_readers_resume(topology, shell_env, tmp_path, capsys):
    primary, sentinels, url = sentinel_setup(topology)
    reader = follower(shell_env, url, "1_loopscan")
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", shell_on(url), tmp_path / "scans")
    npoints = 300_000
    scan = session["loopscan"](npoints, 0, session["diode"], run=False)
    running = gevent.spawn(scan.run)
    wait_for(lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:diode:diode") or []) >= 2000,
             "2000 points published", 30)  # fmt: skip
    primary.kill()
    new = topology.wait_for_failover(sentinels, "mymaster", primary)
    running.get(timeout=120)

    assert scan.state == "done"
    with h5py.File(scan.path, "r", locking=False) as saved:
        assert len(saved["1.1/measurement/diode"]) == npoints  # the file has every point
    held = len(get_node(f"{scan.node.db_name}:timer:diode:diode"))
    end = scan.node.end_state()
    assert end == {"state": "done", "reason": f"Redis failed over during the scan: it has the first {held} of the "
                                              f"{end['reason'].split(' of the ')[1].split()[0]} points sent; the file has them all"}  # fmt: skip
    assert 2000 <= held < npoints
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and warnings[0].startswith("WARNING: Redis is failing over")
    assert new.ask(lambda client: client.ttl(keys.node_key(scan.node.db_name))) > 0  # it will be removed in time

    seen = result_of(reader)  # resumed on the new primary: every point it saw once, in order, then the END
    assert seen["in_order"] and seen["state"] == "done" and seen["reason"] == end["reason"]
    assert all(held <= count <= npoints for count in seen["counts"].values())

    after = session["loopscan"](5, 0, session["diode"])  # the next scan publishes to the new primary
    assert new.ask(lambda client: client.exists(keys.node_key(after.node.db_name))) == 1
    assert len(get_node(f"{after.node.db_name}:timer:diode:diode")) == 5


def test_a_scan_orphaned_by_a_failover_is_closed_and_listed_by_bliss_data_status(topology, shell_env, tmp_path):
    primary, sentinels, url = sentinel_setup(topology)
    env = dict(shell_env, BLISS_REDIS_URL=url)
    code = f"SCAN_SAVING.base_path = {str(tmp_path)!r}\nloopscan(1_000_000, 0.001, diode)"
    shell = subprocess.Popen([BLISS, "-s", "test_session", "--config", str(BEAMLINE), "-c", code], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    reader = shell_on(url)
    wait_for(lambda: any(len(channel) >= 100 for channel in get_session_node("test_session").walk(include_filter="channel", wait=False)),
             "100 points published", 60)  # fmt: skip
    scan = next(get_session_node("test_session").walk(include_filter="scan", wait=False))
    shell.send_signal(signal.SIGKILL)  # the shell and the primary die together
    primary.kill()
    shell.communicate()
    new = topology.wait_for_failover(sentinels, "mymaster", primary)
    wait_for(lambda: new.ask(lambda client: client.exists(keys.alive_key(scan.db_name))) == 0, "the heartbeat's lapse")

    result = run_bliss("--config", str(BEAMLINE), "data", "status", "test_session", env=env)
    assert result.returncode == 0, result.stderr
    held = len(get_node(f"{scan.db_name}:timer:diode:diode", reader))
    assert (
        f"  closed {scan.db_name} as failed: its publisher was gone; Redis has {held} points of it" in result.stdout.splitlines()
    )
    assert scan.end_state() == {"state": "failed", "reason": PUBLISHER_GONE}
    assert new.ask(lambda client: client.ttl(keys.events_key(scan.db_name))) > 0
    assert new.ask(lambda client: client.hlen(keys.running_key("test_session"))) == 0
    # the other replica holds the close too, so that even a second failover would keep it
    wait_for(lambda: new.ask(lambda client: client.wait(1, 1000), default=0) >= 1, f"the close replicated from {new}", 30)
    again = run_bliss("--config", str(BEAMLINE), "data", "status", "test_session", env=env)
    assert not [line for line in again.stdout.splitlines() if line.startswith("  closed")]  # closed once


# -- Cluster -------------------------------------------------------------------------------


@pytest.fixture
def cluster(topology: Topology) -> tuple[list[RedisProcess], str]:
    nodes = topology.cluster()
    return nodes, topology.cluster_url(nodes)


def test_the_reference_walkthrough_runs_unchanged_on_a_three_primary_cluster(cluster, shell_env, tmp_path):
    nodes, url = cluster
    reader = follower(shell_env, url, "1_ascan")  # walk_events from another process
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", shell_on(url), tmp_path / "scans")
    reference_walkthrough(session, tmp_path)
    assert result_of(reader) == {"counts": {name: 10 for name in ("axis:roby", "timer:elapsed_time", "timer:epoch", "diode:diode")},
                                 "in_order": True, "state": "done", "reason": ""}  # fmt: skip
    assert len(holders(nodes, "test_session")) == 1  # one session, one slot


def test_sessions_spread_over_the_shards_and_each_keeps_its_memory_cap_on_its_node(cluster, tmp_path, capsys):
    nodes, url = cluster
    client = shell_on(url)
    other = open_session([ConfigRoot(BEAMLINE)], "other_session", client, tmp_path / "other")
    others = [other["loopscan"](100, 0, other["simu_big"]) for _ in range(4)]  # 13 MB on its node, with the default cap
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", client, tmp_path / "scans")
    [test_node], [other_node] = holders(nodes, "test_session"), holders(nodes, "other_session")
    assert test_node != other_node  # two sessions, two shards (their names' slots: 7320 and 15443)

    cap = 16 << 20
    current().retention = Retention(memory_cap=cap)
    scans = [session["loopscan"](100, 0, session["simu_big"]) for _ in range(8)]  # 26 MB in all
    held = [scan for scan in scans if get_node(scan.node.db_name) is not None]
    removed = scans[: len(scans) - len(held)]
    assert removed and held == scans[len(removed) :]  # oldest first, whole
    assert used_memory(client, "test_session") < cap
    assert all(not client.exists(*keys.node_keys(scan.node.db_name)) for scan in removed)
    assert all(len(get_node(f"{scan.node.db_name}:timer:simu_big:simu_big")) == 100 for scan in held + others)
    assert "WARNING" not in capsys.readouterr().err


def test_the_bliss_command_on_a_cluster_and_on_one_that_is_down(cluster, shell_env, tmp_path):
    nodes, url = cluster
    code = f"SCAN_SAVING.base_path = {str(tmp_path)!r}\nprint(loopscan(3, 0, diode).get_data()['diode'].shape)"
    opened = run_bliss("-s", "test_session", "--config", str(BEAMLINE), "-c", code, env=dict(shell_env, BLISS_REDIS_URL=url))
    assert opened.returncode == 0 and opened.stdout.splitlines()[-1] == "(3,)", opened.stderr
    for node in nodes:
        node.kill()
    result = run_bliss(
        "-s", "test_session", "--config", str(BEAMLINE), "-c", "print('opened')", env=dict(shell_env, BLISS_REDIS_URL=url)
    )
    assert result.returncode == 1 and "opened" not in result.stdout
    assert result.stderr.startswith(f"bliss: cannot reach the Redis cluster at {url} (from BLISS_REDIS_URL): ")
    assert len(result.stderr.splitlines()) == 1
