"""Faults injected for real: Redis killed mid-scan, the shell killed mid-scan, a disk that refuses writes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import gevent
import h5py
import pytest
import redis

from bliss_shell.comm import EmbeddedRedis, use_redis
from bliss_shell.config import ConfigRoot
from bliss_shell.data import EventType, get_node, get_session_node
from bliss_shell.data.heartbeat import GRACE
from bliss_shell.data.publisher import HEARTBEAT_TTL_MS
from bliss_shell.data.walk import PUBLISHER_GONE
from conftest import BEAMLINE, interruptible, wait_for
from conftest import open_session as open_beamline


@pytest.fixture
def own_redis() -> Iterator[tuple[EmbeddedRedis, redis.Redis]]:
    """A Redis this test may kill and restart (the shared one serves the other tests)."""
    folder = Path(tempfile.mkdtemp(prefix="bst-own-"))
    folder.chmod(0o700)
    server = EmbeddedRedis(folder)
    server.ensure_running()
    client = redis.Redis(unix_socket_path=str(server.socket), socket_timeout=10)  # as the shell's (comm/connection.py)
    use_redis(client)
    yield server, client
    client.close()
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def open_session(client: redis.Redis, tmp_path: Path) -> dict:
    return open_beamline([ConfigRoot(BEAMLINE)], "test_session", client, tmp_path / "scans")


def kill(server: EmbeddedRedis) -> None:
    os.kill(server.pid(), signal.SIGKILL)
    wait_for(lambda: not server.answers(), "Redis still answers after SIGKILL", timeout=5)


def test_redis_killed_mid_scan_the_scan_goes_on_the_file_is_complete_and_the_next_scan_publishes(own_redis, tmp_path, capsys):
    from bliss_shell.scanning import current
    from bliss_shell.shell.scan_display import shell_display

    server, client = own_redis
    session = open_session(client, tmp_path)
    current().watch = shell_display(client)  # the live display reads Redis too
    scan = session["loopscan"](150, 0.01, session["diode"], session["c1"], run=False)
    running = gevent.spawn(scan.run)
    reader_events: list = []

    def read():
        try:
            for event in get_session_node("test_session", client).walk_events():
                reader_events.append(event)
        except redis.ConnectionError as error:
            return error

    reader = gevent.spawn(read)
    wait_for(
        lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:elapsed_time", client) or []) >= 20,
        "the scan did not publish 20 points",
        timeout=30,
    )
    kill(server)
    reader.join(timeout=5)  # a reader blocked on the dead server gets an error, not a hang
    assert reader.dead and isinstance(reader.value, redis.ConnectionError)
    running.get(timeout=30)  # the scan goes on
    assert scan.state == "done"
    out, err = capsys.readouterr()
    assert err.count("WARNING") == 1 and "Redis is unreachable" in err and "its file gets every point" in err
    assert "(live display stopped: ConnectionError" in out and "Traceback" not in err  # one line, no noise
    with h5py.File(scan.path, "r", locking=False) as saved:
        assert len(saved[f"{scan.number}.1"]["measurement/c1"]) == 150
        assert saved[f"{scan.number}.1"]["writer/status"][()] == b"SUCCEEDED"
    assert len(scan.get_data()["c1"]) == 150  # from the file

    server.ensure_running()  # Redis is back (empty: it keeps nothing on disk)
    after = session["loopscan"](5, 0, session["diode"])
    assert after.number == 2  # numbering continues after the file
    assert len(get_node(f"{after.node.db_name}:timer:diode:diode", client)) == 5
    assert after.node.end_state() == {"state": "done", "reason": ""}
    assert "WARNING" not in capsys.readouterr().err


def test_a_killed_shell_ends_the_scan_for_its_readers_within_seconds(redis_client, shell_env, tmp_path):
    from test_saving import points_in_file, run_scan_process

    events: list = []

    def read():
        for event in get_session_node("test_session").walk_events(exclude_children="scan"):
            events.append(event)
            if event.type is EventType.END_SCAN:
                return

    reader = gevent.spawn(read)
    process = run_scan_process(shell_env, tmp_path, 100_000, 0.01)
    wait_for(lambda: any(e.type is EventType.PREPARED_SCAN for e in events), "the scan did not start", timeout=30)
    scan_db = next(e.node.db_name for e in events if e.type is EventType.PREPARED_SCAN)
    filename = tmp_path / "test_session" / "data.h5"
    wait_for(
        lambda: len(get_node(f"{scan_db}:timer:diode:diode")) >= 50 and points_in_file(filename, "1.1") >= 50,
        "50 points in Redis and in the file",
    )
    process.send_signal(signal.SIGKILL)
    process.communicate()
    # within seconds: the heartbeat lapses, then stays away; the reader gets the END it waits for
    wait_for(lambda: reader.dead, "the reader got no END after the shell was killed", timeout=20)
    end = events[-1]
    assert end.type is EventType.END_SCAN and end.data.data == {"state": "failed", "reason": PUBLISHER_GONE}
    assert end.node.end_state() == {"state": "failed", "reason": PUBLISHER_GONE}
    published = get_node(f"{end.node.db_name}:timer:diode:diode").get_as_array(0, -1)
    with h5py.File(filename, "r", libver="latest", swmr=True, locking=False) as saved:
        written = saved["1.1/measurement/diode"][()]
    # the file and Redis flush on their own: either may hold a batch more, never another value
    common = min(len(published), len(written))
    assert common >= 50 and (published[:common] == written[:common]).all()


# The watcher polls every 0.1 ms, not flat out: a busy loop took a whole core of the two from the shell and the guard it
# watches. It stays able to catch the bug it was written for (a recovery that cleared the "open for write" flags, then
# reopened the file to mark its scan FAILED, so a reader could open it in between and find the scan RUNNING): that
# window, from the flags cleared to h5py's reopening marking the file again, measured 0.35 to 0.9 ms, while a poll turn
# (0.1 ms asleep, the kernel's 0.05 ms timer slack, the read) takes about 0.2 ms, so a look always lands in it. Run
# against that recovery, this watcher found the scan RUNNING 45 times out of 45; with a 1 ms poll, 8 times out of 15.
WATCHER = """
import os, signal, sys, time
import h5py
filename, guard = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
while True:
    time.sleep(0.0001)  # see the comment above WATCHER
    try:
        with open(filename, "rb") as raw:
            if raw.read(12)[11]:  # the superblock's "open for write" flags (HDF5 superblock version 3, at 0)
                continue
    except OSError:  # not there (moved aside while it is finished)
        continue
    os.kill(guard, signal.SIGSTOP)  # the guard waits where it is while this reader opens the file
    try:
        with h5py.File(filename, "r") as file:  # as silx and a plain h5py reader open it
            print(file["1.1/writer/status"][()].decode(), flush=True)
            break
    except OSError:  # marked open again meanwhile
        continue
    finally:
        os.kill(guard, signal.SIGCONT)
