"""Find the session's viewer, or start it: what ``flint()`` and ``bliss plot SESSION`` do.

The viewer records where it listens in the session's plot settings (``plot|<session>``
``viewer``); a record whose viewer does not answer ``/status``, and is not a viewer process
alive on this machine, is stale and a new viewer is started. It also records itself in the
runtime folder (``records.py``), where ``stop_viewer`` finds it even when its Redis is gone.
This module does not import Bokeh: the shell stays quick to start.

Examples
--------
>>> open_viewer(client, "test_session", "unix:///run/user/1000/bliss_shell/redis.sock")  # doctest: +SKIP
'http://127.0.0.1:40123/'
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

from bliss_shell.comm import REDIS_URL_ENV, RedisChoice, connect, redacted
from bliss_shell.comm.embedded_redis import runtime_dir
from bliss_shell.comm.processes import pid_runs
from bliss_shell.comm.redis_types import RedisClient, RedisError
from bliss_shell.data.keys import plot_key

from .records import end_viewer, running_viewers

START_TIMEOUT = 60.0  # s for a new viewer to listen (imports Bokeh, connects to Redis)


# Viewers started by this process: they outlive the call (and the shell); kept so that Python reaps them when
# they end instead of warning that a running process was dropped.
_started: list[subprocess.Popen] = []


class ViewerError(RuntimeError):
    """The viewer could not start; the message is its one line."""


def find_viewer(client: RedisClient, session: str) -> dict | None:
    """The record of the session's running viewer (``url``, ``pid``, ``host``), or None.

    A viewer that does not answer ``/status`` still counts while its process runs on this machine.

    Examples
    --------
    >>> find_viewer(client, "test_session") is None
    True
    """
    try:
        raw = client.hget(plot_key(session), "viewer")
    except RedisError:
        return None
    if not raw:
        return None
    record = json.loads(raw)
    try:
        with urllib.request.urlopen(record["url"] + "status", timeout=2) as answer:
            status = json.loads(answer.read())
    except (OSError, ValueError):
        # At nice 19 on a busy machine the viewer may answer late: its live process on this host is still it.
        return record if _viewer_alive_here(record) else None
    return record if status.get("session") == session else None


def _viewer_alive_here(record: dict) -> bool:
    """The record's process runs on this machine and is a viewer.

    Not a later process that got its pid; a zombie's command line is empty.
    """
    try:
        return record.get("host") == socket.gethostname() and pid_runs(int(record["pid"]), "bliss_shell.plot")
    except (KeyError, ValueError, TypeError):
        return False


def start_viewer(session: str, redis_url: str, address: str, port: int, log: Path) -> str:
    """Start the viewer process (it outlives the shell); its URL once it listens."""
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bliss_shell.plot", session, "--address", address, "--port", str(port)],
            env={**os.environ, REDIS_URL_ENV: redis_url},  # not in the arguments: others may read those
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file, start_new_session=True,
        )  # fmt: skip
    _started.append(process)
    lines = _first_lines(process, START_TIMEOUT)
    for line in lines:
        if line.startswith("url: "):
            for warning in (w for w in lines if w.startswith("warning: ")):
                print(warning[len("warning: ") :])
            return line[len("url: ") :]
    error = next((line[len("error: ") :] for line in lines if line.startswith("error: ")), None)
    if process.poll() is None:
        process.kill()
    raise ViewerError(error or f"the viewer did not start within {START_TIMEOUT:g} s; see {log}")


def _first_lines(process: subprocess.Popen, timeout: float) -> list[str]:
    """What the viewer prints before it hands its output to the log (it closes the pipe then)."""
    assert process.stdout is not None
    chunks = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            chunks.append(chunk)
    process.stdout.close()
    return b"".join(chunks).decode(errors="replace").splitlines()


def open_viewer(client: RedisClient, session: str, redis_url: str, address: str = "127.0.0.1", port: int = 0,
                log: Path | None = None) -> str:  # fmt: skip
    """The URL of the session's viewer, started if none runs; a browser opens it when the machine has a screen.

    Parameters
    ----------
    client : redis.Redis
        Where the session's plot settings say where its viewer listens.
    session : str
        The session whose scans it draws.
    redis_url : str
        The Redis a new viewer reads (given through its environment, not its arguments).
    address, port : str, int
        Where a new viewer listens (port 0: any free one).
    log : Path, optional
        A new viewer's log file; by default none.

    Raises
    ------
    ViewerError
        A new viewer did not start; the message says why, or names its log.

    Examples
    --------
    >>> open_viewer(client, "test_session", "unix:///run/user/1000/bliss_shell/redis.sock")  # doctest: +SKIP
    'http://127.0.0.1:40123/'
    """
    record = find_viewer(client, session)
    url = record["url"] if record else start_viewer(session, redis_url, address, port, log or Path(os.devnull))
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        webbrowser.open(url)
    return url


def stop_viewer(choice: RedisChoice, session: str) -> bool:
    """Stop the session's viewer that reads the chosen Redis on this machine, and wait for its end; False when none runs.

    The viewer is found by its record in the runtime folder, even when its Redis is gone; else through the
    session's plot settings, when Redis answers. It never starts the embedded Redis.

    Raises
    ------
    ViewerError
        The viewer runs on another machine.
    RedisUnavailable
        No viewer is recorded on this machine, and the (external) Redis that would say where it runs does not answer.

    Examples
    --------
    >>> stop_viewer(choose_redis(), "demo")  # doctest: +SKIP
    True
    """
    records = running_viewers(runtime_dir(), redacted(choice.url), session)
    if not records and (choice.embedded is None or choice.embedded.answers()):
        client = connect(choice, writer=False)
        try:
            record = find_viewer(client, session)
        finally:
            client.close()
        if record is not None and record["host"] != socket.gethostname():
            raise ViewerError(f"the viewer of {session} runs on {record['host']}: stop it there")
        records = [record] if record is not None else []
    for record in records:
        end_viewer(record)
    return bool(records)
