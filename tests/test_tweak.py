"""``tw``: the scientist steps motors with the arrow keys, in a real terminal."""

from __future__ import annotations

import math

import pytest

from bliss_shell.shell.tweak import tw
from terminal import run_bliss

RIGHT, LEFT, UP, DOWN = "\x1b[C", "\x1b[D", "\x1b[A", "\x1b[B"


def start_tw(shell, prompt: int, command: str, shown: str) -> None:
    """At prompt ``prompt``, run ``command`` and wait for the status line ``shown`` (a pattern)."""
    shell.prompt(prompt)
    shell.enter(command)
    shell.wait_for(rf"^{shown}$")


def demo_in_tw(open_terminal, setup: str, command: str, shown: str):
    """The demo shell: ``setup`` at prompt 1, then ``command`` (a ``tw``) at prompt 2 showing ``shown``."""
    shell = open_terminal("-s", "demo")
    shell.prompt(1)
    shell.enter(setup)
    start_tw(shell, 2, command, shown)
    return shell


def press(shell, key: str, shown: str) -> None:
    """Press ``key`` and wait for the status line to end as ``shown`` (a pattern)."""
    shell.type(key)
    shell.wait_for(rf"{shown}$")


def answer(shell, prompt: int, expression: str, shown: str):
    """At prompt ``prompt``, the result of ``expression``, which must match ``shown``."""
    shell.prompt(prompt)
    shell.enter(expression)
    return shell.wait_for(rf"^  Out \[{prompt}\]: {shown}$")


def test_arrows_step_the_motor_and_q_leaves_it_where_it_is(open_terminal):
    shell = demo_in_tw(open_terminal, "mv(roby, 0)", "tw(roby, 0.5)", r"roby\[mm\] 0\.00000  step 0\.5")
    assert "tw: left/right arrows move roby by -/+ its step" in shell.text()
    press(shell, RIGHT, r"^roby\[mm\] 0\.50000  step 0\.5")
    press(shell, RIGHT, r"^roby\[mm\] 1\.00000  step 0\.5")
    press(shell, LEFT, r"^roby\[mm\] 0\.50000  step 0\.5")
    shell.type("q")
    answer(shell, 3, "roby.position", r"0\.5")


def test_other_greenlets_run_while_tw_waits_for_a_key(open_terminal):
    shell = open_terminal("-s", "demo")
    start_tw(shell, 1, "gevent.spawn_later(0.2, print, '| a greenlet ran'); tw(roby, 0.5)", r"roby\[mm\] \S+  step 0\.5")
    shell.wait_for(r"\| a greenlet ran$")
    shell.type("q")
    shell.prompt(2)


def test_a_step_past_a_limit_is_refused_in_one_line_and_tw_goes_on(open_terminal):
    shell = demo_in_tw(open_terminal, "mv(roby, 900)", "tw(roby, 60)", r"roby\[mm\] 900\.00000  step 60")
    press(shell, RIGHT, r"^roby\[mm\] 960\.00000  step 60")
    press(shell, RIGHT, r"^tw: roby: position 1020 outside limits \(-1000, 1000\)\nroby\[mm\] 960\.00000  step 60")
    press(shell, LEFT, r"^roby\[mm\] 900\.00000  step 60")
    shell.type("\r")
    answer(shell, 3, "roby.position", r"900\.0")
    assert "Traceback" not in shell.text()
    shell.enter("tw(roby, 0)")
    shell.wait_for(
        r"^!!! === ValueError: tw: step 0 of roby must be a positive number \(the arrow keys give the direction\) === !!!"
    )
    shell.prompt(5)


def test_a_typed_step_and_half_of_it_move_the_second_motor_and_ctrl_c_leaves(open_terminal):
    shell = demo_in_tw(open_terminal, "mv(roby, 0, robz, 0)", "tw(roby, 0.5, robz, 0.25)",
                       r"roby\[mm\] 0\.00000  step 0\.5   robz\[mm\] 0\.00000  step 0\.25")  # fmt: skip
    press(shell, UP, r"^roby\[mm\] 0\.00000  step 0\.5   robz\[mm\] 0\.25000  step 0\.25")
    press(shell, "7", r"step 0\.25   new step for robz: 7")
    press(shell, "\x1b", r"robz\[mm\] 0\.25000  step 0\.25")  # Escape forgets it
    press(shell, "2", r"step 0\.25   new step for robz: 2")
    press(shell, "\r", r"^roby\[mm\] 0\.00000  step 0\.5   robz\[mm\] 0\.25000  step 2")
    press(shell, UP, r"robz\[mm\] 2\.25000  step 2")
    press(shell, "/", r"robz\[mm\] 2\.25000  step 1")
    press(shell, DOWN, r"robz\[mm\] 1\.25000  step 1")
    press(shell, RIGHT, r"^roby\[mm\] 0\.50000  step 0\.5   robz\[mm\] 1\.25000  step 1")
    shell.interrupt()
    answer(shell, 3, "roby.position, robz.position", r"\(0\.5, 1\.25\)")
    assert "KeyboardInterrupt" not in shell.text()


def test_ctrl_c_during_a_move_stops_the_motor_and_leaves_tw(open_terminal):
    shell = demo_in_tw(open_terminal, "mv(roby, 0); roby.velocity = 50", "tw(roby, 500)", r"roby\[mm\] 0\.00000  step 500")
    press(shell, RIGHT, r"moving roby\.\.\.")
    shell.interrupt()
    stopped = float(shell.wait_for(r"^tw interrupted: roby stopped at (\S+)$").group(1))
    shell.wait_for(r"^KeyboardInterrupt$")
    found = answer(shell, 3, "roby.state, roby.position", r"\('(\w+)', (\S+)\)")
    assert found.group(1) != "MOVING"
    # stopped where it was, short of the target: on a busy machine Ctrl-C may even come before it left 0
    assert 0 <= float(found.group(2)) < 500 and math.isclose(float(found.group(2)), stopped, abs_tol=1)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (("diode", 1), TypeError, "tw: .* is not a motor"),
        (("roby", "1"), TypeError, "tw: step '1' of roby is not a number"),
        (("roby", True), TypeError, "tw: step True of roby is not a number"),
        (("roby", 0), ValueError, "tw: step 0 of roby must be a positive number"),
        (("roby", -0.5), ValueError, "tw: step -0.5 of roby must be a positive number"),
        (("roby", math.nan), ValueError, "tw: step nan of roby must be a positive number"),
        (("roby", 1, "robz"), TypeError, r"tw: the second motor comes with its step: tw\(roby, 0.5, robz, 0.1\)"),
        (("roby", 1, None, 1), TypeError, "tw: the second motor comes with its step"),
        (("roby", 1, "roby", 1), ValueError, "tw: roby is given twice"),
        (("roby", 1, "robz", math.inf), ValueError, "tw: step inf of robz must be a positive number"),
    ],
)
def test_wrong_arguments_are_refused_before_anything_moves(session, arguments, error, message):
    before = session["roby"].position, session["robz"].position
    with pytest.raises(error, match=message):
        tw(*(session[a] if isinstance(a, str) and a in session else a for a in arguments))
    assert (session["roby"].position, session["robz"].position) == before


def test_without_a_terminal_tw_refuses_and_names_what_to_use_instead(shell_env):
    result = run_bliss("-s", "demo", "-c", "tw(roby, 0.5)", env=shell_env)
    assert result.returncode == 1
    assert (
        "RuntimeError: tw: reads the arrow keys, and standard input is not a terminal; in a script use mvr(roby, 0.5)"
        in result.stderr
    )
