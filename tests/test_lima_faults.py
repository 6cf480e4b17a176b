"""A Lima scan's faults injected from outside, as at a beamline: Ctrl-C (SIGINT to the shell process), a full disk
under the Lima server (a 12 MB file system of its own), the Lima server killed mid-scan. Our simulator server runs
for real; what the user sees is checked: the error, the frames left readable, the server still serving."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import h5py
import pytest
import tango

from bliss_shell.config import ConfigRoot
from bliss_shell.controllers.tango_client import TangoDeviceError
from bliss_shell.data import EventType, get_node
from conftest import interruptible, open_session, wait_for
from simulator_server import SimulatorServer, free_port, wait_until_answers

CAMERA, COUNTER = "id00/limaccds/cam", "id00/counter/other"


def write_config(folder: Path, camera_url: str, counter_url: str = "") -> Path:
    """A session with Lima ``cam`` (256 x 256 frames of 4 bytes), motor ``roby`` and, if given, Tango counter ``other``."""
    folder.mkdir()
    counter = f"- name: other\n  class: TangoCounter\n  tango_url: {counter_url}\n" if counter_url else ""
    (folder / "devices.yml").write_text(
        f"""
- name: cam
  class: Lima
  tango_url: {camera_url}
  sim_image_size: [256, 256]
- name: roby
  class: SimulationMotor
  velocity: 100000
  acceleration: 10000000
{counter}- name: lima_session
  class: Session
