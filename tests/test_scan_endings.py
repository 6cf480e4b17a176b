"""A scan always ends the same way, whatever cuts it short: a data consumer that cannot be made, a motor whose
server stopped answering while the end reads the positions, a Ctrl-C meanwhile; and its data is read from where it
was kept. Real Redis, real files, a real Tango motor server stopped from outside."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import gevent
import gevent.event
import h5py
import numpy as np
import pytest
import redis

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.data import get_node, keys
from bliss_shell.scanning import current
from bliss_shell.scanning.consumers import ScanConsumer
from bliss_shell.scanning.subscriptions import Subscription
from conftest import BEAMLINE, interruptible, open_session, wait_for
from simulator_server import SimulatorServer
from test_lima_frames import server, shell  # noqa: F401  (a session with a camera, on its own simulator)

MOTOR = "id00/motor/endings"


@pytest.fixture(scope="module")
def motor_server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"SimMotor": [MOTOR]}, instance="endings")
    yield simulators
    simulators.stop()


@pytest.fixture
def consumers(session):
    """The session's consumers; what a test subscribes is taken away after it."""
    subscriptions = current().consumers
    before = subscriptions.names()
    yield subscriptions
    for name in subscriptions.names():
        if name not in before:
            subscriptions.unsubscribe(name)


class EndFails(ScanConsumer):
    """A data consumer whose end fails."""

    def __init__(self, start):
        pass

    def end(self, ending):
        raise OSError("archive disk gone")


class Count(ScanConsumer):
    """A consumer that does nothing with what it is given."""

    def __init__(self, start):
        pass


def logbook_lines(session: dict) -> list[str]:
    path = Path(session["SCAN_SAVING"].get_path()) / "test_session_logbook.txt"
    if not path.exists():  # no scan ended yet
        return []
    return [line[len("2026-01-01 00:00:00  ") :] for line in path.read_text().splitlines()]


def test_a_data_consumer_that_cannot_be_made_fails_the_scan_naming_it_and_everything_ends(session, consumers, redis_client):
    consumers.subscribe(lambda start: 1 / 0, name="archive", data=True)
    roby = session["roby"]
    roby.move(1)
    with pytest.raises(RuntimeError, match=r"^archive consumer: ZeroDivisionError: division by zero$"):
        session["dscan"](roby, 0, 2, 3, 0, session["diode"])
    scan = session["SCANS"][-1]
    assert scan.state == "failed" and roby.position == 1
    assert scan.node.end_state() == {"state": "failed", "reason": "ConsumerError: archive consumer: ZeroDivisionError: "
                                     "division by zero"}  # fmt: skip
    assert redis_client.exists(keys.alive_key(scan.node.db_name)) == 0  # its publisher ended: no heartbeat
    assert logbook_lines(session)[-1].startswith(f"scan {scan.number} (dscan roby 0 2 3 0): failed: ConsumerError: "
                                                 "archive consumer")  # fmt: skip
    consumers.unsubscribe("archive")
    assert session["loopscan"](1, 0, session["diode"]).number == scan.number + 1  # the file is free, the numbers go on


def there_already(name: str) -> str:
    return (f"loopscan.run: a consumer {name!r} is there already (the session's, or given twice): consumers= adds "
            "subscriptions to the session's for this scan; nothing was numbered")  # fmt: skip


NOT_A_SUBSCRIPTION = ("loopscan.run: consumers= takes subscriptions (Subscription(name, factory), from "
                      f"bliss_shell.scanning), not {Count!r}; nothing was numbered")  # fmt: skip

ALONE = Subscription("count", Count)
NOT_A_LIST = ("loopscan.run: consumers= takes a list of subscriptions ([Subscription(name, factory)], from "
              f"bliss_shell.scanning), not {ALONE!r}; nothing was numbered")  # fmt: skip


@pytest.mark.parametrize(
    ("given", "error", "message"),
    [
        (lambda subscriptions: [Count], TypeError, NOT_A_SUBSCRIPTION),
        (lambda subscriptions: [s for s in subscriptions if s.name == "file"], ValueError, there_already("file")),
        (lambda subscriptions: [Subscription("count", Count)] * 2, ValueError, there_already("count")),
        (lambda subscriptions: ALONE, TypeError, NOT_A_LIST),
    ],
)
def test_consumers_a_scan_cannot_add_are_refused_before_anything_is_numbered(session, consumers, given, error, message):
    done = session["loopscan"](1, 0, session["diode"])
    scan = session["loopscan"](3, 0, session["diode"], run=False)
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        scan.run(consumers=given(consumers))
    assert scan.state == "idle" and scan.number is None and session["SCANS"][-1] is done
    assert scan.run().number == done.number + 1  # the refused run cost nothing: it still runs, with the next number


