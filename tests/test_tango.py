"""Tango-backed motors and counters, served by our simulator device server started for real."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gevent
import h5py
import numpy as np
import pytest
import tango

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.controllers import Axis, Counter
from bliss_shell.controllers.lima_protocol import decode_data_array, decode_video_image
from bliss_shell.data import get_node
from conftest import interruptible, open_session, wait_for
from simulator_server import refusing_port

DEVICES = {"SimMotor": ["id00/motor/tm1"], "SimCounter": ["id00/counter/tgauss"], "LimaCCDs": ["id00/limaccds/sim1"]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_simulator(port: int, instance: str = "test") -> subprocess.Popen:
    """The simulator server on a loopback port, no Tango database, serving DEVICES."""
    dlist = ",".join(f"{cls}::{name}" for cls, names in DEVICES.items() for name in names)
    server = subprocess.Popen(
        [sys.executable, "-m", "bliss_shell.simulators", instance, "-nodb",
         "-ORBendPoint", f"giop:tcp:127.0.0.1:{port}", "-dlist", dlist],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            tango.DeviceProxy(f"tango://127.0.0.1:{port}/id00/motor/tm1#dbase=no").ping()
            return server
        except tango.DevFailed:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"the simulator did not start: {server.communicate()[0]}") from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    """A simulator server for the module's tests; yields the URL prefix."""
    port = free_port()
    server = start_simulator(port)
    yield f"tango://127.0.0.1:{port}"
    server.terminate()
    server.communicate(timeout=10)


def open_tango_session(prefix: str, redis_client, tmp_path: Path) -> dict:
    """A session on the simulator at ``prefix``: motor tm1, counter tgauss (a peak at 2.5), lima_simulator."""
    motor_url = f"{prefix}/id00/motor/tm1#dbase=no"
    (tmp_path / "devices.yml").write_text(
        f"""
- name: tm1
  class: TangoMotor
  tango_url: {motor_url}
  velocity: 100
  acceleration: 10000
  low_limit: -50
  high_limit: 50
  unit: mm
- name: tgauss
  class: TangoCounter
  tango_url: {prefix}/id00/counter/tgauss#dbase=no
  motor_url: {motor_url}
  distribution: GAUSSIAN
  mu: 2.5
  sigma: 0.5
  height: 1000
- name: lima_simulator
  class: Lima
  tango_url: {prefix}/id00/limaccds/sim1#dbase=no
- name: tango_session
  class: Session
"""
    )
    namespace = open_session([ConfigRoot(tmp_path)], "tango_session", redis_client, tmp_path / "scans")
    namespace["tm1"].move(0)
    return namespace


@pytest.fixture
def tango_session(simulator, redis_client, tmp_path) -> dict:
    return open_tango_session(simulator, redis_client, tmp_path)


def test_tango_devices_are_axes_and_counters(tango_session):
    tm1, tgauss = tango_session["tm1"], tango_session["tgauss"]
    assert isinstance(tm1, Axis) and isinstance(tgauss, Counter)
    assert tm1.unit == "mm" and tm1.limits == (-50, 50)
    tm1.move(2.5)
    assert tm1.position == 2.5 and tm1.state == "READY"
    assert tgauss.read(0.1) == pytest.approx(1000)


def test_a_tango_motor_moves_in_the_background_and_stops(tango_session):
    tm1 = tango_session["tm1"]
    tm1.move(40, wait=False)
    assert tm1.state == "MOVING"  # the move went on in the background
    wait_for(lambda: tm1.position > 0, "tm1 did not leave 0")
    tm1.stop()
    stopped = tm1.position
    assert tm1.state == "READY" and 0 < stopped < 40


def test_limits_are_refused_before_moving(tango_session):
    with pytest.raises(ValueError, match=r"^ascan: tm1: position 60 outside limits \(-50, 50\)$"):
        tango_session["ascan"](tango_session["tm1"], 0, 60, 5, 0, tango_session["tgauss"])
    assert tango_session["tm1"].position == 0


def test_lineup_on_tango_devices_finds_the_peak(tango_session):
    scan = tango_session["lineup"](tango_session["tm1"], 0, 5, 21, 0, tango_session["tgauss"])
    data = scan.get_data()
    assert data["tm1"].tolist() == pytest.approx([0.25 * i for i in range(21)])
    assert tango_session["tm1"].position == pytest.approx(2.5)
    assert data["tgauss"].max() == pytest.approx(1000)


def test_an_unreachable_device_is_one_clear_error(tmp_path):
    with refusing_port() as port:  # nothing can listen there meanwhile
        (tmp_path / "d.yml").write_text(
            f"name: ghost\nclass: TangoMotor\ntango_url: tango://127.0.0.1:{port}/id00/motor/x#dbase=no\n"
        )
        with pytest.raises(ConnectionError, match=r"^ghost: Tango device tango://127.0.0.1:\d+/id00/motor/x#dbase=no"):
            Config([ConfigRoot(tmp_path)]).get("ghost")


def wait_ready(lima) -> None:
    wait_for(lambda: lima.acq_status == "Ready", "the acquisition did not end")


