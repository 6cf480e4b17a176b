"""TangoMotor on motor servers: our simulator (BLISS's axis interface), Sardana's Pool, any Tango motor.

One suite, parametrised by server, so the simulator cannot drift from the real interfaces. BLISS's own axis
server (Python 3.9 only) joins it when ``BLISS_AXIS_URL`` names one of its axes (tests/manual/README.md).
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gevent
import numpy as np
import pytest
import tango
from tango.server import Device, attribute, command
from tango.test_context import DeviceTestContext

from bliss_shell.config import ConfigRoot
from bliss_shell.controllers.motion import Move
from bliss_shell.controllers.tango_motor import MotorStopped
from conftest import interruptible, open_session, wait_for
from sardana_pool import SardanaPool
from simulator_server import SimulatorServer


@dataclass
class MotorServer:
    """A motor server for the suite: where its motor is, what kind it is, how to hurt it from outside."""

    kind: str  # what TangoMotor should learn: bliss, sardana, generic
    url: str  # the motor device
    counter_url: str  # our SimCounter device, free to follow the motor
    process: object  # what can be killed
    forced: str | None = None  # motor_interface in the config


@pytest.fixture(scope="module")
def simulators() -> Iterator[SimulatorServer]:
    devices = {"SimMotor": ["id00/motor/rm1", "id00/motor/rm2"], "SimCounter": ["id00/counter/rc1"], "CT2": ["id00/ct2/rcard"]}
    server = SimulatorServer(devices, instance="realmotors")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pool(simulators) -> Iterator[SardanaPool]:
    pool = SardanaPool(motors=2)
    pool.add_faulty_motor("fmot01")  # our FaultyMotorController: a Sardana motor that can be made to fail
    yield pool
    pool.stop()


# BLISS's own server, when a person started it (tests/manual/README.md): never ours to hurt
BLISS = ["bliss"] if os.environ.get("BLISS_AXIS_URL") else []
SERVERS = ["simulator", "generic", "sardana", *BLISS]
OURS = ["simulator", "generic"]  # what the simulator alone can do to a motor: a fault, a limit switch


def motor_server_for(kind: str, simulators: SimulatorServer, pool: SardanaPool | None) -> MotorServer:
    counter = simulators.url("id00/counter/rc1")
    if kind == "sardana":
        assert pool is not None
        return MotorServer("sardana", pool.url("motor/motctrl01/1"), counter, pool)
    if kind == "bliss":
        return MotorServer("bliss", os.environ["BLISS_AXIS_URL"], counter, None)
    forced = "generic" if kind == "generic" else None
    return MotorServer(forced or "bliss", simulators.url("id00/motor/rm1"), counter, simulators, forced)


@pytest.fixture(params=SERVERS)
def motor_server(request, simulators) -> MotorServer:
    pool = request.getfixturevalue("pool") if request.param == "sardana" else None
    return motor_server_for(request.param, simulators, pool)


def open_motor_session(server: MotorServer, redis_client, tmp_path: Path, extra: str = "") -> dict:
    """A session with motor ``m1`` on the server and counter ``c1`` (a peak at 2.5 where m1 is)."""
    forced = f"  motor_interface: {server.forced}\n" if server.forced else ""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "devices.yml").write_text(
        f"""
- name: m1
  class: TangoMotor
  tango_url: {server.url}
{forced}  velocity: 50
  acceleration: 500
  low_limit: -50
  high_limit: 50
{extra}- name: c1
  class: TangoCounter
  tango_url: {server.counter_url}
  motor_url: {server.url}
  distribution: GAUSSIAN
  mu: 2.5
  sigma: 0.5
  height: 1000
- name: motor_session
  class: Session
