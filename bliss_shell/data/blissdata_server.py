"""Whether a Redis takes blissdata 2 documents, and setting it up for them as blissdata does.

blissdata 2 needs the ReJSON and search modules, and readers check ``_PROTOCOL_VERSION_`` (1). Its own
set-up (``DataStore(url, init_db=True)``) refuses a database that holds data; ``prepare_server`` adds
what is missing to any database and changes nothing else: the protocol key, the search index of the
scans' identities (as redis-om makes it for blissdata's ScanModel), the limit on wildcard expansions,
and a ``seal_stream`` server function (our own code, blissdata's behaviour), which blissdata's writers
call. The documents themselves: ``blissdata.py``.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any

import redis
from redis.cluster import RedisCluster

from .encoding import SEAL_ID

PROTOCOL_KEY = "_PROTOCOL_VERSION_"
PROTOCOL_VERSION = 1
INDEX = "esrf:scan:index"
MODULES = ("ReJSON", "search")
PREFIX_EXPANSIONS = 2000  # search's limit on wildcard expansions, as blissdata sets it
FUNCTION_LIBRARY = "mylib"  # the name blissdata gives its library: its writers call seal_stream there

# The index of the scans' identities, as redis-om defines it for blissdata's ScanModel (the text kept in
# ``esrf:scan:index:schema``, and its SHA-1 in ``...:hash``, as redis-om's migrator keeps them).
_TAGS = ["pk", "id.pk", "id.name", "id.number", "id.data_policy", "id.session", "id.proposal", "id.collection",
         "id.dataset", "id.path", "state_stream.pk"]  # fmt: skip
SCHEMA = (
    "ON JSON PREFIX 1 esrf:scan: SCHEMA "
    + " ".join(
        f"$.{path} AS {path.replace('.', '_')} " + ("NUMERIC" if path == "id.number" else "TAG SEPARATOR |") for path in _TAGS
    ).replace("| $.state_stream", "|  $.state_stream")
    + " "
)

# Seals a stream where its data ends: its last entry's first index plus its length (1 unless ``len``
# says); refuses a stream sealed already. The function blissdata's writers call (``FCALL seal_stream``).
_LIBRARY = f"""#!lua name={FUNCTION_LIBRARY}
local function seal_stream(keys, args)
  local last = redis.call('XREVRANGE', keys[1], '+', '-', 'COUNT', 1)[1]
  local length = 0
  if last then
    if last[1] == '{SEAL_ID}' then error(keys[1] .. ' is already sealed.') end
    local count = 1
    for i = 1, #last[2], 2 do
      if last[2][i] == 'len' then count = tonumber(last[2][i + 1]) end
    end
    length = tonumber(string.match(last[1], '^(%d+)')) + count
  end
  redis.call('XADD', keys[1], '{SEAL_ID}', 'id', length)
  return length
end
redis.register_function('seal_stream', seal_stream)
"""

_servers: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()


def prepare_server(client: redis.Redis | RedisCluster, again: bool = False) -> str | None:
    """Make the server ready for the documents, once per client; None if it takes them, else why not.

    It takes them when it has the ReJSON and search modules, is not a cluster, and its
    ``_PROTOCOL_VERSION_`` is 1 (set if absent). The search index, its limit on wildcard
    expansions and the ``seal_stream`` function are added where missing: unlike blissdata's own
    set-up, this works on a database that already holds data and changes none of it. ``again``:
    set it up anew (the server was flushed, or started again empty, since: ``register_session``
    finds out before each scan).

    Returns
    -------
    str or None
        One line for the user when the documents cannot be written.

    Examples
    --------
    On a Redis without the modules (the doctests' own):

    >>> prepare_server(client)
    'blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see the scans: the Redis lacks the ReJSON and search modules (see docs/blissdata.md)'
    """
    if again or client not in _servers:
        why = _refusal(client)
        _servers[client] = None if why is None else (
            f"blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see the scans: {why} (see docs/blissdata.md)")  # fmt: skip
    return _servers[client]


def takes_documents(client: Any) -> bool:
    """Whether scans published through ``client`` get their blissdata documents (``prepare_server`` decides).

    Never raises: a Redis that cannot be reached takes none (and is asked again next time).

    Examples
    --------
    >>> takes_documents(client)  # the doctests' Redis lacks the modules
    False
    """
    try:
        return prepare_server(client) is None
    except (redis.RedisError, OSError):  # Redis away: the scan goes on; the next one asks again
        return False


def _refusal(client: Any) -> str | None:
    if isinstance(client, RedisCluster):
        return "the Redis is a cluster, which blissdata 2 does not read"
    try:
        found = {_text(module[b"name"] if b"name" in module else module["name"]) for module in client.module_list()}
        missing = [module for module in MODULES if module not in found]
        if missing:
            return f"the Redis lacks the {' and '.join(missing)} module{'s' if len(missing) > 1 else ''}"
        client.set(PROTOCOL_KEY, PROTOCOL_VERSION, nx=True)
        version = _text(client.get(PROTOCOL_KEY))
        if version != str(PROTOCOL_VERSION):
            return f"the Redis holds blissdata protocol {version}, not {PROTOCOL_VERSION}"
        _ensure_index(client)
        if not client.function_list(library=FUNCTION_LIBRARY):
            client.function_load(_LIBRARY)
    except redis.ResponseError as error:  # an ACL, a replica, a server that lacks a command
        return f"the Redis refused to set them up ({error})"
    return None


def _ensure_index(client: Any) -> None:
    """The search index of the scans' identities, unless it exists; the limit on wildcard expansions."""
    if INDEX.encode() not in {_text(name).encode() for name in client.execute_command("FT._LIST")}:
        try:
            client.execute_command("FT.CREATE", INDEX, *SCHEMA.split())
        except redis.ResponseError as error:
            if "already exists" not in str(error).lower():  # another shell made it meanwhile
                raise
        else:
            client.set(f"{INDEX}:schema", SCHEMA)
            client.set(f"{INDEX}:hash", hashlib.sha1(SCHEMA.encode()).hexdigest())
    try:
        client.config_set("search-max-prefix-expansions", PREFIX_EXPANSIONS)
    except redis.ResponseError:
        try:  # servers before Redis 8
            client.execute_command("FT.CONFIG", "SET", "MAXPREFIXEXPANSIONS", PREFIX_EXPANSIONS)
        except redis.ResponseError:
            pass  # refused (an ACL): searches by wildcard may then be truncated, nothing else changes


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
