"""Saved scans write a NeXus/HDF5 file while they publish to Redis."""

from __future__ import annotations

import getpass
import resource
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np
import pytest
import silx.io

from bliss_shell.config import ConfigRoot
from bliss_shell.data import get_node, keys
from bliss_shell.scanning import ScanSaving
from bliss_shell.writer import SavingError, dataset_names
from conftest import BEAMLINE, interruptible, open_session, wait_for
from simulator_server import SimulatorServer
from terminal import BLISS


def stored(path, number: int) -> dict:
    """Datasets of scan ``number``'s entry (``N.1``), links followed (``measurement/diode``), read and closed: the
    file stays free for the next opener."""
    values: dict = {}

    def walk(group: h5py.Group, prefix: str) -> None:
        for key in group:
            item = group[key]
            if isinstance(item, h5py.Dataset):
                values[prefix + key] = item[()]
            else:
                walk(item, f"{prefix}{key}/")

    with h5py.File(path, "r", locking=False) as file:
        walk(file[f"{number}.1"], "")
        values["plot.signal"] = file[f"{number}.1"]["plot"].attrs.get("signal") if "plot" in file[f"{number}.1"] else None
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
        assert list(file) == ["1.1", "2.1"]
        assert dict(file.attrs) == {"NX_class": "NXroot", "creator": "bliss_shell", "publisher": "bliss", "default": "2.1"}
        first = file["1.1"]
        assert first.attrs["NX_class"] == "NXentry" and first.attrs["default"] == "plot"
        assert first["title"][()] == b"ascan roby 0 9 10 0.01"
        assert first["start_time"][()] < first["end_time"][()]
        assert first["measurement"].attrs["NX_class"] == "NXcollection"
        assert sorted(first["measurement"]) == ["diode", "elapsed_time", "epoch", "roby"]
        assert first["instrument/positioners_start/roby"][()] == 0 and first["instrument/positioners_end/roby"][()] == 9
        assert sorted(first["instrument/positioners"]) == ["roby", "robz", "slowy"]  # every motor of the session
        assert first["instrument/positioners/roby"][()].tolist() == first["measurement/roby"][()].tolist()  # the scanned one
        plot = first["plot"]
        assert (plot.attrs["NX_class"], plot.attrs["signal"], plot.attrs["axes"]) == ("NXdata", "diode", "roby")
        assert first["writer/status"][()] == b"SUCCEEDED"
        assert '"npoints": 10' in first["scan_info"][()].decode()
    for scan in scans:  # what the file holds is what Redis served
        served, written = scan.get_data(), stored(scan.path, scan.number)
        for name in ("roby", "elapsed_time", "epoch", "diode"):
            assert np.array_equal(written[f"measurement/{name}"], served[name])
    with silx.io.open(str(folder / "sample2" / "data.h5")) as silx_file:
        assert silx_file["1.1/measurement/diode"][()].tolist() == scans[2].get_data()["diode"].tolist()
        assert silx_file["1.1/plot"].attrs["signal"] == "diode"


def test_one_dimensional_channels_are_npoints_by_bins(session):
    scan = session["loopscan"](7, 0.001, session["simu1"], session["diode"])
    written = stored(scan.path, 1)
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
    redis_client.hdel(keys.node_key(folder), "last_scan_number")
    assert session["loopscan"](1, 0, session["diode"]).number == 4
    with h5py.File(session["SCAN_SAVING"].filename, "r", locking=False) as file:
        assert list(file) == ["1.1", "2.1", "3.1", "4.1"]
    redis_client.hset(keys.node_key(folder), "last_scan_number", 1)  # another Redis wrote 2..4 into this file
    assert session["loopscan"](1, 0, session["diode"]).number == 5


def test_a_folder_that_cannot_be_created_is_refused_before_anything_moves(session, tmp_path, redis_client):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    session["SCAN_SAVING"].base_path = str(blocker / "scans")
    with pytest.raises(Exception, match=r"cannot create the saving folder .*a_file/scans/test_session: Not a directory"):
        session["ascan"](session["roby"], 0, 5, 3, 0, session["diode"])
    assert session["roby"].position == 0 and len(session["SCANS"]) == 0
    assert not any(key.startswith(b"node|{test_session}:") for key in redis_client.keys("node|*"))


def test_an_existing_file_that_is_not_hdf5_is_refused_and_left_untouched(session, redis_client):
    filename = Path(session["SCAN_SAVING"].filename)
    filename.parent.mkdir(parents=True)
    filename.write_text("my notes, not HDF5")
    with pytest.raises(Exception, match=r"data.h5 exists and is not an HDF5 file; move it away"):
        session["ascan"](session["roby"], 0, 5, 3, 0, session["diode"])
    assert filename.read_text() == "my notes, not HDF5"
    assert session["roby"].position == 0 and len(session["SCANS"]) == 0