def test_lima_simulator_acquires_keeps_a_ring_buffer_and_saves(simulator, tmp_path):
    lima = tango.DeviceProxy(f"{simulator}/id00/limaccds/sim1#dbase=no")
    lima.sim_image_size = [64, 32]
    lima.video_active = True  # the live view follows the frames only when asked, as Lima core's CtVideo
    kept = lima.buffer_max_number  # read only, as on the real server
    frames = kept + 2
    lima.acq_trigger_mode = "INTERNAL_TRIGGER"
    lima.acq_nb_frames, lima.acq_expo_time = frames, 0.001
    lima.saving_mode, lima.saving_directory, lima.saving_frame_per_file = "AUTO_FRAME", str(tmp_path), kept
    lima.prepareAcq()
    assert lima.last_image_ready == -1
    lima.startAcq()
    wait_ready(lima)
    last = frames - 1
    assert (lima.last_image_acquired, lima.last_image_ready, lima.last_image_saved) == (last, last, last)
    assert list(lima.image_sizes) == [0, 4, 64, 32]
    kind, raw = lima.readImage(-1)  # any negative number: the last frame ready, as Lima core reads it
    frame = decode_data_array(raw)
    assert kind == "DATA_ARRAY" and frame.shape == (32, 64) and frame.dtype == np.uint32
    assert np.array_equal(decode_data_array(lima.readImage(-5)[1]), frame)
    with pytest.raises(tango.DevFailed, match="Frame 1 not available"):  # Lima core's words
        lima.readImage(1)  # the buffer holds the last buffer_max_number frames
    with pytest.raises(tango.DevFailed, match=r"Frame\(s\) not available yet"):
        lima.readImage(frames)
    kind, raw = lima.video_last_image
    mode, number, video = decode_video_image(raw)
    assert (kind, raw[:4], mode, number, video.shape) == ("VIDEO_IMAGE", b"VDEO", 2, last, (32, 64))  # mode 2: Y32
    assert np.array_equal(video, frame)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["lima_0000.h5", "lima_0001.h5"]
    with h5py.File(tmp_path / "lima_0001.h5", "r") as saved:
        saved_frames = saved["entry_0000/instrument/lima_simulator/data"]
        assert saved_frames.shape == (2, 32, 64) and np.array_equal(saved_frames[1], frame)


def test_lima_simulator_takes_one_frame_per_start_in_multi_trigger(simulator):
    lima = tango.DeviceProxy(f"{simulator}/id00/limaccds/sim1#dbase=no")
    lima.saving_mode = "MANUAL"
    lima.acq_trigger_mode, lima.acq_nb_frames, lima.acq_expo_time = "INTERNAL_TRIGGER_MULTI", 3, 0.01
    lima.prepareAcq()
    for expected in range(3):
        lima.startAcq()
        wait_for(lambda: lima.last_image_ready >= expected, f"frame {expected} was not taken")  # noqa: B023
    wait_ready(lima)
    assert lima.last_image_ready == 2


def test_ct_with_lima_publishes_references_and_images_read_back(tango_session, redis_client):
    from bliss_shell.data import EventType, get_session_node
    from test_data_tree import Following

    events = []
    client = Following(connection_pool=redis_client.connection_pool)

    def follow():
        for event in get_session_node("tango_session", client).walk_events(include_filter="lima"):
            events.append(event)
            if event.type is EventType.NEW_DATA:
                return

    reader = gevent.spawn(follow)
    wait_for(lambda: client.following, "the reader did not start following the session")
    scan = tango_session["ct"](0.05, tango_session["lima_simulator"])
    reader.join(timeout=10)
    assert [(str(e.type), e.node.name) for e in events] == [("event.NEW_NODE", "image"), ("event.NEW_DATA", "image")]
    lima_node = next(scan.node.walk(include_filter="lima", wait=False))
    assert lima_node.db_name == f"{scan.node.db_name}:timer:lima_simulator:image" and lima_node.type == "lima"
    assert lima_node.info["server_url"].endswith("id00/limaccds/sim1#dbase=no") and "pixels" not in lima_node.info
    view = lima_node.get(-1)
    frame = view.get_image(-1)
    assert frame.shape == (lima_node.info["height"], lima_node.info["width"]) and frame.dtype == np.uint32
    assert np.array_equal(tango_session["SCANS"][-1].get_data()["lima_simulator:image"].get_image(-1), frame)
    with pytest.raises(IndexError, match="lima_simulator: image 1 is not acquired yet"):
        view.get_image(1)


def test_saved_lima_frames_are_read_from_file_once_the_server_moved_on(tango_session):
    lima = tango_session["lima_simulator"]
    scan = tango_session["loopscan"](3, 0.01, lima)
    images = scan.get_data()["lima_simulator:image"]
    assert len(images) == 3
    from_server = [images.get_image(i) for i in range(3)]
    tango_session["ct"](0.01, lima)  # the server starts another acquisition: scan 1's frames are gone from memory
    from_file = [images.get_image(i) for i in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(from_server, from_file))
    assert (Path(scan.path).parent / "scan0001" / "lima_simulator_0000.h5").exists()