"""
    )
    return folder


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"LimaCCDs": [CAMERA], "SimCounter": [COUNTER]}, instance="limafaults")
    yield simulators
    simulators.stop()


def end_of(scan) -> dict:
    events = get_node(scan.node.db_name).walk_events(wait=False)
    return next(e.data.data for e in events if e.type is EventType.END_SCAN)


# -- Ctrl-C: the frames file is closed at once ------------------------------------------------------------------


def test_ctrl_c_in_a_lima_step_scan_leaves_its_frames_file_readable_at_once(server, open_terminal, tmp_path):
    camera = tango.DeviceProxy(server.url(CAMERA))
    config = write_config(tmp_path / "config", server.url(CAMERA))
    shell = open_terminal("-s", "lima_session", "--config", str(config))
    shell.prompt(1, label="LIMA_SESSION", timeout=60)
    shell.enter(f"SCAN_SAVING.base_path = {str(tmp_path / 'scans')!r}; roby.velocity = 4")
    shell.prompt(2, label="LIMA_SESSION")
    shell.enter("ascan(roby, 0, 999, 1000, 0.01, cam)")  # a frame of 10 ms, then a move of 0.25 s
    wait_for(lambda: camera.last_image_saved >= 5 and camera.ready_for_next_image, "5 frames were not saved", timeout=60)
    shell.interrupt()  # Ctrl-C between two frames: the last one is saved, the next not started
    shell.wait_for(r"^Scan 1 aborted\.$", timeout=30)
    saved = camera.last_image_saved + 1
    (frames,) = glob.glob(str(tmp_path / "scans" / "lima_session" / "*" / "cam_0000.h5"))
    with h5py.File(frames, "r") as file:  # as silx opens it: HDF5's file lock, no SWMR
        taken = file["entry_0000/measurement/data"]
        assert 5 <= taken.shape[0] == saved < 1000 and taken[saved - 1].any()


def test_a_lima_step_scan_closes_its_frames_file_at_its_last_frame(server, redis_client, tmp_path):
    camera = tango.DeviceProxy(server.url(CAMERA))
    session = open_session([ConfigRoot(write_config(tmp_path / "config", server.url(CAMERA)))], "lima_session",
                           redis_client, tmp_path / "scans")  # fmt: skip
    scan = session["ascan"](session["roby"], 0, 1, 4, 0.001, session["cam"])
    (frames,) = glob.glob(str(Path(scan.path).parent / "*" / "cam_0000.h5"))
    with h5py.File(frames, "r") as file:
        assert file["entry_0000/measurement/data"].shape == (4, 256, 256)
    assert camera.acq_status == "Ready" and camera.last_image_saved == 3


# -- a full disk: the scan fails saying so, the server lives on -------------------------------------------------


@pytest.fixture
def small_disk(tmp_path) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """A Lima server that sees ``tmp_path/scans/lima_session`` as a 12 MB file system of its own (a tmpfs mounted in
    a mount namespace: the frames of a scan fill it; the master file, written by the test, is elsewhere).

    Yields the server's process, its camera's URL and the path of that file system as the test sees it.
    """
    if subprocess.run(["unshare", "-Urm", "true"], capture_output=True).returncode:
        pytest.skip("no user namespaces here (unshare -Urm): a small file system cannot be mounted")
    disk = tmp_path / "scans" / "lima_session"
    disk.mkdir(parents=True)
    port, log = free_port(), tmp_path / "lima.log"
    server = [sys.executable, "-m", "bliss_shell.simulators", "limafull", "-nodb",
              "-ORBendPoint", f"giop:tcp:127.0.0.1:{port}", "-dlist", f"LimaCCDs::{CAMERA}"]  # fmt: skip
    mount_then_serve = 'mount -t tmpfs -o size=12m tmpfs "$0" && exec "$@"'
    with open(log, "w") as output:
        process = subprocess.Popen(["unshare", "-Urm", "sh", "-c", mount_then_serve, str(disk), *server],
                                   stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"tango://127.0.0.1:{port}/{CAMERA}#dbase=no"
    try:
        wait_until_answers(url, process, 30, "the Lima server on a 12 MB disk", log)
        yield process, url, Path(f"/proc/{process.pid}/root{disk}")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow  # a device server of its own
def test_a_full_disk_fails_the_lima_scan_saying_so_and_the_server_lives_on(small_disk, redis_client, tmp_path):
    process, url, disk = small_disk
    session = open_session([ConfigRoot(write_config(tmp_path / "config", url))], "lima_session", redis_client,
                           tmp_path / "scans")  # fmt: skip
    with pytest.raises(TangoDeviceError) as failed:
        session["loopscan"](2000, 0.005, session["cam"])
    folder = f"{tmp_path}/scans/lima_session/scan0001"
    message = (f"cam: Tango device {url}: camera fault: Saving: disk full (acq_status Fault): make room on the disk of "
               f"{folder} (as the Lima server sees it); the next scan's prepareAcq resets the fault")  # fmt: skip
    assert str(failed.value) == message
    scan = session["SCANS"][-1]
    assert scan.state == "failed" and end_of(scan) == {"state": "failed", "reason": f"TangoDeviceError: {message}"}
    camera = tango.DeviceProxy(url)
    assert process.poll() is None and camera.acq_status == "Fault" and camera.acq_status_fault_error == "Saving: disk full"
    saved = camera.last_image_saved + 1
    with h5py.File(disk / "scan0001" / "cam_0000.h5", "r") as file:  # closed by the server, readable
        frames = file["entry_0000/measurement/data"]
        assert 0 < saved <= frames.shape[0] < 2000 and frames[saved - 1].any()

    shutil.rmtree(disk / "scan0001")  # the user makes room
    again = session["loopscan"](3, 0.01, session["cam"])
    assert again.state == "done" and camera.acq_status == "Ready" and camera.last_image_saved == 2
    with h5py.File(disk / "scan0002" / "cam_0000.h5", "r") as file:
        assert file["entry_0000/measurement/data"].shape == (3, 256, 256)
    process.terminate()
    assert process.wait(timeout=30) == 0  # and it ends cleanly: no file left for libhdf5 to crash on


# -- the Lima server killed mid-scan: the error names the detector ------------------------------------------------


def test_a_lima_server_killed_mid_scan_fails_the_scan_naming_the_detector(server, redis_client, tmp_path, capsys):
    from bliss_shell.scanning import current
    from bliss_shell.shell.scan_display import shell_display

    doomed = SimulatorServer({"LimaCCDs": [CAMERA]}, instance="limadoomed")
    try:
        config = write_config(tmp_path / "config", doomed.url(CAMERA), server.url(COUNTER))
        session = open_session([ConfigRoot(config)], "lima_session", redis_client, tmp_path / "scans")
        current().watch = shell_display(redis_client)
        roby = session["roby"]
        roby.velocity, roby.acceleration = 20, 1000  # the first point is 2 s away
        # the detector and the counter wait on their servers together, under the timer and the motor
        scan = session["ascan"](roby, 40, 41, 5, 0.01, session["cam"], session["other"], run=False)
        command = interruptible(scan.run)
        wait_for(lambda: 1 < roby.position < 39, "roby did not move towards the first point", timeout=30)
        doomed.process.kill()  # the detector's next call is its trigger (startAcq), after the move
        doomed.process.wait()
        command.join(timeout=60)
    finally:
        doomed.stop()
    error = command.exception
    assert isinstance(error, TangoDeviceError) and str(error).startswith(f"cam: Tango device {doomed.url(CAMERA)}: ")
    reason = f"TangoDeviceError: {error}"
    assert scan.state == "failed" and end_of(scan) == {"state": "failed", "reason": reason}
    assert f"Scan failed: {reason}\n" in capsys.readouterr().out
    with h5py.File(scan.path, "r", locking=False) as file:
        assert file[f"{scan.number}.1/writer/reason"][()].decode() == reason
