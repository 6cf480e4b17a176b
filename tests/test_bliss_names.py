"""BLISS's shell names a user types and finds: info, lsconfig, the 3- to 5-motor scans, goto_min, the viewers,
countdown, the logging commands, cleanup, SCAN_DISPLAY and the numpy and time shortcuts."""

from __future__ import annotations

import logging
import math
import os
import re
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

from bliss_shell.config import ConfigRoot
from bliss_shell.scanning import current
from bliss_shell.shell.cleanup import axis as cleanup_axis
from bliss_shell.shell.scan_display import shell_display
from conftest import BEAMLINE, interruptible, open_session, wait_for
from terminal import run_bliss
from test_plot import stop_viewer_process, viewer_status
from test_tango import free_port, open_tango_session, start_simulator


def test_the_numpy_and_time_shortcuts_of_bliss_are_in_the_namespace(session, capsys):
    assert session["sin"](0.0) == 0.0 and session["cos"](0.0) == 1.0
    assert session["sqrt"](16.0) == 4.0 and session["rad2deg"](np.pi) == 180.0
    assert session["arctan2"](1.0, 1.0) == pytest.approx(math.pi / 4)
    assert 0.0 <= session["rand"]() < 1.0
    assert re.fullmatch(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", session["date"]())
    session["pprint"]({"b": 1, "a": 2})
    assert capsys.readouterr().out == "{'a': 2, 'b': 1}\n"


def test_info_gives_a_motors_and_a_counters_block(session):
    session["mv"](session["roby"], 2)
    block = session["info"](session["roby"])
    assert block.splitlines() == [
        "AXIS:",
        "     name (R): roby",
        "     unit (R): mm",
        "     offset (R): 0.00000",
        "     sign (R): 1",
        "     limits (RW): Low: -100.00000 High: 100.00000 (dial Low: -100.00000 High: 100.00000)",
        "     dial (RW): 2.00000",
        "     position (RW): 2.00000",
        "     state (R): READY",
        "     acceleration (RW): 1000000.00000",
        "     velocity (RW): 10000.00000",
    ]
    assert repr(block) == block  # shown as it reads at the prompt, as BLISS's info()
    assert session["info"](session["simu1"]).splitlines()[-1] == "  shape = (16,) (spectrum)"
    assert session["info"](session["MG1"]) == repr(session["MG1"])  # its repr is its block already
    assert session["info"](1.5) == "1.5"


def test_info_takes_an_objects_own_info_and_refuses_one_that_is_no_text(session):
    class Shutter:
        def __init__(self, answer):
            self.answer = answer

        def __info__(self):
            return self.answer

    assert session["info"](Shutter("shutter: OPEN")) == "shutter: OPEN"
    with pytest.raises(TypeError, match=r"^info: Shutter.__info__\(\) gave int, not a text$"):
        session["info"](Shutter(3))


def test_lsconfig_lists_every_object_of_the_config_by_class(session, capsys):
    session["lsconfig"]()
    out = capsys.readouterr().out
    assert "\nSimulationMotor:\n---------------\nroby   robz   slowy\n" in out
    assert "\nSession:\n-------\n" in out and "other_session" in out  # not only this session's objects
    listed = set(re.findall(r"\w+", "\n".join(line for line in out.splitlines() if not line.endswith(":"))))
    assert set(session["config"].names()) <= listed


@pytest.fixture
def five_motors(redis_client, tmp_path) -> dict:
    """A session with five fast simulated motors m1..m5 and a diode."""
    root = tmp_path / "config"
    root.mkdir()
    (root / "__init__.yml").write_text((BEAMLINE / "__init__.yml").read_text())
    motors = "".join(f"- name: m{i}\n  class: SimulationMotor\n  velocity: 10000\n  acceleration: 1000000\n" for i in range(1, 6))
    (root / "objects.yml").write_text(motors + "- name: diode\n  class: SimulationDiode\n")
    (root / "five.yml").write_text("name: five\nclass: Session\n")
    return open_session([ConfigRoot(root)], "five", redis_client, tmp_path / "scans")


def test_three_to_five_motors_scan_together(session, five_motors):
    s = session["a3scan"](session["roby"], 0, 1, session["robz"], 5, 6, session["slowy"], 0, 0.2, 3, 0.01, session["diode"])
    assert s.name == "a3scan" and s.get_data()["slowy"].tolist() == [0.0, 0.1, 0.2]
    assert s.plan.title == "a3scan roby 0 1 robz 5 6 slowy 0 0.2 3 0.01"
    ns = five_motors
    m = [ns[f"m{i}"] for i in range(1, 6)]
    four = ns["a4scan"](m[0], 0, 1, m[1], 0, 2, m[2], 0, 3, m[3], 0, 4, 2, 0.01, ns["diode"])
    assert [four.get_data()[f"m{i}"].tolist() for i in range(1, 5)] == [[0, 1], [0, 2], [0, 3], [0, 4]]
    five = ns["a5scan"](m[0], 1, 2, m[1], 1, 2, m[2], 1, 2, m[3], 1, 2, m[4], 1, 2, 2, 0.01, ns["diode"])
    assert five.get_data()["m5"].tolist() == [1, 2] and five.name == "a5scan"
    for name, count in (("d3scan", 3), ("d4scan", 4), ("d5scan", 5)):
        ns["mv"](*[value for motor in m for value in (motor, 10)])
        ranges = [value for motor in m[:count] for value in (motor, -1, 1)]
        relative = ns[name](*ranges, 3, 0.01, ns["diode"])
        assert relative.name == name and relative.get_data()[f"m{count}"].tolist() == [9, 10, 11]
        assert [motor.position for motor in m] == [10] * 5  # back where they were


def test_a_motor_given_twice_is_refused_before_anything_moves(five_motors):
    ns = five_motors
    m1, m2, m3 = ns["m1"], ns["m2"], ns["m3"]
    before = (m1.position, m2.position, m3.position)
    with pytest.raises(ValueError, match=r"^a4scan: m1 is given twice"):
        ns["a4scan"](m1, 0, 1, m2, 0, 1, m3, 0, 1, m1, 0, 1, 2, 0.01, ns["diode"])
    assert (m1.position, m2.position, m3.position) == before and len(ns["SCANS"]) == 0


def test_goto_min_moves_to_the_lowest_point_of_the_last_scan(session, capsys):
    roby, gauss = session["roby"], session["sim_ct_gauss"]
    s = session["ascan"](roby, 0, 6, 13, 0.01, gauss)
    session["ct"](0.01, gauss)  # a count after the scan leaves the tools on the scan
    lowest = float(s.get_data()["roby"][np.argmin(s.get_data()["sim_ct_gauss"])])
    assert session["trough"]() == lowest == 0.0
    assert session["goto_min"]() == lowest
    assert roby.position == lowest
    assert "Moving roby from 6.00000 to 0.00000" in capsys.readouterr().out


def test_goto_min_without_a_scan_that_moved_a_motor_says_what_to_do(session):
    session["ct"](0.01, session["diode"])
    before = session["roby"].position
    with pytest.raises(RuntimeError, match=r"^goto_min: no scan of this session moved a motor; give one"):
        session["goto_min"]()
    assert session["roby"].position == before


def fake_program(folder: Path, name: str) -> Path:
    """An executable ``name`` in ``folder`` that writes the arguments it was started with into ``name.argv``."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    argv = folder / f"{name}.argv"
    program.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{argv}.tmp" && /bin/mv "{argv}.tmp" "{argv}"\n')
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return argv


def started_with(argv: Path) -> list[str]:
    wait_for(argv.exists, f"{argv.stem} was not started", timeout=10)
    return argv.read_text().splitlines()


def test_silx_view_and_pymca_open_the_last_saved_scan_with_the_programs_on_path(session, tmp_path, monkeypatch, capsys):
    silx_argv, pymca_argv = fake_program(tmp_path / "bin", "silx"), fake_program(tmp_path / "bin", "pymca")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    saved = session["ascan"](session["roby"], 0, 1, 2, 0.01, session["diode"])
    session["ct"](0.01, session["diode"])  # not saved: not the one opened
    session["silx_view"]()
    assert started_with(silx_argv) == ["view", f"{saved.path}::/{saved.number}.1"]
    session["pymca"]()
    assert started_with(pymca_argv) == [saved.path]
    assert capsys.readouterr().out.endswith(f"silx_view: silx view {saved.path}::/{saved.number}.1\npymca: pymca {saved.path}\n")


def test_silx_view_finds_the_program_beside_the_shells_python_when_path_has_none(session, tmp_path, monkeypatch):
    argv = fake_program(tmp_path / "venv" / "bin", "silx")  # a .venv/bin/bliss started without activating .venv
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    saved = session["ascan"](session["roby"], 0, 1, 2, 0.01, session["diode"])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))  # after the scan: its guard runs Python
    session["silx_view"]()
    assert started_with(argv) == ["view", f"{saved.path}::/{saved.number}.1"]


def test_silx_view_and_pymca_say_in_one_line_when_they_are_not_installed(session, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    session["sct"](0.01, session["diode"])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "empty" / "python"))  # nor beside the shell's Python
    capsys.readouterr()
    assert session["silx_view"]() is None and session["pymca"]() is None
    where = f"on PATH nor beside {tmp_path / 'empty' / 'python'}"
    assert capsys.readouterr().out.splitlines() == [
        f"silx_view: silx is not installed here (no 'silx' {where}); pip install silx, or open the file elsewhere",
        f"pymca: pymca is not installed here (no 'pymca' {where}); pip install PyMca5, or open the file elsewhere",
    ]


def test_silx_view_refuses_a_scan_that_was_not_saved_and_an_index_out_of_scans(session, tmp_path, monkeypatch):
    argv = fake_program(tmp_path / "bin", "silx")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    count = session["ct"](0.01, session["diode"])
    with pytest.raises(ValueError, match=r"^silx_view: Scan\(.*name=ct, path=<no saving>\) was not saved, there is no file"):
        session["silx_view"](count)
    with pytest.raises(ValueError, match=r"^silx_view: no scan 5 in SCANS, which holds 1$"):
        session["silx_view"](5)
    with pytest.raises(ValueError, match=r"^silx_view: no scan of this session was saved and .*data\.h5 does not exist yet"):
        session["silx_view"]()
    assert not argv.exists()  # nothing was started


def test_countdown_counts_down_then_prints_the_end_message(session, capsys):
    session["countdown"](0.3, "waiting for refill", "Go!")
    assert capsys.readouterr().out == "waiting for refill    1 s\nwaiting for refill    0 s\nGo!\n"  # not a terminal


@pytest.mark.parametrize("duration", [-1, float("nan"), float("inf"), "3", True])
def test_countdown_refuses_what_is_no_duration(session, duration, capsys):
    with pytest.raises(ValueError, match=r"^countdown: duration_s must be a number of seconds >= 0, not "):
        session["countdown"](duration)
    assert capsys.readouterr().out == ""


def test_debugon_shows_a_loggers_debug_messages_and_debugoff_hides_them(session, capsys, caplog):
    session["lprint"]("aligned")  # the session's lprint logger exists from now on
    logger = logging.getLogger("bliss_shell.lprint.test_session")
    capsys.readouterr()
    session["debugon"]("bliss_shell.lprint.*")
    assert capsys.readouterr().out == "Setting bliss_shell.lprint.test_session to show debug messages\n"
    assert logger.level == logging.DEBUG
    session["lslog"]("bliss_shell.lprint*", debug_only=True)
    logger.debug("a debug message")
    assert [(record.name, record.message) for record in caplog.records] == [(logger.name, "a debug message")]
    assert "bliss_shell.lprint.test_session DEBUG" in capsys.readouterr().out
    session["debugoff"]("bliss_shell.lprint.*")
    assert capsys.readouterr().out == "Setting bliss_shell.lprint.test_session to hide debug messages\n"
    assert (logger.level, logger.getEffectiveLevel()) == (logging.NOTSET, logging.WARNING)  # its parent's again
    logger.debug("hidden")
    assert [record.message for record in caplog.records] == ["a debug message"]
    session["lslog"]("bliss_shell.lprint*", debug_only=True)
    assert capsys.readouterr().out == "No loggers found.\n\n"


def test_debugoff_gives_a_logger_back_the_level_it_had_before_debugon(session, capsys):
    session["lprint"]("aligned")
    logger = logging.getLogger("bliss_shell.lprint.test_session")
    logger.setLevel(logging.INFO)
    try:
        session["debugon"]("bliss_shell.lprint.*")
        session["debugon"]("bliss_shell.lprint.*")  # twice: the level before the first one stays the one to go back to
        assert logger.level == logging.DEBUG
        session["debugoff"]("bliss_shell.lprint.*")
        assert logger.level == logging.INFO
        session["debugoff"]("bliss_shell.lprint.*")  # debugon did not set it: it stays
        assert logger.level == logging.INFO
    finally:
        logger.setLevel(logging.NOTSET)


def test_debugon_in_a_shell_shows_the_debug_messages_on_standard_error(shell_env):
    code = (
        "import logging; lprint('aligned'); logger = logging.getLogger('bliss_shell.lprint.test_session')\n"
        "debugon('bliss_shell.lprint*'); logger.debug('a debug message')\n"
        "debugoff('bliss_shell.lprint*'); logger.debug('a hidden one')"
    )
    result = run_bliss("--config", str(BEAMLINE), "-s", "test_session", "-c", code, env=shell_env)
    assert result.returncode == 0, result.stderr
    shown = [line for line in result.stderr.splitlines() if "bliss_shell.lprint.test_session" in line]
    assert len(shown) == 1 and re.fullmatch(r"DEBUG \S+ \S+ bliss_shell.lprint.test_session: a debug message", shown[0])
    assert "Setting bliss_shell.lprint.test_session to show debug messages" in result.stdout


def test_debugon_says_when_nothing_matches_and_refuses_what_is_no_pattern(session, capsys):
    session["debugon"]("nosuchlogger*")
    session["debugon"](session["roby"])
    assert capsys.readouterr().out == "NO loggers found for [nosuchlogger*]\nNO loggers found for [roby]\n"
    with pytest.raises(TypeError, match=r"^debugon: give a pattern of logger names \(\"bliss_shell\*\"\) or an object"):
        session["debugon"](42)
    with pytest.raises(TypeError, match=r"^lslog: give a pattern of logger names"):
        session["lslog"](42)
    assert capsys.readouterr().out == ""


def test_cleanup_puts_the_motor_back_after_an_error(session, capsys):
    roby, cleanup = session["roby"], session["cleanup"]
    calls = []
    start = roby.position
    restore = (cleanup_axis.POS, cleanup_axis.VEL)
    with (
        pytest.raises(RuntimeError, match="^the sample fell$"),
        cleanup(roby, lambda: calls.append("shutter closed"), restore_list=restore),
    ):
        session["mv"](roby, 3)
        roby.velocity = 5000
        raise RuntimeError("the sample fell")
    assert calls == ["shutter closed"]
    assert (roby.position, roby.velocity) == (start, 10000.0)


def test_cleanup_after_ctrl_c_in_the_block_stops_and_moves_back(session):
    slowy = session["slowy"]  # 1 mm/s: the move is under way when Ctrl-C comes
    start = slowy.position

    def block():
        with session["cleanup"](slowy, restore_list=(cleanup_axis.POS,)):
            slowy.move(start + 50)

    command = interruptible(block)
    wait_for(lambda: slowy.state == "MOVING", "slowy did not start")
    command.kill(KeyboardInterrupt, block=True)
    assert isinstance(command.value, KeyboardInterrupt)
    assert slowy.state == "READY" and slowy.position == start


def test_error_cleanup_runs_only_on_an_error(session):
    calls = []
    with session["error_cleanup"](lambda: calls.append("beam off")):
        pass
    assert calls == []
    with pytest.raises(ZeroDivisionError), session["error_cleanup"](lambda: calls.append("beam off")):
        1 / 0
    assert calls == ["beam off"]


def test_cleanup_runs_every_step_and_names_each_that_failed(session):
    calls = []

    def broken():
        raise OSError("shutter jammed")

    failed = r"^cleanup: 2 cleanup steps failed: broken\(\) \(OSError: shutter jammed\); broken\(\) \(OSError: shutter jammed\)$"
    with pytest.raises(RuntimeError, match=failed), session["cleanup"](broken, lambda: calls.append("second"), broken):
        pass
    assert calls == ["second"]


def test_cleanup_of_a_motor_whose_server_died_names_each_restore_that_failed_in_one_line(redis_client, tmp_path):
    port = free_port()
    server = start_simulator(port, instance="cleanup_dead")
    calls = []
    try:
        session = open_tango_session(f"tango://127.0.0.1:{port}", redis_client, tmp_path)
        tm1 = session["tm1"]
        restore = (cleanup_axis.POS, cleanup_axis.VEL)
        with (
            pytest.raises(RuntimeError) as failed,
            session["cleanup"](tm1, lambda: calls.append("shutter closed"), restore_list=restore),
        ):
            server.kill()  # from outside, as a crash
            server.communicate(timeout=10)
    finally:
        server.kill()
    message = str(failed.value)
    assert calls == ["shutter closed"]  # the steps that could run did
    assert "\n" not in message and message.startswith("cleanup: 3 cleanup steps failed: stop (RuntimeError: tm1: ")
    assert "; restoring tm1's velocity (" in message and "; moving tm1 back (" in message


def test_cleanup_refuses_what_it_cannot_clean_before_the_block_runs(session):
    ran = []
    not_cleanable = r"^cleanup: cannot clean up 42: it is no motor, no function and has no single stop"
    with pytest.raises(TypeError, match=not_cleanable), session["cleanup"](42):
        ran.append(True)
    not_a_setting = r"^cleanup: restore_list holds \['POS'\]; give axis.POS"
    with pytest.raises(TypeError, match=not_a_setting), session["cleanup"](session["roby"], restore_list=("POS",)):
        ran.append(True)
    assert ran == []


def test_scan_display_chooses_the_columns_of_the_scan_table(session, capsys):
    display = session["SCAN_DISPLAY"]
    current().watch = shell_display(current().client, display.columns)
    display.displayed_channels = ["diode2"]
    session["ascan"](session["roby"], 0, 1, 2, 0.01, session["diode"], session["diode2"])
    out = capsys.readouterr().out
    assert re.search(r"^ +# +roby\[mm\] +dt\[s\] +diode2\[mm\]$", out, re.M), out
    assert "   not in the table: diode\n" in out
    display.scan_display_filter_enabled = False
    session["ascan"](session["roby"], 0, 1, 2, 0.01, session["diode"], session["diode2"])
    assert re.search(r"^ +# +roby\[mm\] +dt\[s\] +diode\[mm\] +diode2\[mm\]$", capsys.readouterr().out, re.M)
    assert display.displayed_channels == ["diode2"]  # kept for when the filter is on again
    display.scan_display_filter_enabled = True
    display.displayed_channels = []


def test_scan_display_refuses_what_is_no_list_of_names_and_keeps_its_choice(session):
    display = session["SCAN_DISPLAY"]
    display.displayed_channels = ["diode"]
    not_a_list = r"^SCAN_DISPLAY.displayed_channels: give a list of counter names, e.g. \['diode'\], not 'diode2'$"
    with pytest.raises(TypeError, match=not_a_list):
        display.displayed_channels = "diode2"
    with pytest.raises(TypeError, match=r"^SCAN_DISPLAY.scan_display_filter_enabled: give True or False, not 'no'$"):
        display.scan_display_filter_enabled = "no"
    assert (display.displayed_channels, display.scan_display_filter_enabled) == (["diode"], True)
    display.displayed_channels = []


def test_edit_mg_refuses_what_is_no_group_and_needs_a_terminal(session):
    with pytest.raises(TypeError, match=r"^edit_mg: 'roby' is not a measurement group; lsmg\(\) lists them$"):
        session["edit_mg"](session["roby"])
    with pytest.raises(RuntimeError, match=r"^edit_mg: the dialog needs a terminal; here use MG1.enable\(...\) and MG1.disable"):
        session["edit_mg"]()
    assert session["MG1"].enabled == ["diode", "diode2"]


def test_elog_add_is_for_the_prompt(session):
    with pytest.raises(RuntimeError, match=r"^elog_add: only at the shell's prompt, which numbers the commands; use elog_print"):
        session["elog_add"]()


def test_info_of_a_motor_whose_server_died_shows_what_it_cannot_read(redis_client, tmp_path):
    port = free_port()
    server = start_simulator(port, instance="info_dead")
    try:
        session = open_tango_session(f"tango://127.0.0.1:{port}", redis_client, tmp_path)
        assert "     position (RW): 0.00000" in session["info"](session["tm1"]).splitlines()
        server.kill()  # from outside, as a crash
        server.communicate(timeout=10)
        lines = session["info"](session["tm1"]).splitlines()
    finally:
        server.kill()
    assert lines[:3] == ["AXIS:", "     name (R): tm1", "     unit (R): mm"]
    assert re.fullmatch(r"     position \(RW\): !ERR \(\w+: .+\)", next(line for line in lines if "position" in line))
    assert re.fullmatch(r"     state \(R\): .+", lines[8])  # every line is there


def test_scan_display_auto_opens_the_live_plots_once_when_a_scan_starts(shell_env):
    code = "SCAN_DISPLAY.auto = True; ct(0.01, diode); s = loopscan(2, 0.01, diode, save=False)"
    try:
        result = run_bliss("--config", str(BEAMLINE), "-s", "test_session", "-c", code, env=shell_env)
    finally:  # a setting of the session: the next tests' shells open no plots
        run_bliss("--config", str(BEAMLINE), "-s", "test_session", "-c", "SCAN_DISPLAY.auto = False", env=shell_env)
    opened = [line for line in result.stdout.splitlines() if line.startswith("Live plots of test_session: ")]
    url = opened[0].split(": ", 1)[1] if opened else None
    try:
        assert result.returncode == 0, result.stderr
        assert len(opened) == 1, result.stdout  # once per shell, not at every scan
        assert result.stdout.index(opened[0]) < result.stdout.index("diode = ")  # before the first scan shows
        assert viewer_status(url)["session"] == "test_session"
    finally:
        if url:
            stop_viewer_process(url)


def test_scan_display_refuses_a_setting_it_does_not_have(session):
    with pytest.raises(AttributeError, match=r"^SCAN_DISPLAY has no setting 'motor_position'; it has auto, displayed_"):
        session["SCAN_DISPLAY"].motor_position = False
    with pytest.raises(TypeError, match=r"^SCAN_DISPLAY.auto: give True or False, not 'yes'$"):
        session["SCAN_DISPLAY"].auto = "yes"
    assert session["SCAN_DISPLAY"].auto is False
