"""Opening a session loads what a session uses at once; the rest loads when first used, and then works.

``bench/startup.py`` times the opening; these tests only say what it loads and that what it left out works.
"""

from __future__ import annotations

from conftest import BEAMLINE
from terminal import run_bliss

RIGHT = "\x1b[C"
# What a session of simulated devices does not load when it opens: ptpython's prompt (a script run has none),
# prompt_toolkit (tw's keys and edit_mg's dialog load it when they start), PyTango (the first Tango device asked for
# loads it), h5py (the first saved scan or file read loads it), and the REST API's Flask, socket.io and pydantic (a
# session that serves it loads them)
NOT_LOADED = ("prompt_toolkit", "ptpython", "tango", "h5py", "flask", "socketio", "pydantic")


def test_a_script_run_leaves_unloaded_what_its_session_does_not_use_and_runs_with_the_collector_on(shell_env):
    code = (
        "import gc, sys\n"
        f"print('loaded:', sorted(name for name in {NOT_LOADED} if name in sys.modules))\n"
        "print('collector on:', gc.isenabled())\n"
    )
    result = run_bliss("--config", str(BEAMLINE), "-s", "test_session", "-c", code, env=shell_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ["loaded: []", "collector on: True"]


def test_tw_in_a_script_run_in_a_terminal_loads_the_key_reader_when_it_starts(open_terminal):
    code = (
        "import sys\n"
        "print('prompt_toolkit loaded before tw:', 'prompt_toolkit' in sys.modules)\n"
        "mv(roby, 0); tw(roby, 0.5)\n"
        "print(f'roby ended at {roby.position:g}')\n"
    )
    shell = open_terminal("--config", str(BEAMLINE), "-s", "test_session", "-c", code)
    shell.wait_for(r"^prompt_toolkit loaded before tw: False$", timeout=30)
    shell.wait_for(r"^roby\[mm\] 0\.00000  step 0\.5$")
    shell.type(RIGHT)
    shell.wait_for(r"^roby\[mm\] 0\.50000  step 0\.5$")
    shell.type("q")
    shell.wait_for(r"^roby ended at 0\.5$")
    assert shell.wait_exit() == 0


def test_edit_mg_in_a_script_run_in_a_terminal_loads_its_dialog_when_it_opens(open_terminal):
    code = "edit_mg(MG1)\nprint('enabled:', MG1.enabled)\nMG1.enable_all()\n"
    shell = open_terminal("--config", str(BEAMLINE), "-s", "test_session", "-c", code)
    shell.wait_for(r"\[\*\] diode +", timeout=30)
    shell.type(" ")  # the first counter, diode, unticked
    shell.wait_for(r"\[ \] diode +")
    shell.type("\t")  # to Ok
    shell.type("\r")
    shell.wait_for(r"^enabled: \['diode2'\]$")
    assert shell.wait_exit() == 0
