"""The typing helper adds its own parenthesis and commas, and never drops a space the user typed."""

from __future__ import annotations

from bliss_shell.shell.typing_helper import TypingHelper


def ascan(motor, start, stop, npoints, count_time, *counters, **options):
    """A stand-in with ``ascan``'s signature."""


def typed(helper: TypingHelper, keys: str) -> str:
    """What the line shows after typing ``keys`` on a new line (``\b``: Backspace); the prompt tells each change."""
    helper.new_line()
    text = ""
    for key in keys:
        if key == "\b":
            text = text[:-1]
        else:
            text += helper.on_space(text) if key == " " else key
        helper.text_changed(text)
    return text


def test_a_space_after_a_comma_the_user_typed_stays():
    helper = TypingHelper({"ascan": ascan, "roby": 1.0})
    assert typed(helper, "ascan roby, 0, 2000, 10, 0.1") == "ascan(roby, 0, 2000, 10, 0.1"


def test_the_users_own_parentheses_are_left_alone_after_a_helped_line():
    helper = TypingHelper({"ascan": ascan, "roby": 1.0})
    assert typed(helper, "ascan roby 0 1 2 0.1") == "ascan(roby,0,1,2,0.1"
    assert typed(helper, "ascan(roby, 0, 2000, 10, 0.1)") == "ascan(roby, 0, 2000, 10, 0.1)"


def test_a_second_space_after_the_helpers_comma_is_still_one_comma():
    helper = TypingHelper({"ascan": ascan, "roby": 1.0})
    assert typed(helper, "ascan  roby  0") == "ascan(roby,0"


def test_a_space_after_a_comma_the_user_typed_again_stays():
    helper = TypingHelper({"ascan": ascan, "roby": 1.0})
    assert typed(helper, "ascan roby \b, 0") == "ascan(roby, 0"  # the helper's comma deleted, the user's typed
    assert typed(helper, "ascan roby 0 \b\b\b 0  1") == "ascan(roby,0,1"  # the helper's own commas still take one space