def points_of(scan, channel: str) -> int:
    """How many points of ``channel`` (``"timer:diode:diode"``) the running scan has published."""
    return len(get_node(f"{scan.node.db_name}:{channel}") or []) if scan.node is not None else 0


def test_ctrl_c_pressed_again_while_the_scan_ends_still_leaves_it_aborted_in_the_file_and_redis(session):
    ending = {  # where the second Ctrl-C lands in the ending steps
        "at once": lambda scan: True,
        "the file and Redis are told": lambda scan: scan.state == "aborted",
        "Redis has the END": lambda scan: scan.node.end_state() is not None,
    }
    for step, reached in ending.items():
        scan = session["dscan"](session["slowy"], 0, 1, 50, 0.01, session["diode"], run=False)
        running = interruptible(scan.run)
        wait_for(lambda: points_of(scan, "axis:timer:diode:diode") >= 2, "the scan took no points")  # noqa: B023
        running.kill(KeyboardInterrupt, block=False)
        wait_for(lambda: reached(scan), f"the ending of the aborted scan never reached: {step}")  # noqa: B023
        running.kill(KeyboardInterrupt, block=True)
        assert scan.node.end_state() == {"state": "aborted", "reason": "interrupted by user (Ctrl-C)"}
        written = stored(scan.path, scan.number)
        assert written["writer/status"] == b"ABORTED"
        assert np.array_equal(written["measurement/diode"], scan.get_data()["diode"])
        session["slowy"].move(0)


def test_ctrl_c_leaves_an_aborted_entry_with_the_points_taken(session):
    scan = session["loopscan"](1000, 0.02, session["diode"], run=False)
    running = interruptible(scan.run)
    wait_for(lambda: points_of(scan, "timer:diode:diode") >= 10, "the scan did not publish 10 points")
    running.kill(KeyboardInterrupt, block=True)
    written = stored(scan.path, scan.number)
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
        stored = file["1.1"]
        written = len(stored["measurement/diode"])
        assert 0 < written < 100_000
        assert stored["measurement/simu1"].shape == (written, 16)
        assert stored["writer/status"][()] == b"FAILED"
        assert b"no room left on the disk" in stored["writer/reason"][()]


def points_in_file(filename: Path, entry: str) -> int:
    """How many diode points a live reader (SWMR, as silx reads during a scan) finds in ``entry`` now; 0 before it
    is there (between two scans the file is not in SWMR mode)."""
    try:
        with h5py.File(filename, "r", libver="latest", swmr=True, locking=False) as file:
            return len(file[f"{entry}/measurement/diode"]) if f"{entry}/measurement/diode" in file else 0
    except OSError:
        return 0


def test_a_killed_process_leaves_a_readable_file(shell_env, tmp_path):
    process = run_scan_process(shell_env, tmp_path, 100_000, 0.01)
    filename = tmp_path / "test_session" / "data.h5"
    wait_for(lambda: points_in_file(filename, "1.1") > 20, "the scan did not flush 20 points to its file", timeout=30)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    # A reader opens it as silx does (SWMR): the writer's "open for write" mark stays after a kill.
    with h5py.File(filename, "r", libver="latest", swmr=True, locking=False) as file:
        diode = file["1.1/measurement/diode"]
        assert len(diode) > 20  # everything flushed up to the last 0.5 s
        assert file["1.1/measurement/simu1"].shape[0] == len(diode)


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
        dataset = dataset or file["1.1/measurement/diode"]
        dataset.refresh()
        seen.append(len(dataset))
        if file["1.1/writer/status"][()] != b"RUNNING":
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
    wait_for(lambda: points_in_file(filename, "2.1") >= 20, "the scan did not start writing", timeout=30)
    process.send_signal(signal.SIGKILL)  # the terminal closed, or kill -9
    process.communicate()

    def finished() -> bool:  # the shell's guard finishes the file once the shell is gone: it opens, the entry has ended
        try:
            with h5py.File(filename, "r") as file:  # plain h5py, as silx and PyMca open it
                return file["2.1/writer/status"][()] != b"RUNNING"
        except OSError:
            return False

    wait_for(finished, "the file stayed open for write, its scan running, after the shell died", timeout=20)
    with h5py.File(filename, "r") as file:
        assert len(file["1.1/measurement/diode"]) == 5 and file["1.1/writer/status"][()] == b"SUCCEEDED"
        interrupted = file["2.1"]
        assert interrupted["writer/status"][()] == b"FAILED" and interrupted["writer/reason"][()].decode() == INTERRUPTED
        kept = len(interrupted["measurement/diode"])
        assert kept >= 20 and interrupted["measurement/simu1"].shape == (kept, 16)

    session["SCAN_SAVING"].base_path = str(tmp_path)
    after = session["loopscan"](3, 0, session["diode"])
    assert after.path == str(filename) and after.number == 3 and after.state == "done"


