"""BLISS 2 tools see our scans live: blissdata 2.4.5's own reader, in another process, follows them on a Redis with
RedisJSON and RediSearch and gets every value ``get_data()`` returns.

The reader is tests/blissdata_follower.py (checked against blissdata's own writer by tests/test_blissdata_follower.py):
``get_next_scan``, ``load_scan``, ``scan.update``, ``CursorGroup.read`` to the end of every stream, Lima through
blissdata's Lima plugin, ``search_existing_scans``. Every session of this module publishes into the module server:
``redis_client`` is that server's client here, so the ``session`` fixture and the Tango chain's ``beamline`` open
their sessions on it.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
import redis
import tango

import test_chain_tango
import test_shell
from bliss_shell.comm import EmbeddedRedis
from conftest import BEAMLINE, interruptible
from follower_run import FollowerRun, ScanSeen
from terminal import BLISS
from test_scans import reference_walkthrough

pytestmark = pytest.mark.slow  # the follower is a process of its own

server, beamline = test_chain_tango.server, test_chain_tango.beamline  # the simulated Tango beamline (fscan, MCA, Lima)


@pytest.fixture
def redis_client(blissdata_client: redis.Redis) -> redis.Redis:
    """The module server (RedisJSON, RediSearch) in place of the plain one, for every session of this module."""
    return blissdata_client


@pytest.fixture
def follow(blissdata_server: EmbeddedRedis, tmp_path: Path):
    """``follow(count)``: the follower started and listening for the next ``count`` scans; stopped after the test."""
    runs: list[FollowerRun] = []

    def start(count: int, lima_frames: bool = False) -> FollowerRun:
        run = FollowerRun(blissdata_server.url + "?protocol=2", count, tmp_path / f"seen{len(runs)}", 90, lima_frames)
        runs.append(run)
        run.wait_ready()
        return run

    yield start
    for run in runs:
        run.stop()


def assert_seen_as_get_data(seen: ScanSeen, scan) -> None:
    """Every stream the follower read holds what ``scan.get_data()`` gives for that channel, with its dtype."""
    data = scan.get_data()
    assert seen.result["error"] is None, seen.result.get("traceback")
    assert seen.streams, "the follower saw no stream"
    for name, stream in seen.streams.items():
        assert stream["sealed"] and stream["len"] == stream["read"], (name, stream)
        if stream["plugin"] == "lima":
            frames = data[name]
            assert stream["len"] == len(frames), name
            if "npz" in stream:
                expected = np.stack([frames.get_image(index) for index in range(len(frames))])
                np.testing.assert_array_equal(seen.values(name), expected, err_msg=name)
            continue
        expected = np.asarray(data[name])
        values = seen.values(name)
        assert values.dtype == expected.dtype, (name, values.dtype, expected.dtype)
        assert values.shape == expected.shape, (name, values.shape, expected.shape)
        np.testing.assert_array_equal(values, expected, err_msg=name)
    states = seen.result["states"]
    assert states[-1] == "CLOSED" and states == sorted(states, key=STATES.index), states


STATES = ["CREATED", "PREPARED", "STARTED", "STOPPED", "CLOSED"]


def test_a_step_scan_and_an_mca_scan_are_read_live_and_whole(session, follow) -> None:
    roby, diode, simu1 = (session[name] for name in ("roby", "diode", "simu1"))
    run = follow(2)
    step = session["ascan"](roby, 0, 9, 10, 0.01, diode, simu1, run=False)
    command = interruptible(step.run)
    # read while the scan runs (at 10 ms a point it runs long after its first point)
    assert run.wait_points(0, "timer:elapsed_time", 1) == "STARTED"
    command.join(timeout=60)
    spectra = session["loopscan"](5, 0, simu1)
    first, second = run.finish()
    assert_seen_as_get_data(first, step)
    assert_seen_as_get_data(second, spectra)
    assert [seen.result["end_reason"] for seen in (first, second)] == ["SUCCESS", "SUCCESS"]
    assert first.result["identity"]["name"] == "ascan" and first.result["identity"]["session"] == "test_session"
    assert first.result["identity"]["path"] == step.path and first.result["identity"]["number"] == step.number
    assert first.result["info"]["npoints"] == 10 and first.result["info"]["title"].startswith("ascan roby 0 9 10")
    spectrum = next(stream for stream in second.streams.values() if stream["shape"] == [16])
    assert spectrum["len"] == 5


def test_ctrl_c_ends_the_scan_user_abort_with_the_points_it_took(session, follow) -> None:
    run = follow(1)
    scan = session["loopscan"](1000, 0.01, session["diode"], run=False)
    command = interruptible(scan.run)
    run.wait_points(0, "diode:diode", 3)
    command.kill(KeyboardInterrupt, block=True)
    assert scan.state == "aborted"
    (seen,) = run.finish()
    assert seen.result["end_reason"] == "USER_ABORT"
    assert_seen_as_get_data(seen, scan)
    assert 3 <= len(scan.get_data()["diode"]) < 1000


def test_sigint_to_a_bliss_script_ends_its_scan_user_abort(blissdata_shell_env, follow, tmp_path) -> None:
    ours = tmp_path / "get_data.npz"  # what get_data() gives in the script once its scan was interrupted
    code = f"""SCAN_SAVING.base_path = {str(tmp_path)!r}