def test_lima_frames_of_a_scan_that_left_redis_come_from_its_files(tango_session, redis_client):
    scan = tango_session["loopscan"](3, 0.01, tango_session["lima_simulator"])
    before = [scan.get_data()["lima_simulator:image"].get_image(i) for i in range(3)]
    redis_client.flushall()  # retention or the memory cap took the scan away
    images = scan.get_data()["lima_simulator:image"]
    assert len(images) == 3 and all(np.array_equal(images.get_image(i), before[i]) for i in range(3))


def test_the_scan_file_shows_the_lima_frames_from_the_master_file(tango_session, tmp_path):
    import silx.io

    scan = tango_session["loopscan"](3, 0.01, tango_session["tgauss"], tango_session["lima_simulator"])
    images = scan.get_data()["lima_simulator:image"]
    moved = tmp_path / "moved"
    Path(scan.path).parent.rename(moved)  # the links are relative: the scan folder can move
    with silx.io.open(str(moved / Path(scan.path).name)) as master:
        entry = master[f"{scan.number}.1"]
        frames = entry["measurement/lima_simulator"]
        assert frames.shape == (3, *images.get_image(0).shape)
        assert all(np.array_equal(frames[i], images.get_image(i)) for i in range(3))
        assert entry["instrument/lima_simulator"].attrs["NX_class"] == "NXdetector"
        assert entry["writer/status"][()] == b"SUCCEEDED"


def test_an_endless_timescan_takes_frames_until_ctrl_c_and_links_every_one(tango_session):
    lima = tango_session["lima_simulator"]
    scan = tango_session["timescan"](0.01, lima, npoints=0, run=False)
    command = interruptible(scan.run)
    wait_for(  # beyond one frame: acq_nb_frames 0 is endless
        lambda: scan.node is not None and len(scan.get_data().get("lima_simulator:image", ())) >= 5,
        "the endless timescan stopped taking frames",
    )
    command.kill(KeyboardInterrupt, block=True)
    images = scan.get_data()["lima_simulator:image"]
    taken = len(images)
    device = tango.DeviceProxy(lima.url)
    wait_for(lambda: device.acq_status == "Ready", "the acquisition went on after the scan")  # stopped with the scan
    assert len(scan.get_data()["lima_simulator:image"]) == taken
    with h5py.File(scan.path, "r") as master:
        entry = master[f"{scan.number}.1"]
        assert entry["writer/status"][()] == b"ABORTED"
        assert entry["measurement/lima_simulator"].shape[0] == taken
        assert np.array_equal(entry["measurement/lima_simulator"][taken - 1], images.get_image(-1))


def test_a_server_killed_mid_scan_fails_the_scan_keeps_the_points_and_frames_come_from_file(redis_client, tmp_path):
    port = free_port()
    server = start_simulator(port, instance="doomed")
    session = open_tango_session(f"tango://127.0.0.1:{port}", redis_client, tmp_path)
    seen = {}

    def kill_after_five_points():
        wait_for(lambda: session["SCANS"] and session["SCANS"][-1].node is not None, "the scan did not start")
        scan = session["SCANS"][-1]
        wait_for(lambda: len(get_node(f"{scan.node.db_name}:timer:tgauss:tgauss")) >= 5, "the scan took no 5 points")
        seen["frame"] = scan.get_data()["lima_simulator:image"].get_image(0)
        server.kill()

    killer = gevent.spawn(kill_after_five_points)
    try:
        device = rf"(tgauss: Tango device tango://127.0.0.1:{port}/id00/counter/tgauss|lima_simulator: Tango device tango://127.0.0.1:{port}/id00/limaccds/sim1)#dbase=no: "
        with pytest.raises(RuntimeError, match=f"^{device}"):  # whichever was called when the server died
            session["loopscan"](100, 0.02, session["tgauss"], session["lima_simulator"])
        killer.get(timeout=5)
        scan = session["SCANS"][-1]
        end = scan.node.end_state()
        assert end["state"] == "failed" and re.search(device, end["reason"])
        published = get_node(f"{scan.node.db_name}:timer:tgauss:tgauss").get(0, -1)
        assert len(published) >= 5
        with h5py.File(scan.path, "r") as saved:
            entry = saved[f"{scan.number}.1"]
            assert entry["writer/status"][()] == b"FAILED"
            assert re.search(device, entry["writer/reason"][()].decode())
            assert np.array_equal(entry["measurement/tgauss"][()], published)
        with h5py.File(scan.path, "r") as saved:  # the frames taken before the kill are linked
            linked = saved[f"{scan.number}.1"]["measurement/lima_simulator"]
            ready = len(scan.get_data()["lima_simulator:image"])  # frames the server said ready, in Redis
            assert len(linked) == ready >= 4 and np.array_equal(linked[0], seen["frame"])
        server.communicate(timeout=10)
        server = start_simulator(port, instance="doomed")  # restarted: it holds no frame of that scan
        images = scan.get_data()["lima_simulator:image"]
        assert np.array_equal(images.get_image(0), seen["frame"])
    finally:
        server.kill()
        server.communicate()
