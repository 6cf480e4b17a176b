"""Starting the servers we run ourselves, and waiting for them to answer."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def start_detached(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a server in a session of its own, so it outlives the shell that started it."""
    with open(log, "ab") as output:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})}, start_new_session=True, cwd=log.parent,
        )  # fmt: skip


def wait_started(process: subprocess.Popen, answers: Callable[[], bool], timeout: float) -> bool:
    """Wait until the server answers; give up at once if it exited (a bad module, a port taken)."""
    return wait_until(lambda: answers() or process.poll() is not None, timeout) and process.poll() is None


def wait_until(answers: Callable[[], bool], timeout: float) -> bool:
    """Poll ``answers`` until it is true or ``timeout`` s have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers():
            return True
        time.sleep(0.02)
    return False


def log_tail(log: Path, lines: int = 5) -> str:
    """The last ``lines`` lines of a server's log, for the message that says why it did not start."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "no log"