def test_a_scan_whose_tree_cannot_be_published_ends_failed_and_is_not_left_running(session, redis_client):
    scan = session["loopscan"](2, 0, session["diode"], scan_info={("a", "b"): 1}, run=False)  # a key JSON refuses
    with pytest.raises(TypeError, match="keys must be str"):
        scan.run()
    assert session["SCANS"][-1] is scan and scan.state == "failed"
    assert redis_client.hkeys(keys.running_key("test_session")) == []
    (db_name,) = redis_client.zrange(keys.finished_key("test_session"), 0, -1)  # its END went: it is finished
    reason = "TypeError: keys must be str, int, float, bool or None, not tuple"
    assert get_node(db_name.decode()).end_state() == {"state": "failed", "reason": reason}
    assert session["loopscan"](1, 0, session["diode"]).number == scan.number + 1


def test_an_unsaved_scan_given_more_consumers_still_has_its_data_in_redis(session):
    scan = session["loopscan"](3, 0, session["diode"], save=False, run=False)
    scan.run(consumers=[Subscription("count", Count)])
    assert scan.path is None and len(scan.get_data()["diode"]) == 3
    assert len(get_node(f"{scan.node.db_name}:timer:diode:diode")) == 3


@pytest.fixture
def stalled_motor(motor_server, session, tmp_path) -> Iterator[object]:
    """A Tango motor of the session (``fe1``) whose server the test may stop; it answers again afterwards."""
    (tmp_path / "motor").mkdir()
    (tmp_path / "motor" / "motor.yml").write_text(f"""
- name: fe1
  class: TangoMotor
  tango_url: {motor_server.url(MOTOR)}
  velocity: 40
  acceleration: 400
  low_limit: -100
  high_limit: 100
""")
    session["fe1"] = Config([ConfigRoot(tmp_path / "motor")]).get("fe1")
    try:
        yield session["fe1"]
    finally:
        os.kill(motor_server.process.pid, signal.SIGCONT)
        del session["fe1"]


def test_ctrl_c_while_the_end_reads_a_stalled_motor_still_ends_the_scan_everywhere(session, motor_server, stalled_motor):
    scan = session["dscan"](session["roby"], 0, 2, 100_000, 0.01, session["diode"], run=False)
    command = interruptible(scan.run)
    wait_for(lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:axis:roby") or ()) >= 3,
             "the scan did not take 3 points")  # fmt: skip
    os.kill(motor_server.process.pid, signal.SIGSTOP)  # the end reads fe1's position: each read waits out Tango's timeout
    with gevent.Timeout(60):  # a deadline, not a duration: the user presses Ctrl-C again and again until it ends
        while not command.dead:
            command.kill(KeyboardInterrupt, block=False)
            command.join(timeout=0.2)
    os.kill(motor_server.process.pid, signal.SIGCONT)
    assert isinstance(command.value, KeyboardInterrupt) and scan.state == "aborted"
    assert scan.node.end_state() == {"state": "aborted", "reason": "interrupted by user (Ctrl-C)"}
    with h5py.File(scan.path, "r") as file:
        assert file[f"{scan.number}.1/writer/status"][()] == b"ABORTED"
    assert logbook_lines(session)[-1].startswith(f"scan {scan.number} (dscan roby 0 2 100000 0.01): aborted")
    assert session["loopscan"](1, 0, session["diode"]).state == "done"  # the file's writer lock was let go


def test_a_second_ctrl_c_during_a_dscans_return_says_where_the_motor_stopped(session, capsys):
    slowy = session["slowy"]
    start = slowy.position
    scan = session["dscan"](slowy, 0, 2, 3, 0, session["diode"], run=False)  # 1 s a step: it goes back for over 1 s
    command = interruptible(scan.run)
    wait_for(lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:axis:slowy") or ()) >= 2,
             "the scan did not take 2 points")  # fmt: skip
    command.kill(KeyboardInterrupt, block=False)
    ended = f"scan {scan.number} (dscan slowy 0 2 3 0): aborted"  # the logbook's line: only the return is left
    wait_for(lambda: any(line.startswith(ended) for line in logbook_lines(session)) and slowy.state == "MOVING",
             "slowy did not start back", timeout=20)  # fmt: skip
    command.kill(KeyboardInterrupt, block=True)  # the second Ctrl-C, while it goes back
    assert isinstance(command.value, KeyboardInterrupt) and slowy.state == "READY"
    out = capsys.readouterr().out
    found = re.search(rf"^slowy: return to {start:.5f} stopped by a second Ctrl-C at (\S+)$", out, re.MULTILINE)
    assert found is not None, out
    assert found[1] == f"{slowy.position:.5f}" and slowy.position > start + 0.01
    assert scan.state == "aborted" and scan.node.end_state()["state"] == "aborted"


class CatchingUp(ScanConsumer):
    """An observer whose end waits as the display catching up does (until Ctrl-C)."""

    waiting: ClassVar[gevent.event.Event]

    def __init__(self, start):
        pass

    def end(self, ending):
        CatchingUp.waiting.set()
        gevent.event.Event().wait()


