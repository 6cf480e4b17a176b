"""Scans through the acquisition chain on Tango devices served by our simulator: a counter card, an MCA,
Lima and a motor; continuous scans; faults injected from outside the scan's process."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import gevent
import h5py
import numpy as np
import pytest
import tango

from bliss_shell.config import ConfigRoot
from bliss_shell.data import EventType, get_node
from conftest import interruptible, open_session
from simulator_server import SimulatorServer

DEVICES = {
    "SimMotor": ["id00/motor/fm1"],
    "CT2": ["id00/ct2/card"],
    "SimMCA": ["id00/mca/mca"],
    "LimaCCDs": ["id00/limaccds/cam"],
    "SimCounter": ["id00/counter/a", "id00/counter/b"],
}
RATE = 2000.0  # counts/s of the card's input 1


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer(DEVICES, instance="chain")
    yield simulators
    simulators.stop()


@pytest.fixture
def beamline(server, redis_client, tmp_path) -> dict:
    """A session on the simulator: motor fm1 (velocity limit 50), card p201 (ct_timer, ct1), mca, cam, counters a and b."""
    url = server.url
    (tmp_path / "devices.yml").write_text(
        f"""
- name: fm1
  class: TangoMotor
  tango_url: {url("id00/motor/fm1")}
  velocity: 40
  acceleration: 400
  velocity_high_limit: 50
  low_limit: -100
  high_limit: 100
- name: p201
  class: CounterCard
  tango_url: {url("id00/ct2/card")}
  sim_rates: [{RATE}]
  sim_noise: false
  timeout: 1
- name: ct_timer
  class: CardCounter
  card: p201
  channel: 11
- name: ct1
  class: CardCounter
  card: p201
  channel: 1
- name: mca
  class: TangoMCA
  tango_url: {url("id00/mca/mca")}
  nbins: 32
  readout_time: 0
  timeout: 0.5
- name: cam
  class: Lima
  tango_url: {url("id00/limaccds/cam")}
  sim_image_size: [32, 24]
- name: a
  class: TangoCounter
  tango_url: {url("id00/counter/a")}
  distribution: FLAT
  height: 7
  mode: SINGLE
- name: b
  class: TangoCounter
  tango_url: {url("id00/counter/b")}
  distribution: FLAT
  height: 9
  mode: SINGLE
- name: chain_session
  class: Session
