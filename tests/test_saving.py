"""Saved scans write a NeXus/HDF5 file while they publish to Redis."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import gevent
import h5py
import numpy as np
import pytest
import silx.io

from bliss_shell.writer import SavingError, dataset_names
from conftest import BEAMLINE, interruptible
from terminal import BLISS


def stored(path, name: str) -> dict:
    """Datasets of an entry, read and closed: the file stays free for the next opener."""
    with h5py.File(path, "r", locking=False) as file:
        values = {}
        file[name].visititems(lambda key, item: values.__setitem__(key, item[()]) if isinstance(item, h5py.Dataset) else None)
        values["plot.signal"] = file[name]["plot"].attrs.get("signal") if "plot" in file[name] else None
        return values


def test_reference_files_one_per_sample_with_nexus_layout(session, tmp_path):
    SCAN_SAVING, ascan, roby, diode = (session[k] for k in ("SCAN_SAVING", "ascan", "roby", "diode"))
    SCAN_SAVING.add("s_name", "")
    SCAN_SAVING.template = "{session}/{s_name}/"
    SCAN_SAVING.s_name = "sample1"
    scans = [ascan(roby, 0, 9, 10, 0.01, diode), ascan(roby, 0, 9, 10, 0.01, diode)]
    SCAN_SAVING.s_name = "sample2"
    scans.append(ascan(roby, 0, 9, 10, 0.01, diode))

    folder = tmp_path / "scans" / "test_session"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.h5")) == ["sample1/data.h5", "sample2/data.h5"]
    with h5py.File(folder / "sample1" / "data.h5", "r", locking=False) as file:
        assert list(file) == ["1_ascan", "2_ascan"]
        assert dict(file.attrs) == {"NX_class": "NXroot", "creator": "bliss_shell", "default": "2_ascan"}
        first = file["1_ascan"]
        assert first.attrs["NX_class"] == "NXentry" and first.attrs["default"] == "plot"
        assert first["title"][()] == b"ascan roby 0 9 10 0.01"
        assert first["start_time"][()] < first["end_time"][()]
        assert first["measurement"].attrs["NX_class"] == "NXcollection"
        assert sorted(first["measurement"]) == ["diode", "elapsed_time", "roby"]
        assert first["instrument/positioners/roby"][()] == 0 and first["instrument/positioners_end/roby"][()] == 9
        assert sorted(first["instrument/positioners"]) == ["roby", "robz", "slowy"]  # every motor of the session
        plot = first["plot"]
        assert (plot.attrs["NX_class"], plot.attrs["signal"], plot.attrs["axes"]) == ("NXdata", "diode", "roby")
        assert first["writer/status"][()] == b"SUCCEEDED"
        assert '"npoints": 10' in first["scan_info"][()].decode()
    for scan in scans:  # what the file holds is what Redis served
        served, written = scan.get_data(), stored(scan.path, scan.node.name)
        for name in ("roby", "elapsed_time", "diode"):
            assert np.array_equal(written[f"measurement/{name}"], served[name])
    with silx.io.open(str(folder / "sample2" / "data.h5")) as silx_file:
        assert silx_file["1_ascan/measurement/diode"][()].tolist() == scans[2].get_data()["diode"].tolist()
        assert silx_file["1_ascan/plot"].attrs["signal"] == "diode"


def test_one_dimensional_channels_are_npoints_by_bins(session):
    scan = session["loopscan"](7, 0.001, session["simu1"], session["diode"])
    written = stored(scan.path, "1_loopscan")
    assert written["measurement/simu1"].shape == (7, 16)
    assert np.array_equal(written["measurement/simu1"], scan.get_data()["simu1"])
    assert written["plot.signal"] == "diode"  # the first scalar counter


def test_clashing_short_names_use_fullnames():
    class Channel:
        def __init__(self, fullname):
            self.fullname, self.name = fullname, fullname.rsplit(":", 1)[1]

    names = dataset_names([Channel("axis:x"), Channel("ctrl:x"), Channel("timer:elapsed_time")])
    assert names == ["axis:x", "ctrl:x", "elapsed_time"]


def test_get_data_reads_the_file_when_redis_lost_the_scan(session, redis_client):
    scan = session["ascan"](session["roby"], 0, 4, 5, 0, session["diode"])
    before = scan.get_data()
    redis_client.flushall()
    after = scan.get_data()
    assert list(after) == list(before) and all(np.array_equal(after[k], before[k]) for k in before)


def test_numbering_continues_after_the_file_when_redis_lost_the_counter(session, redis_client):
    for _ in range(3):
        session["loopscan"](1, 0, session["diode"])
    folder, _ = session["SCAN_SAVING"].directory_db_name()
    redis_client.hdel(f"node|{folder}", "last_scan_number")
    assert session["loopscan"](1, 0, session["diode"]).number == 4
    with h5py.File(session["SCAN_SAVING"].filename, "r", locking=False) as file:
        assert list(file) == ["1_loopscan", "2_loopscan", "3_loopscan", "4_loopscan"]
    redis_client.hset(f"node|{folder}", "last_scan_number", 1)  # another Redis wrote 2..4 into this file
    assert session["loopscan"](1, 0, session["diode"]).number == 5


def test_a_folder_that_cannot_be_created_is_refused_before_anything_moves(session, tmp_path, redis_client):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    session["SCAN_SAVING"].base_path = str(blocker / "scans")
    with pytest.raises(Exception, match=r"cannot create the saving folder .*a_file/scans/test_session: Not a directory"):
        session["ascan"](session["roby"], 0, 5, 3, 0, session["diode"])
    assert session["roby"].position == 0 and len(session["SCANS"]) == 0
    assert not any(key.startswith(b"node|test_session:") for key in redis_client.keys("node|*"))


def test_an_existing_file_that_is_not_hdf5_is_refused_and_left_untouched(session, redis_client):
    filename = Path(session["SCAN_SAVING"].filename)
    filename.parent.mkdir(parents=True)
    filename.write_text("my notes, not HDF5")
    with pytest.raises(Exception, match=r"data.h5 exists and is not an HDF5 file; move it away"):
        session["ascan"](session["roby"], 0, 5, 3, 0, session["diode"])
    assert filename.read_text() == "my notes, not HDF5"
    assert session["roby"].position == 0 and len(session["SCANS"]) == 0


def test_ctrl_c_pressed_again_while_the_scan_ends_still_leaves_it_aborted_in_the_file_and_redis(session):
    for delay in (0.0, 0.001, 0.005, 0.02):  # the second Ctrl-C lands somewhere in the ending steps
        scan = session["dscan"](session["slowy"], 0, 1, 50, 0.01, session["diode"], run=False)
        running = interruptible(scan.run)
        gevent.sleep(0.3)
        running.kill(KeyboardInterrupt, block=False)
        gevent.sleep(delay)
        running.kill(KeyboardInterrupt, block=True)
        assert scan.node.end_state() == {"state": "aborted", "reason": "interrupted by user (Ctrl-C)"}
        written = stored(scan.path, scan.node.name)
        assert written["writer/status"] == b"ABORTED"
        assert np.array_equal(written["measurement/diode"], scan.get_data()["diode"])
        session["slowy"].move(0)


def test_ctrl_c_leaves_an_aborted_entry_with_the_points_taken(session):
    scan = session["loopscan"](1000, 0.02, session["diode"], run=False)
    running = interruptible(scan.run)
    gevent.sleep(0.5)
    running.kill(KeyboardInterrupt, block=True)
    written = stored(scan.path, scan.node.name)
    assert written["writer/status"] == b"ABORTED"
    assert written["writer/reason"] == b"interrupted by user (Ctrl-C)"
    assert 5 < len(written["measurement/diode"]) < 1000
    assert np.array_equal(written["measurement/diode"], scan.get_data()["diode"])


SCAN_IN_PROCESS = """
SCAN_SAVING.base_path = {base!r}
loopscan({npoints}, {count_time}, simu1, diode)
"""


def run_scan_process(shell_env, tmp_path, npoints, count_time, **popen):
    code = SCAN_IN_PROCESS.format(base=str(tmp_path), npoints=npoints, count_time=count_time)
    return subprocess.Popen([BLISS, "-s", "test_session", "--config", str(BEAMLINE), "-c", code], env=shell_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)  # fmt: skip


def test_a_write_failure_stops_the_scan_and_keeps_what_was_written(shell_env, tmp_path):
    limit = 1_000_000  # bytes: a file size limit, so the disk refuses writes for real
    process = run_scan_process(
        shell_env, tmp_path, 100_000, 0, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    )
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert f"SavingError: writing {tmp_path}/test_session/data.h5 failed after" in err
    assert "no room left on the disk" in err and "threadpool" not in err  # the script's error only, not the thread pool's
    filename = tmp_path / "test_session" / "data.h5"
    with h5py.File(filename, "r", locking=False) as file:
        stored = file["1_loopscan"]
        written = len(stored["measurement/diode"])
        assert 0 < written < 100_000
        assert stored["measurement/simu1"].shape == (written, 16)
        assert stored["writer/status"][()] == b"FAILED"
        assert b"no room left on the disk" in stored["writer/reason"][()]


def test_a_killed_process_leaves_a_readable_file(shell_env, tmp_path):
    process = run_scan_process(shell_env, tmp_path, 100_000, 0.01)
    filename = tmp_path / "test_session" / "data.h5"
    deadline = time.monotonic() + 20
    while not filename.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    # A reader opens it as silx does (SWMR): the writer's "open for write" mark stays after a kill.
    with h5py.File(filename, "r", libver="latest", swmr=True, locking=False) as file:
        diode = file["1_loopscan/measurement/diode"]
        assert len(diode) > 20  # everything flushed up to the last 0.5 s
        assert file["1_loopscan/measurement/simu1"].shape[0] == len(diode)


SWMR_READER = """
import sys, time, h5py
seen = []
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        file = h5py.File(sys.argv[1], "r", libver="latest", swmr=True, locking=False)
        break
    except (OSError, KeyError):
        time.sleep(0.05)
