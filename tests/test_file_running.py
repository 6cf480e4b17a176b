"""A scan file says whether its scan still runs, as BLISS's readers ask: ``end_time`` in the entry comes last.

ewoksdata 2's ``get_data`` and ``iter_bliss_scan_data`` (blissdata's ``dynamic_hdf5`` under it), run in another
process on a scan a ``bliss -c`` shell is saving, wait for its end and return every point; when the shell is
killed its guard writes the end, and while nothing does, the readers' ``retry_timeout`` stops them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from datetime import datetime

import h5py

from conftest import wait_for
from test_faults import guard_of
from test_saving import points_in_file, run_scan_process

READER = """
import json, sys
import h5py

filename, timeout = sys.argv[1], float(sys.argv[2])
result = {}
with h5py.File(filename, "r", libver="latest", swmr=True, locking=False) as file:  # as silx opens a running scan
    entry = file["1.1"]
    result["at_start"] = {"end_time": "end_time" in entry, "status": entry["writer/status"][()].decode(),
                          "points": len(entry["measurement/diode"]), "root": dict(file.attrs)}
from ewoksdata.data.bliss import get_data, iter_bliss_scan_data

try:
    result["get_data"] = get_data(f"{filename}::/1.1/measurement/diode", retry_timeout=timeout).tolist()
except TimeoutError as error:
    result["get_data"] = type(error).__name__
points = iter_bliss_scan_data(filename, 1, counter_names=["diode", "simu1"], retry_timeout=timeout)
result["iter"] = [[point["diode"], len(point["simu1"])] for point in points]
print(json.dumps(result))
"""


def start_reader(filename, timeout: float) -> subprocess.Popen:
    """The reader, in a process of its own, once the scan has flushed its first points."""
    wait_for(lambda: points_in_file(filename, "1.1") >= 5, "the scan did not flush 5 points to its file", timeout=30)
    return subprocess.Popen([sys.executable, "-c", READER, str(filename), str(timeout)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def result_of(reader: subprocess.Popen) -> dict:
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    return json.loads(out)


def in_file(filename) -> tuple[list[float], dict[str, str]]:
    """The diode's points as the file holds them once the scan ended, and how the entry ended."""
    with h5py.File(filename, "r", locking=False) as file:
        entry = file["1.1"]
        ended = {name: entry[name][()].decode() for name in ("writer/status", "writer/reason", "end_time")}
        return entry["measurement/diode"][()].tolist(), ended


def test_ewoksdata_waits_for_a_running_scan_and_gets_every_point(shell_env, tmp_path):
    filename = tmp_path / "test_session" / "data.h5"
    scan = run_scan_process(shell_env, tmp_path, 200, 0.02)
    reader = start_reader(filename, timeout=120)
    _, err = scan.communicate(timeout=120)
    assert scan.returncode == 0, err
    result = result_of(reader)
    # it started on a running scan, in a file that says so in the terms it knows
    assert result["at_start"]["end_time"] is False and result["at_start"]["status"] == "RUNNING"
    assert result["at_start"]["points"] < 200
    assert result["at_start"]["root"]["publisher"] == "bliss" and result["at_start"]["root"]["creator"] == "bliss_shell"
    diode, ended = in_file(filename)
    assert len(diode) == 200 and ended["writer/status"] == "SUCCEEDED"
    assert result["get_data"] == diode
    assert result["iter"] == [[value, 16] for value in diode]


def test_a_killed_shell_stops_the_waiting_readers(shell_env, tmp_path):
    from bliss_shell.writer.recovery import INTERRUPTED

    filename = tmp_path / "test_session" / "data.h5"
    scan = run_scan_process(shell_env, tmp_path, 100_000, 0.01)
    impatient = start_reader(filename, timeout=1)
    guard = guard_of(scan.pid)
    os.kill(guard, signal.SIGSTOP)  # nothing finishes the file for now: only the readers' timeout stops them
    try:
        scan.send_signal(signal.SIGKILL)
        scan.communicate()
        result = result_of(impatient)
        assert result["get_data"] == "RetryTimeoutError"  # get_data raises; the iteration ends with what it read
        assert 0 < len(result["iter"]) < 100_000
        patient = start_reader(filename, timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(guard, signal.SIGCONT)  # the guard finishes the file: end_time, FAILED
    result = result_of(patient)
    diode, ended = in_file(filename)
    assert ended["writer/status"] == "FAILED" and ended["writer/reason"] == INTERRUPTED and ended["end_time"]
    assert result["get_data"] == diode and len(diode) >= 5
    assert result["iter"] == [[value, 16] for value in diode]


def test_a_writer_killed_between_its_close_and_end_time_gets_its_end_time_from_recovery(tmp_path):
    from ewoksdata.data.bliss import get_data

    from bliss_shell.writer.recovery import recover

    filename = tmp_path / "data.h5"
    with h5py.File(filename, "w") as file:  # what the writer leaves between closing the SWMR file and _seal
        file.attrs.update(creator="bliss_shell", publisher="bliss")
        file["1.1/measurement/diode"] = [1.0, 2.0, 3.0]
        file["1.1/start_time"] = "2026-12-07T10:00:00+01:00"
        file["1.1/writer/status"], file["1.1/writer/reason"] = b"SUCCEEDED", b""
    assert recover(str(filename)) == []  # nothing interrupted: the scan's end was written, not its end_time
    with h5py.File(filename, "r") as file:
        assert file["1.1/writer/status"][()] == b"SUCCEEDED"
        assert datetime.fromisoformat(file["1.1/end_time"].asstr()[()]).tzinfo is not None  # the file's last change
    assert get_data(f"{filename}::/1.1/measurement/diode", retry_timeout=10).tolist() == [1.0, 2.0, 3.0]


def test_the_entry_scan_info_stays_strict_json_whatever_the_end_adds(tmp_path):
    import numpy as np

    from bliss_shell.data.publisher import ChannelSpec
    from bliss_shell.writer import NexusScanWriter

    filename = str(tmp_path / "data.h5")
    channels = [ChannelSpec("s:1_ct:timer:diode:diode", "diode", "diode:diode", np.dtype("float64"))]
    start = {"title": "ct 0.1", "positioners": {"positioners_start": {"roby": float("nan"), "robz": float("inf")}}}
    writer = NexusScanWriter(filename, "1.1", channels, plot=("diode", []))
    writer.start("ct 0.1", datetime.now().astimezone(), {"roby": 0.0}, start)
    writer.add_points({"diode:diode": [1.0]}, 1)
    with h5py.File(filename, "r", libver="latest", swmr=True, locking=False) as file:
        assert json.loads(file["1.1/scan_info"][()]) == {"title": "ct 0.1", "positioners": {"positioners_start": {
            "roby": None, "robz": None}}}  # fmt: skip
    too_long = {"title": "ct 0.1", "end_reason": "SUCCESS", "positioners": {"positioners_end": {"m" * 4000: 1.0}}}
    writer.end("SUCCEEDED", "", datetime.now().astimezone(), {"roby": 0.0}, too_long)
    assert writer.failure is None
    with h5py.File(filename, "r", locking=False) as file:  # the end's info without what outgrew the room, never cut
        assert json.loads(file["1.1/scan_info"][()]) == {"title": "ct 0.1", "end_reason": "SUCCESS"}
        assert file["1.1/end_time"].asstr()[()] and file["1.1/writer/status"][()] == b"SUCCEEDED"
