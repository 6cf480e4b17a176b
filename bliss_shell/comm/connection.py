"""The one place that decides which Redis the process talks to, and connects to it.

An external Redis is used when named (``$BLISS_REDIS_URL``, else ``redis_url`` in the
root ``__init__.yml``); otherwise the embedded one, started on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import redis

from bliss_shell.config import Config, ConfigError, config_roots

from .embedded_redis import EmbeddedRedis, runtime_dir
from .errors import RedisUnavailable

REDIS_URL_ENV = "BLISS_REDIS_URL"


@dataclass(frozen=True)
class RedisChoice:
    """Which Redis to use and why: ``origin`` is told to the user when it cannot be reached."""

    url: str
    origin: str
    embedded: EmbeddedRedis | None = None


def choose_redis(configured_url: str | None = None) -> RedisChoice:
    """``$BLISS_REDIS_URL`` wins over the config's ``redis_url``; neither means embedded."""
    if os.environ.get(REDIS_URL_ENV):
        return RedisChoice(os.environ[REDIS_URL_ENV], REDIS_URL_ENV)
    if configured_url:
        return RedisChoice(configured_url, "redis_url in the config")
    server = EmbeddedRedis(runtime_dir())
    return RedisChoice(server.url, "embedded", server)


def connect(choice: RedisChoice) -> redis.Redis:
    """A client that has answered PING; raises RedisUnavailable with a one-line reason."""
    if choice.embedded is not None:
        choice.embedded.ensure_running()
    shown = redacted(choice.url)
    try:
        client = redis.Redis.from_url(choice.url, socket_connect_timeout=3, socket_timeout=10)
    except ValueError as error:
        raise RedisUnavailable(f"{shown} (from {choice.origin}) is not a Redis URL: {error}") from None
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        client.close()
        raise RedisUnavailable(f"cannot reach Redis at {shown} (from {choice.origin}): {error}") from None
    return client


def apply_memory_cap(client: redis.Redis, choice: RedisChoice, cap: int) -> str | None:
    """The embedded Redis gets the cap (and never evicts); an external one is checked: a warning, or None.

    The cap itself is kept by removing whole finished scans (data/retention.py); Redis's own
    ``maxmemory`` is the hard stop behind it, and eviction would cut trees, so it must be off.
    """
    if choice.embedded is not None:
        client.config_set("maxmemory", cap)
        client.config_set("maxmemory-policy", "noeviction")
        return None
    try:
        settings = client.config_get("maxmemory*")
    except redis.RedisError:  # CONFIG refused to this user: nothing to check
        return None
    policy, limit = settings.get("maxmemory-policy", "noeviction"), int(settings.get("maxmemory", 0))
    if policy != "noeviction":
        return (f"the Redis at {redacted(choice.url)} evicts keys (maxmemory-policy {policy}): scans could lose "
                "parts of their tree; set maxmemory-policy noeviction")  # fmt: skip
    if limit and limit < cap:
        return f"the Redis at {redacted(choice.url)} has maxmemory {limit} B, below the configured cap {cap} B"
    return None


def redacted(url: str) -> str:
    """The URL with any password replaced, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=user + host))


_shared: redis.Redis | None = None


def use_redis(client: redis.Redis) -> None:
    """Make ``client`` the one every layer gets from ``get_redis`` (the shell's connection)."""
    global _shared
    _shared = client


def get_redis() -> redis.Redis:
    """The process's Redis client; connects on first use, as a reader process would.

    Without a shell, the choice is the same as the shell's: ``$BLISS_REDIS_URL``, else
    ``redis_url`` of the config, else the embedded server.
    """
    global _shared
    if _shared is None:
        try:
            configured = Config(config_roots()).globals.get("redis_url")
        except ConfigError:
            configured = None
        _shared = connect(choose_redis(configured))
    return _shared
