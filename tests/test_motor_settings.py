"""Motor attributes and helpers as a BLISS user types them, and settings that outlive the shell and Redis."""

from __future__ import annotations

import json
import math

import pytest

from bliss_shell.comm.settings import write_pending
from bliss_shell.config import ConfigRoot
from conftest import BEAMLINE, open_session, wait_for


def reopen(redis_client, tmp_path) -> dict:
    """The next shell of the session."""
    return open_session([ConfigRoot(BEAMLINE)], "test_session", redis_client, tmp_path / "scans")


def test_velocity_acceleration_acctime_and_limits(session):
    roby = session["roby"]  # config: velocity 10000, acceleration 1e6, dial limits (-100, 100)
    roby.velocity = 500
    roby.acctime = 0.25
    assert (roby.velocity, roby.acceleration, roby.acctime) == (500, 2000, 0.25)
    roby.position = 10  # offset 10
    assert roby.offset == 10 and roby.limits == (-90, 110)
    roby.limits = (-5, 20)
    assert roby.dial_limits == (-15, 10) and roby.limits == (-5, 20)
    with pytest.raises(ValueError, match=r"^mv: roby: position 25 outside limits \(-5, 20\)$"):
        session["mv"](roby, 25)
    roby.dial = 2  # as BLISS: the user position stays, the offset changes
    assert (roby.dial, roby.position, roby.offset) == (2, 10, 8)


def test_bad_values_are_refused_and_change_nothing(session):
    roby = session["roby"]
    before = (roby.velocity, roby.acceleration, roby.limits, roby.position)
    for name, value, error, message in (
        ("velocity", -1, ValueError, r"^roby: velocity must be positive and finite, not -1$"),
        ("velocity", math.inf, ValueError, "velocity must be positive and finite, not inf"),
        ("acceleration", "fast", TypeError, r"^roby: acceleration 'fast' is not a number$"),
        ("acctime", 0, ValueError, r"^roby: acctime must be a positive number of seconds, not 0$"),
        ("limits", (5, -5), ValueError, r"^roby: low limit 5 above high limit -5$"),
        ("limits", 5, TypeError, r"^roby: limits are a \(low, high\) pair, not 5$"),
        ("position", float("nan"), TypeError, r"^roby: position nan is not a number$"),
        ("dial", 1000, ValueError, r"^roby: dial 1000 outside the dial limits \(-100, 100\)$"),
    ):
        with pytest.raises(error, match=message):
            setattr(roby, name, value)
        assert (roby.velocity, roby.acceleration, roby.limits, roby.position) == before
    with pytest.raises(ValueError, match=r"^set_lim: robz: low limit 3 above high limit 1; nothing was changed$"):
        session["set_lim"](roby, -1, 1, session["robz"], 3, 1)
    assert roby.limits == before[2]
    with pytest.raises(TypeError, match=r"^set_lim: give motor, low, high triples"):
        session["set_lim"](roby, 1)


def test_settings_survive_the_next_shell_and_a_redis_that_lost_everything(session, redis_client, tmp_path, settings_folder):
    roby, mg1 = session["roby"], session["MG1"]
    roby.velocity = 321
    session["mv"](roby, 7.5)
    roby.position = 10
    session["set_lim"](roby, -20, 30)
    mg1.disable("diode2")
    session["SCAN_SAVING"].data_filename = "kept"
    write_pending()  # as the shell does when it ends: the dial of a simulation motor is written soon after a move
    redis_client.flushall()  # an embedded Redis restarted: it keeps nothing on disk
    shell = reopen(redis_client, tmp_path)
    roby = shell["roby"]
    assert (roby.velocity, roby.dial, roby.position, roby.limits) == (321, 7.5, 10, (-20, 30))
    assert shell["MG1"].enabled == ["diode"] and shell["SCAN_SAVING"].data_filename == "kept"
    saved = json.loads((settings_folder / "axis:roby.json").read_text())  # what a user backs up
    assert saved == {"velocity": 321, "dial_position": 7.5, "offset": 2.5, "low_limit": -22.5, "high_limit": 27.5}
    roby.apply_config()
    assert (roby.velocity, roby.offset, roby.dial_limits) == (10000, 0, (-100, 100))
    assert reopen(redis_client, tmp_path)["roby"].velocity == 10000


def test_wu_mvd_umvd_sta_and_sync(session, capsys):
    roby, robz = session["roby"], session["robz"]
    roby.position = 1  # offset 1
    session["mvd"](roby, 2)
    assert (roby.dial, roby.position) == (2, 3)
    session["umvd"](roby, 100)  # the dial high limit
    capsys.readouterr()
    session["wu"](roby, robz)
    session["sta"]()
    session["sync"](roby)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["roby[mm]", "robz[mm]"] and lines[2].split() == ["101.00000", "0.00000"]
    assert lines[5].split() == ["roby", "READY"] and lines[6].split() == ["robz", "READY"]  # software limits
    assert roby.hw_state == roby.state == "READY"
    assert lines[-1] == "roby: 101.00000 (dial 100.00000), READY"
    with pytest.raises(ValueError, match=r"^mvd: roby: position 102 outside limits \(-99, 101\)$"):
        session["mvd"](roby, 101)
    assert roby.dial == 100


def test_a_simulation_motor_keeps_its_dial_soon_after_a_scan(session, settings_folder):
    roby = session["roby"]
    session["ascan"](roby, 0, 3, 4, 0, session["diode"], save=False)
    saved = settings_folder / "axis:roby.json"
    wait_for(lambda: saved.exists() and json.loads(saved.read_text()).get("dial_position") == 3, "the dial was not kept")
