"""Redis: the embedded server's life, the choice of server, and the session lock."""

from __future__ import annotations

import stat

import pytest

from bliss_shell.comm import RedisChoice, RedisUnavailable, SessionLock, SessionLocked, choose_redis, connect, redacted
from conftest import wait_for
from terminal import run_bliss


def test_embedded_redis_starts_on_demand_outlives_the_shell_and_is_reused(tmp_path, shell_env):
    runtime = tmp_path / "run"
    runtime.mkdir()
    env = {key: value for key, value in shell_env.items() if key != "BLISS_REDIS_URL"}
    env["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        assert "redis: embedded, not running" in run_bliss("servers", "status", env=env).stdout
        first = run_bliss("-s", "demo", "-c", "import os; print(os.getpid())", env=env)
        assert first.returncode == 0, first.stderr
        status = run_bliss("servers", "status", env=env).stdout
        assert status.startswith("redis: embedded, running, pid ")
        assert "memory used" in status and "of 1.00 GiB" in status
        assert "with RedisJSON and RediSearch (docs/blissdata.md)" in status  # the test extra installs the modules
        pid = status.split("pid ")[1].split(",")[0]
        again = run_bliss("-s", "demo", "-c", "pass", env=env)
        assert again.returncode == 0
        assert f"pid {pid}," in run_bliss("servers", "status", env=env).stdout  # the same server, reused
        folder = runtime / "bliss_shell"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "redis.sock").stat().st_mode) == 0o700
    finally:
        stopped = run_bliss("servers", "stop", env=env)
    assert "redis: embedded server (pid" in stopped.stdout
    assert "not running" in run_bliss("servers", "status", env=env).stdout


def test_unreachable_external_redis_is_one_line_and_exit_1(shell_env):
    env = dict(shell_env, BLISS_REDIS_URL="redis://user:secret@127.0.0.1:1/0")
    result = run_bliss("-s", "demo", "-c", "pass", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bliss: cannot reach Redis at redis://user:***@127.0.0.1:1/0 (from BLISS_REDIS_URL)")
    assert "secret" not in result.stderr
    stop = run_bliss("servers", "stop", env=env)
    assert stop.returncode == 1 and "external server" in stop.stdout


def test_environment_url_wins_over_config_then_embedded(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("BLISS_REDIS_URL", "redis://a:1")
    assert choose_redis({"redis_url": "redis://b:2"}).url == "redis://a:1"
    monkeypatch.delenv("BLISS_REDIS_URL")
    assert choose_redis({"redis_url": "redis://b:2"}).origin == "redis_url in the config"
    embedded = choose_redis({})
    assert embedded.embedded is not None and embedded.url == f"unix://{tmp_path}/bliss_shell/redis.sock"
    both = {"redis_url": "redis://b:2", "redis_reader_url": "redis://replica:3"}
    assert choose_redis(both).url == "redis://b:2"  # the shell writes: redis_url
    reader = choose_redis(both, reader=True)  # a reader process: redis_reader_url first
    assert (reader.url, reader.origin) == ("redis://replica:3", "redis_reader_url in the config")


@pytest.mark.parametrize(("url", "told"), [
    ("redis+sentinel://127.0.0.1:26379", "a Sentinel address names the service: redis+sentinel://host:port[,host:port...]/mymaster"),
    ("redis+sentinel://127.0.0.1:26379/mymaster?role=boss", "role=boss is not known: role=primary (the default) or role=replica"),
    ("redis+cluster://127.0.0.1:7000,nohost", "'nohost' is not host:port (addresses are host:port[,host:port...])"),
    ("redis+cluster://127.0.0.1:7000/mymaster", "a cluster address is redis+cluster://host:port[,host:port...], without a path or a role"),
])  # fmt: skip
def test_a_malformed_sentinel_or_cluster_address_is_one_line(url, told):
    with pytest.raises(RedisUnavailable) as refused:
        connect(RedisChoice(url, "BLISS_REDIS_URL"))
    assert str(refused.value) == f"{url} (from BLISS_REDIS_URL) is not a Redis address: {told}"


def test_redacted_hides_passwords_only():
    assert redacted("rediss://admin:pw@host:6380/1") == "rediss://admin:***@host:6380/1"
    assert redacted("redis://:pw@host") == "redis://:***@host"
    assert redacted("unix:///run/x.sock") == "unix:///run/x.sock"


def can_open(client, session: str = "demo") -> bool:
    """Whether another shell could open the session now (it releases at once if so)."""
    other = SessionLock(client, session)
    try:
        other.acquire()
    except SessionLocked:
        return False
    other.release()
    return True


def test_session_lock_refuses_a_second_holder_until_released(redis_client):
    first = SessionLock(redis_client, "demo")
    first.acquire()
    with pytest.raises(SessionLocked, match=r"session 'demo' is already open on host .*, pid \d+"):
        SessionLock(redis_client, "demo").acquire()
    assert can_open(redis_client, "test_session")
    first.release()
    assert can_open(redis_client)


def test_session_lock_of_a_vanished_holder_expires(redis_client):
    crashed = SessionLock(redis_client, "demo", ttl=0.3)
    crashed.acquire()
    crashed._refresher.kill()  # the holder stops refreshing, as if its machine died
    assert not can_open(redis_client)
    wait_for(lambda: not redis_client.exists(crashed._key), "the lock of a holder that stopped refreshing did not expire")
    assert can_open(redis_client)


def redis_ms(client) -> int:
    """Redis's clock, by which it expires keys, in ms."""
    seconds, microseconds = client.time()
    return seconds * 1000 + microseconds // 1000


def test_session_lock_is_refreshed_while_held(redis_client):
    holder = SessionLock(redis_client, "demo", ttl=0.3)
    holder.acquire()
    unrefreshed = redis_ms(redis_client) + redis_client.pttl(holder._key)  # when it would lapse without its refresher
    # until Redis's clock is a TTL past that: only the refresher keeps it (as a holder alive for long does)
    wait_for(lambda: redis_ms(redis_client) > unrefreshed + 300, "Redis's clock did not pass the lock's first TTL")
    assert not can_open(redis_client)
    holder.release()
    assert can_open(redis_client)
