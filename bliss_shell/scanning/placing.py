"""Numbering and placing a scan: Redis reachable first, then its number and its node's db_name.

Saved scans are numbered per saving folder (``1_ascan``, ``2_ascan``, ...), never below the
highest entry already in the file; unsaved ones (``ct``) get the session's shadow numbers
(``_1_ct``), as in BLISS.
"""

from __future__ import annotations

import redis

from bliss_shell.data.publisher import ensure_container, register_session
from bliss_shell.writer import highest_scan_number

from .context import ScanContext


def reach_redis(context: ScanContext, command: str) -> None:
    """Before anything moves: Redis numbers the scan. The embedded one is started again if it died."""
    try:
        context.client.ping()
        return
    except redis.ConnectionError as error:
        if context.revive is None:
            raise RuntimeError(f"{command}: Redis is unreachable ({error}); nothing was moved. Start it "
                               "again, or check BLISS_REDIS_URL / redis_url in the config") from None  # fmt: skip
        reason = error
    try:
        context.revive()
        context.client.ping()
    except Exception as error:
        raise RuntimeError(f"{command}: Redis is unreachable ({reason}) and could not be started again "
                           f"({error}); nothing was moved") from None  # fmt: skip


def number_and_place(context: ScanContext, name: str, path: str | None) -> tuple[int, str]:
    """The scan's number and its node's db_name (``demo:tmp:scans:3_ascan``); saved when ``path`` is given."""
    client, saving = context.client, context.scan_saving
    directory, directory_name = saving.directory_db_name()
    register_session(client, context.session)  # again: it expires a retention time after its last scan
    ensure_container(client, directory, directory_name, context.session)
    if path:
        counter = f"node|{directory}"
        in_file = highest_scan_number(path)  # first: a file that cannot be read costs no number
        number = _next(client, counter, "last_scan_number", 1, name)
        if number <= in_file:  # Redis lost the counter, or another one numbered into this file
            number = _next(client, counter, "last_scan_number", in_file + 1 - number, name)
        return number, f"{directory}:{number}_{name}"
    number = _next(client, f"node|{context.session}", "last_unsaved_scan_number", 1, name)
    return number, f"{directory}:_{number}_{name}"


def _next(client: redis.Redis, key: str, field: str, step: int, command: str) -> int:
    try:
        return int(client.hincrby(key, field, step))
    except redis.ResponseError:  # someone wrote something else there
        raise RuntimeError(f"{command}: the scan counter in Redis ({key}, field {field}) is not a number; nothing was moved. "
                           f"Remove it (redis-cli HDEL '{key}' {field}): the next scan then continues after the "
                           "highest scan number in the file") from None  # fmt: skip
