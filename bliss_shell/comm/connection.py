"""The one place that decides which Redis the process talks to, and connects to it.

An external Redis is used when named (``$BLISS_REDIS_URL``, else ``redis_url`` in the
root ``__init__.yml``); otherwise the embedded one, started on first use. The address may
name one Redis, Sentinels or a cluster (``redis_url.py``). A shell writes, so it is refused
a replica; a reader takes any server that has the data.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import RedisClusterException

from bliss_shell.config import Config, ConfigError, config_roots

from .embedded_redis import EmbeddedRedis, configured_modules, runtime_dir
from .errors import RedisUnavailable
from .failover import through_failover, unanswered_sentinels
from .redis_url import client_for

REDIS_URL_ENV = "BLISS_REDIS_URL"


@dataclass(frozen=True)
class RedisChoice:
    """Which Redis to use and why: ``origin`` is told to the user when it cannot be reached.

    Examples
    --------
    >>> RedisChoice("redis://redis.beamline:6379", "redis_url in the config")
    RedisChoice(url='redis://redis.beamline:6379', origin='redis_url in the config', embedded=None)
    """

    url: str
    origin: str
    embedded: EmbeddedRedis | None = None


def choose_redis(settings: Mapping[str, Any] | None = None, reader: bool = False) -> RedisChoice:
    """``$BLISS_REDIS_URL`` wins over the config's ``redis_url``; neither means embedded.

    ``settings`` are the config's globals (root ``__init__.yml``): ``redis_url``, ``redis_reader_url``
    and ``embedded_redis_modules`` (the embedded server's kind). A ``reader`` process (``bliss --watch``,
    ``get_node`` in a script) takes ``redis_reader_url`` first: a replica, for example.

    Examples
    --------
    Without ``$BLISS_REDIS_URL``:

    >>> choose_redis({"redis_url": "redis://redis.beamline:6379"})
    RedisChoice(url='redis://redis.beamline:6379', origin='redis_url in the config', embedded=None)
    >>> choose_redis({"redis_url": "redis://redis.beamline:6379", "redis_reader_url": "redis://replica.beamline:6379"},
    ...              reader=True).origin
    'redis_reader_url in the config'
    >>> choose_redis().origin
    'embedded'
    """
    settings = settings or {}
    if os.environ.get(REDIS_URL_ENV):
        return RedisChoice(os.environ[REDIS_URL_ENV], REDIS_URL_ENV)
    if reader and settings.get("redis_reader_url"):
        return RedisChoice(settings["redis_reader_url"], "redis_reader_url in the config")
    if settings.get("redis_url"):
        return RedisChoice(settings["redis_url"], "redis_url in the config")
    server = EmbeddedRedis(runtime_dir(), modules=configured_modules(settings))
    return RedisChoice(server.url, "embedded", server)


def connect(choice: RedisChoice, writer: bool = True) -> redis.Redis:
    """A client of the chosen Redis that has answered PING; RedisUnavailable with a one-line reason if none.

    For a cluster the client is a RedisCluster, which answers the same calls. The embedded
    server is started first if it is not running.

    Parameters
    ----------
    choice : RedisChoice
        The Redis to use, as ``choose_redis`` gives it.
    writer : bool
        The process publishes (a shell), so a read-only replica is refused; False for a reader.

    Raises
    ------
    RedisUnavailable
        No answer, not a Redis address, a Sentinel given as a Redis, or a replica given to a writer.

    Examples
    --------
    >>> connect(RedisChoice("redis://127.0.0.1:1", "redis_url in the config"))
    Traceback (most recent call last):
    ...
    bliss_shell.comm.errors.RedisUnavailable: cannot reach Redis at redis://127.0.0.1:1 (from redis_url in the config): ...
    >>> connect(RedisChoice("http://127.0.0.1:6379", "redis_url in the config"))
    Traceback (most recent call last):
    ...
    bliss_shell.comm.errors.RedisUnavailable: http://127.0.0.1:6379 (from redis_url in the config) is not a Redis address: ...
    """
    if choice.embedded is not None:
        choice.embedded.ensure_running()
    shown = f"{redacted(choice.url)} (from {choice.origin})"
    try:
        client = client_for(choice.url)
    except ValueError as error:
        raise RedisUnavailable(f"{shown} is not a Redis address: {error}") from None
    except (redis.RedisError, RedisClusterException, OSError) as error:  # a cluster is asked for its nodes at once
        raise RedisUnavailable(f"cannot reach the Redis cluster at {shown}: {error}") from None
    silent = unanswered_sentinels(client)
    if silent:
        client.close()
        raise RedisUnavailable(f"cannot reach Redis at {shown}: no Sentinel answers ({silent})")
    try:
        through_failover(client, client.ping)
        refusal = None if isinstance(client, RedisCluster) else _wrong_role(client.execute_command("ROLE"), writer)
    except (redis.RedisError, RedisClusterException, OSError) as error:
        client.close()
        raise RedisUnavailable(f"cannot reach Redis at {shown}: {error}") from None
    if refusal:
        client.close()
        raise RedisUnavailable(f"{shown} {refusal}")
    # A RedisCluster is no redis.Redis, but answers the calls the code makes on one (tests/test_redis_topologies.py):
    # clients are typed redis.Redis from here on; the few cluster-only calls are behind isinstance(client, RedisCluster).
    return cast(redis.Redis, client)


def _wrong_role(role: list, writer: bool) -> str | None:
    """Why a server of this role cannot serve (Redis's ROLE reply), or None."""
    kind = role[0].decode() if isinstance(role[0], bytes) else role[0]
    if kind == "sentinel":
        services = ", ".join(name.decode() if isinstance(name, bytes) else name for name in role[1]) or "none yet"
        return (f"is a Redis Sentinel, which holds no data: give its address as "
                f"redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE (services it watches: {services})")  # fmt: skip
    if kind == "slave" and writer:
        primary = f"{role[1].decode() if isinstance(role[1], bytes) else role[1]}:{role[2]}"
        return (f"is a read-only replica of {primary}: a shell publishes, so give it the primary's address, or "
                "redis+sentinel://HOST:PORT/SERVICE to follow failovers; readers may use the replica")  # fmt: skip
    return None


def apply_memory_cap(client: redis.Redis, choice: RedisChoice, cap: int) -> str | None:
    """The embedded Redis gets the cap (and never evicts); an external one is checked: a warning, or None.

    The cap itself is kept by removing whole finished scans (data/retention.py); Redis's own
    ``maxmemory`` is the hard stop behind it, and eviction would cut trees, so it must be off.

    Examples
    --------
    The tests' Redis, taken for an external one whose ``maxmemory`` (1 GiB) is below a 2 GiB cap:

    >>> apply_memory_cap(client, RedisChoice("redis://redis.beamline:6379", "redis_url in the config"), 2 << 30)
    'the Redis at redis://redis.beamline:6379 has maxmemory 1073741824 B, below the configured cap 2147483648 B'
    >>> apply_memory_cap(client, RedisChoice("redis://redis.beamline:6379", "redis_url in the config"), 1 << 30) is None
    True
    """
    if choice.embedded is not None:
        client.config_set("maxmemory", cap)
        client.config_set("maxmemory-policy", "noeviction")
        return None
    try:  # a cluster: the policy of every primary, the smallest limit
        answers = (
            client.config_get("maxmemory*", target_nodes=RedisCluster.PRIMARIES)
            if isinstance(client, RedisCluster)
            else {"": client.config_get("maxmemory*")}
        )
    except redis.RedisError:  # CONFIG refused to this user: nothing to check
        return None
    every = (
        list(answers.values()) if isinstance(client, RedisCluster) and "maxmemory" not in answers else [answers.get("", answers)]
    )
    policy = next(
        (found["maxmemory-policy"] for found in every if found.get("maxmemory-policy", "noeviction") != "noeviction"),
        "noeviction",
    )
    limit = min(int(found.get("maxmemory", 0)) for found in every)
    if policy != "noeviction":
        return (f"the Redis at {redacted(choice.url)} evicts keys (maxmemory-policy {policy}): scans could lose "
                "parts of their tree; set maxmemory-policy noeviction")  # fmt: skip
    if limit and limit < cap:
        return f"the Redis at {redacted(choice.url)} has maxmemory {limit} B, below the configured cap {cap} B"
    return None


def takes_scripts(pipe: Any) -> bool:
    """Whether a pipeline can carry Lua scripts (``EVAL``) with its other commands: a cluster's cannot.

    Examples
    --------
    >>> takes_scripts(client.pipeline(transaction=False))
    True
    """
    return not isinstance(pipe, ClusterPipeline)


def redacted(url: str) -> str:
    """The URL with any password replaced, for messages.

    Examples
    --------
    >>> redacted("redis://beamline:secret@redis.beamline:6379/0")
    'redis://beamline:***@redis.beamline:6379/0'
    >>> redacted("redis://redis.beamline:6379")
    'redis://redis.beamline:6379'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=user + host))


_shared: redis.Redis | None = None


def use_redis(client: redis.Redis) -> None:
    """Make ``client`` the one every layer gets from ``get_redis`` (the shell's connection).

    Examples
    --------
    >>> use_redis(client)
    >>> get_redis() is client
    True
    """
    global _shared
    _shared = client


def get_redis() -> redis.Redis:
    """The process's Redis client; connects on first use, as a reader process would.

    Without a shell, the choice is a reader's: ``$BLISS_REDIS_URL``, else ``redis_reader_url``
    or ``redis_url`` of the config, else the embedded server.

    Raises
    ------
    RedisUnavailable
        The Redis chosen does not answer.

    Examples
    --------
    >>> get_redis().ping()
    True
    """
    global _shared
    if _shared is None:
        try:
            settings = Config(config_roots()).globals
        except ConfigError:
            settings = {}
        _shared = connect(choose_redis(settings, reader=True), writer=False)
    return _shared
