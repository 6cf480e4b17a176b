"""Simulated devices behave like the real ones a scan drives."""

from __future__ import annotations

import time

import gevent
import pytest

from bliss_shell.config import Config, ConfigError, ConfigRoot
from bliss_shell.controllers import Axis, Counter, MeasurementGroup
from conftest import BEAMLINE


@pytest.fixture
def config(redis_client) -> Config:
    """The test beamline's objects; their settings in the tests' own Redis (emptied) and settings folder."""
    return Config([ConfigRoot(BEAMLINE)])


def test_motor_moves_take_the_time_of_their_profile(config):
    slowy = config.get("slowy")  # velocity 1, acceleration 10: 1 unit takes 1 / 1 + 1 / 10 = 1.1 s
    assert isinstance(slowy, Axis) and slowy.unit == "mm"
    start = time.monotonic()
    slowy.move(1, wait=False)
    gevent.sleep(0.3)
    assert slowy.state == "MOVING" and 0 < slowy.position < 1
    slowy.wait_move()
    assert time.monotonic() - start == pytest.approx(1.1, abs=0.1)
    assert slowy.state == "READY" and slowy.position == 1


def test_motor_stop_leaves_it_where_it_is(config):
    slowy = config.get("slowy")
    slowy.move(5, wait=False)
    gevent.sleep(0.5)
    slowy.stop()
    stopped = slowy.position
    gevent.sleep(0.2)
    assert slowy.state == "READY" and 0 < stopped < 5 and slowy.position == stopped


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
    assert gauss.read(0.1) == pytest.approx(100 * 2.718281828 ** -0.5)


def test_diodes_share_a_controller_when_told_and_mca_gives_spectra(config):
    assert config.get("c1").controller_name == config.get("c2").controller_name == "sim"
    assert config.get("diode").controller_name == "diode"
    assert -100 <= config.get("diode").read(0.1) < 100
    mca = config.get("simu1")
    assert mca.shape == (16,) and mca.read(0.1).shape == (16,)


def test_measurement_group_holds_counters_only(config, tmp_path):
    group = config.get("MG1")
    assert isinstance(group, MeasurementGroup) and [c.name for c in group.counters] == ["diode", "diode2"]
    (tmp_path / "mg.yml").write_text("- name: m\n  class: SimulationMotor\n- name: bad\n  class: MeasurementGroup\n  counters: [m]\n")
    with pytest.raises(ConfigError, match=r"mg.yml, line 3: bad: 'm' is not a counter"):
        Config([ConfigRoot(tmp_path)]).get("bad")
