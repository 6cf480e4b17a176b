"""A motor's sign and dial as BLISS has them: user = sign * dial + offset; setting the dial keeps the user position."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tango
from tango.server import command
from tango.test_context import DeviceTestContext

from bliss_shell.comm.settings import write_pending
from bliss_shell.config import Config, ConfigRoot
from bliss_shell.controllers.motion import Move
from conftest import BEAMLINE, open_session
from simulator_server import SimulatorServer
from test_real_motors import BareMotor

FLIPPED = """\
- name: flipped
  class: SimulationMotor
  velocity: 10000
  acceleration: 1000000
  sign: -1
  low_limit: -10
  high_limit: 20
- name: sign_session
  class: Session
  config-objects: [flipped, diode]
"""


def sign_session(redis_client, tmp_path: Path) -> dict:
    """A shell of a session with ``flipped`` (sign -1, dial limits (-10, 20)) and the test beamline's ``diode``."""
    folder = tmp_path / "flipped"
    folder.mkdir(exist_ok=True)
    (folder / "flipped.yml").write_text(FLIPPED)
    return open_session([ConfigRoot(BEAMLINE), ConfigRoot(folder, "flipped")], "sign_session", redis_client, tmp_path / "scans")


def test_sign_minus_one_moves_the_dial_the_other_way_in_moves_scans_and_wm(redis_client, tmp_path, capsys):
    shell = sign_session(redis_client, tmp_path)
    flipped = shell["flipped"]
    shell["mv"](flipped, 2)
    assert (flipped.sign, flipped.position, flipped.dial) == (-1, 2, -2)
    assert flipped.dial_limits == (-10, 20) and flipped.limits == (-20, 10)  # the config's limits are dial limits
    with pytest.raises(ValueError, match=r"^mv: flipped: position 11 outside limits \(-20, 10\)$"):
        shell["mv"](flipped, 11)
    shell["mvd"](flipped, 3)
    assert (flipped.position, flipped.dial) == (-3, 3)
    capsys.readouterr()
    shell["wm"](flipped)
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[2:6] == [["User"], ["High", "10.00000"], ["Current", "-3.00000"], ["Low", "-20.00000"]]
    assert rows[-3:] == [["High", "20.00000"], ["Current", "3.00000"], ["Low", "-10.00000"]]
    shell["wa"]()
    assert [line.split() for line in capsys.readouterr().out.splitlines()[-2:]] == [["-3.00000"], ["3.00000"]]
    flipped.limits = (-5, 8)  # user limits: the dial limits are (-8, 5)
    assert (flipped.limits, flipped.dial_limits) == ((-5, 8), (-8, 5))
    flipped.limits = (-20, 10)
    scan = shell["ascan"](flipped, 0, 2, 3, 0, shell["diode"], save=False)
    assert scan.get_data()["flipped"].tolist() == [0, 1, 2]  # the scan's data are user positions
    assert flipped.dial == -2


def test_setting_the_dial_keeps_the_user_position_and_the_next_shell_finds_both(redis_client, tmp_path):
    flipped = sign_session(redis_client, tmp_path)["flipped"]
    flipped.move(5)  # dial -5, written soon after the move
    flipped.dial = 2  # as BLISS: the user position stays, the offset is 5 - (-1 * 2)
    assert (flipped.dial, flipped.position, flipped.offset) == (2, 5, 7)
    write_pending()  # as the shell does when it ends
    again = sign_session(redis_client, tmp_path)["flipped"]
    assert (again.dial, again.position, again.offset) == (2, 5, 7)


def test_setting_the_dial_or_the_position_of_a_moving_motor_is_refused_and_the_move_goes_on(redis_client, tmp_path):
    flipped = sign_session(redis_client, tmp_path)["flipped"]
    flipped.velocity = 5  # 18 units: seconds of moving
    flipped.move(-18, wait=False)  # dial 18
    for name in ("dial", "position"):
        which = "user" if name == "position" else name
        with pytest.raises(RuntimeError, match=rf"^flipped: can't set axis {which} position while moving; wait for the move "
                                               r"to end or stop it \(flipped.stop\(\)\), then set it again$"):  # fmt: skip
            setattr(flipped, name, 0)
        assert (flipped.state, flipped.offset) == ("MOVING", 0)  # as BLISS: nothing changed, the move goes on
    flipped.wait_move()
    assert (flipped.position, flipped.dial, flipped.offset) == (-18, 18, 0)  # it got where it was sent


