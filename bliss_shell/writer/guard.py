"""The guard of a shell's scan files: a small process that finishes the file a dead shell was writing.

It outlives the shell and, if the shell dies while writing a scan, finishes that file at once
(``recovery.py``). A shell that ends normally leaves it nothing.

``python -m bliss_shell.writer guard SHELL_PID STATE_FILE``: started by the first saved scan of a shell.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bliss_shell.comm import runtime_dir
from bliss_shell.comm.processes import pid_alive

from .recovery import recover

_LOOK = 0.2  # s between looks at the shell
_guarded: set[int] = set()  # shells whose guard runs (a forked child needs a guard of its own)


def _state_file() -> Path:
    """Where this shell notes the file it writes, for its guard: ``<runtime dir>/writing/shell-PID.json``."""
    folder = runtime_dir() / "writing"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"shell-{os.getpid()}.json"


def watch(filename: str) -> None:
    """Note that this shell writes ``filename`` now: if it dies before ``done()``, its guard finishes the file.

    The first call of a shell starts its guard, in a session of its own (closing the terminal leaves it running).
    """
    state = _state_file()
    state.write_text(json.dumps({"filename": os.path.abspath(filename)}))
    if os.getpid() not in _guarded:
        command = [sys.executable, "-m", "bliss_shell.writer", "guard", str(os.getpid()), str(state)]
        log = os.open(state.parent / "guard.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:  # a session of its own: closing the terminal (SIGHUP to the shell's group) leaves it running
            os.posix_spawn(sys.executable, command, os.environ, setsid=True, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, log, 1),
                (os.POSIX_SPAWN_DUP2, log, 2)])  # fmt: skip
        finally:
            os.close(log)
        _guarded.add(os.getpid())


def done() -> None:
    """The scan's file is complete and closed."""
    _state_file().unlink(missing_ok=True)


def guard(shell_pid: int, state: Path) -> list[str]:
    """Wait for the shell to end; finish the file it was writing, if any.

    Returns
    -------
    list of str
        The entries marked interrupted (none when the shell ended normally).
    """
    while pid_alive(shell_pid):
        time.sleep(_LOOK)
    try:
        filename = json.loads(state.read_text())["filename"]
    except (OSError, ValueError, KeyError):
        return []  # it ended normally: nothing was being written
    marked = recover(filename)
    state.unlink(missing_ok=True)
    return marked