dataset = None
while time.monotonic() < deadline:
    try:
        dataset = dataset or file["1_loopscan/measurement/diode"]
        dataset.refresh()
        seen.append(len(dataset))
        if file["1_loopscan/writer/status"][()] != b"RUNNING":
            break
    except KeyError:
        file.close()
        file = h5py.File(sys.argv[1], "r", libver="latest", swmr=True, locking=False)
    time.sleep(0.1)
print(",".join(map(str, seen)))
"""


def test_a_swmr_reader_sees_points_arrive_during_the_scan(shell_env, tmp_path):
    filename = tmp_path / "test_session" / "data.h5"
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SWMR_READER), str(filename)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    scan = run_scan_process(shell_env, tmp_path, 150, 0.02)
    _, err = scan.communicate(timeout=60)
    assert scan.returncode == 0, err
    seen = [int(n) for n in reader.communicate(timeout=30)[0].strip().split(",") if n]
    growing = sorted(set(seen))
    assert len([n for n in growing if 0 < n < 150]) >= 3, f"the reader saw {growing}"


def test_a_killed_shell_leaves_a_finished_file_and_the_next_scan_saves_into_it(shell_env, tmp_path, session):
    from bliss_shell.writer.recovery import INTERRUPTED

    filename = tmp_path / "test_session" / "data.h5"
    first = run_scan_process(shell_env, tmp_path, 5, 0)  # an earlier scan, ended well
    first.communicate(timeout=60)
    assert first.returncode == 0
    process = run_scan_process(shell_env, tmp_path, 100_000, 0.01)
    deadline = time.monotonic() + 30
    while True:  # a live reader, as silx reads during a scan (between two scans the file is not in SWMR mode)
        try:
            with h5py.File(filename, "r", libver="latest", swmr=True, locking=False) as file:
                if "2_loopscan" in file and len(file["2_loopscan/measurement/diode"]) >= 20:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the scan did not start writing"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # the terminal closed, or kill -9
    process.communicate()

    deadline = time.monotonic() + 20  # the shell's guard finishes the file once the shell is gone
    while True:
        try:
            file = h5py.File(filename, "r")  # plain h5py, as silx and PyMca open it
            break
        except OSError:
            assert time.monotonic() < deadline, "the file stayed open for write after the shell died"
            time.sleep(0.1)
    with file:
        assert len(file["1_loopscan/measurement/diode"]) == 5 and file["1_loopscan/writer/status"][()] == b"SUCCEEDED"
        interrupted = file["2_loopscan"]
        assert interrupted["writer/status"][()] == b"FAILED" and interrupted["writer/reason"][()].decode() == INTERRUPTED
        kept = len(interrupted["measurement/diode"])
        assert kept >= 20 and interrupted["measurement/simu1"].shape == (kept, 16)

    session["SCAN_SAVING"].base_path = str(tmp_path)
    after = session["loopscan"](3, 0, session["diode"])
    assert after.path == str(filename) and after.number == 3 and after.state == "done"


def test_a_file_another_shell_is_writing_is_refused_before_the_scan_takes_a_number(session, redis_client, tmp_path):
    from bliss_shell.writer.recovery import writer_lock

    first = session["loopscan"](2, 0, session["diode"])
    counter = f"node|{session['SCAN_SAVING'].directory_db_name()[0]}"
    with writer_lock(first.path) as taken:  # as another shell writing the same file holds it
        assert taken
        with pytest.raises(SavingError, match=f"^{first.path} is being written by another shell; wait for its scan to end"):
            session["loopscan"](2, 0, session["diode"])
    assert redis_client.hget(counter, "last_scan_number") == b"1" and len(session["SCANS"]) == 1
    assert session["loopscan"](2, 0, session["diode"]).number == 2
