"""The Redis names the layers above use: the client's type and the errors they catch.

Only ``comm/`` and ``data/`` import redis itself (the import-linter contract in pyproject.toml);
the other layers hold a client handed to them and catch these.

Examples
--------
>>> from bliss_shell.comm.redis_types import RedisClient, RedisError
>>> isinstance(SCAN_SAVING.client, RedisClient)  # doctest: +SKIP
True
"""

import redis

RedisClient = redis.Redis
RedisError = redis.RedisError
RedisReadOnlyError = redis.ReadOnlyError
RedisResponseError = redis.ResponseError

__all__ = ["RedisClient", "RedisError", "RedisReadOnlyError", "RedisResponseError"]