def test_the_sign_is_a_setting_the_config_gives_back(redis_client, tmp_path):
    flipped = sign_session(redis_client, tmp_path)["flipped"]
    flipped.move(2)
    flipped.sign = 1  # as BLISS: the offset stays, the user position follows
    assert (flipped.sign, flipped.dial, flipped.position, flipped.offset) == (1, -2, -2, 0)
    for bad in (0, 2, "x", True):
        with pytest.raises(ValueError, match=rf"^flipped: sign must be 1 or -1, not {re.escape(repr(bad))}$"):
            flipped.sign = bad
        assert (flipped.sign, flipped.position) == (1, -2)
    write_pending()  # as the shell does when it ends
    again = sign_session(redis_client, tmp_path)["flipped"]
    assert (again.sign, again.position) == (1, -2)
    again.apply_config()
    assert (again.sign, again.position) == (-1, 2)


@pytest.mark.parametrize(("written", "shown"), [("0", "0"), ("2", "2"), ("x", "'x'"), ("true", "True"), ("-1.5", "-1.5")])
def test_a_bad_sign_in_the_config_is_refused_naming_file_and_line(redis_client, tmp_path, written, shown):
    path = tmp_path / "motors.yml"
    path.write_text(f"- name: fine\n  class: SimulationMotor\n- name: m\n  class: SimulationMotor\n  sign: {written}\n")
    config = Config([ConfigRoot(tmp_path)])
    with pytest.raises(
        ValueError, match=rf"^{re.escape(path.as_posix())}, line 3: m: sign must be 1 or -1, not {re.escape(shown)}$"
    ):
        config.get("m")
    assert config.get("fine").sign == 1  # the rest of the config loads


class DefinableMotor(BareMotor):
    """``BareMotor`` (``Position``, ``State``, ``Stop``) with ``DefinePosition``: a generic motor whose dial can be set."""

    @command(dtype_in=float)
    def DefinePosition(self, dial: float) -> None:
        self._move = Move.still(dial)


def test_a_generic_tango_motor_follows_the_shells_sign_and_keeps_its_user_position_when_its_dial_is_set(redis_client, tmp_path):
    server = DeviceTestContext(DefinableMotor, host="127.0.0.1", process=True)
    with server:
        url = server.get_device_access()
        (tmp_path / "devices.yml").write_text(
            f"- name: gm\n  class: TangoMotor\n  tango_url: {url}\n  sign: -1\n  low_limit: -5\n  high_limit: 30\n"
            "- name: generic_session\n  class: Session\n"
        )
        shell = open_session([ConfigRoot(tmp_path)], "generic_session", redis_client, tmp_path / "scans")
        gm = shell["gm"]
        shell["mv"](gm, 2)
        assert (gm.interface.kind, gm.position, gm.dial, gm.limits) == ("generic", 2, -2, (-30, 5))
        assert tango.DeviceProxy(url).Position == pytest.approx(-2)  # the device's Position is the dial
        gm.dial = 4  # DefinePosition(4); the user position stays
        assert (gm.dial, gm.position, gm.offset) == pytest.approx((4, 2, 6))
        again = open_session([ConfigRoot(tmp_path)], "generic_session", redis_client, tmp_path / "scans")["gm"]
        assert (again.dial, again.position) == pytest.approx((4, 2))


def test_a_sign_in_the_config_of_a_motor_whose_server_keeps_it_is_refused(redis_client, tmp_path):
    server = SimulatorServer({"SimMotor": ["id00/motor/sign1"]}, instance="sign")
    try:
        url = server.url("id00/motor/sign1")
        (tmp_path / "devices.yml").write_text(f"- name: m1\n  class: TangoMotor\n  tango_url: {url}\n  sign: -1\n")
        with pytest.raises(
            ValueError,
            match=r"devices\.yml, line 1: m1: the sign is the server's on a bliss motor \(tango://.*\): "
            r"remove sign from the config: the server's applies$",
        ):
            Config([ConfigRoot(tmp_path)]).get("m1")
        assert tango.DeviceProxy(url).Sign == 1  # nothing written
    finally:
        server.stop()
