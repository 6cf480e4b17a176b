"""User scripts and prdef, typed as a user would in the session (in-process; one test at a real prompt)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bliss_shell.config import ConfigRoot
from conftest import BEAMLINE, open_session

ALIGN = '''\
import math

print("[loading script] align_spectrometer()")


def align_spectrometer(energy=5.0):
    """Align for one energy."""
    return f"aligned {roby.name} for {energy} keV"


_private = 1
'''


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    """A user's script folder: align.py, tomo/fullfield.py, a broken one, a note that is no script."""
    folder = tmp_path / "userscripts"
    (folder / "tomo").mkdir(parents=True)
    (folder / "align.py").write_text(ALIGN)
    (folder / "tomo" / "fullfield.py").write_text("def fullfield(expo):\n    return expo * 2\n")
    (folder / "broken.py").write_text("def before():\n    return 1\n\nvalue = 1 / 0\n\ndef after():\n    return 2\n")
    (folder / "notes.txt").write_text("not a script")
    return folder


def test_the_script_folder_is_kept_for_the_sessions_next_shells(session, scripts, redis_client, tmp_path):
    assert session["user_script_homedir"]() is None
    session["user_script_homedir"](str(scripts))
    assert session["user_script_homedir"]() == str(scripts)
    next_shell = open_session([ConfigRoot(BEAMLINE)], "test_session", redis_client, tmp_path / "scans")
    assert next_shell["user_script_homedir"]() == str(scripts)
    redis_client.flushall()  # an embedded Redis restarted: the setting's file still has it
    assert next_shell["user_script_homedir"]() == str(scripts)
    next_shell["user_script_homedir"](reset=True)
    assert next_shell["user_script_homedir"]() is None


def test_user_script_list_shows_the_scripts_of_every_subfolder(session, scripts, capsys):
    session["user_script_homedir"](str(scripts))
    session["user_script_list"]()
    assert capsys.readouterr().out.splitlines() == [
        f"List of python scripts in [{scripts}]:", " - align.py", " - broken.py", " - tomo/fullfield.py"]  # fmt: skip
    session["user_script_load"]()  # no script named: the list again, as in BLISS
    assert " - tomo/fullfield.py" in capsys.readouterr().out


def test_user_script_load_exports_into_user_then_merges(session, scripts, capsys):
    session["user_script_homedir"](str(scripts))
    session["user_script_load"]("align")
    out = capsys.readouterr().out
    assert out.splitlines() == [f"Loading [{scripts}/align.py]", "[loading script] align_spectrometer()",
                                "Exported [user] namespace in session."]  # fmt: skip
    user = session["user"]
    assert user.align_spectrometer(7.5) == "aligned roby for 7.5 keV"  # the script sees the session's objects
    assert user.math.pi > 3 and not hasattr(user, "_private") and not hasattr(user, "roby")
    assert "align_spectrometer" not in session
    session["user_script_load"]("tomo/fullfield.py")
    assert "Merged [user] namespace in session." in capsys.readouterr().out
    assert session["user"].fullfield(2) == 4 and session["user"].align_spectrometer() == "aligned roby for 5.0 keV"


def test_user_script_load_into_the_session_or_returned(session, scripts, capsys):
    loaded = session["user_script_load"](str(scripts / "tomo" / "fullfield"), export_global=False)  # absolute path
    assert loaded.fullfield(3) == 6 and "fullfield" not in session and "user" not in session
    session["user_script_load"](str(scripts / "align.py"), export_global=True)
    assert session["align_spectrometer"](1) == "aligned roby for 1 keV"
    session["user_script_load"](str(scripts / "tomo" / "fullfield.py"), export_global="tomo")
    assert session["tomo"].fullfield(1) == 2
    assert "Exported [tomo] namespace in session." in capsys.readouterr().out


def test_user_script_run_sees_the_session_and_keeps_nothing(session, scripts, capsys):
    (scripts / "move.py").write_text("mv(roby, 2)\nleftover = roby.position\n")
    session["user_script_homedir"](str(scripts))
    session["user_script_run"]("move")
    assert session["roby"].position == 2
    assert "leftover" not in session
    assert capsys.readouterr().out.startswith(f"Running [{scripts}/move.py]")