def test_a_file_another_shell_is_writing_is_refused_before_the_scan_takes_a_number(session, redis_client, tmp_path):
    from bliss_shell.writer.recovery import writer_lock

    first = session["loopscan"](2, 0, session["diode"])
    counter = keys.node_key(session["SCAN_SAVING"].directory_db_name()[0])
    with writer_lock(first.path) as taken:  # as another shell writing the same file holds it
        assert taken
        with pytest.raises(SavingError, match=f"^{first.path} is being written by another shell; wait for its scan to end"):
            session["loopscan"](2, 0, session["diode"])
    assert redis_client.hget(counter, "last_scan_number") == b"1" and len(session["SCANS"]) == 1
    assert session["loopscan"](2, 0, session["diode"]).number == 2


# -- the whole SCAN_SAVING: built-in keys, date_format, writer, images_path_template, the table ------------------


def test_reference_scenario_with_built_in_template_keys(session, tmp_path):
    SCAN_SAVING, ascan, roby, diode = (session[k] for k in ("SCAN_SAVING", "ascan", "roby", "diode"))
    SCAN_SAVING.add("s_name", "")
    SCAN_SAVING.date_format = "%Y-%m"
    SCAN_SAVING.template = "{session}/{date}/{s_name}/"
    SCAN_SAVING.data_filename = "{user_name}_{s_name}"
    SCAN_SAVING.s_name = "sample1"
    scans = [ascan(roby, 0, 9, 10, 0.01, diode), ascan(roby, 0, 9, 10, 0.01, diode)]
    SCAN_SAVING.s_name = "sample2"
    scans.append(ascan(roby, 0, 9, 10, 0.01, diode))

    folder = tmp_path / "scans" / "test_session" / datetime.now().strftime("%Y-%m")
    user = getpass.getuser()
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.h5")) == [f"sample1/{user}_sample1.h5",
                                                                                       f"sample2/{user}_sample2.h5"]  # fmt: skip
    assert [scan.path for scan in scans] == [str(folder / f"sample1/{user}_sample1.h5")] * 2 + [
        str(folder / f"sample2/{user}_sample2.h5")
    ]
    assert [scan.number for scan in scans] == [1, 2, 1]  # numbered per folder, as in BLISS
    assert SCAN_SAVING.date == datetime.now().strftime("%Y-%m")


def test_writer_null_publishes_to_redis_and_writes_no_file(session, tmp_path):
    SCAN_SAVING = session["SCAN_SAVING"]
    SCAN_SAVING.writer = "null"
    scan = session["ascan"](session["roby"], 0, 9, 10, 0.01, session["diode"])
    assert scan.path is None and "path=<no saving: SCAN_SAVING.writer is 'null'>" in repr(scan)
    assert len(scan.get_data()["diode"]) == 10 and scan.scan_info["save"] is False  # Redis has it all
    assert not list(tmp_path.rglob("*.h5"))
    assert SCAN_SAVING.filename == "" and SCAN_SAVING.get_path() == str(tmp_path / "scans" / "test_session")  # as BLISS's
    assert repr(SCAN_SAVING).splitlines()[-3:] == ["---------", "NO SAVING", "---------"]  # BLISS's table
    SCAN_SAVING.writer = "nexus"
    assert session["loopscan"](2, 0, session["diode"]).path == SCAN_SAVING.filename


