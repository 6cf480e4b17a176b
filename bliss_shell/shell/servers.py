"""``bliss servers start|status|stop``: the servers the shell runs itself (Redis, Tango, the live plots' viewers)."""

from __future__ import annotations

from bliss_shell.comm import RedisChoice, RedisUnavailable, choose_redis, connect, redacted
from bliss_shell.comm.embedded_redis import runtime_dir
from bliss_shell.comm.redis_types import RedisClient
from bliss_shell.comm.tango_host import TangoDatabase, TangoHostChoice, TangoUnavailable, choose_tango_host
from bliss_shell.comm.tango_servers import TangoServer
from bliss_shell.config import Config
from bliss_shell.plot.records import end_viewer, running_viewers


def run_servers_command(action: str, config: Config) -> int:
    """``bliss servers start|status|stop``: act on Redis, the Tango database, the config's device servers and viewers.

    ``start`` connects to Redis (starting the embedded one) and starts every ``TangoServer`` of the
    config, then prints the state of each server, as ``status`` does; the Tango database is the one
    ``choose_tango_host`` gives, and the status says which and where that came from. The live plots'
    viewers listed and stopped are those of this machine that read the config's Redis. ``stop`` stops
    those viewers, the device servers, the embedded Tango database and the embedded Redis; an external
    Redis is left running (exit status 1), an external Tango database too. Returns the exit status.
    """
    servers = [config.get(name) for name in config.names_of_class("TangoServer")]
    choice = choose_tango_host(config.globals.get("tango_host"))
    redis_choice = choose_redis(config.globals)
    if action == "start":
        return _start(config, servers, choice, redis_choice)
    if action == "stop":
        _stop_viewers(redis_choice)  # before Redis: they take their record out of it
        for server in servers:
            pid = server.stop()
            print(f"tango server {server.server}/{server.instance}: " + (f"(pid {pid}) stopped" if pid else "was not running"))
        pid = TangoDatabase().stop()  # ours, whichever database the config chooses now
        if pid or choice.host is None:
            print("tango database: " + (f"embedded (pid {pid}) stopped" if pid else "embedded, was not running"))
        if choice.host is not None:
            print(f"tango database: {choice.host} ({choice.origin}) is not ours: left alone")
        return _redis(action, config)
    code = _redis(action, config)
    _tango_status(servers, choice)
    _viewers_status(redis_choice)
    return code


def _start(config: Config, servers: list[TangoServer], choice: TangoHostChoice, redis_choice: RedisChoice) -> int:
    try:
        connect(redis_choice)
        if servers:
            host = choice.resolve()  # asked (the embedded one started) once for all of them
            for server in servers:
                server.start(host)
    except (RedisUnavailable, TangoUnavailable) as error:
        print(error)
        return 1
    _redis("status", config)
    _tango_status(servers, choice)
    _viewers_status(redis_choice)
    return 0


def _viewers_status(choice: RedisChoice) -> None:
    viewers = running_viewers(runtime_dir(), redacted(choice.url))
    for record in viewers:
        print(f"plot viewer of {record['session']}: running, pid {record['pid']}, {record['url']}")
    if not viewers:
        print("plot viewers: none running")


def _stop_viewers(choice: RedisChoice) -> None:
    viewers = running_viewers(runtime_dir(), redacted(choice.url))
    for record in viewers:
        end_viewer(record)
        print(f"plot viewer of {record['session']}: (pid {record['pid']}, {record['url']}) stopped")
    if not viewers:
        print("plot viewers: none running")


def _tango_status(servers: list[TangoServer], choice: TangoHostChoice) -> None:
    database = TangoDatabase()
    if choice.host is not None:
        problem = choice.problem()
        shown = f"{choice.host} ({choice.origin}), answering" if problem is None else problem.removeprefix("Tango database ")
        print(f"tango database: {shown}")
        if database.tango_host:
            print(f"tango database: embedded, running, pid {database.pid}, TANGO_HOST={database.tango_host}: not used "
                  f"(the {choice.origin} wins); `bliss servers stop` stops it")  # fmt: skip
    elif database.tango_host:
        print(f"tango database: embedded ({choice.origin}), running, pid {database.pid}, TANGO_HOST={database.tango_host}")
    else:
        print(f"tango database: embedded ({choice.origin}), not running (starts with the first device server)")
    for server in servers:
        pid = server.pid()
        state = f"running, pid {pid}" if pid else "not running"
        print(f"tango server {server.server}/{server.instance}: {state}; devices {', '.join(server.device_names())}")


def _redis(action: str, config: Config) -> int:
    choice = choose_redis(config.globals)
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
    kind = "with RedisJSON and RediSearch" if server.has_modules() else "without RedisJSON and RediSearch"
    print(f"redis: embedded, running, pid {pid}, {shown}, {_memory(client)}, {kind} (docs/blissdata.md)")
    client.close()
    return 0


def _memory(client: RedisClient) -> str:
    used = client.info("memory")
    cap = int(client.config_get("maxmemory").get("maxmemory", 0))
    limit = f"{cap / 2**30:.2f} GiB" if cap else "no limit"
    return f"memory used {used['used_memory_human']} of {limit}"
