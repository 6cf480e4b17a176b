"""``bliss servers status|stop``: the servers the shell starts by itself (today: Redis)."""

from __future__ import annotations

from bliss_shell.comm import RedisUnavailable, choose_redis, connect, redacted
from bliss_shell.config import Config


def run_servers_command(action: str, config: Config) -> int:
    choice = choose_redis(config.globals.get("redis_url"))
    shown = redacted(choice.url)
    if choice.embedded is None:
        if action == "stop":
            print(f"redis: {shown} is an external server ({choice.origin}); stop it where it runs")
            return 1
        try:
            client = connect(choice)
        except RedisUnavailable as error:
            print(f"redis: {error}")
            return 1
        print(f"redis: external {shown} ({choice.origin}), reachable, {_memory(client)}")
        client.close()
        return 0
    server = choice.embedded
    if action == "stop":
        pid = server.stop()
        print(f"redis: embedded server (pid {pid}) stopped" if pid else "redis: embedded server was not running")
        return 0
    pid = server.pid()
    if pid is None:
        print(f"redis: embedded, not running (starts with the next session, on {shown})")
        return 0
    client = connect(choice)
    print(f"redis: embedded, running, pid {pid}, {shown}, {_memory(client)}")
    client.close()
    return 0


def _memory(client) -> str:  # type: ignore[no-untyped-def]
    used = client.info("memory")
    cap = int(client.config_get("maxmemory").get("maxmemory", 0))
    limit = f"{cap / 2**30:.2f} GiB" if cap else "no limit"
    return f"memory used {used['used_memory_human']} of {limit}"