def test_a_script_that_raises_shows_its_own_traceback_and_the_session_carries_on(session, scripts, capsys):
    session["user_script_homedir"](str(scripts))
    before = dict(session)
    session["user_script_load"]("broken")  # printed, not raised, as in BLISS
    out = capsys.readouterr().out
    assert re.search(rf'File "{scripts}/broken.py", line 4, in <module>\n    value = 1 / 0\n.*ZeroDivisionError: division by zero\n'
                     r"broken.py stopped at this error", out, re.S)  # fmt: skip
    assert "user_scripts.py" not in out  # the shell's own frames are not the user's business
    assert session["user"].before() == 1 and not hasattr(session["user"], "after")  # what ran before the error
    assert {k: v for k, v in session.items() if k != "user"} == before
    (scripts / "syntax.py").write_text("def f(:\n")
    session["user_script_run"]("syntax")
    assert re.search(rf'File "{scripts}/syntax.py", line 1\n.*SyntaxError', capsys.readouterr().out, re.S)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            ("user_script_load", "align"),
            RuntimeError,
            r"user_script_load: no user script folder yet; set one with user_script_homedir\('/path/to/scripts'\), "
            r"or give the script's absolute path",
        ),
        (("user_script_list",), RuntimeError, r"user_script_list: no user script folder yet"),
        (("user_script_homedir", "scripts"), ValueError, r"user_script_homedir: 'scripts' is not an absolute path"),
        (
            ("user_script_homedir", "/nonexistent/scripts"),
            FileNotFoundError,
            r"user_script_homedir: /nonexistent/scripts is not a folder; create it first",
        ),
        (("user_script_homedir", 42), TypeError, r"user_script_homedir: the folder must be a path in quotes, not 42 \(int\)"),
        (("user_script_run", 42), TypeError, r"user_script_run: the script name must be a path in quotes, not 42 \(int\)"),
    ],
)
def test_bad_folders_and_names_are_refused_and_nothing_changes(session, call, error, message):
    before = dict(session)
    with pytest.raises(error, match=message):
        session[call[0]](*call[1:])
    assert session == before and session["user_script_homedir"]() is None


def test_an_unknown_script_names_the_scripts_there(session, scripts):
    session["user_script_homedir"](str(scripts))
    with pytest.raises(FileNotFoundError, match=rf"user_script_load: no script nope.py in {scripts}; "
                                                r"scripts there: align.py, broken.py, tomo/fullfield.py$"):  # fmt: skip
        session["user_script_load"]("nope")
    (scripts / "align.py").rename(scripts / "moved.py")
    scripts.rename(scripts.with_name("gone"))
    with pytest.raises(FileNotFoundError, match=rf"user_script_run: the user script folder {scripts} is gone"):
        session["user_script_run"]("align")


def test_a_namespace_never_replaces_a_session_object(session, scripts):
    roby = session["roby"]
    with pytest.raises(ValueError, match=r"user_script_load: export_global='roby': roby is already .*SimulationMotor.* "
                                         r"in the session; choose another name"):  # fmt: skip
        session["user_script_load"](str(scripts / "align.py"), export_global="roby")
    assert session["roby"] is roby
    with pytest.raises(TypeError, match=r"user_script_load: export_global=3: give a name"):
        session["user_script_load"](str(scripts / "align.py"), export_global=3)


def test_prdef_shows_file_line_and_source(session, scripts, capsys):
    session["user_script_load"](str(scripts / "align.py"))
    (scripts / "align.py").write_text("# changed on disk after loading\n")
    capsys.readouterr()
    session["prdef"](session["user"].align_spectrometer)
    assert capsys.readouterr().out == (f"'align_spectrometer' is defined in:\n{scripts}/align.py:6\n\n"
                                       'def align_spectrometer(energy=5.0):\n    """Align for one energy."""\n'
                                       '    return f"aligned {roby.name} for {energy} keV"\n')  # fmt: skip
    session["prdef"]("umv")  # a name of the session
    out = capsys.readouterr().out
    assert re.match(r"'umv' is defined in:\n.*bliss_shell/scanning/motors.py:\d+\n\ndef umv\(", out)
    session["mover"] = session["umv"]
    session["prdef"]("mover")
    assert capsys.readouterr().out.startswith("'mover' is an alias for 'umv' which is defined in:\n")


def test_prdef_without_a_source_file_says_so(session, capsys):
    exec(compile("def typed(x):\n    return x\n", "<-c>", "exec"), session)  # what bliss -c defines
    session["prdef"](session["typed"])
    assert capsys.readouterr().out == ("'typed' is defined in:\n<-c>:1\n\n"
                                       "(its source is not available: it was not read from a file this shell can read)\n")  # fmt: skip


@pytest.mark.parametrize(
    "given, error, message",
    [
        (42, TypeError, r"prdef: 42 is a int, not a function; give a function or a class, e.g. prdef\(type\(x\)\)"),
        ("nosuch", NameError, r"prdef: there is no 'nosuch' in the session; give a function or its name"),
        (len, TypeError, r"prdef: <built-in function len> is built into Python \(C code\)"),
    ],
)
def test_prdef_refuses_what_has_no_definition(session, capsys, given, error, message):
    with pytest.raises(error, match=message):
        session["prdef"](given)
    assert capsys.readouterr().out == ""


def test_prdef_of_a_function_typed_at_the_prompt(open_terminal):
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter("def twice(x): return 2 * x")
    shell.prompt(2)
    shell.enter("prdef(twice)")
    shell.wait_for(r"^'twice' is defined in:\n<stdin>:1 \(typed at the prompt\)\n\ndef twice\(x\): return 2 \* x$")
    shell.prompt(3)
