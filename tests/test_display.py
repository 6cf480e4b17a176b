"""The live scan display (read from Redis), ``bliss --watch``, and the typing helper's rewriting rules."""

from __future__ import annotations

import io
import re

import pytest

from bliss_shell.data import get_node
from bliss_shell.scanning import current
from bliss_shell.shell.scan_display import ScanTable, shell_display
from bliss_shell.shell.typing_helper import TypingHelper
from conftest import BEAMLINE, interruptible, wait_for


def rows_of(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if re.match(r"^ +\d+ ", line)]


def test_the_shell_display_prints_header_a_row_per_point_and_the_time_taken(session, capsys):
    current().watch = shell_display(current().client)
    scan = session["ascan"](session["roby"], 0, 4, 5, 0.01, session["sim_ct_gauss"], session["simu1"])
    out = capsys.readouterr().out
    data = scan.get_data()
    assert re.search(rf"^Scan 1  \w{{3}} \w{{3}} [ \d]\d \d\d:\d\d:\d\d \d{{4}}  file {re.escape(scan.path)}$", out, re.M)
    assert "\nascan roby 0 4 5 0.01\n   masters: [ axis:roby, timer:elapsed_time ]\n   not in the table: simu1\n" in out
    header = out.splitlines()[6:8]
    assert header[0].split() == ["axis", "timer", "sim_ct_gauss"]
    assert header[1].split() == ["#", "roby[mm]", "dt[s]", "sim_ct_gauss[mm]"]
    rows = rows_of(out)
    assert [row[0] for row in rows] == ["0", "1", "2", "3", "4"]
    assert [float(row[1]) for row in rows] == data["roby"].tolist()
    assert [row[3] for row in rows] == [f"{v:.6g}" for v in data["sim_ct_gauss"]]
    assert re.search(r"^Took 0:00:0\d\.\d\d  \(dead time \d+%\)$", out, re.M)


def test_ct_prints_its_own_lines_not_a_table(session, capsys):
    current().watch = shell_display(current().client)
    session["ct"](0.01, session["diode"])
    out = capsys.readouterr().out
    assert "Took" not in out and out.lstrip().startswith("diode = ")


def test_many_points_show_a_bar_and_the_last_point(session, capsys):
    current().watch = shell_display(current().client)
    scan = session["loopscan"](600, 0, session["diode"])
    out = capsys.readouterr().out
    assert re.search(r"^\[#{40}\] 600/600  \d+ pts/s  0:00:00\.00 left$", out, re.M)  # not a terminal: the bar once
    assert rows_of(out) == [["599", rows_of(out)[0][1], f"{scan.get_data()['diode'][-1]:.6g}"]]


def test_an_aborted_scan_says_so_and_a_narrow_terminal_drops_columns(session):
    scan = session["loopscan"](1000, 0.01, session["diode"], session["diode2"], session["c1"], run=False)
    command = interruptible(scan.run)
    wait_for(
        lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:diode:diode") or []) >= 3,
        "the scan did not take 3 points",
    )
    command.kill(KeyboardInterrupt, block=True)
    out = io.StringIO()
    ScanTable(scan.node, out, width=30).follow()  # a finished scan replays whole
    text = out.getvalue()
    assert "   not in the table: diode2, c1\n" in text
    assert text.rstrip().endswith("Scan aborted: interrupted by user (Ctrl-C)")


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "started-with-sigint-ignored"])
def test_bliss_watch_follows_the_scans_of_a_session_from_another_process(session, open_terminal, sigint_ignored):
    watcher = open_terminal("--config", str(BEAMLINE), "--watch", "test_session", sigint_ignored=sigint_ignored)
    watcher.wait_for(r"^Watching the scans of session test_session \(Ctrl-C to stop\)$", timeout=30)
    scan = session["ascan"](session["roby"], 0, 2, 3, 0, session["diode"])
    watcher.wait_for(r"^Took ", timeout=15)
    text = watcher.text()
    assert "ascan roby 0 2 3 0" in text
    assert [row[3] for row in rows_of(text)] == [f"{v:.6g}" for v in scan.get_data()["diode"]]
    watcher.interrupt()
    assert watcher.wait_exit() == 0


def test_bliss_watch_refuses_an_unknown_session(shell_env):
    from terminal import run_bliss

    result = run_bliss("--watch", "nosuch", env=shell_env)
    assert result.returncode == 1 and result.stderr.startswith("'nosuch' is not a session; sessions: ")


def ascan(*args, **kwargs):
    """A stand-in with a scan command's signature."""


def wa(**kwargs):
    """A stand-in with ``wa``'s signature."""


def sleep(seconds):
    """A stand-in with a required argument."""


def typed(helper: TypingHelper, keys: str) -> tuple[str, str | None]:
    """What the line shows after typing ``keys``, and what Enter runs (None: the line as shown)."""
    text = ""
    for key in keys:
        text += helper.on_space(text) if key == " " else key
    return text, helper.on_enter(text)


@pytest.mark.parametrize(
    ("keys", "shown", "run"),
    [
        ("ascan roby 0 9 10 0.1 diode", "ascan(roby,0,9,10,0.1,diode", "ascan(roby,0,9,10,0.1,diode)"),
        (
            "ascan roby  0 'a b' [1, 2] save=False",
            "ascan(roby,0,'a b',[1, 2],save=False",
            "ascan(roby,0,'a b',[1, 2],save=False)",
        ),
        ("wa", "wa", "wa()"),
        ("sleep", "sleep", None),  # a required argument: left as typed
        ("roby", "roby", None),  # not callable
        ("x = 1", "x = 1", None),  # an assignment
        ("roby.position", "roby.position", None),  # attribute access
        ("ascan(roby, 0, 1", "ascan(roby, 0, 1", None),  # the user's own parenthesis
        ("for i in range(3):", "for i in range(3):", None),
        ("print 'two words'", "print('two words'", "print('two words')"),
        ("dict", "dict", None),  # a class: typed to look at, not called
    ],
)
def test_typing_helper_rewrites(keys, shown, run):
    helper = TypingHelper({"ascan": ascan, "wa": wa, "sleep": sleep, "roby": 1.0})
    assert typed(helper, keys) == (shown, run)


def test_typing_helper_leaves_multi_line_input_alone():
    helper = TypingHelper({"wa": wa})
    assert helper.on_space("def f():\n    wa") == " "
    assert helper.on_enter("def f():\n    wa") is None
