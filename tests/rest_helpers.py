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
import time
from collections.abc import Callable
from typing import Any, NamedTuple

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
    """The ``repr`` of ``expression`` as the shell computes it at its prompt (typed there, printed after a token),
    once the next prompt shows.

    Examples
    --------
    >>> shell_value(shell.terminal, "roby.velocity")  # doctest: +SKIP
    '2.0'
    """
    token = f"V{next(_TOKENS)}"
    terminal.enter(f"print('{token}' + '=<' + repr({expression}) + '>')", timeout)
    value = terminal.wait_for(rf"{token}=<(.*)>", timeout).group(1)
    # then the next prompt: the shell waits for input again (a call in_terminal now is no 429)
    typed = terminal.wait_for(rf"^(\S+) \[(\d+)\]: print\('{token}'", timeout)
    terminal.wait_for(rf"^{re.escape(typed.group(1))} \[{int(typed.group(2)) + 1}\]: *$", timeout)
    return value


def call(url: str, terminal: Terminal, body: dict[str, Any], timeout: float = 30.0) -> Any:
    """Run ``body`` through ``POST {url}/api/call``, wait (with ``timeout``) for its end, return its ``return_value``.

    The terminal's output is read meanwhile (a full pseudo-terminal would stop the shell). A call refused, failed,
    or not ended in time raises ``RuntimeError`` saying what the shell answered.

    Examples
    --------
    >>> call(shell.url, shell.terminal, {"env_object": "current_session", "function": "object_names"})  # doctest: +SKIP
    ['roby', 'robz', ...]
    """
    import httpx

    with httpx.Client(base_url=f"{url}/api", timeout=10) as http:
        posted = http.post("/call", json=body)
        if posted.status_code != 200:
            raise RuntimeError(f"POST /api/call {body} refused ({posted.status_code}): {posted.text}")
        call_id = posted.json()["call_id"]
        deadline = time.monotonic() + timeout
        while True:
            state = http.get(f"/call/{call_id}")
            if state.status_code != 200:
                raise RuntimeError(f"the call {body} failed ({state.status_code}): {state.text}")
            if state.json()["state"] == "terminated":
                return state.json().get("return_value")
            if time.monotonic() > deadline:
                http.delete(f"/call/{call_id}")
                raise RuntimeError(f"the call {body} did not end in {timeout} s: {state.json()}")
            terminal._pump(0.01)


def _builtin(function: str, *args: Any) -> dict[str, Any]:
    """The call of Python's builtin ``function(*args)`` in the shell (``__builtins__`` is in its namespace)."""
    return {"env_object": "__builtins__", "function": function, "args": list(args)}


def _objects(names: list[str]) -> dict[str, dict[str, str]]:
    """The session's objects of ``names``, by name, as a call's argument (jsonready)."""
    return {name: {"__type__": "object", "name": name} for name in names}


class Placed(NamedTuple):
    """Where a motor is: its dial position, and its offset and sign (user = sign * dial + offset)."""

    dial: float
    offset: float
    sign: int


# of the objects given, the motors a Tango server keeps (a url; a simulation motor lives in its shell only)
_TANGO_MOTORS = (
    "{name: [m.dial, m.offset, m.sign] for name, m in objects.items()"
    " if getattr(m, 'dial', None) is not None and getattr(m, 'url', None)}"
)


def tango_motors(url: str, terminal: Terminal) -> dict[str, Placed]:
    """Where each motor of the session that a Tango server keeps is (the demo's ``roby`` and ``robz``, whose server
    also keeps their offset and sign): what outlives the shell, for the next test to find as the config has it.

    Read through the REST API's calls (``current_session.object_names()``, then one expression over those
    objects), so that nothing is typed at the prompt (its numbering is the test's), nothing is registered and nothing
    is refused (a test counts the refusal lines).

    Examples
    --------
    >>> tango_motors(shell.url, shell.terminal)  # doctest: +SKIP
    {'roby': Placed(dial=0.0, offset=0.0, sign=1), 'robz': Placed(dial=0.0, offset=0.0, sign=1)}
    """
    names = call(url, terminal, {"env_object": "current_session", "function": "object_names"})
    found = call(url, terminal, _builtin("eval", _TANGO_MOTORS, {"objects": _objects(names)}))
    return {name: Placed(float(dial), float(offset), int(sign)) for name, (dial, offset, sign) in found.items()}


def put_back_code(placed: dict[str, Placed]) -> str:
    """The code that puts the motors of ``placed`` back: each one elsewhere goes back to its dial position (``mvd``:
    the user position is what its offset and sign make of it now), then gets its offset back
    (``motor.position = sign * dial + offset``).

    Examples
    --------
    >>> print(put_back_code({"roby": Placed(0.0, 0.0, 1)}))
    for motor, dial, offset in [(roby, 0.0, 0.0)]:
        if abs(motor.dial - dial) > 1e-6:
            mvd(motor, dial)
        if abs(motor.offset - offset) > 1e-9:
            motor.position = motor.sign * motor.dial + offset
    """
    triples = ", ".join(f"({name}, {was.dial!r}, {was.offset!r})" for name, was in placed.items())
    return (
        f"for motor, dial, offset in [{triples}]:\n"
        "    if abs(motor.dial - dial) > 1e-6:\n        mvd(motor, dial)\n"
        "    if abs(motor.offset - offset) > 1e-9:\n        motor.position = motor.sign * motor.dial + offset"
    )


def put_back_motors(url: str, terminal: Terminal, placed: dict[str, Placed], timeout: float = 60.0) -> None:
    """Run :func:`put_back_code` in the shell, through one call (its motors and ``mvd`` given as its names).

    Examples
    --------
    >>> put_back_motors(shell.url, shell.terminal, {"roby": Placed(0.0, 0.0, 1)})  # doctest: +SKIP
    """
    call(url, terminal, _builtin("exec", put_back_code(placed), _objects([*placed, "mvd"])), timeout)
