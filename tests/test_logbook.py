"""The session logbook: elog_print, lprint, every scan's end, ``bliss logbook SESSION``, and clear()."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import h5py
import pytest

from bliss_shell.scanning.engine import AcquisitionError
from conftest import interruptible, wait_for
from terminal import run_bliss

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def logbook(session: dict) -> Path:
    return Path(session["SCAN_SAVING"].get_path()) / "test_session_logbook.txt"


def test_elog_print_prints_and_writes_a_timestamped_comment(session, capsys):
    session["elog_print"]("sample changed to", "lysozyme")
    session["elog_print"]("two lines:\nslit 2 mm")
    assert capsys.readouterr().out == "sample changed to lysozyme\ntwo lines:\nslit 2 mm\n"
    lines = logbook(session).read_text().splitlines()
    assert re.fullmatch(rf"{STAMP}  comment: sample changed to lysozyme", lines[0])
    assert re.fullmatch(rf"{STAMP}  comment: two lines:", lines[1])
    assert lines[2] == " " * 21 + "slit 2 mm"  # under the text, so every entry starts with its time


def test_lprint_prints_logs_at_info_and_writes_an_info_line(session, capsys, caplog):
    with caplog.at_level(logging.INFO, logger="bliss_shell.lprint"):
        session["lprint"]("aligned roby at", 1.25)
    assert capsys.readouterr().out == "aligned roby at 1.25\n"
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("bliss_shell.lprint.test_session", logging.INFO, "aligned roby at 1.25")]  # fmt: skip
    assert re.fullmatch(rf"{STAMP}  info: aligned roby at 1.25\n", logbook(session).read_text())


def test_every_scan_records_how_it_ended(session):
    ascan, ct, loopscan, roby, diode = (session[k] for k in ("ascan", "ct", "loopscan", "roby", "diode"))
    done = ascan(roby, 0, 1, 3, 0.01, diode)
    ct(0.01, diode)
    command = interruptible(loopscan, 100_000, 0.01, diode)
    wait_for(lambda: len(session["SCANS"]) == 3 and session["SCANS"][-1].node is not None)  # it is counting
    command.kill(KeyboardInterrupt, block=True)
    diode.read = lambda count_time: 1 / 0  # the device breaks
    with pytest.raises(AcquisitionError):
        ascan(roby, 0, 1, 3, 0.01, diode)
    del diode.read
    entries = [line[len("2026-01-01 00:00:00  ") :] for line in logbook(session).read_text().splitlines()]
    assert entries == [
        f"scan 1 (ascan roby 0 1 3 0.01): finished; file {done.path}",
        "ct 0.01: finished; not saved",  # no number: only the file's numbering is in the logbook
        f"scan 2 (loopscan 100000 0.01): aborted: interrupted by user (Ctrl-C); file {done.path}",
        f"scan 3 (ascan roby 0 1 3 0.01): failed: AcquisitionError: diode: ZeroDivisionError: division by zero; file {done.path}",
    ]


def test_a_count_and_a_saved_count_are_not_given_the_same_number(session):
    session["sct"](0.01, session["diode"])
    session["ct"](0.01, session["diode"])
    entries = [line[len("2026-01-01 00:00:00  ") :] for line in logbook(session).read_text().splitlines()]
    assert entries == [f"scan 1 (sct 0.01): finished; file {session['SCANS'][-2].path}", "ct 0.01: finished; not saved"]


def test_a_logbook_that_cannot_be_written_warns_and_the_scan_stands(session, capsys):
    path = logbook(session)
    path.parent.mkdir(parents=True)
    path.symlink_to("/dev/full")  # a full disk
    session["elog_print"]("beam back")
    assert capsys.readouterr().out == (f"beam back\nWARNING: logbook {path} not written (No space left on device); "
                                       "the entry was: comment: beam back\n")  # fmt: skip
    scan = session["ascan"](session["roby"], 0, 1, 3, 0.01, session["diode"])
    assert scan.state == "done" and scan.get_data()["diode"].shape == (3,)
    with h5py.File(scan.path, "r", locking=False) as file:
        assert file["1.1/writer/status"][()] == b"SUCCEEDED"
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("WARNING")]
    assert warnings == [f"WARNING: logbook {path} not written (No space left on device); the entry was: "
                        f"scan 1 (ascan roby 0 1 3 0.01): finished; file {scan.path}"]  # fmt: skip


def test_a_saving_folder_that_cannot_be_made_warns_and_keeps_the_message_on_screen(session, tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    session["SCAN_SAVING"].base_path = str(tmp_path / "a_file")
    session["lprint"]("still shown")
    assert capsys.readouterr().out == (f"still shown\nWARNING: logbook {tmp_path}/a_file/test_session/test_session_logbook.txt "
                                       "not written (Not a directory); the entry was: info: still shown\n")  # fmt: skip


def test_bliss_logbook_errors_name_the_session_and_the_file(session, shell_env):
    unknown = run_bliss("logbook", "nosuch", env=shell_env)
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "'nosuch' is not a session; sessions: demo, test_session")
    missing = run_bliss("logbook", "test_session", env=shell_env)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == (f"bliss: session test_session has no logbook yet: {logbook(session)} does not exist "
                                      "(elog_print and the session's scans write it)")  # fmt: skip
    session["elog_print"]("first entry")
    shown = run_bliss("logbook", "test_session", env=shell_env)
    assert shown.returncode == 0 and re.fullmatch(rf"{STAMP}  comment: first entry\n", shown.stdout)


def test_elog_print_and_a_scan_at_the_prompt_then_bliss_logbook(open_terminal, tmp_path):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter(f"SCAN_SAVING.base_path = '{tmp_path}'; elog_print('beam back after refill')")
    shell.wait_for(r"^beam back after refill$")
    shell.prompt(2)
    shell.enter("ascan(roby, 0, 2, 3, 0.01, diode)")
    shell.wait_for(r"^Took ", timeout=30)
    shell.prompt(3, timeout=30)
    reader = open_terminal("logbook", "demo")
    reader.wait_for(rf"^{STAMP}  comment: beam back after refill\n{STAMP}  scan 1 \(ascan roby 0 2 3 0\.01\): finished; file ")
    assert reader.wait_exit() == 0
    assert f"finished; file {tmp_path}/demo/data.h5\r\n" in reader.transcript.decode()  # the screen wraps long paths


def test_clear_leaves_only_the_prompt_on_the_screen(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    assert "Welcome to bliss_shell" in shell.text()
    shell.enter("clear()")
    shell.wait_for(r"\ADEMO \[2\]: *$")
    assert "Welcome" not in shell.text() and "clear()" not in shell.text()
    shell.enter("6 * 7")
    shell.wait_for(r"^  Out \[2\]: 42$")
