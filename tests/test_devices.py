"""Simulated devices behave like the real ones a scan drives."""

from __future__ import annotations

import gevent
import pytest

from bliss_shell.config import Config, ConfigError, ConfigRoot
from bliss_shell.controllers import Axis, Counter, MeasurementGroup
from bliss_shell.controllers.motion import Move
from conftest import BEAMLINE, wait_for


@pytest.fixture
def config(redis_client) -> Config:
    """The test beamline's objects; their settings in the tests' own Redis (emptied) and settings folder."""
    return Config([ConfigRoot(BEAMLINE)])


def test_motor_moves_follow_their_trapezoidal_profile(config):
    move = Move(0.0, 1.0, velocity=1.0, acceleration=10.0, began=0.0)  # slowy's: 1 unit takes 1 / 1 + 1 / 10 = 1.1 s
    assert move.duration == pytest.approx(1.1)
    assert move.position(0.1) == pytest.approx(0.05) and move.position(0.55) == pytest.approx(0.5)
    assert move.position(1.1) == 1.0 and move.done(1.1) and not move.done(1.0)
    slowy = config.get("slowy")
    assert isinstance(slowy, Axis) and slowy.unit == "mm"
    slowy.move(1, wait=False)
    assert slowy.state == "MOVING"
    wait_for(lambda: 0 < slowy.position < 1, "slowy did not leave 0")
    slowy.wait_move()
    assert slowy.state == "READY" and slowy.position == 1


def test_motor_stop_leaves_it_where_it_is(config):
    slowy = config.get("slowy")
    slowy.move(5, wait=False)
    wait_for(lambda: slowy.position > 0.5, "slowy did not move")
    slowy.stop()
    stopped = slowy.position
    assert slowy.state == "READY" and 0.5 < stopped < 5
    gevent.idle()
    assert slowy.position == stopped


def test_motor_refuses_targets_outside_limits_before_moving(config):
    roby = config.get("roby")
    with pytest.raises(ValueError, match=r"^roby: position 150 outside limits \(-100, 100\)$"):
        roby.move(150)
    assert roby.position == 0 and roby.state == "READY"


def test_gaussian_counter_follows_its_motor(config):
    roby, gauss = config.get("roby"), config.get("sim_ct_gauss")  # mu 3.2, sigma 1, height 100
    assert isinstance(gauss, Counter) and gauss.controller_name == "sim_ct_gauss"
    roby.move(3.2)
    assert gauss.read(0.1) == pytest.approx(100)
    roby.move(4.2)
    assert gauss.read(0.1) == pytest.approx(100 * 2.718281828**-0.5)


def test_diodes_share_a_controller_when_told_and_mca_gives_spectra(config):
    assert config.get("c1").controller_name == config.get("c2").controller_name == "sim"
    assert config.get("diode").controller_name == "diode"
    assert -100 <= config.get("diode").read(0.1) < 100
    mca = config.get("simu1")
    assert mca.shape == (16,) and mca.read(0.1).shape == (16,)


def test_measurement_group_holds_counters_only(config, tmp_path):
    group = config.get("MG1")
    assert isinstance(group, MeasurementGroup) and [c.name for c in group.counters] == ["diode", "diode2"]
    (tmp_path / "mg.yml").write_text(
        "- name: m\n  class: SimulationMotor\n- name: bad\n  class: MeasurementGroup\n  counters: [m]\n"
    )
    with pytest.raises(ConfigError, match=r"mg.yml, line 3: bad: 'm' is not a counter"):
        Config([ConfigRoot(tmp_path)]).get("bad")
