"""``bliss servers start|status|stop``: the servers the shell runs itself (Redis, Tango database, device servers)."""

from __future__ import annotations

import os

import redis

from bliss_shell.comm import RedisUnavailable, choose_redis, connect, redacted
from bliss_shell.comm.tango_servers import TangoDatabase, TangoServer, TangoUnavailable
from bliss_shell.config import Config


def run_servers_command(action: str, config: Config) -> int:
    """``bliss servers start|status|stop``: act on Redis, the Tango database and the config's device servers.

    ``start`` connects to Redis (starting the embedded one) and starts every ``TangoServer`` of the
    config, then prints the state of each server, as ``status`` does. ``stop`` stops the device
    servers, the embedded Tango database (unless ``$TANGO_HOST`` names one) and the embedded Redis;
    an external Redis is left running (exit status 1). Returns the exit status.
    """
    servers = [config.get(name) for name in config.names_of_class("TangoServer")]
    if action == "start":
        return _start(config, servers)
    if action == "stop":
        for server in servers:
            pid = server.stop()
            print(f"tango server {server.server}/{server.instance}: " + (f"(pid {pid}) stopped" if pid else "was not running"))
        if not os.environ.get("TANGO_HOST"):
            pid = TangoDatabase().stop()
            print("tango database: " + (f"embedded (pid {pid}) stopped" if pid else "embedded, was not running"))
        return _redis(action, config)
    code = _redis(action, config)
    _tango_status(servers)
    return code


def _start(config: Config, servers: list[TangoServer]) -> int:
    try:
        connect(choose_redis(config.globals.get("redis_url")))
        for server in servers:
            server.start()
    except (RedisUnavailable, TangoUnavailable) as error:
        print(error)
        return 1
    _redis("status", config)
    _tango_status(servers)
    return 0


def _tango_status(servers: list[TangoServer]) -> None:
    external = os.environ.get("TANGO_HOST")
    database = TangoDatabase()
    if external:
        print(f"tango database: external, TANGO_HOST={external}")
    elif database.tango_host:
        print(f"tango database: embedded, running, pid {database.pid}, TANGO_HOST={database.tango_host}")
    else:
        print("tango database: embedded, not running (starts with the first device server)")
    for server in servers:
        pid = server.pid()
        state = f"running, pid {pid}" if pid else "not running"
        print(f"tango server {server.server}/{server.instance}: {state}; devices {', '.join(server.device_names())}")


def _redis(action: str, config: Config) -> int:
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


def _memory(client: redis.Redis) -> str:
    used = client.info("memory")
    cap = int(client.config_get("maxmemory").get("maxmemory", 0))
    limit = f"{cap / 2**30:.2f} GiB" if cap else "no limit"
    return f"memory used {used['used_memory_human']} of {limit}"
