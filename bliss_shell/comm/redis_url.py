"""From a Redis address to a client: one Redis, a Sentinel-managed primary (or replica), or a cluster.

Addresses (docs/scaling.md):

- ``redis://[user:password@]host:port[/db]``, ``rediss://...`` (TLS), ``unix:///path/redis.sock``: one Redis.
- ``redis+sentinel://[user:password@]host:port[,host:port...]/service[?role=replica]``: the primary that the
  Sentinels name for ``service`` (``role=replica``: one of its replicas, for readers); the client follows
  a failover. ``rediss+sentinel://`` talks TLS to the data servers. The user and password are the data
  servers'; ``sentinel_password=`` (and ``sentinel_username=``) in the query are the Sentinels'.
- ``redis+cluster://[user:password@]host:port[,host:port...]``: a Redis Cluster, found from any of the
  nodes named; ``rediss+cluster://`` for TLS.

Other query options (``socket_timeout``, ``ssl_cert_reqs``, ``ssl_ca_certs``, ...) are those of
redis-py's ``from_url``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import parse_url
from redis.retry import Retry
from redis.sentinel import Sentinel

SENTINEL_SCHEMES = {"redis+sentinel": "redis", "rediss+sentinel": "rediss"}
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
_TIMEOUTS: dict[str, Any] = {"socket_connect_timeout": 3, "socket_timeout": 10}


def client_for(url: str) -> redis.Redis | RedisCluster:
    """A client for ``url`` (not yet connected): one Redis, Sentinels' primary or replica, or a cluster.

    A cluster client asks a node for the cluster's layout at once, so a cluster that cannot be reached
    raises here (``RedisClusterException``); the other kinds connect on their first call.

    Raises
    ------
    ValueError
        What is wrong with the address.

    Examples
    --------
    >>> client_for("redis://redis.beamline:6379/0").connection_pool.connection_kwargs["host"]
    'redis.beamline'
    >>> client_for("redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster?role=replica")
    <redis.client.Redis(<redis.sentinel.SentinelConnectionPool(service=mymaster(slave))>)>
    >>> client_for("redis+sentinel://127.0.0.1:26379")
    Traceback (most recent call last):
    ...
    ValueError: a Sentinel address names the service: redis+sentinel://host:port[,host:port...]/mymaster
    >>> client_for("redis+sentinel://127.0.0.1/mymaster")
    Traceback (most recent call last):
    ...
    ValueError: '127.0.0.1' is not host:port (addresses are host:port[,host:port...])
    """
    scheme = urlsplit(url).scheme
    if scheme in SENTINEL_SCHEMES:
        return _sentinel_client(url, SENTINEL_SCHEMES[scheme])
    if scheme in CLUSTER_SCHEMES:
        return _cluster_client(url, CLUSTER_SCHEMES[scheme])
    return redis.Redis.from_url(
        url, socket_connect_timeout=_TIMEOUTS["socket_connect_timeout"], socket_timeout=_TIMEOUTS["socket_timeout"]
    )


def _split(url: str, scheme: str) -> tuple[list[tuple[str, int]], str, dict[str, Any], dict[str, str]]:
    """The hosts of a multi-host address, its path, the data servers' options and the query's own options."""
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    addresses = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise ValueError(f"'{host}' is not host:port (addresses are host:port[,host:port...])")
        addresses.append((name, int(port)))
    query = dict(parse_qsl(parts.query))
    own: dict[str, str] = {key: query.pop(key) for key in ("role", "sentinel_password", "sentinel_username") if key in query}
    single = urlunsplit(
        (scheme, f"{credentials}@{hosts.split(',')[0]}" if credentials else hosts.split(",")[0], "", urlencode(query), "")
    )
    options = {**_TIMEOUTS, **parse_url(single)}
    for key in ("host", "port", "db", "path", "connection_class"):
        options.pop(key, None)
    if scheme == "rediss":  # the Sentinel pool and the cluster choose their own TLS connection class
        options["ssl"] = True
    return addresses, parts.path.strip("/"), options, own


def _sentinel_client(url: str, scheme: str) -> redis.Redis:
    addresses, service, options, own = _split(url, scheme)
    if not service:
        raise ValueError("a Sentinel address names the service: redis+sentinel://host:port[,host:port...]/mymaster")
    role = own.get("role", "primary")
    if role not in ("primary", "replica"):
        raise ValueError(f"role={role} is not known: role=primary (the default) or role=replica")
    # one try per Sentinel: the pool asks the next one anyway, and redis-py's default retries cost 4 s per silent one
    sentinel_options: dict[str, Any] = {**_TIMEOUTS, "retry": Retry(NoBackoff(), 0)}
    sentinel_options.update({key.removeprefix("sentinel_"): value for key, value in own.items() if key.startswith("sentinel_")})
    sentinel = Sentinel(addresses, sentinel_kwargs=sentinel_options, **options)
    return sentinel.master_for(service) if role == "primary" else sentinel.slave_for(service)


def _cluster_client(url: str, scheme: str) -> RedisCluster:
    addresses, path, options, own = _split(url, scheme)
    if path or own:
        raise ValueError("a cluster address is redis+cluster://host:port[,host:port...], without a path or a role")
    return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in addresses], **options)
