"""Connections to Redis and Tango, the settings kept in Redis, and the lifecycle of the servers we start.

Layer: above ``config``; see docs/architecture.md.
"""

from .connection import REDIS_URL_ENV, RedisChoice, apply_memory_cap, choose_redis, connect, get_redis, redacted, use_redis
from .embedded_redis import EmbeddedRedis, runtime_dir
from .errors import RedisUnavailable, SessionLocked
from .failover import FAILOVER_WAIT, TRANSIENT, follows_failover, server_info, through_failover
from .redis_url import client_for
from .session_lock import SessionLock
from .settings import Settings, configured_settings_folder, settings_folder, use_settings_folder

__all__ = [
    "FAILOVER_WAIT",
    "REDIS_URL_ENV",
    "TRANSIENT",
    "EmbeddedRedis",
    "RedisChoice",
    "RedisUnavailable",
    "SessionLock",
    "SessionLocked",
    "Settings",
    "apply_memory_cap",
    "choose_redis",
    "client_for",
    "configured_settings_folder",
    "connect",
    "follows_failover",
    "get_redis",
    "redacted",
    "runtime_dir",
    "server_info",
    "settings_folder",
    "through_failover",
    "use_redis",
    "use_settings_folder",
]
