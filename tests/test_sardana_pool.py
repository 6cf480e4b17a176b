"""The Sardana Pool fixture (tests/sardana_pool.py): it starts, its motor moves for a plain DeviceProxy, and stopping
it leaves no process and no folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import tango

from sardana_pool import SardanaPool

pytestmark = pytest.mark.slow  # starts a Tango database and Sardana's Pool


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")  # a zombie is gone


def wait_state(motor: tango.DeviceProxy, wanted: tango.DevState, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while motor.state() != wanted:
        assert time.monotonic() < deadline, f"{motor.name()} stayed {motor.state()}, not {wanted}"
        time.sleep(0.02)


def test_the_pool_starts_its_motor_moves_and_stop_leaves_nothing():
    pool = SardanaPool(motors=2)
    pids, folder = pool.pids(), pool.folder
    try:
        assert len(pids) == 2 and folder.is_dir()
        assert pool.url("mot02") == pool.url("motor/motctrl01/2") == f"tango://{pool.tango_host}/motor/motctrl01/2"
        motor = tango.DeviceProxy(pool.url("mot01"))
        motor.Acceleration = motor.Deceleration = 0.05  # seconds from base rate to velocity
        motor.Velocity = 1.5  # units/s: the move takes 2 s, it is still under way when its state is read
        motor.Position = 3
        assert motor.state() == tango.DevState.MOVING
        wait_state(motor, tango.DevState.ON)
        assert motor.Position == pytest.approx(3) and motor.DialPosition == pytest.approx(3)
    finally:
        pool.stop()
    assert not [pid for pid in pids if alive(pid)] and not folder.exists()


def test_a_killed_pool_no_longer_answers_and_stop_still_cleans_up():
    pool = SardanaPool(motors=1)
    pids, folder = pool.pids(), pool.folder
    try:
        motor = tango.DeviceProxy(pool.url("mot01"))
        motor.set_timeout_millis(1000)
        pool.kill()
        assert pool.pids() == pids[1:]  # the database is left
        with pytest.raises(tango.DevFailed):
            motor.state()
    finally:
        pool.stop()
    assert not [pid for pid in pids if alive(pid)] and not folder.exists()