"""


def guard_of(shell_pid: int) -> int:
    """The pid of the guard process the shell ``shell_pid`` started (``bliss_shell/writer/guard.py``)."""
    for entry in os.listdir("/proc"):
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"bliss_shell.writer" in command and b"guard" in command and str(shell_pid).encode() in command:
            return int(entry)
    raise AssertionError(f"no guard process for the shell {shell_pid}")


def test_a_reader_never_finds_the_scan_of_a_killed_shell_running(redis_client, shell_env, tmp_path):
    import subprocess
    import sys

    from bliss_shell.writer.recovery import INTERRUPTED
    from test_saving import points_in_file, run_scan_process

    process = run_scan_process(shell_env, tmp_path, 100_000, 0.01)
    filename = tmp_path / "test_session" / "data.h5"
    wait_for(lambda: points_in_file(filename, "1.1") >= 20, "the scan did not flush 20 points to its file", timeout=30)
    # a reader polls the file from outside: the first moment it can open it, the guard is stopped and it looks
    guard = guard_of(process.pid)
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(filename), str(guard)], stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        assert watcher.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGKILL)
        process.communicate()
        seen, _ = watcher.communicate(timeout=60)
    finally:
        watcher.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(guard, signal.SIGCONT)  # never left stopped
    assert seen.strip() == "FAILED"
    with h5py.File(filename, "r") as file:
        assert file["1.1/writer/status"][()] == b"FAILED" and file["1.1/writer/reason"][()].decode() == INTERRUPTED
    assert not (tmp_path / "test_session" / ".data.h5.recovering").exists()


DYING_WRITER = """
import os, signal, sys
import h5py
file = h5py.File(sys.argv[1], "w", libver="latest")
file["1.1/writer/status"], file["1.1/writer/reason"] = b"RUNNING", b""
file.swmr_mode = True  # marked open for write, as the shell's writer leaves it
file.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_recovery_cut_short_is_finished_by_the_next_one(tmp_path):
    import subprocess
    import sys

    from bliss_shell.writer.recovery import INTERRUPTED, recover

    filename = tmp_path / "data.h5"
    subprocess.run([sys.executable, "-c", DYING_WRITER, str(filename)], check=False)
    aside = tmp_path / ".data.h5.recovering"
    filename.rename(aside)  # where a guard killed while it finished the file leaves it
    assert recover(str(filename)) == ["1.1"]
    assert not aside.exists()
    with h5py.File(filename, "r") as file:
        assert file["1.1/writer/status"][()] == b"FAILED" and file["1.1/writer/reason"][()].decode() == INTERRUPTED


