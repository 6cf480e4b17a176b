"""The scientist at the keyboard: `bliss -s demo` in a real pseudo-terminal."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

from terminal import run_bliss


def test_opening_demo_shows_banner_setup_and_prompt(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    screen = shell.text()
    assert "Welcome to bliss_shell" in screen
    lines = screen.splitlines()
    order = ["demo: Loading config...", "OK: 14/14 objects successfully initialized.", "demo: Executing setup file...",
             "Done."]  # fmt: skip
    assert [lines.index(line) for line in order] == sorted(lines.index(line) for line in order)
    assert "Demo session: motors roby, robz" in screen  # printed by sessions/scripts/demo.py via load_script


def test_an_expression_shows_its_result_under_the_prompt_number(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("6 * 7")
    shell.wait_for(r"^  Out \[1\]: 42$")
    shell.prompt(2)


def test_background_greenlet_keeps_running_while_prompt_waits(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("g = gevent.spawn(lambda: [gevent.sleep(0.01) for _ in range(30)] and print('30 ticks at an idle prompt'))")
    shell.prompt(2)  # the user types nothing more: the greenlet runs while the prompt waits for a key
    shell.wait_for(r"^30 ticks at an idle prompt$")


def test_error_prints_one_line_and_last_error_shows_traceback(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("def f(): raise ValueError('roby: position 120 outside limits (-100, 100)')")
    shell.prompt(2)
    shell.enter("f()")
    shell.wait_for(
        r"^!!! === ValueError: roby: position 120 outside limits \(-100, 100\) === !!! "
        r"\( for more details type cmd 'last_error\(\)' \)$"
    )
    assert "Traceback" not in shell.text()
    shell.prompt(3)
    shell.enter("last_error()")
    shell.wait_for(r"Traceback \(most recent call last\):\n.*\n.*line 1, in f\n.*ValueError: roby: position 120")
    shell.prompt(4)
    assert "bliss_shell/shell" not in shell.text()  # the shell's own frames are not the user's business


def test_ctrl_c_interrupts_sleep_and_the_prompt_comes_back(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("print('sleeping'); sleep(10)")
    shell.wait_for(r"^sleeping$")
    shell.interrupt()
    shell.wait_for(r"^KeyboardInterrupt$", timeout=5)  # well before the 10 s are over
    shell.prompt(2, timeout=5)
    shell.enter("1 + 1")
    shell.wait_for(r"^  Out \[2\]: 2$")


def test_ctrl_c_keeps_background_greenlets_alive(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("ticks = []; g = gevent.spawn(lambda: [(ticks.append(1), gevent.sleep(0.01)) for _ in range(10**6)])")
    shell.prompt(2)
    shell.enter("print('sleeping'); sleep(10)")
    shell.wait_for(r"^sleeping$")
    shell.interrupt()
    shell.prompt(3, timeout=5)
    shell.enter("g.dead, len(ticks) > 0")
    shell.wait_for(r"^  Out \[3\]: \(False, True\)$")


def test_ctrl_d_asks_then_exits_and_keeps_history(open_terminal, shell_env):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("answer = 42")
    shell.prompt(2)
    shell.type("\x04")
    shell.wait_for("Do you really want to exit")
    shell.type("y")
    assert shell.wait_exit() == 0
    history = Path(shell_env["HOME"]) / ".bliss_shell_demo_history"
    assert "answer = 42" in history.read_text()


def test_unknown_session_lists_the_sessions(shell_env):
    result = run_bliss("-s", "nosuch", env=shell_env)
    assert result.returncode == 1
    assert result.stderr.strip() == "'nosuch' is not a session; sessions: demo, test_session"


def test_second_open_of_a_session_is_refused_naming_host_and_pid(open_terminal, shell_env):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    result = run_bliss("-s", "demo", "-c", "print('should not run')", env=shell_env)
    assert result.returncode == 1
    assert f"session 'demo' is already open on host {socket.gethostname()}, pid {shell.pid}" in result.stderr
    assert "should not run" not in result.stdout
    assert "Traceback" not in result.stderr
    other = run_bliss("-s", "test_session", "-c", "print('other session')", env=shell_env)
    assert other.returncode == 0 and "other session" in other.stdout


def test_session_lock_dies_with_its_shell(open_terminal, shell_env):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.child.kill(signal.SIGKILL)
    shell.child.wait()
    result = run_bliss("-s", "demo", "-c", "print('reopened')", env=shell_env)
    assert result.returncode == 0, result.stderr
    assert "reopened" in result.stdout


def test_exit_releases_the_session(open_terminal, shell_env):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("exit()")
    assert shell.wait_exit() == 0
    assert run_bliss("-s", "demo", "-c", "pass", env=shell_env).returncode == 0


def test_c_and_script_run_in_the_session_namespace(tmp_path, shell_env):
    ok = run_bliss("-s", "demo", "-c", "print(current_session.name, roby.name, roby.position, repr(cos(0)))", env=shell_env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("demo roby 0.0 1.0")  # numpy's numbers shown as BLISS 1.11 shows them
    assert "Welcome" not in ok.stdout

    script = tmp_path / "measure.py"
    script.write_text("print('in', current_session.name)\nraise SystemExit(3)\n")
    assert run_bliss("-s", "test_session", "--script", str(script), env=shell_env).returncode == 3


def test_c_and_script_exit_nonzero_on_uncaught_error(tmp_path, shell_env):
    failing = run_bliss("-s", "demo", "-c", "x = 1\n1/0", env=shell_env)
    assert failing.returncode == 1
    assert "ZeroDivisionError: division by zero" in failing.stderr
    assert 'File "<-c>", line 2' in failing.stderr

    script = tmp_path / "broken.py"
    script.write_text("import nosuchmodule\n")
    result = run_bliss("-s", "demo", "--script", str(script), env=shell_env)
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'nosuchmodule'" in result.stderr

    missing = run_bliss("-s", "demo", "--script", str(tmp_path / "nope.py"), env=shell_env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"bliss: cannot read script {tmp_path / 'nope.py'}: No such file or directory"


def test_list_and_version(shell_env):
    listed = run_bliss("--list", env=shell_env)
    assert listed.returncode == 0 and listed.stdout.split() == ["demo", "test_session"]
    version = run_bliss("--version", env=shell_env)
    assert version.returncode == 0 and re.fullmatch(r"bliss_shell \d+\.\d+\.\d+\S*\n", version.stdout)


def test_setup_file_error_is_shown_and_the_session_still_opens(open_terminal, tmp_path, shell_env):
    sessions = tmp_path / "beamline" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "__init__.yml").write_text("class: Session\n")
    (sessions / "broken.yml").write_text("name: broken\nsetup-file: ./broken_setup.py\n")
    (sessions / "broken_setup.py").write_text("before = 1\nraise RuntimeError('shutter not found')\nafter = 2\n")
    shell = open_terminal("-s", "broken", "--config", str(tmp_path / "beamline"))
    shell.wait_for(r"^!!! === RuntimeError: shutter not found === !!!")
    shell.prompt(1, label="BROKEN")
    shell.enter("before, 'after' in dir()")
    shell.wait_for(r"^   Out \[1\]: \(1, False\)$")
    shell.enter("last_error()")
    shell.wait_for(r'File ".*broken_setup.py", line 2, in <module>')


def test_a_scan_at_the_prompt_and_its_errors(open_terminal, tmp_path):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter(f"SCAN_SAVING.base_path = '{tmp_path}'; s = ascan(roby, 0, 9, 10, 0.01, diode)")
    shell.prompt(2)
    shell.enter("s")
    shell.wait_for(rf"^  Out \[2\]: Scan\(number=1, name=ascan, path={tmp_path}/demo/data.h5\)$", timeout=20)
    shell.prompt(3)
    shell.enter("ascan(roby, 0, 2000, 5, 0.1, diode)")
    shell.wait_for(r"^!!! === ValueError: ascan: roby: position 2000 outside limits \(-1000, 1000\) === !!!")
    shell.prompt(4)
    shell.enter("ascan(diode, 0, 1, 5, 0.1)")
    shell.wait_for(r"^!!! === TypeError: ascan: TangoCounter\('diode', id00/counter/diode\) is not a motor === !!!")
    shell.prompt(5)
    shell.enter("roby.position, len(SCANS)")
    shell.wait_for(r"^  Out \[5\]: \(9\.0, 1\)$")


def test_ctrl_c_during_a_scan_at_the_prompt(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("s = loopscan(1000, 0.05, diode, save=False)")
    shell.wait_for(r"\] +\d{2,3}/1000 ", timeout=30)  # the progress bar has passed 10 points
    shell.interrupt()
    shell.wait_for(r"^KeyboardInterrupt$", timeout=5)
    shell.prompt(2)
    shell.enter("SCANS[-1].state, SCANS[-1].node.end_state()['state'], 5 < len(SCANS[-1].get_data()['diode']) < 1000")
    shell.wait_for(r"^  Out \[2\]: \('aborted', 'aborted', True\)$")


def test_the_reference_lima_walkthrough_in_test_session(open_terminal):
    """The documentation's "Lima Data View" and "Getting image data" steps, typed as written."""
    shell = open_terminal("-s", "test_session")
    shell.prompt(1, label="TEST_SESSION", timeout=40)
    shell.enter("from bliss_shell.data import get_session_node")
    shell.prompt(2, label="TEST_SESSION")
    shell.enter("def g(filter=None):\n    for e in get_session_node('test_session').walk_events(include_filter=filter):\n"
                "        print(e.type, e.node.name, e.node.get(-1))\n")  # fmt: skip
    shell.prompt(3, label="TEST_SESSION")
    shell.enter('g3 = gevent.spawn(g, "lima")')
    shell.prompt(4, label="TEST_SESSION")
    shell.enter('lima_simulator = config.get("lima_simulator")')
    shell.prompt(5, label="TEST_SESSION")
    shell.enter("ct(0.1, lima_simulator)")
    shell.wait_for(r"^event.NEW_NODE image <LimaDataView lima_simulator frames")
    shell.wait_for(r"^event.NEW_DATA image <LimaDataView lima_simulator frames 0\.\.0>$")
    shell.wait_for(r"Out \[5\]: Scan\(number=\d+, name=ct, path=<no saving>\)")
    shell.enter("SCANS[-1].get_data()['lima_simulator:image'].get_image(-1)")
    shell.wait_for(r"dtype=uint32\)$")
    shell.enter("lima_node = next(SCANS[-1].node.walk(include_filter='lima', wait=False))")
    shell.prompt(8, label="TEST_SESSION")
    shell.enter("lima_node.get(-1).get_image(-1).shape")
    shell.wait_for(r"Out \[8\]: \(256, 256\)$")