"""
    )
    namespace = open_session([ConfigRoot(tmp_path)], "motor_session", redis_client, tmp_path / "scans")
    m1 = namespace["m1"]
    if server.kind == "sardana" and m1.sign != 1:  # what an earlier test left on the server
        m1.sign = 1
    m1.position = m1.sign * m1.dial  # no offset (BLISS's manual bm2 has sign -1)
    m1.move(0)
    return namespace


@pytest.fixture
def motors(motor_server, redis_client, tmp_path) -> dict:
    namespace = open_motor_session(motor_server, redis_client, tmp_path)
    namespace["server"] = motor_server
    return namespace


def device(motors) -> tango.DeviceProxy:
    return tango.DeviceProxy(motors["server"].url)


def test_the_motor_learns_what_its_device_is(motors):
    m1, server = motors["m1"], motors["server"]
    assert repr(m1) == f"TangoMotor('m1', {server.url}, {server.kind})"
    assert m1.interface.holds_user_positions == (server.kind != "generic")


@pytest.mark.parametrize("motor_server", ["simulator", "sardana", *BLISS], indirect=True)
def test_the_unit_comes_from_the_server_unless_the_config_gives_one(motor_server, redis_client, tmp_path):
    proxy = tango.DeviceProxy(motor_server.url)
    if motor_server.kind == "sardana":  # Position's attribute config
        config = proxy.get_attribute_config("Position")
        config.unit = "mm"
        proxy.set_attribute_config(config)
    elif motor_server.process is not None:  # our simulator
        proxy.sim_unit = "mm"
    unit = "mm" if motor_server.process is not None else proxy.ReadConfig("unit")  # BLISS's own: its axis's config
    assert open_motor_session(motor_server, redis_client, tmp_path / "a")["m1"].unit == unit
    assert open_motor_session(motor_server, redis_client, tmp_path / "b", extra="  unit: um\n")["m1"].unit == "um"


def test_mv_umv_mvr_and_wm_move_the_motor(motors, capsys):
    m1 = motors["m1"]
    motors["mv"](m1, 3)
    assert m1.position == pytest.approx(3)
    motors["mvr"](m1, -1)
    assert m1.position == pytest.approx(2)
    motors["umv"](m1, 4)
    assert m1.position == pytest.approx(4) and m1.state == "READY"
    capsys.readouterr()
    motors["wm"](m1)
    assert re.search(r"User\s+High\s+50\.0+\s+Current\s+4\.0+\s+Low\s+-50\.0+", " ".join(capsys.readouterr().out.split()))


def test_limits_are_the_servers_and_refuse_a_move_before_it_starts(motors):
    m1, server = motors["m1"], motors["server"]
    m1.limits = (-5, 8)
    assert m1.limits == (-5, 8)
    proxy = device(motors)
    if server.kind == "bliss":
        assert list(proxy.Limits) == [-5, 8]
    elif server.kind == "sardana":
        config = proxy.get_attribute_config("Position")
        assert (float(config.min_value), float(config.max_value)) == (-5, 8)
    with pytest.raises(ValueError, match=r"^mv: m1: position 9 outside limits \(-5, 8\)$"):
        motors["mv"](m1, 9)
    assert m1.position == 0 and m1.state == "READY"


@pytest.mark.parametrize("motor_server", ["simulator", "sardana"], indirect=True)
def test_limits_another_client_narrows_on_the_server_refuse_the_next_move(motors):
    m1, server = motors["m1"], motors["server"]
    assert m1.limits == (-50, 50)  # as the shell last read them
    proxy = device(motors)
    if server.kind == "sardana":
        config = proxy.get_attribute_config("Position")
        config.min_value, config.max_value = "-5", "5"
        proxy.set_attribute_config(config)
    else:
        proxy.Limits = [-5, 5]
    with pytest.raises(ValueError, match=r"^mv: m1: position 9 outside limits \(-5, 5\)$"):
        motors["mv"](m1, 9)
    assert m1.position == 0 and m1.state == "READY"


def test_position_offset_and_dial_are_set_through_the_server(motors):
    m1, server = motors["m1"], motors["server"]
    sign = m1.sign  # +1, but for BLISS's manual bm2 (-1): user = sign * dial + offset
    motors["mv"](m1, 2)
    m1.position = 7  # the motor is called 7 where it is: the offset changes, the dial stays
    assert (m1.position, m1.dial, m1.offset) == pytest.approx((7, 2 * sign, 5))
    # Sardana's limits are Position's (user) config; BLISS's and the shell's are dial limits that follow the offset
    assert m1.limits == pytest.approx((-50, 50) if server.kind == "sardana" else (-45, 55))
    if server.kind == "generic":  # Position is the dial: only the device can redefine it, and ours has no DefinePosition
        with pytest.raises(AttributeError, match=r"^m1: Tango device .* has no DefinePosition: its position cannot be"):
            m1.dial = 1
        assert (m1.position, m1.dial, m1.offset) == pytest.approx((7, 2, 5))
        return
    m1.dial = 1  # the controller is told it is at 1: BLISS's keeps the user position, Sardana's the offset
    expected = (7, 1, 7 - sign) if server.kind == "bliss" else (sign + 5, 1, 5)
    assert (m1.position, m1.dial, m1.offset) == pytest.approx(expected)
    assert (device(motors).Position, device(motors).Offset) == pytest.approx((expected[0], expected[2]))  # all clients see it


def test_the_sign_is_the_servers(motors):
    m1, server = motors["m1"], motors["server"]
    assert m1.sign == device(motors).Sign
    if server.kind == "sardana":
        motors["mv"](m1, 2)
        m1.sign = -1
        assert (m1.sign, m1.dial, m1.position) == pytest.approx((-1, 2, -2))
        m1.sign = 1
    elif server.kind == "bliss":
        with pytest.raises(AttributeError, match=r"^m1: the sign of a BLISS axis is set in the axis server's config"):
            m1.sign = -1


def test_ascan_and_dscan_step_the_motor(motors):
    m1, c1 = motors["m1"], motors["c1"]
    scan = motors["ascan"](m1, 0, 5, 11, 0.01, c1)
    data = scan.get_data()
    assert data["m1"].tolist() == pytest.approx([0.5 * i for i in range(11)])
    assert data["c1"].max() == pytest.approx(1000)
    motors["mv"](m1, 1)
    motors["dscan"](m1, -1, 1, 5, 0.01, c1)
    assert m1.position == pytest.approx(1)


def test_ctrl_c_during_mv_prints_where_the_motor_rests_after_it_decelerated(motors, capsys):
    m1 = motors["m1"]
    m1.velocity, m1.acceleration = 20, 40  # half a second to stop from full speed: 5 units of run-out
    command = interruptible(motors["mv"], m1, 45)
    wait_for(lambda: m1.position > 8, "m1 did not reach full speed")
    command.kill(KeyboardInterrupt, block=False)
    assert isinstance(command.get(timeout=20), KeyboardInterrupt)
    out = capsys.readouterr().out
    assert "mv interrupted: motors stopped" in out
    assert m1.state == "READY"  # the move was waited for: nothing moves once the command is over
    rest = m1.position
    assert 8 < rest < 45
    table = out.split("motors stopped", 1)[1]
    assert f"{rest:.5f}" in table, table


FAULTS = {  # how each server is hurt during a move, how it is mended, and the line the move ends with
    ("simulator", "FAULT"): ("sim_fault", "encoder error", "On", r"in FAULT at [-0-9.]+: FAULT: encoder error"),
    ("sardana", "FAULT"): ("Fault", True, "Fault", r"in FAULT at [-0-9.]+: fmot01 is in Fault; .*RuntimeError: encoder error \(simulated hardware fault\)"),
    ("simulator", "OFF"): ("Off", None, "On", r"in OFF at [-0-9.]+: OFF: Axis power is off"),
    ("sardana", "OFF"): ("Power", False, "Power", r"in OFF at [-0-9.]+: fmot01 is in Off; Motor is powered off"),
}  # fmt: skip


@pytest.mark.parametrize(("kind", "state"), list(FAULTS))
def test_a_fault_or_power_off_during_a_move_ends_it_with_one_line(kind, state, simulators, request, redis_client, tmp_path):
    if kind == "sardana":
        pool = request.getfixturevalue("pool")
        server = MotorServer("sardana", pool.url("fmot01"), simulators.url("id00/counter/rc1"), pool)
    else:
        server = motor_server_for(kind, simulators, None)
    motors = open_motor_session(server, redis_client, tmp_path)
    m1, proxy = motors["m1"], tango.DeviceProxy(server.url)
    hurt, value, mend, said = FAULTS[kind, state]
    m1.velocity = 10
    m1.move(40, wait=False)
    wait_for(lambda: m1.position > 1, "m1 did not start")
    try:
        if value is None:
            proxy.command_inout(hurt)
        elif hurt.startswith("sim_"):
            proxy.command_inout(hurt, value)
        else:
            proxy.write_attribute(hurt, value)
        with pytest.raises(MotorStopped, match=rf"^m1: stopped {said}$"):
            m1.wait_move()
        assert m1.state == state
    finally:
        if kind == "sardana":
            proxy.write_attribute(mend, not value)
        else:
            proxy.command_inout(mend)
    wait_for(lambda: m1.state == "READY", "m1 did not come back")
    motors["mv"](m1, 2)  # mended, it moves again
    assert m1.position == pytest.approx(2)


def open_two_motor_session(kind: str, simulators: SimulatorServer, request, redis_client, tmp_path: Path) -> dict:
    """A session with ``m1`` (a motor that can be made to fail) and ``m2`` (slow: 5 units/s), both at 0."""
    if kind == "sardana":
        pool = request.getfixturevalue("pool")
        failing, other = pool.url("fmot01"), pool.url("mot02")
    else:
        failing, other = simulators.url("id00/motor/rm1"), simulators.url("id00/motor/rm2")
    server = MotorServer(kind if kind == "sardana" else "bliss", failing, simulators.url("id00/counter/rc1"), None)
    extra = f"- name: m2\n  class: TangoMotor\n  tango_url: {other}\n  velocity: 5\n"
    motors = open_motor_session(server, redis_client, tmp_path, extra=extra)
    m2 = motors["m2"]
    m2.position = m2.dial
    m2.move(0)
    return motors


@pytest.mark.parametrize("kind", ["simulator", "sardana"])
def test_a_motor_failing_in_a_two_motor_mv_stops_the_other_at_once(kind, simulators, request, redis_client, tmp_path):
    motors = open_two_motor_session(kind, simulators, request, redis_client, tmp_path)
    m1, m2, proxy = motors["m1"], motors["m2"], tango.DeviceProxy(motors["m1"].url)
    m1.velocity = 10
    command = gevent.spawn(motors["mv"], m2, 40, m1, 40)  # m2, 8 s from its target, is the one waited for first
    wait_for(lambda: m2.position > 1 and m1.position > 1, "the motors did not start")
    try:
        if kind == "sardana":
            proxy.Fault = True
        else:
            proxy.sim_fault("encoder error")
        with pytest.raises(MotorStopped, match=r"^m1: stopped in FAULT"):
            command.get(timeout=20)
        assert m2.state == "READY"  # stopped, and at rest before the error came back...
        assert 1 < m2.position < 20  # ...at once, not once it had arrived
    finally:
        if kind == "sardana":
            proxy.Fault = False
        else:
            proxy.On()


@pytest.mark.parametrize("kind", ["simulator", "sardana"])
def test_ctrl_c_during_a_two_motor_mv_stops_both_and_prints_where_they_rest(
    kind, simulators, request, redis_client, tmp_path, capsys
):
    motors = open_two_motor_session(kind, simulators, request, redis_client, tmp_path)
    m1, m2 = motors["m1"], motors["m2"]
    m1.velocity = 10
    command = interruptible(motors["mv"], m1, 40, m2, 40)
    wait_for(lambda: m2.position > 1 and m1.position > 2, "the motors did not start")
    command.kill(KeyboardInterrupt, block=False)
    assert isinstance(command.get(timeout=20), KeyboardInterrupt)
    assert m1.state == m2.state == "READY"
    rests = m1.position, m2.position
    assert 2 < rests[0] < 40 and 1 < rests[1] < 40
    table = capsys.readouterr().out.split("motors stopped", 1)[1]
    assert all(f"{rest:.5f}" in table for rest in rests), table


@pytest.mark.parametrize("kind", ["simulator", "sardana"])
def test_fscan_runs_the_motor_through_its_points_and_restores_its_velocity(kind, simulators, request, redis_client, tmp_path):
    pool = request.getfixturevalue("pool") if kind == "sardana" else None
    card = (f"- name: p201\n  class: CounterCard\n  tango_url: {simulators.url('id00/ct2/rcard')}\n  sim_rates: [1000]\n"
            "  sim_noise: false\n- name: ct1\n  class: CardCounter\n  card: p201\n  channel: 1\n")  # fmt: skip
    motors = open_motor_session(motor_server_for(kind, simulators, pool), redis_client, tmp_path, extra=card)
    m1 = motors["m1"]
    m1.velocity, m1.acceleration = 40, 400
    scan = motors["fscan"](m1, 1, 0.02, 200, 0.002, motors["ct1"])  # 10 units/s during the run
    data = scan.get_data()
    # the card starts as the motor passes 1, give or take its start's latency (a few 2 ms periods on a loaded machine)
    assert len(data["m1"]) == 200 and data["m1"][0] == pytest.approx(1, abs=0.1)
    assert np.diff(data["m1"]) == pytest.approx(np.full(199, 0.02))  # one step of 0.02 per period
    assert data["ct1"].tolist() == [2] * 200  # 1000 counts/s over every 2 ms period
    assert m1.position > 1 + 200 * 0.02 and m1.state == "READY"  # it ran past the last point and rests
    assert m1.velocity == pytest.approx(40)  # the run's velocity was the scan's only


@pytest.mark.parametrize("motor_server", ["simulator", "sardana"], indirect=True)
def test_a_limit_switch_during_a_scan_ends_it_naming_the_motor(motors):
    m1, c1, kind = motors["m1"], motors["c1"], motors["server"].kind
    switch = ("sim_hard_limits", [-100, 3]) if kind == "bliss" else ("UpperLimitSwitch", 3)  # dial 3: user 3
    device(motors).write_attribute(*switch)
    said = {
        "bliss": r"on its high limit switch at 3\.0000: READY: Axis is READY; LIMPOS: high limit switch",
        "sardana": r"in ALARM at 3\.0000: mot01 is in Alarm\. Hit upper switch; Motor HW is in ALARM\. .*",
    }[kind]
    try:
        with pytest.raises(Exception, match=rf"m1: stopped {said}$"):
            motors["ascan"](m1, 0, 5, 6, 0.01, c1)
        scan = motors["SCANS"][-1]
        assert scan.node.end_state()["state"] == "failed"
        assert re.search(rf"m1: stopped {said}", scan.node.end_state()["reason"])
        assert scan.get_data()["m1"].tolist() == pytest.approx([0, 1, 2])  # the points taken are kept
    finally:
        device(motors).write_attribute(
            *(("sim_hard_limits", [-1e300, 1e300]) if kind == "bliss" else ("UpperLimitSwitch", 8888.8888))
        )


@pytest.mark.parametrize("kind", ["simulator", "sardana"])
def test_a_server_killed_during_a_scan_fails_the_scan_naming_the_motor(kind, redis_client, tmp_path):
    simulators = SimulatorServer({"SimMotor": ["id00/motor/rm1"], "SimCounter": ["id00/counter/rc1"]}, instance="killed")
    pool = SardanaPool(motors=1) if kind == "sardana" else None
    try:
        server = motor_server_for(kind, simulators, pool)
        motors = open_motor_session(server, redis_client, tmp_path)
        m1, c1 = motors["m1"], motors["c1"]
        m1.velocity = 5
        scan = gevent.spawn(motors["ascan"], m1, 0, 40, 41, 0.01, c1)
        wait_for(lambda: m1.position > 1.5, "the scan did not start")
        if pool is not None:
            pool.kill()
        else:
            simulators.process.send_signal(signal.SIGKILL)
        with pytest.raises(Exception, match=rf"m1: Tango device {re.escape(server.url)}"):
            scan.get(timeout=60)
        ended = motors["SCANS"][-1]
        assert ended.node.end_state()["state"] == "failed"
        assert len(ended.get_data()["m1"]) >= 2  # the points taken are kept
    finally:
        simulators.stop()
        if pool is not None:
            pool.stop()


# BLISS 1.11.4, bliss/tango/servers/axis_ds.py (class BlissAxis): what our SimMotor presents of it, as declared there
# (name: Tango type, format, writable). The real server also has Steps, Measured_Position, Backlash, Tolerance, ...
BLISS_AXIS_ATTRIBUTES = {
    "Position": (tango.CmdArgType.DevDouble, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE),
    "Velocity": (tango.CmdArgType.DevDouble, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE),
    "Acceleration": (tango.CmdArgType.DevDouble, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE),
    "AccTime": (tango.CmdArgType.DevDouble, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE),
    "Offset": (tango.CmdArgType.DevDouble, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE),
    "Sign": (tango.CmdArgType.DevShort, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ),
    "Limits": (tango.CmdArgType.DevDouble, tango.AttrDataFormat.SPECTRUM, tango.AttrWriteType.READ_WRITE),
    "HardLimitLow": (tango.CmdArgType.DevBoolean, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ),
    "HardLimitHigh": (tango.CmdArgType.DevBoolean, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ),
}
BLISS_AXIS_COMMANDS = {  # name: (argument in, argument out)
    "Stop": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevVoid),
    "Abort": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevVoid),
    "On": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevVoid),
    "Off": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevVoid),
    "SetPosition": (tango.CmdArgType.DevDouble, tango.CmdArgType.DevDouble),
    "SetDial": (tango.CmdArgType.DevDouble, tango.CmdArgType.DevDouble),
    "ReadConfig": (tango.CmdArgType.DevString, tango.CmdArgType.DevString),
}
TANGO_OWN = {"State", "Status", "Init"}


def test_our_motor_simulator_presents_blisss_axis_interface_and_nothing_else(simulators):
    proxy = tango.DeviceProxy(simulators.url("id00/motor/rm1"))
    attributes = {name for name in proxy.get_attribute_list() if not name.startswith("sim_")} - TANGO_OWN
    assert attributes == set(BLISS_AXIS_ATTRIBUTES)
    for name, expected in BLISS_AXIS_ATTRIBUTES.items():
        info = proxy.attribute_query(name)
        assert (info.data_type, info.data_format, info.writable) == expected, name
    assert proxy.attribute_query("Position").unit == "uu"  # as the real server declares it; the unit is ReadConfig's
    commands = {info.cmd_name: (info.in_type, info.out_type) for info in proxy.command_list_query()}
    assert {name: types for name, types in commands.items() if not name.startswith("sim_") and name not in TANGO_OWN} == (
        BLISS_AXIS_COMMANDS
    )


def test_an_offset_in_the_config_of_a_motor_whose_server_keeps_it_is_refused(simulators, redis_client, tmp_path):
    (tmp_path / "devices.yml").write_text(
        f"- name: m1\n  class: TangoMotor\n  tango_url: {simulators.url('id00/motor/rm1')}\n  offset: 3\n"
        "- name: offset_session\n  class: Session\n"
    )
    before = tango.DeviceProxy(simulators.url("id00/motor/rm1")).Offset
    with pytest.raises(
        ValueError,
        match=r"devices\.yml.*: m1: the offset is the server's on a bliss motor \(tango://.*\): "
        r"remove offset from the config, and call a position what it is with m1\.position = \.\.\.$",
    ):
        open_session([ConfigRoot(tmp_path)], "offset_session", redis_client, tmp_path / "scans")
    assert tango.DeviceProxy(simulators.url("id00/motor/rm1")).Offset == before  # nothing written


class BareMotor(Device):
    """A Tango motor with nothing but ``Position`` (read/write: a move at 20 units/s), ``State`` and ``Stop``."""

    def init_device(self) -> None:
        super().init_device()
        self._move = Move.still(0.0)

    def dev_state(self) -> tango.DevState:
        return tango.DevState.ON if self._move.done() else tango.DevState.MOVING

    @attribute(dtype=float, access=tango.AttrWriteType.READ_WRITE)
    def Position(self) -> float:
        return self._move.position()

    @Position.write
    def Position(self, target: float) -> None:
        self._move = Move(self._move.position(), target, 20.0, 1e6)

    @command
    def Stop(self) -> None:
        self._move = Move.still(self._move.position())


def test_a_motor_with_only_position_state_and_stop_is_driven_with_the_shells_offset_and_limits(redis_client, tmp_path):
    server = DeviceTestContext(BareMotor, host="127.0.0.1", process=True)
    with server:
        url = server.get_device_access()
        (tmp_path / "devices.yml").write_text(
            f"- name: bm\n  class: TangoMotor\n  tango_url: {url}\n  low_limit: -5\n  high_limit: 30\n"
            "- name: flat\n  class: SimulationCounter\n- name: bare_session\n  class: Session\n"
        )
        session = open_session([ConfigRoot(tmp_path)], "bare_session", redis_client, tmp_path / "scans")
        bm = session["bm"]
        assert repr(bm) == f"TangoMotor('bm', {url}, generic)" and bm.unit is None
        session["mv"](bm, 2)
        bm.position = 12  # the shell's offset: 10
        assert (bm.position, bm.dial, bm.offset, *bm.limits) == pytest.approx((12, 2, 10, 5, 40))
        with pytest.raises(ValueError, match=r"^mv: bm: position 41 outside limits \(5, 40\)$"):
            session["mv"](bm, 41)
        with pytest.raises(AttributeError, match=rf"^bm: Tango device {re.escape(url)} has no Velocity$"):
            bm.velocity
        scan = session["ascan"](bm, 12, 14, 3, 0.01, session["flat"])
        assert scan.get_data()["bm"].tolist() == pytest.approx([12, 13, 14])
        bm.move(30, wait=False)
        wait_for(lambda: bm.position > 15, "bm did not start")
        bm.stop()
        assert bm.state == "READY" and 15 < bm.position < 30