def test_a_disk_that_refuses_writes_ends_the_scan_for_readers_with_the_reason(redis_client, shell_env, tmp_path):
    import resource

    from test_saving import run_scan_process

    limit = 1_000_000
    process = run_scan_process(
        shell_env, tmp_path, 100_000, 0, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    )
    process.communicate(timeout=120)
    scan = next(get_session_node("test_session").walk(include_filter="scan", wait=False))
    end = scan.end_state()
    assert end["state"] == "failed" and "no room left on the disk" in end["reason"]
    published = len(get_node(f"{scan.db_name}:timer:diode:diode"))
    assert published == scan.info["points_acquired"]  # everything taken was published, then sealed


def test_a_dead_embedded_redis_is_started_again_by_the_next_scan(own_redis, tmp_path):
    server, client = own_redis
    session = open_session(client, tmp_path)
    session["loopscan"](3, 0, session["diode"])
    kill(server)
    with pytest.raises(RuntimeError, match=r"^loopscan: Redis is unreachable \(.*\); nothing was moved\. Start it again"):
        session["loopscan"](3, 0, session["diode"])  # an external Redis: the user starts it
    from bliss_shell.scanning import current

    current().revive = server.ensure_running  # the embedded one: the shell starts it
    scan = session["ascan"](session["roby"], 0, 1, 2, 0, session["diode"])
    assert scan.number == 2 and len(get_node(f"{scan.node.db_name}:axis:roby", client)) == 2


FOLLOWER = """
import json
from bliss_shell.data import EventType, get_session_node
print("ready", flush=True)
points = 0
for event in get_session_node("test_session").walk_events():
    if event.type is EventType.NEW_DATA and event.node.name == "diode":
        points += len(event.data.data)
    if event.type is EventType.END_SCAN:
        print(json.dumps({"end": event.data.data, "points": points}), flush=True)
        break
"""


def test_a_stalled_redis_is_not_a_dead_publisher(own_redis, tmp_path):
    import json
    import subprocess
    import sys

    server, client = own_redis
    session = open_session(client, tmp_path)
    follower = subprocess.Popen([sys.executable, "-c", FOLLOWER], env=dict(os.environ, BLISS_REDIS_URL=server.url),
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert follower.stdout.readline().strip() == "ready"
        scan = session["ascan"](session["roby"], 0, 100, 300, 0.02, session["diode"], run=False)
        command = interruptible(scan.run)
        wait_for(
            lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:axis:timer:diode:diode") or ()) >= 60,
            "the scan did not publish 60 points",
            timeout=30,
        )
        pid = server.pid()
        # Redis (or the network to it) stalls until the heartbeat, refreshed at the latest now, has lapsed
        # and stayed missing for GRACE: a reader that took a stall for a death would call the publisher dead.
        lapsed = time.time() + HEARTBEAT_TTL_MS / 1000 + GRACE  # Redis expires keys by this clock
        os.kill(pid, signal.SIGSTOP)
        try:
            wait_for(lambda: time.time() > lapsed, "the stall did not end")
        finally:
            os.kill(pid, signal.SIGCONT)
        command.get(timeout=60)
        out, _ = follower.communicate(timeout=60)
    finally:
        follower.kill()
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen == {"end": {"state": "done", "reason": ""}, "points": 300}
    assert scan.state == "done" and scan.node.end_state() == {"state": "done", "reason": ""}
