"""The scientist's shell in a real pseudo-terminal: typing helper, live display, helpers, Ctrl-C."""

from __future__ import annotations

import re

import h5py
import pytest

from conftest import BEAMLINE, wait_for

F7 = "\x1b[18~"


@pytest.fixture
def sim_shell(open_terminal, tmp_path):
    """``test_session`` of tests/beamline (simulated motors, slowy among them), saving under tmp_path."""
    shell = open_terminal("--config", str(BEAMLINE), "-s", "test_session")
    shell.prompt(1, label="TEST_SESSION", timeout=30)
    shell.enter(f"SCAN_SAVING.base_path = '{tmp_path}'")
    shell.prompt(2, label="TEST_SESSION")
    return shell


def file_status(path: str, entry: str) -> bytes:
    with h5py.File(path, "r") as saved:
        return saved[entry]["writer/status"][()]


def test_the_typing_helper_writes_the_parentheses_and_f7_turns_it_off(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.wait_for(r"^ demo  data: \S+/data\.h5  \[F7\] Typing helper \(on\)")  # the toolbar is drawn after the prompt
    shell.type("ascan roby 0 4 5 0.01 diode save=False")
    shell.wait_for(r"^DEMO \[1\]: ascan\(roby,0,4,5,0\.01,diode,save=False$")
    shell.type("\r")
    shell.wait_for(r"^  Out \[1\]: Scan\(number=\d+, name=ascan, path=<no saving>\)$")
    shell.enter("wa")
    shell.wait_for(r"^DEMO \[2\]: wa\(\)\nCurrent Positions: user$")
    shell.prompt(3)
    shell.type(F7)
    shell.wait_for(r"\[F7\] Typing helper \(off\)")
    shell.enter("wa")
    shell.wait_for(r"^  Out \[3\]: <function wa at 0x[0-9a-f]+>$")
    shell.type(F7)
    shell.enter("roby.position")  # attribute access: untouched
    shell.wait_for(r"^  Out \[4\]: 4\.0$")
    shell.type("rob")  # Tab completes session objects, then their methods
    shell.wait_for(r"^ +robz$")  # the completions, shown while typing
    shell.type("\t")
    shell.wait_for(r"^DEMO \[5\]: roby$")
    shell.type(".mo")
    shell.wait_for(r"^ +move\(\)")
    shell.type("\t")
    shell.wait_for(r"^DEMO \[5\]: roby\.move$")
    shell.interrupt()  # Ctrl-C at the prompt: a fresh, empty line
    shell.prompt(5)


def test_the_typing_helper_keeps_the_spaces_typed(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.type("ascan roby, 0, 4, 5, 0.01, diode save=False")  # the user's commas and spaces stay
    shell.wait_for(r"^DEMO \[1\]: ascan\(roby, 0, 4, 5, 0\.01, diode,save=False$")
    shell.type("\r")
    shell.prompt(2)
    shell.type("ascan(roby, 0, 2, 3, 0.01, diode, save=False)")  # the user's own parentheses, after a helped line
    shell.wait_for(r"^DEMO \[2\]: ascan\(roby, 0, 2, 3, 0\.01, diode, save=False\)$")
    shell.type("\r")
    shell.wait_for(r"^  Out \[2\]: Scan\(number=\d+, name=ascan, path=<no saving>\)$")
    shell.prompt(3)
    shell.type("ascan roby \x7f, 0")  # the helper's comma taken back with Backspace, then the user's own
    shell.wait_for(r"^DEMO \[3\]: ascan\(roby, 0$")


def test_the_table_grows_while_the_scan_runs(sim_shell):
    sim_shell.enter("ascan(roby, 0, 9, 10, 0.3, diode)")
    sim_shell.wait_for(r"^ +# +roby\[mm\] +dt\[s\] +diode\[mm\]$")
    sim_shell.wait_for(r"^ +2 +2 +0\.6\d+ +-?[\d.]+$")
    assert "Took" not in sim_shell.text()  # rows arrive before the scan ends
    sim_shell.wait_for(r"^ +9 +9 +2\.\d+ +-?[\d.]+$")
    sim_shell.wait_for(r"^Took 0:00:0\d\.\d\d  \(dead time \d+%\)$")
    sim_shell.prompt(3, label="TEST_SESSION")


def test_a_long_loopscan_shows_a_progress_bar(sim_shell):
    sim_shell.enter("loopscan(3000, 0.002, diode, save=False)")
    found = sim_shell.wait_for(r"^\[#*\.+\] (\d+)/3000  \d+ pts/s  0:00:\d\d\.\d\d left$", timeout=20)
    assert int(found.group(1)) < 3000  # seen while running
    sim_shell.wait_for(r"^\[#{40}\] 3000/3000 ")
    sim_shell.wait_for(r"^  2999 ")
    sim_shell.wait_for(r"^Took ")
    sim_shell.prompt(3, label="TEST_SESSION")


def test_wa_wm_and_umv_at_the_prompt(sim_shell):
    sim_shell.enter("umv(slowy, 1)")
    sim_shell.wait_for(r"^Moving slowy from 0\.00000 to 1\.00000$")
    sim_shell.wait_for(r"^slowy\[mm\]\n---------\n  1\.00000\n  1\.00000$")
    assert re.search(rb"\rslowy\[mm\] 0\.[1-9]\d{4}", sim_shell.transcript)  # shown moving, on one line rewritten
    sim_shell.prompt(3, label="TEST_SESSION")
    sim_shell.enter("wm(slowy)")
    sim_shell.wait_for(r"^ Current\s+1\.00000\n Low\s+-100\.00000\nOffset\s+0\.00000$")
    sim_shell.prompt(4, label="TEST_SESSION")
    sim_shell.enter("wa")
    sim_shell.wait_for(r"^roby\[mm\]  robz\[mm\]  slowy\[mm\]\n.*\n 0\.00000   0\.00000    1\.00000$")


def test_ctrl_c_once_stops_the_scan_cleanly_and_the_next_scan_works(sim_shell):
    sim_shell.enter("ascan(slowy, 0, 5, 6, 0, diode)")  # about 1.3 s per point
    sim_shell.wait_for(r"^ +1 +1 ", timeout=10)
    sim_shell.interrupt()
    sim_shell.wait_for(r"^Scan aborted: interrupted by user \(Ctrl-C\)$")
    sim_shell.wait_for(r"^  slowy stopped at \d\.\d{5}$")
    sim_shell.wait_for(r"^KeyboardInterrupt$")
    sim_shell.prompt(3, label="TEST_SESSION")
    sim_shell.enter("s = SCANS[-1]; print('after:', s.state, s.node.end_state()['state'], slowy.state, s.path, f'{s.number}.1')")
    state, redis_state, motor, path, entry = sim_shell.wait_for(r"^after: (\w+) (\w+) (\w+) (\S+) (\S+)$").groups()
    assert (state, redis_state, motor) == ("aborted", "aborted", "READY")
    assert file_status(path, entry) == b"ABORTED"
    sim_shell.enter("ascan(roby, 0, 1, 2, 0, diode).state")
    sim_shell.wait_for(r"Out \[4\]: 'done'$")


def test_ctrl_c_twice_forces_the_abort_and_the_records_still_say_aborted(sim_shell):
    sim_shell.enter("dscan(slowy, 0, 4, 5, 0, diode)")
    sim_shell.wait_for(r"^ +2 +2 ", timeout=10)  # slowy at 2 or beyond: going back to 0 takes about 2 s
    sim_shell.interrupt()
    sim_shell.wait_for(r"^  slowy stopped at \d\.\d{5}, going back to 0\.00000$")
    sim_shell.interrupt()  # while it goes back
    sim_shell.wait_for(r"slowy: return to 0\.00000 stopped by a second Ctrl-C at -?\d+\.\d{5}$")  # after the ^C echo
    sim_shell.wait_for(r"^KeyboardInterrupt$")
    sim_shell.prompt(3, label="TEST_SESSION")
    sim_shell.enter(
        "s = SCANS[-1]; print('after:', s.state, s.node.end_state()['state'], slowy.state, slowy.position, s.path, f'{s.number}.1')"
    )
    found = sim_shell.wait_for(r"^after: (\w+) (\w+) (\w+) (\S+) (\S+) (\S+)$")
    state, redis_state, motor, where, path, entry = found.groups()
    assert (state, redis_state, motor) == ("aborted", "aborted", "READY")
    assert 0 < float(where) < 3  # stopped on its way back
    assert file_status(path, entry) == b"ABORTED"
    sim_shell.enter("loopscan(2, 0, diode).state")
    sim_shell.wait_for(r"Out \[4\]: 'done'$")


def test_ctrl_c_breaks_a_loop_of_scans(sim_shell):
    sim_shell.enter("for i in range(5): loopscan(200, 0.01, diode, save=False)\n")
    sim_shell.wait_for(r"^\[#*\.+\] [1-9]\d*/200 ")  # the first scan's bar: some points taken, not all
    sim_shell.interrupt()
    sim_shell.wait_for(r"^KeyboardInterrupt$")
    sim_shell.prompt(3, label="TEST_SESSION")
    sim_shell.enter("i, len(SCANS), SCANS[-1].state")
    sim_shell.wait_for(r"Out \[3\]: \(0, 1, 'aborted'\)$")


def test_helpers_and_the_display_work_the_same_in_a_script(shell_env, tmp_path):
    from terminal import run_bliss

    code = f"SCAN_SAVING.base_path = '{tmp_path}'\nascan(roby, 0, 6, 13, 0, sim_ct_gauss)\nprint('cen', cen())\ngoto_peak()\nwa()"
    result = run_bliss("--config", str(BEAMLINE), "-s", "test_session", "-c", code, env=shell_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^ +12 +6 +\S+ +\S+$", out, re.M) and "\nTook " in out
    assert abs(float(re.search(r"^cen (\S+)$", out, re.M).group(1)) - 3.2) < 0.5
    assert "Moving roby from 6.00000 to 3.00000" in out
    assert out.rstrip().endswith(" 3.00000   0.00000    0.00000")


def test_a_motors_or_counters_name_alone_shows_its_info_block(sim_shell):
    sim_shell.enter("roby")
    sim_shell.wait_for(r"^ +Out \[2\]: AXIS:\n +name \(R\): roby\n +unit \(R\): mm\n +offset \(R\): 0\.00000$")
    sim_shell.wait_for(r"^ +position \(RW\): 0\.00000\n +state \(R\): READY$")
    sim_shell.enter("diode")
    sim_shell.wait_for(r"^ +Out \[3\]: 'diode' counter info:\n +controller = diode$")
    sim_shell.enter("roby.position")  # anything else: as Python shows it
    sim_shell.wait_for(r"^ +Out \[4\]: 0\.0$")
    sim_shell.enter("type('Shutter', (), {'__info__': lambda self: 1 / 0})()")  # a broken block: an error, not the end
    sim_shell.wait_for(r"^!!! === ZeroDivisionError: division by zero === !!!")
    sim_shell.prompt(6, label="TEST_SESSION")


def test_elog_add_sends_what_a_command_showed_to_the_logbook(sim_shell, tmp_path):
    logbook = tmp_path / "test_session" / "test_session_logbook.txt"
    sim_shell.enter("wm(roby)")
    sim_shell.prompt(3, label="TEST_SESSION")
    sim_shell.enter("diode")
    sim_shell.prompt(4, label="TEST_SESSION")
    sim_shell.enter("elog_add(2); elog_add()")
    sim_shell.prompt(5, label="TEST_SESSION")
    wait_for(lambda: logbook.exists() and "output of [3]" in logbook.read_text(), "elog_add wrote nothing")
    text = logbook.read_text()
    assert re.search(r"^\S+ \S+  output of \[2\] wm\(roby\):\n +roby\[mm\]\n +-+  -+\n +User\n", text, re.M), text
    assert re.search(r"^\S+ \S+  output of \[3\] diode:\n +'diode' counter info:\n +controller = diode\n", text, re.M), text
    sim_shell.enter("elog_add(0)")
    sim_shell.wait_for(r"^!!! === ValueError: elog_add: index is a prompt number \(3 for \[3\]\) or negative")
    sim_shell.enter("elog_add(99)")
    sim_shell.wait_for(r"^!!! === ValueError: elog_add: no command \[99\] among the last 19 of this shell")
    assert logbook.read_text() == text  # nothing added by the refused ones


def test_edit_mg_ticks_the_counters_of_a_group_in_a_dialog(sim_shell):
    sim_shell.enter("edit_mg(MG1)")
    sim_shell.wait_for(r"Measurement group MG1: enable / disable counters")
    sim_shell.wait_for(r"\[\*\] diode +")
    sim_shell.type(" ")  # the first counter, diode, unticked
    sim_shell.wait_for(r"\[ \] diode +")
    sim_shell.type("\t")  # to Ok
    sim_shell.type("\r")
    sim_shell.prompt(3, label="TEST_SESSION")
    sim_shell.enter("MG1.enabled, MG1.disabled")
    sim_shell.wait_for(r"^ +Out \[3\]: \(\['diode2'\], \['diode'\]\)$")
    sim_shell.enter("edit_mg()")  # the active group, MG1; Escape: nothing changes
    sim_shell.wait_for(r"\[ \] diode +")
    sim_shell.type("\x1b")
    sim_shell.wait_for(r"^edit_mg: cancelled, MG1 unchanged$")
    sim_shell.enter("MG1.enable_all()")
    sim_shell.prompt(6, label="TEST_SESSION")
    sim_shell.enter("MG1.enabled")
    sim_shell.wait_for(r"^ +Out \[6\]: \['diode', 'diode2'\]$")
    sim_shell.enter("print('sleeping'); sleep(60)")  # the dialogs gave Ctrl-C back to the shell
    sim_shell.wait_for(r"^sleeping$")
    sim_shell.interrupt()
    sim_shell.wait_for(r"^KeyboardInterrupt$", timeout=10)  # well before the 60 s are over
    sim_shell.prompt(8, label="TEST_SESSION", timeout=10)
