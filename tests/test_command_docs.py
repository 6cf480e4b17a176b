"""What ``help(ascan)`` shows: each parameter of a command documented once, its shared text filled in, numpydoc clean.

The shared parameters (``count_time``, ``*counters``, ``**options``, ...) are written once in
``bliss_shell/scanning/parameters.py`` and filled into each command's docstring at import.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bliss_shell.scanning import COMMANDS
from bliss_shell.scanning.parameters import PLACEHOLDER, shared

ROOT = Path(__file__).resolve().parents[1]
SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}\n", re.MULTILINE)


def documented_parameters(doc: str) -> list[str]:
    """The names the docstring's Parameters section describes, each as often as it does (``s1, e1 : float``: two)."""
    sections = list(SECTION.finditer(doc))
    found = next((index for index, section in enumerate(sections) if section.group(1) == "Parameters"), None)
    if found is None:
        return []
    end = sections[found + 1].start() if found + 1 < len(sections) else len(doc)
    body = doc[sections[found].end() : end]
    headers = [line.split(" : ")[0] for line in body.splitlines() if line and not line[0].isspace()]
    return [name.strip() for header in headers for name in header.split(",")]


def signature_parameters(command) -> list[str]:
    kinds = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [kinds.get(p.kind, "") + p.name for p in inspect.signature(command).parameters.values() if not p.name.startswith("_")]


def test_every_command_documents_each_parameter_of_its_signature_once():
    wrong = {}
    for command in COMMANDS:
        doc = inspect.getdoc(command) or ""
        left = [line.strip() for line in doc.splitlines() if PLACEHOLDER.match(line)]
        found = Counter(documented_parameters(doc))
        expected = Counter(signature_parameters(command))
        if left or found != expected:
            wrong[command.__name__] = f"placeholders left {left}; documents {dict(found)}, signature {dict(expected)}"
    assert not wrong, "\n".join(f"{name}: {what}" for name, what in wrong.items())


def test_the_shared_texts_are_in_help():
    ascan, loopscan = (next(c for c in COMMANDS if c.__name__ == name) for name in ("ascan", "loopscan"))
    for command in (ascan, loopscan):
        doc = inspect.getdoc(command) or ""
        assert "count_time : float\n    Seconds counted at each point, >= 0." in doc
        assert "- ``sleep_time`` (float, default 0): seconds to wait after each point." in doc


def test_the_filled_docstrings_pass_the_docstring_rules():
    """The project's ruff rules (its D rules check numpydoc) on each command's docstring as ``help()`` shows it."""
    module = '"""The commands\' docstrings as filled at import."""\n'
    for command in COMMANDS:
        doc = command.__doc__ or ""
        prefix = "r" if "\\" in doc else ""
        module += f'\n\ndef {command.__name__}():\n    {prefix}"""{doc}"""\n'
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ruff"), "check", "--no-cache", "--stdin-filename",
         "bliss_shell/scanning/filled_docstrings.py", "-"],
        cwd=ROOT, input=module, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_placeholder_without_text_is_refused_at_import():
    def count(count_time):
        """Count.

        Parameters
        ----------
        {count_tim}
        """

    with pytest.raises(ValueError, match=r"count: its docstring names \{count_tim\}, which is none of count_time$"):
        shared({"count_time": "count_time : float\n    Seconds."})(count)
    assert "{count_tim}" in (count.__doc__ or "")  # the docstring as written, nothing half-filled
