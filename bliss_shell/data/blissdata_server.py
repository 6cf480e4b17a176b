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
import uuid
import weakref
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import NoPermissionError

from bliss_shell.comm.embedded_redis import MODULE_NAMES

from .encoding import SEAL_ID

PROTOCOL_KEY = "_PROTOCOL_VERSION_"
PROTOCOL_VERSION = 1
INDEX = "esrf:scan:index"
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

    It takes them when it has the ReJSON and search modules, is not a cluster, lets this user write and
    delete a JSON document and a stream (tried on a scratch key outside any session), and its
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
        _servers[client] = None if why is None else _line(why)
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


def refuse(client: Any, why: str) -> None:
    """No more documents through ``client``: the Redis refused one mid-scan (an ACL changed, a module gone).

    ``why`` is what ``prepare_server`` says from now on.

    Examples
    --------
    >>> other = redis.Redis(connection_pool=client.connection_pool)
    >>> refuse(other, "the Redis refused JSON.SET")
    >>> takes_documents(other), prepare_server(other)
    (False, 'blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see the scans: the Redis refused JSON.SET (see docs/blissdata.md)')
    """
    _servers[client] = _line(why)


def _line(why: str) -> str:
    return f"blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see the scans: {why} (see docs/blissdata.md)"


def _refusal(client: Any) -> str | None:
    """Why the documents cannot go to this Redis through ``client``, after setting up what is missing; None if they can.

    A user without the rights to set the server up (an ACL refuses MODULE LIST, CONFIG, FT.CREATE or FUNCTION LOAD)
    is accepted once an administrator set it up: the set-up steps are then found done.
    """
    if isinstance(client, RedisCluster):
        return "the Redis is a cluster, which blissdata 2 does not read"
    try:
        missing = _missing_modules(client)
        if missing:
            return f"the Redis lacks the {' and '.join(missing)} module{'s' if len(missing) > 1 else ''}"
        return _probe(client) or _protocol(client) or _ensure_index(client) or _ensure_library(client)
    except redis.ResponseError as error:  # a replica, a server that lacks a command, an ACL on a key
        return f"the Redis refused to set them up ({error})"


def _missing_modules(client: Any) -> list[str]:
    """The modules of ``MODULE_NAMES`` the server lacks; none said when this user may not list them (the probe tells)."""
    try:
        listed = client.module_list()
    except NoPermissionError:
        return []
    found = {_text(module[b"name"] if b"name" in module else module["name"]) for module in listed}
    return [module for module in MODULE_NAMES if module not in found]


def _probe(client: Any) -> str | None:
    """Write and delete a JSON document and a stream on a scratch key, outside any session, as the scans' will."""
    key = f"bliss_shell:probe:{uuid.uuid4().hex}"
    commands = [("JSON.SET", key, "$", "{}"), ("JSON.DEL", key), ("XADD", key, "*", "probe", 1), ("DEL", key)]
    for command in commands:
        try:
            client.execute_command(*command)
        except redis.ResponseError as error:
            try:
                client.delete(key)
            except redis.ResponseError:
                pass  # refused too: the key is empty or a one-entry stream, with nothing of a scan
            if "unknown command" in str(error).lower():
                return f"the Redis lacks the module of {command[0]}"
            return f"the Redis refused {command[0]} ({error})"
    return None


_ADMIN = ("an administrator sets the Redis up once by opening a session as a user allowed to (docs/blissdata.md), "
          "or gives this user the right")  # fmt: skip


def _protocol(client: Any) -> str | None:
    """``_PROTOCOL_VERSION_`` set to 1 unless it is set; why not if it holds another version or cannot be set."""
    try:
        client.set(PROTOCOL_KEY, PROTOCOL_VERSION, nx=True)
    except NoPermissionError as error:
        if client.get(PROTOCOL_KEY) is None:
            return f"{PROTOCOL_KEY} is not set and this user may not set it ({error}): {_ADMIN}"
    version = _text(client.get(PROTOCOL_KEY))
    if version != str(PROTOCOL_VERSION):
        return (f"the Redis's {PROTOCOL_KEY} is {version}, where blissdata 2.4 writes and reads {PROTOCOL_VERSION}: a newer or "
                "older blissdata set this Redis up; use a Redis of its own for each")  # fmt: skip
    return None


def _ensure_index(client: Any) -> str | None:
    """The search index of the scans' identities, unless it exists; the limit on wildcard expansions."""
    if INDEX.encode() not in {_text(name).encode() for name in client.execute_command("FT._LIST")}:
        try:
            client.execute_command("FT.CREATE", INDEX, *SCHEMA.split())
        except NoPermissionError as error:
            return f"the search index {INDEX} is missing and this user may not create it ({error}): {_ADMIN}"
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
    return None


def _ensure_library(client: Any) -> str | None:
    """The ``seal_stream`` server function, unless its library is loaded."""
    if client.function_list(library=FUNCTION_LIBRARY):
        return None
    try:
        client.function_load(_LIBRARY)
    except NoPermissionError as error:
        return (f"the server function library {FUNCTION_LIBRARY} (seal_stream, which blissdata's writers call) is "
                f"missing and this user may not load it ({error}): {_ADMIN}")  # fmt: skip
    except redis.ResponseError as error:
        if "already exists" not in str(error).lower():  # another shell loaded it meanwhile
            raise
    return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
