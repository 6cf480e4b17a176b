"""What the REST tests read from a shell that serves the API: its refusal lines and its values.

The shell writes one line per refused request (``REST <METHOD> <path> refused (<status>): <text>``); :func:`refusals`
returns all of them, in order, so that a test can count them (a line written twice must fail a test that expects
one). :func:`shell_value` asks the shell for a value at its prompt, as a user types it. To wait for either, wrap the
condition with :func:`reading` and hand it to conftest's ``wait_for``: the terminal's output must keep being read
while a test waits, or a full pseudo-terminal stops the shell.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import NamedTuple

from terminal import Terminal

_REFUSED = re.compile(rb"REST (\S+) ([^\r\n]+?) refused \((\d+)\): ([^\r\n]*)")
_TOKENS = itertools.count()


class Refusal(NamedTuple):
    """One refusal line of the shell: ``REST <method> <path> refused (<status>): <text>``."""

    method: str
    path: str
    status: int
    text: str


def refusals(terminal: Terminal) -> list[Refusal]:
    """Every refusal line the shell printed so far (what it has just written is read first), in order.

    Examples
    --------
    >>> refused = Refusal("GET", "/api/object/nothing", 404, "No such object")
    >>> refusals(shell.terminal).count(refused)  # doctest: +SKIP
    1
    """
    terminal._pump(0.02)
    return [
        Refusal(method.decode(), path.decode(), int(status), text.decode(errors="replace").rstrip())
        for method, path, status, text in _REFUSED.findall(bytes(terminal.transcript))
    ]


def reading(terminal: Terminal, condition: Callable[[], object]) -> Callable[[], bool]:
    """``condition``, made to read what the shell printed each time it is asked (for conftest's ``wait_for``).

    Examples
    --------
    >>> wait_for(reading(shell.terminal, lambda: len(refusals(shell.terminal)) == 2), "not 2 refusals", 10)  # doctest: +SKIP
    """

    def read_then_check() -> bool:
        terminal._pump(0.02)
        return bool(condition())

    return read_then_check


def shell_value(terminal: Terminal, expression: str, timeout: float = 15.0) -> str:
    """The ``repr`` of ``expression`` as the shell computes it at its prompt (typed there, printed after a token).

    Examples
    --------
    >>> shell_value(shell.terminal, "roby.velocity")  # doctest: +SKIP
    '2.0'
    """
    token = f"V{next(_TOKENS)}"
    terminal.enter(f"print('{token}' + '=<' + repr({expression}) + '>')", timeout)
    return terminal.wait_for(rf"{token}=<(.*)>", timeout).group(1)