import numpy
try:
    loopscan(1_000_000, 0, diode, simu1)
except KeyboardInterrupt:
    data = SCANS[-1].get_data()
    numpy.savez({str(ours)!r}, **{{name: numpy.asarray(data[name]) for name in data._aliases}})
"""
    run = follow(1)
    args = [BLISS, "--config", str(BEAMLINE), "-s", "test_session", "-c", code]
    with subprocess.Popen(args, env=blissdata_shell_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as shell:
        try:
            run.wait_points(0, "diode:diode", 50, timeout=120)  # the shell's start included
            shell.send_signal(signal.SIGINT)
            output = shell.communicate(timeout=60)[0]
        except AssertionError as error:
            shell.kill()
            raise AssertionError(f"{error}\nthe shell printed:\n{shell.communicate()[0]}") from None
        finally:
            if shell.poll() is None:
                shell.kill()
    assert shell.returncode == 0, output
    (seen,) = run.finish()
    assert seen.result["end_reason"] == "USER_ABORT"
    with np.load(ours) as data:
        assert set(seen.streams) == set(data.files)
        for name in data.files:
            assert seen.values(name).dtype == data[name].dtype, name
            np.testing.assert_array_equal(seen.values(name), data[name], err_msg=name)
        assert 50 <= len(data["diode:diode"]) < 1_000_000


def test_the_reference_walkthrough_runs_unchanged_on_the_module_server(session, tmp_path, follow) -> None:
    run = follow(3)
    reference_walkthrough(session, tmp_path)
    seen = run.finish()
    assert [scan.result["identity"]["name"] for scan in seen] == ["ascan"] * 3
    for scan, ours in zip(seen, session["SCANS"], strict=True):
        assert_seen_as_get_data(scan, ours)
    assert sorted(run.summary()["searches"]["session=test_session"]) == sorted(scan.result["key"] for scan in seen)


def test_the_reference_lima_walkthrough_runs_unchanged_on_the_module_server(open_terminal, blissdata_shell_env, follow):
    run = follow(1, lima_frames=True)
    test_shell.test_the_reference_lima_walkthrough_in_test_session(
        lambda *args, **kwargs: open_terminal(*args, env=blissdata_shell_env, **kwargs)
    )
    (seen,) = run.finish()
    assert (seen.result["identity"]["name"], seen.result["end_reason"]) == ("ct", "SUCCESS")
    (lima,) = (stream for stream in seen.streams.values() if stream["plugin"] == "lima")
    assert (lima["shape"], lima["len"]) == ([256, 256], 1)
    assert "npz" in lima, lima.get("frames_error")  # unsaved: blissdata's Lima plugin read the frame from the server


# -- identity from SCAN_SAVING under the ESRF data policy, and search_existing_scans --------------------------------


def test_the_identity_comes_from_scan_saving_and_scans_are_found_by_session_and_dataset(policy_session, follow):
    s = policy_session
    run = follow(3)
    s["newproposal"]("ihch456")
    s["newsample"]("cells")
    s["newdataset"]("area1")
    first_dataset = s["SCAN_SAVING"].dataset_name
    scans = [s["loopscan"](3, 0, s["diode"]), s["loopscan"](2, 0, s["diode"])]
    s["newdataset"]("area2")
    second_dataset = s["SCAN_SAVING"].dataset_name
    scans.append(s["loopscan"](4, 0, s["diode"]))
    seen = run.finish()
    for scan, ours, dataset in zip(seen, scans, [first_dataset, first_dataset, second_dataset], strict=True):
        assert_seen_as_get_data(scan, ours)
        assert scan.result["identity"] == {
            "name": "loopscan",
            "number": ours.number,
            "data_policy": "ESRF",
            "session": "esrf_session",
            "proposal": "ihch456",
            "collection": "cells",
            "dataset": dataset,
            "path": ours.path,
        }
    keys = [scan.result["key"] for scan in seen]
    searches = run.summary()["searches"]
    assert sorted(searches["session=esrf_session"]) == sorted(keys)
    assert sorted(searches[f"dataset={first_dataset}"]) == sorted(keys[:2])
    assert searches[f"dataset={second_dataset}"] == keys[2:]
    assert searches[f"session=esrf_session,dataset={second_dataset}"] == keys[2:]


# -- Tango devices: an fscan, an MCA, Lima; a fault from outside -----------------------------------------------------


def test_an_fscan_an_mca_scan_and_a_lima_scan_are_read_whole(beamline, follow) -> None:
    fm1, ct1, ct_timer, mca, cam = (beamline[name] for name in ("fm1", "ct1", "ct_timer", "mca", "cam"))
    run = follow(3, lima_frames=True)
    fscan = beamline["fscan"](fm1, 1, 0.02, 20, 0.002, ct1, ct_timer)
    spectra = beamline["loopscan"](3, 0.01, mca)
    images = beamline["loopscan"](20, 0.05, cam, run=False)
    command = interruptible(images.run)
    assert run.wait_points(2, "cam:image", 1) == "STARTED"  # blissdata's Lima plugin follows the frames live
    command.join(timeout=60)
    assert images.state == "done", test_chain_tango.end_of(images)
    seen = run.finish()
    for scan, ours in zip(seen, (fscan, spectra, images), strict=True):
        assert_seen_as_get_data(scan, ours)
        assert scan.result["end_reason"] == "SUCCESS"
    assert seen[0].result["identity"]["name"] == "fscan" and len(fscan.get_data()["ct1"]) == 20
    assert any(stream["shape"] == [32] for stream in seen[1].streams.values())  # the spectrum
    (lima,) = (stream for stream in seen[2].streams.values() if stream["plugin"] == "lima")
    assert (lima["shape"], lima["len"]) == ([24, 32], 20) and len(lima["views"]) > 1
    assert "npz" in lima, lima.get("frames_error")  # blissdata's Lima plugin gave the frames


def test_a_device_fault_from_outside_ends_the_scan_failure(beamline, server, follow) -> None:
    card = tango.DeviceProxy(server.url("id00/ct2/card"))
    run = follow(1)
    scan = beamline["loopscan"](100, 0.01, beamline["ct1"], beamline["ct_timer"], run=False)
    command = interruptible(scan.run)
    run.wait_points(0, "timer:elapsed_time", 3)
    try:
        card.sim_fault("no CT2 card at /dev/ct2_0")  # the server loses its card: every call fails
        command.join(timeout=20)
    finally:
        card.Init()
    assert scan.state == "failed"
    (seen,) = run.finish()
    assert seen.result["end_reason"] == "FAILURE"
    assert_seen_as_get_data(seen, scan)
