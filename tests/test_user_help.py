"""What ``help(name)`` shows a user, for every command and object a session gives them: numpydoc sections
(``Parameters`` when it takes any, ``Examples`` with lines to type). tests/test_doctests.py runs the examples.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}$", re.MULTILINE)


def lacks(documented: Any, parameters: bool) -> list[str]:
    """The numpydoc sections ``documented``'s docstring should have and has not."""
    doc = inspect.getdoc(documented) or ""
    sections = set(SECTION.findall(doc))
    wanted = ["Parameters"] * parameters + ["Examples"]
    missing = [section for section in wanted if section not in sections]
    if "Examples" in sections and ">>> " not in doc:
        missing.append("a line to type (>>>) under Examples")
    return missing


def report(missing: dict[str, list[str]]) -> str:
    return "help() lacks numpydoc sections:\n" + "\n".join(f"{name}: {', '.join(gaps)}" for name, gaps in sorted(missing.items()))


def takes_parameters(command: Callable) -> bool:
    return any(name not in ("self", "cls") for name in inspect.signature(command).parameters)


def ours(value: Any) -> bool:
    return (getattr(value, "__module__", None) or "").startswith("bliss_shell")


def test_every_command_of_a_session_has_its_parameters_and_an_example_in_help(session):
    commands = {name: value for name, value in session.items() if inspect.isfunction(value) and ours(value)}
    assert {"ascan", "ct", "wa", "mv", "newsample", "tw"} <= commands.keys()  # the namespace is what a user gets
    missing = {name: gaps for name, command in commands.items() if (gaps := lacks(command, takes_parameters(command)))}
    assert not missing, report(missing)


def test_every_object_of_a_session_has_an_example_in_help(session):
    kinds = {type(value) for value in session.values() if not inspect.isroutine(value) and ours(type(value))}
    assert {type(session["roby"]), type(session["diode"]), type(session["SCAN_SAVING"])} <= kinds
    missing = {kind.__qualname__: gaps for kind in kinds if (gaps := lacks(kind, parameters=False))}
    assert not missing, report(missing)
