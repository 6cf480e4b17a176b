"""docs/commands.md names every command of the namespace with its real signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from bliss_shell.scanning import COMMANDS

COMMANDS_DOC = (Path(__file__).parents[1] / "docs" / "commands.md").read_text(encoding="utf-8")


def documented_signature(name: str) -> str:
    found = re.search(rf"^### {name}\n\n`({name}\(.*\))`\n\n.+\n\n    {name}", COMMANDS_DOC, re.M)
    assert found, f"docs/commands.md: no section with signature and example for {name}"
    return found.group(1)


def test_every_command_is_documented_with_its_signature_and_an_example():
    for command in COMMANDS:
        shown = documented_signature(command.__name__)
        parameters = [p for p in inspect.signature(command).parameters.values() if not p.name.startswith("_")]
        expected = [("*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else "") + p.name
                    for p in parameters]  # fmt: skip
        assert [part.split("=")[0] for part in shown[len(command.__name__) + 1 : -1].split(", ") if part] == expected


def test_the_shells_own_names_are_documented():
    for name in (
        "flint",
        "last_error",
        "load_script",
        "sleep",
        "tw",
        "user_script_homedir",
        "user_script_list",
        "user_script_load",
        "user_script_run",
        "prdef",
        "lprint",
        "elog_print",
        "clear",
        "newproposal",
        "endproposal",
        "newsample",
        "newcollection",
        "newdataset",
        "enddataset",
        "lsconfig",
        "info",
        "edit_mg",
        "countdown",
        "lslog",
        "debugon",
        "debugoff",
        "silx_view",
        "pymca",
        "elog_add",
        "elog_plot",
    ):
        documented_signature(name)


def test_every_config_class_is_documented():
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    classes = pyproject["project"]["entry-points"]["bliss_shell.classes"]
    config_doc = (Path(__file__).parents[1] / "docs" / "config.md").read_text(encoding="utf-8")
    missing = [name for name in classes if f"`{name}`" not in config_doc]
    assert missing == [], f"docs/config.md does not describe {missing}"