"""
    )
    namespace = open_session([ConfigRoot(tmp_path)], "chain_session", redis_client, tmp_path / "scans")
    namespace["fm1"].velocity = 40
    namespace["fm1"].move(0)
    tango.DeviceProxy(url("id00/mca/mca")).write_attribute("DataLength", 32)
    tango.DeviceProxy(url("id00/mca/mca")).write_attribute("sim_readout_time", 0.0)
    return namespace


def wait_points(scan, channel: str, count: int) -> None:
    """Until the running scan has ``count`` points of ``channel`` in Redis (deadline 20 s)."""
    with gevent.Timeout(20):
        while True:
            node = get_node(f"{scan.node.db_name}:{channel}") if scan.node is not None else None
            if node is not None and len(node.get(0, -1)) >= count:
                return
            gevent.sleep(0.01)


def end_of(scan) -> dict:
    events = get_node(scan.node.db_name).walk_events(wait=False)
    return next(e.data.data for e in events if e.type is EventType.END_SCAN)


def file_entry(scan) -> dict:
    with h5py.File(scan.path, "r") as file:
        entry = file[f"{scan.number}.1"]
        return {"status": entry["writer/status"][()].decode(), "reason": entry["writer/reason"][()].decode(),
                **{name: dataset[()] for name, dataset in entry["measurement"].items()}}  # fmt: skip


def test_a_step_scan_counts_the_card_the_mca_and_lima_at_every_point(beamline, server):
    fm1, ct1, ct_timer, mca, cam = (beamline[n] for n in ("fm1", "ct1", "ct_timer", "mca", "cam"))
    scan = beamline["ascan"](fm1, 0, 1, 4, 0.05, ct1, ct_timer, mca, cam)
    data = scan.get_data()
    assert data["fm1"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert data["ct_timer"].tolist() == pytest.approx([0.05] * 4)
    assert data["ct1"].tolist() == [RATE * 0.05] * 4 and data["ct1"].dtype == np.uint32  # counts stay integers
    assert data["mca"].shape == (4, 32) and np.all(data["mca"].sum(axis=1) > 0)
    assert data["cam:image"].get_image(3).shape == (24, 32)
    below = [n.db_name[len(scan.node.db_name) + 1 :] for n in get_node(scan.node.db_name).walk(wait=False)][1:]
    assert below == ["axis", "axis:fm1", "axis:timer", "axis:timer:elapsed_time", "axis:timer:epoch", "axis:timer:p201", "axis:timer:p201:ct1",
                     "axis:timer:p201:ct_timer", "axis:timer:mca", "axis:timer:mca:mca", "axis:timer:cam",
                     "axis:timer:cam:image"]  # fmt: skip
    camera = tango.DeviceProxy(server.url("id00/limaccds/cam"))
    assert camera.acq_trigger_mode == "INTERNAL_TRIGGER_MULTI" and camera.last_image_ready == 3
    assert file_entry(scan)["status"] == "SUCCEEDED"


def test_a_loopscan_runs_lima_free_and_every_frame_is_a_point(beamline, server):
    scan = beamline["loopscan"](5, 0.01, beamline["cam"], beamline["a"])
    camera = tango.DeviceProxy(server.url("id00/limaccds/cam"))
    assert camera.acq_trigger_mode == "INTERNAL_TRIGGER" and camera.last_image_ready == 4
    data = scan.get_data()
    assert data["a"].tolist() == [7.0] * 5 and data["cam:image"].get_image(-1).shape == (24, 32)


def test_counters_of_two_devices_in_one_point(beamline):
    scan = beamline["ct"](0.01, beamline["a"], beamline["b"])
    assert scan.get_data()["a"].tolist() == [7.0] and scan.get_data()["b"].tolist() == [9.0]


def test_fscan_counts_every_period_at_the_position_the_motor_had(beamline, server):
    fm1 = beamline["fm1"]
    scan = beamline["fscan"](fm1, 1, 0.02, 400, 0.002, beamline["ct1"], beamline["ct_timer"], beamline["cam"])
    entry = file_entry(scan)
    positions = scan.get_data()["fm1"]
    assert len(positions) == 400 and entry["fm1"].tolist() == positions.tolist()
    assert positions[0] == pytest.approx(1, abs=0.02)  # computed from the trajectory at the card's start
    assert np.diff(positions) == pytest.approx(np.full(399, 0.02))  # constant velocity: one step per period
    assert entry["ct_timer"].tolist() == pytest.approx([0.002] * 400) and entry["ct_timer"].dtype == np.float64
    assert entry["ct1"].tolist() == [RATE * 0.002] * 400 and entry["ct1"].dtype == np.uint32
    assert entry["elapsed_time"].tolist() == pytest.approx([i * 0.002 for i in range(400)])
    assert tango.DeviceProxy(server.url("id00/limaccds/cam")).last_image_ready == 399
    run_up = 10**2 / (2 * 400)  # velocity 10 (0.02 / 0.002), acceleration 400
    assert fm1.position == pytest.approx(1 + 400 * 0.02 + run_up) and fm1.velocity == 40  # its run ended; velocity restored
    assert get_node(scan.node.db_name).info["points_acquired"] == 400 and entry["status"] == "SUCCEEDED"


def test_ftimescan_takes_thousands_of_points_at_one_millisecond(beamline):
    scan = beamline["ftimescan"](0.001, 3000, beamline["ct1"])
    entry = file_entry(scan)
    assert entry["ct1"].tolist() == [RATE * 0.001] * 3000
    assert len(scan.get_data()["ct1"]) == 3000 and entry["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("fm1", 0, 0.2, 10, 0.001, "ct1"),
            "fscan: fm1 would run at 200/s (step_size / acq_time), above its velocity limit 50; "
            "use a smaller step or a longer acq_time",
        ),
        (("fm1", 90, 1, 20, 0.1, "ct1"), "fscan: fm1's trajectory goes outside its limits (-100, 100): run-down end at 110.125"),
        (("fm1", 0, 0, 10, 0.01, "ct1"), "fscan: step_size must be a non-zero number, not 0.0"),
        (
            ("fm1", 0, 0.01, 10, 0.01, "mca"),
            "fscan: mca takes its gate from a counter card; count one of the card's counters too (ct_timer)",
        ),
        (
            ("fm1", 0, 0.01, 10, 0.01, "a"),
            "fscan: a cannot count in a continuous scan (only counter cards, Lima "
            "detectors and MCAs gated by a card count there); count them with a step scan",
        ),
    ],
)
def test_fscan_refuses_what_the_motor_or_the_devices_cannot_do_before_anything_moves(beamline, redis_client, args, message):
    fm1 = beamline["fm1"]
    fm1.move(3)
    with pytest.raises(ValueError) as caught:
        beamline["fscan"](*(beamline[a] if isinstance(a, str) else a for a in args))
    assert str(caught.value) == message
    assert fm1.position == 3 and fm1.velocity == 40 and len(beamline["SCANS"]) == 0
    assert not [key for key in redis_client.keys("node|*") if b"_fscan" in key]


def test_a_counter_changing_shape_mid_scan_fails_the_scan_everywhere_and_keeps_the_points(beamline, server):
    fm1 = beamline["fm1"]
    fm1.move(2)
    mca = tango.DeviceProxy(server.url("id00/mca/mca"))
    scan = beamline["dscan"](fm1, 0, 1, 50, 0.02, beamline["mca"], beamline["ct1"], run=False)
    command = interruptible(scan.run)
    wait_points(scan, "axis:fm1", 3)
    mca.write_attribute("DataLength", 64)  # someone reconfigures the MCA from another program
    command.join(timeout=20)
    assert isinstance(command.exception, Exception)
    reason = "ChannelMisfit: mca (controller mca): a value of shape (64,) does not fit the channel's shape (32,)"
    assert str(command.exception) in reason and scan.state == "failed"
    assert end_of(scan) == {"state": "failed", "reason": reason}
    entry = file_entry(scan)
    assert entry["status"] == "FAILED" and entry["reason"] == reason
    taken = len(entry["fm1"])
    assert 3 <= taken < 50 and entry["mca"].shape == (taken, 32) and len(scan.get_data()["ct1"]) == taken
    assert fm1.position == 2  # dscan: back where it was
    assert tango.DeviceProxy(server.url("id00/ct2/card")).acq_status == "Ready"  # stopped (its State stays ON)


def test_a_device_that_never_gets_ready_fails_the_scan_naming_it(beamline, server):
    mca = tango.DeviceProxy(server.url("id00/mca/mca"))
    scan = beamline["loopscan"](40, 0.02, beamline["ct1"], beamline["mca"], run=False)
    command = interruptible(scan.run)
    wait_points(scan, "timer:elapsed_time", 2)
    mca.write_attribute("sim_readout_time", 3600.0)  # stuck: it never leaves RUNNING
    command.join(timeout=20)
    assert isinstance(command.exception, TimeoutError)
    assert str(command.exception).startswith(
        f"mca: Tango device {server.url('id00/mca/mca')}: still acquiring after 0.02 s count time"
    )
    assert scan.state == "failed" and end_of(scan)["reason"].startswith("TimeoutError: mca: Tango device")
    assert 2 <= len(file_entry(scan)["ct1"]) < 40
    assert mca.state() == tango.DevState.ON  # the scan stopped it


def test_a_card_whose_server_faults_mid_scan_fails_the_scan_in_one_line_naming_it(beamline, server):
    card = tango.DeviceProxy(server.url("id00/ct2/card"))
    scan = beamline["loopscan"](100, 0.01, beamline["ct1"], beamline["ct_timer"], run=False)
    command = interruptible(scan.run)
    wait_points(scan, "timer:elapsed_time", 3)
    try:
        card.sim_fault("no CT2 card at /dev/ct2_0")  # the server loses its card: State FAULT, every call fails
        command.join(timeout=20)
    finally:
        card.Init()  # as on the real server: Init makes the device again
    message = (f"p201: Tango device {server.url('id00/ct2/card')} is in FAULT: "
               "Exception initializing device: no CT2 card at /dev/ct2_0")  # fmt: skip
    assert str(command.exception) == message and scan.state == "failed"
    assert end_of(scan) == {"state": "failed", "reason": f"TangoDeviceError: {message}"}
    assert 3 <= len(file_entry(scan)["ct1"]) < 100
    assert beamline["loopscan"](2, 0.01, beamline["ct1"]).get_data()["ct1"].tolist() == [RATE * 0.01] * 2


def test_ctrl_c_stops_every_device_and_the_file_says_aborted(beamline, server):
    scan = beamline["timescan"](0.01, beamline["ct1"], beamline["cam"], beamline["mca"], run=False)
    command = interruptible(scan.run)
    wait_points(scan, "timer:elapsed_time", 3)
    command.kill(KeyboardInterrupt, block=True)
    assert isinstance(command.value, KeyboardInterrupt) and scan.state == "aborted"
    assert end_of(scan) == {"state": "aborted", "reason": "interrupted by user (Ctrl-C)"}
    assert file_entry(scan)["status"] == "ABORTED"
    assert tango.DeviceProxy(server.url("id00/ct2/card")).acq_status == "Ready"
    assert tango.DeviceProxy(server.url("id00/mca/mca")).state() == tango.DevState.ON
    assert tango.DeviceProxy(server.url("id00/limaccds/cam")).acq_status == "Ready"


def test_a_stalled_device_server_fails_the_scan_and_the_next_scan_works(beamline, server):
    scan = beamline["loopscan"](100, 0.01, beamline["a"], beamline["ct1"], run=False)
    command = interruptible(scan.run)
    wait_points(scan, "timer:elapsed_time", 3)
    os.kill(server.process.pid, signal.SIGSTOP)
    try:  # about 24 s here: each call to the stopped server waits out Tango's timeout (the counter, the card, the
        command.join(timeout=90)  # positions of the session's motors at the scan's end): a deadline, not a duration
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert scan.state == "failed" and "Tango device" in end_of(scan)["reason"]
    assert len(file_entry(scan)["a"]) >= 3
    again = beamline["loopscan"](3, 0.01, beamline["a"], beamline["ct1"])
    assert again.state == "done" and again.get_data()["a"].tolist() == [7.0] * 3
