"""Riding through a failover: which clients can, and calls retried while one is in progress.

A client given Sentinels (or a cluster) finds the new primary by itself once the failover is
done; until then its calls fail with ConnectionError (or a cluster's errors). Such calls are
retried for ``FAILOVER_WAIT`` seconds, then the last error goes up to become one line. A client
of one Redis is never retried: a Redis that is down says so at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import redis
from redis.cluster import RedisCluster
from redis.exceptions import ClusterDownError, RedisClusterException, TryAgainError
from redis.sentinel import MasterNotFoundError, SentinelConnectionPool

FAILOVER_WAIT = 30.0  # s: Sentinel's down-after-milliseconds plus an election, with room to spare
_PAUSES = (0.05, 0.1, 0.2, 0.5, 1.0)  # s between tries, the last one repeated
TRANSIENT = (
    redis.ConnectionError,
    redis.TimeoutError,
    ClusterDownError,
    TryAgainError,
    MasterNotFoundError,
    RedisClusterException,
)
REDIS_ERRORS = (redis.RedisError, RedisClusterException)  # a cluster that cannot be reached at all is not a RedisError

T = TypeVar("T")


def follows_failover(client: Any) -> bool:
    """True for a client that finds a new primary by itself (Sentinels, a cluster).

    Examples
    --------
    >>> from bliss_shell.comm import client_for
    >>> follows_failover(client_for("redis+sentinel://127.0.0.1:26379/mymaster")), follows_failover(client)
    (True, False)
    """
    return isinstance(client, RedisCluster) or isinstance(getattr(client, "connection_pool", None), SentinelConnectionPool)


def through_failover(client: Any, call: Callable[[], T], wait: float = FAILOVER_WAIT) -> T:
    """``call()``, retried on a transient error for ``wait`` seconds if ``client`` follows failovers.

    Raises
    ------
    Exception
        What ``call`` raised: at once for a client of one Redis or an error that is not transient,
        else the last transient error once ``wait`` has passed.

    Examples
    --------
    >>> through_failover(client, client.ping)
    True
    >>> through_failover(client, lambda: client.xread({"events|{demo}:tmp:1_ascan": "0-0"}, block=10))
    []
    """
    if not follows_failover(client):
        return call()
    deadline, pauses = time.monotonic() + wait, iter(_PAUSES)
    while True:
        try:
            return call()
        except TRANSIENT:
            if time.monotonic() >= deadline:
                raise
            time.sleep(next(pauses, _PAUSES[-1]))  # gevent-patched in the shell


def unanswered_sentinels(client: Any) -> str | None:
    """For a client given Sentinels: their addresses when none of them answers, else None.

    No Sentinel answering is a wrong address, not a failover: there is no use waiting.

    Examples
    --------
    >>> from bliss_shell.comm import client_for
    >>> unanswered_sentinels(client_for("redis+sentinel://127.0.0.1:1/mymaster"))
    '127.0.0.1:1'
    >>> unanswered_sentinels(client) is None
    True
    """
    pool = getattr(client, "connection_pool", None)
    if not isinstance(pool, SentinelConnectionPool):
        return None
    sentinels = pool.sentinel_manager.sentinels
    for sentinel in sentinels:
        try:
            sentinel.ping()
            return None
        except (redis.ConnectionError, redis.TimeoutError):
            continue
    return ", ".join(
        f"{kwargs.get('host')}:{kwargs.get('port')}" for kwargs in (s.connection_pool.connection_kwargs for s in sentinels)
    )


def server_info(client: Any, key: str, section: str) -> Mapping[str, Any]:
    """``INFO section`` of the server that holds ``key``: the one Redis, or its node in a cluster.

    Examples
    --------
    >>> server_info(client, "node|{demo}", "memory")["maxmemory_policy"]
    'noeviction'
    """
    if isinstance(client, RedisCluster):
        return client.info(section, target_nodes=client.get_node_from_key(key))
    return client.info(section)
