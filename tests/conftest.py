"""Shared fixtures: a real Redis per test run, a private HOME per test, the shell in a terminal."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bliss_shell.comm import EmbeddedRedis
from terminal import Terminal


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """A redis-server of the tests' own, on a unix socket (short path: sockets allow 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="bst-redis-"))
    folder.chmod(0o700)
    server = EmbeddedRedis(folder)
    server.ensure_running()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    client = redis.Redis(unix_socket_path=str(redis_server.socket))
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def shell_env(tmp_path: Path, redis_client: redis.Redis, redis_server: EmbeddedRedis) -> dict[str, str]:
    """The environment of a user of the tests' Redis, with a HOME of their own."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BLISS_", "XDG_"))}
    env.update(
        HOME=str(home),
        BLISS_REDIS_URL=redis_server.url,
        PROMPT_TOOLKIT_NO_CPR="1",  # pexpect does not answer cursor-position requests
        TERM="xterm-256color",
    )
    return env


@pytest.fixture
def open_terminal(shell_env: dict[str, str]) -> Iterator:
    """``open_terminal("-s", "demo")`` starts the shell in a pseudo-terminal; closed after the test."""
    terminals: list[Terminal] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Terminal:
        terminal = Terminal(list(args), env or shell_env)
        terminals.append(terminal)
        return terminal

    yield start
    for terminal in terminals:
        terminal.close()

