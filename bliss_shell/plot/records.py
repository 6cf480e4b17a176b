"""Where this machine's viewers are: a record of each in the user's runtime folder, readable without Redis.

A viewer writes ``viewer-<pid>.json`` (its URL, pid, host, session and Redis, the password
redacted) in the runtime folder once it listens, and removes it when it stops.
``bliss servers status|stop`` and ``bliss plot SESSION --stop`` read them: they find the viewers
of a Redis even when that Redis is gone.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> record = {"url": "http://127.0.0.1:40123/", "pid": os.getpid(), "host": "id00", "session": "demo",
...           "redis": "unix:///run/user/1000/bliss_shell/redis.sock"}
>>> path = write_record(folder, record)
>>> running_viewers(folder, "unix:///run/user/1000/bliss_shell/redis.sock")  # this process is no viewer
[]
>>> path.exists()  # so its record was stale, and is gone
False
>>> folder.rmdir()
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from bliss_shell.comm.daemons import wait_until
from bliss_shell.comm.processes import pid_runs

STOP_TIMEOUT = 10.0  # s for a viewer to end after SIGTERM; then it is killed


def write_record(folder: Path, record: dict[str, Any]) -> Path:
    """Write the record of the viewer ``record["pid"]`` in ``folder``; its path."""
    path = folder / f"viewer-{record['pid']}.json"
    path.write_text(json.dumps(record))
    return path


def running_viewers(folder: Path, redis_shown: str, session: str | None = None) -> list[dict[str, Any]]:
    """The records of the viewers running on this machine that read ``redis_shown`` (of ``session``: that one's).

    A record whose process is no longer a viewer (it was killed, its pid reused) is removed.

    Examples
    --------
    >>> [record["url"] for record in running_viewers(runtime_dir(), "unix:///run/user/1000/bliss_shell/redis.sock")]  # doctest: +SKIP
    ['http://127.0.0.1:40123/']
    """
    found = []
    for path in sorted(folder.glob("viewer-*.json")):
        try:
            record = json.loads(path.read_text())
            alive = pid_runs(int(record["pid"]), "bliss_shell.plot")  # a zombie's command line is empty
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written, or not one of ours
        if not alive:
            path.unlink(missing_ok=True)
        elif record.get("redis") == redis_shown and session in (None, record.get("session")):
            found.append(record)
    return found


def end_viewer(record: dict[str, Any]) -> None:
    """Stop the viewer of ``record`` (on this machine): SIGTERM, and SIGKILL if it has not ended ``STOP_TIMEOUT`` s later.

    Examples
    --------
    >>> for record in running_viewers(runtime_dir(), "unix:///run/user/1000/bliss_shell/redis.sock"):  # doctest: +SKIP
    ...     end_viewer(record)
    """
    pid = int(record["pid"])
    if not pid_runs(pid, "bliss_shell.plot"):
        return
    os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: not pid_runs(pid, "bliss_shell.plot"), STOP_TIMEOUT):
        os.kill(pid, signal.SIGKILL)