def test_ctrl_c_while_a_done_dscan_ends_skips_the_wait_returns_the_motor_and_stops_the_macro(session, consumers, capsys):
    CatchingUp.waiting = gevent.event.Event()
    consumers.subscribe(CatchingUp, name="catching up")
    roby = session["roby"]
    roby.move(1)
    scan = session["dscan"](roby, -1, 1, 20, 0, session["diode"], run=False)
    command = interruptible(scan.run)
    assert CatchingUp.waiting.wait(timeout=30), "the scan did not end"
    command.kill(KeyboardInterrupt, block=False)  # the user's one Ctrl-C
    command.join(timeout=30)
    assert isinstance(command.value, KeyboardInterrupt) and roby.position == 1  # back, then the macro stops
    assert scan.state == "done" and scan.node.end_state() == {"state": "done", "reason": ""}
    assert logbook_lines(session)[-1].startswith(f"scan {scan.number} (dscan roby -1 1 20 0): finished")
    out = capsys.readouterr().out
    assert f"Scan {scan.number} done; Ctrl-C during its end: its waits skipped\n  roby going back to 1.00000\n" in out


def test_a_data_consumers_end_failing_after_an_abort_is_one_warning_and_the_abort_stays_the_reason(session, consumers,
                                                                                                   capsys):  # fmt: skip
    consumers.subscribe(EndFails, name="archive", data=True)
    scan = session["loopscan"](100_000, 0.01, session["diode"], run=False)
    command = interruptible(scan.run)
    wait_for(lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:diode:diode") or ()) >= 2,
             "the scan did not take 2 points")  # fmt: skip
    command.kill(KeyboardInterrupt, block=False)
    command.join(timeout=30)
    reason = "interrupted by user (Ctrl-C)"
    assert isinstance(command.value, KeyboardInterrupt) and scan.state == "aborted"
    assert scan.node.end_state() == {"state": "aborted", "reason": reason}
    out = capsys.readouterr().out
    assert out.count("WARNING") == 1
    assert f"WARNING: archive consumer: OSError: archive disk gone; the scan ended aborted: {reason}\n" in out


def test_a_camera_saving_several_files_is_linked_frame_by_frame(shell):  # noqa: F811  (the fixture imported above)
    shell["cam"].saving.frames_per_file = 2
    scan = shell["loopscan"](5, 0, shell["cam"])
    with h5py.File(scan.path, "r") as file:
        linked = file[f"{scan.number}.1/measurement/cam"]
        sources = sorted({source.file_name for source in linked.virtual_sources()})
        frames = linked[()]
    assert frames.shape == (5, 24, 32) and len(sources) == 3
    for index, frame in enumerate(frames):
        assert np.array_equal(frame, scan.get_data()["cam:image"].get_image(index))


def test_a_data_consumer_whose_failure_cannot_be_read_fails_the_scan_and_redis_gets_its_end(session, consumers):
    class Unsure(ScanConsumer):
        def __init__(self, start):
            pass

        @property
        def failure(self):
            raise RuntimeError("archive index unreadable")

    consumers.subscribe(Unsure, name="archive", data=True)
    with pytest.raises(RuntimeError, match="archive consumer: its failure could not be read: RuntimeError: archive"):
        session["loopscan"](2, 0, session["diode"])
    scan = session["SCANS"][-1]
    assert scan.state == "failed" and scan.node.end_state()["state"] == "failed"
    assert "archive consumer: its failure could not be read" in logbook_lines(session)[-1]


@pytest.fixture
def restricted_client(redis_server, redis_client) -> Iterator[redis.Redis]:
    """A client of its own Redis user, whose rights an administrator may change during a scan."""
    redis_client.acl_setuser("endings", enabled=True, passwords=["+endings"], commands=["+@all"], keys=["*"],
                             channels=["*"])  # fmt: skip
    client = redis.Redis(unix_socket_path=str(redis_server.socket), username="endings", password="endings")
    yield client
    client.close()
    redis_client.acl_deluser("endings")


def test_redis_refusing_a_command_mid_scan_is_one_warning_and_the_whole_end_runs(restricted_client, redis_client,
                                                                                 tmp_path, capsys):  # fmt: skip
    session = open_session([ConfigRoot(BEAMLINE)], "test_session", restricted_client, tmp_path / "scans")
    roby = session["roby"]
    roby.move(1)
    scan = session["dscan"](roby, 0, 2, 100, 0.01, session["diode"], run=False)
    command = gevent.spawn(scan.run)
    wait_for(lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:axis:roby") or ()) >= 3,
             "the scan did not take 3 points")  # fmt: skip
    redis_client.acl_setuser("endings", commands=["-info"])  # an administrator takes a right away, from outside
    command.join(timeout=60)
    assert command.dead and command.exception is None and scan.state == "done" and roby.position == 1
    said = capsys.readouterr()
    out = said.out + said.err
    assert out.count("WARNING") == 1
    assert re.search(r"WARNING: Redis refused a command of the scan \(NoPermissionError: .*\); it gets no more of its "
                     r"points: the scan goes on and its file gets every point; Redis has the first \d+", out)  # fmt: skip
    with h5py.File(scan.path, "r") as file:
        assert file[f"{scan.number}.1/writer/status"][()] == b"SUCCEEDED"
        assert len(file[f"{scan.number}.1/measurement/diode"]) == 100
    assert len(scan.get_data()["diode"]) == 100  # Redis stopped getting points: read from the file
    assert logbook_lines(session)[-1].startswith(f"scan {scan.number} (dscan roby 0 2 100 0.01): finished")