@pytest.mark.parametrize("name, value, message", [
    ("writer", "foo", r"^SCAN_SAVING.writer 'foo' is not a writer: choose one of 'hdf5', 'nexus', 'null'$"),
    ("template", "{session}/{nope}/", r"^SCAN_SAVING.template: unknown key 'nope' \(keys: session, date, base_path, .*\); "
                                      r"add it first with SCAN_SAVING.add\('nope', value\)$"),
    ("template", "{session}/{beamline}/", r"^SCAN_SAVING.template: unknown key 'beamline' \(the config's root __init__.yml "
                                          r"gives no beamline\)"),
    ("template", "{session}/{img_acq_device}/", r"^SCAN_SAVING.template: '\{img_acq_device\}' is each detector's name; "
                                                r"use it in images_path_template only \(BLISS's rule\)$"),
    ("data_filename", "{img_acq_device}", r"^SCAN_SAVING.data_filename: '\{img_acq_device\}' is each detector's name"),
    ("template", "{scan_name}/../..", r"^SCAN_SAVING.template '\{scan_name\}/../..' must stay inside base_path$"),
    ("images_path_template", "../scan{scan_number}", r"^SCAN_SAVING.images_path_template '../scan\{scan_number\}' must stay "
                                                     r"inside the scan folder$"),
    ("date_format", "%Y/%m", r"^SCAN_SAVING.date_format '%Y/%m' gives '.*', not a folder name"),
    ("date", "20200101", r"^SCAN_SAVING.date is a built-in key, filled in by the session or the scan; it cannot be set$"),
])  # fmt: skip
def test_bad_scan_saving_values_are_refused_and_nothing_changes(session, redis_client, name, value, message):
    before = redis_client.hgetall(keys.session_key("scan_saving", "test_session"))
    with pytest.raises((ValueError, AttributeError), match=message):
        setattr(session["SCAN_SAVING"], name, value)
    assert redis_client.hgetall(keys.session_key("scan_saving", "test_session")) == before


def test_the_beamline_key_comes_from_the_config(redis_client, tmp_path):
    saving = ScanSaving(redis_client, "test_session", beamline="id00")
    saving.base_path = str(tmp_path)
    saving.template = "{beamline}/{session}/"
    assert saving.filename == f"{tmp_path}/id00/test_session/data.h5"


def test_images_path_template_places_the_frames_of_each_detector(session, tmp_path):
    SCAN_SAVING = session["SCAN_SAVING"]
    folder = tmp_path / "scans" / "test_session"
    assert SCAN_SAVING.images_path(3, "ascan") == f"{folder}/scan0003/{{img_acq_device}}_"  # BLISS's default
    SCAN_SAVING.images_path_template = "{scan_name}_{scan_number}/{img_acq_device}/frame_"
    assert SCAN_SAVING.images_path(12, "loopscan").format(img_acq_device="cam") == f"{folder}/loopscan_0012/cam/frame_"


def test_scan_saving_prints_as_blisss_table(session, tmp_path):
    SCAN_SAVING = session["SCAN_SAVING"]
    folder = tmp_path / "scans" / "test_session"
    shown = repr(SCAN_SAVING).splitlines()
    assert shown[0] == "Parameters (default) -"
    for line in (f"  .base_path            = '{tmp_path / 'scans'}'", "  .images_path_template = 'scan{scan_number}/{img_acq_device}_'",
                 "  .date_format          = '%Y%m%d'", "  .writer               = 'nexus'", "  .session              = 'test_session'",
                 f"  .date                 = '{datetime.now():%Y%m%d}'", "  .scan_number          = '{scan_number}'"):  # fmt: skip
        assert line in shown
    assert shown[-4:] == ["--------------  ---------  " + "-" * len(f"{folder}/data.h5"),
                          f"does not exist  filename   {folder}/data.h5",
                          f"does not exist  directory  {folder}",
                          "--------------  ---------  " + "-" * len(f"{folder}/data.h5")]  # fmt: skip
    session["loopscan"](1, 0, session["diode"])
    assert repr(SCAN_SAVING).splitlines()[-3:-1] == [f"exists  filename   {folder}/data.h5", f"exists  directory  {folder}"]


@pytest.fixture(scope="module")
def camera_server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"LimaCCDs": ["id00/limaccds/camsave"]}, instance="limasaving")
    yield simulators
    simulators.stop()


def test_lima_frames_follow_images_path_template(camera_server, redis_client, tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "devices.yml").write_text(f"- name: cam\n  class: Lima\n  tango_url: {camera_server.url('id00/limaccds/camsave')}\n"
                                                     "  sim_image_size: [32, 24]\n- name: lima_saving\n  class: Session\n")  # fmt: skip
    shell = open_session([ConfigRoot(tmp_path / "config")], "lima_saving", redis_client, tmp_path / "scans")
    shell["SCAN_SAVING"].images_path_template = "{scan_name}_{scan_number}/{img_acq_device}/frame_"
    scan = shell["loopscan"](3, 0.01, shell["cam"])
    folder = Path(scan.path).parent / "loopscan_0001" / "cam"
    info = get_node(f"{scan.node.db_name}:timer:cam:image").info
    assert (info["saving_directory"], info["saving_prefix"]) == (str(folder), "frame_")
    assert sorted(p.name for p in folder.iterdir()) and all(p.name.startswith("frame_") for p in folder.iterdir())
    assert scan.get_data()["cam:image"].get_image(-1).shape == (24, 32)
