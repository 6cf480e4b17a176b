"""Numbering and placing a scan: Redis reachable first, then its number and its node's db_name.

Saved scans are numbered per saving folder (``1_ascan``, ``2_ascan``, ...), never below the
highest entry already in the file; unsaved ones (``ct``) get the session's shadow numbers
(``_1_ct``), as in BLISS. A template with ``{scan_number}`` gives each scan its own file: its
number is never one whose file exists, and when the folder's counter expired from Redis the numbers go
on above every scan's file in the folder, whatever its scan name.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable
from typing import Any

from bliss_shell.comm import TRANSIENT, through_failover
from bliss_shell.comm.redis_types import RedisClient, RedisReadOnlyError, RedisResponseError
from bliss_shell.data import keys
from bliss_shell.data.publisher import ensure_container, register_session
from bliss_shell.writer import highest_scan_number

from .context import ScanContext

_PER_SCAN = {"{scan_name}": r"[^/]+", "{scan_number}": r"(\d+)"}  # how a scan fills its keys in a path


def reach_redis(context: ScanContext, command: str) -> None:
    """Make sure Redis takes writes before anything moves: it numbers the scan.

    Registers the session's node again (it expires a retention time after its last scan). The
    embedded Redis is started again if it died; through Sentinels or a cluster, a failover in
    progress is waited for (``FAILOVER_WAIT``).

    Raises
    ------
    RuntimeError
        Redis is a read-only replica, or unreachable and cannot be started again; nothing was moved.
    """
    client = context.client
    try:
        through_failover(client, lambda: register_session(client, context.session))
        return
    except RedisReadOnlyError:
        raise RuntimeError(f"{command}: Redis answers as a read-only replica (a failover made another server the "
                           "primary); nothing was moved. Give the shell the primary's address, or "
                           "redis+sentinel://HOST:PORT/SERVICE to follow failovers") from None  # fmt: skip
    except TRANSIENT as error:
        if context.revive is None:
            raise RuntimeError(f"{command}: Redis is unreachable ({error}); nothing was moved. Start it "
                               "again, or check BLISS_REDIS_URL / redis_url in the config") from None  # fmt: skip
        reason = error
    try:
        context.revive()
        register_session(client, context.session)
    except Exception as error:
        raise RuntimeError(f"{command}: Redis is unreachable ({reason}) and could not be started again "
                           f"({error}); nothing was moved") from None  # fmt: skip


def number_and_place(context: ScanContext, name: str, path: str | None, numbered: bool = False) -> tuple[int, str]:
    """The scan's number and its node's db_name (``demo:tmp:scans:3_ascan``); saved when ``path`` is given.

    A saved scan takes the saving folder's next number, above the file's highest entry (``numbered``:
    the path holds ``{scan_number}``, the next number whose file does not exist); an unsaved one the
    session's next shadow number (``demo:tmp:scans:_4_ct``).
    """
    client, saving = context.client, context.scan_saving
    directory, directory_name = saving.directory_db_name()

    def place(pipe: Any) -> None:  # the folder's node, sent with the first increment
        ensure_container(client, directory, directory_name, context.session, pipe)

    if path and numbered:
        counter = keys.node_key(directory)
        ensure_container(client, directory, directory_name, context.session)
        if not client.hexists(counter, "last_scan_number"):  # expired from Redis with its scans: go on above every file
            client.hsetnx(counter, "last_scan_number", _highest_numbered_file(saving.scan_filename(True) or ""))
        number = _next(client, counter, "last_scan_number", 1, name)
        while os.path.exists(saving.scan_filename(True, name, number) or ""):  # another counter numbered here
            number = _next(client, counter, "last_scan_number", 1, name)
        return number, f"{directory}:{number}_{name}"
    if path:
        counter = keys.node_key(directory)
        in_file = highest_scan_number(path)  # first: a file that cannot be read costs no number
        number = _next(client, counter, "last_scan_number", 1, name, place)
        if number <= in_file:  # Redis lost the counter, or another one numbered into this file
            number = _next(client, counter, "last_scan_number", in_file + 1 - number, name)
        return number, f"{directory}:{number}_{name}"
    number = _next(client, keys.node_key(context.session), "last_unsaved_scan_number", 1, name, place)
    return number, f"{directory}:_{number}_{name}"


def _highest_numbered_file(template: str) -> int:
    """The highest ``{scan_number}`` of the files ``template`` makes, whatever their ``{scan_name}`` (0 when none)."""
    parts = re.split(r"(\{scan_name\}|\{scan_number\})", template)
    pattern = "".join("*" if part in _PER_SCAN else glob.escape(part) for part in parts)
    shape = re.compile("".join(_PER_SCAN.get(part, re.escape(part)) for part in parts))
    found = (shape.fullmatch(path) for path in glob.iglob(pattern))
    return max((int(match[1]) for match in found if match), default=0)


def _next(client: RedisClient, key: str, field: str, step: int, command: str, first: Callable[[Any], None] | None = None) -> int:
    """The counter ``field`` of ``key`` raised by ``step``; refuses the scan if it is not a number.

    ``first`` queues commands on the pipeline that sends the increment (one round trip for both).
    """
    pipe = client.pipeline(transaction=False)
    if first is not None:
        first(pipe)
    pipe.hincrby(key, field, step)
    *before, counted = pipe.execute(raise_on_error=False)
    if isinstance(counted, RedisReadOnlyError):  # a replica now: a script queued first fails with a plainer error
        raise counted
    for answer in before:
        if isinstance(answer, Exception):
            raise answer
    if isinstance(counted, RedisResponseError):  # someone wrote something else there
        raise RuntimeError(f"{command}: the scan counter in Redis ({key}, field {field}) is not a number; nothing was moved. "
                           f"Remove it (redis-cli HDEL '{key}' {field}): the next scan then continues after the "
                           "highest scan number in the file") from None  # fmt: skip
    if isinstance(counted, Exception):
        raise counted
    return int(counted)
