"""Tango name service and device servers that the shell starts and stops itself.

Name lookup uses the first of ``$TANGO_HOST``, the config's ``tango_host``, ``~/.tangorc`` and
``/etc/tangorc`` (the files read as cppTango reads them); ``tango_host: embedded``, or none of them,
means PyTango's own database server (``tango.databaseds``, sqlite) on a loopback port, run as a daemon
like the embedded Redis and reused by the next shell. Device servers are declared in the config
(``class: TangoServer``), registered in the database chosen and run as daemons too.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tango

from bliss_shell.config import Config, ConfigError, ConfigNode

from ._daemon import log_tail, start_detached, wait_started, wait_until
from ._process import pid_alive, pid_runs
from .embedded_redis import runtime_dir
from .settings import configured_settings_folder

_START_TIMEOUT = 20.0


class TangoUnavailable(Exception):
    """A Tango database or device server cannot be reached or started."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        tango.DeviceProxy(url).ping()
    except tango.DevFailed:
        return False
    return True


class TangoDatabase:
    """The embedded Tango database: ``127.0.0.1:<port>``, its sqlite file in the runtime folder.

    ``bliss servers start|status|stop`` shows and stops it; the first device server a shell starts starts it.

    Examples
    --------
    >>> database = TangoDatabase()  # doctest: +SKIP
    >>> database.ensure_running()  # doctest: +SKIP
    '127.0.0.1:40213'
    """

    def __init__(self, folder: Path | None = None):
        self.folder = folder or runtime_dir()
        self._state = self.folder / "tango-db.port"
        self.log = self.folder / "tango-db.log"

    @property
    def tango_host(self) -> str | None:
        """``127.0.0.1:PORT`` while the database answers, else None."""
        try:
            port, pid = self._state.read_text().split()
        except (OSError, ValueError):
            return None
        host = f"127.0.0.1:{port}"
        ours = pid_runs(int(pid), "tango.databaseds.database", port)  # the pid may have been reused since
        return host if ours and _answers(f"tango://{host}/sys/database/2") else None

    @property
    def pid(self) -> int | None:
        """The database server's pid while it answers, else None."""
        return int(self._state.read_text().split()[1]) if self.tango_host else None

    def ensure_running(self) -> str:
        """Start the database unless it answers; its ``TANGO_HOST`` (``127.0.0.1:PORT``).

        A file lock makes two shells starting at the same moment share one database.

        Raises
        ------
        TangoUnavailable
            It did not start within 20 s, or stopped answering; the message ends with its log.
        """
        with open(self.folder / "tango-db.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.tango_host is None:
                port = _free_port()
                command = [sys.executable, "-m", "tango.databaseds.database", "--host", "127.0.0.1", "--port", str(port), "2"]
                process = start_detached(command, self.log, {"PYTANGO_DATABASE_NAME": str(self.folder / "tango.db")})
                self._state.write_text(f"{port} {process.pid}")
                if not wait_started(process, lambda: self.tango_host is not None, _START_TIMEOUT):
                    raise TangoUnavailable(f"the Tango database did not start: {log_tail(self.log)}")
        host = self.tango_host
        if host is None:  # it answered a moment ago
            raise TangoUnavailable(f"the Tango database stopped answering: {log_tail(self.log)}")
        return host

    def stop(self) -> int | None:
        """Stop the database (SIGTERM, then wait for it); the pid it had, or None if none was running."""
        pid = self.pid
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not pid_alive(pid), _START_TIMEOUT)
        self._state.unlink(missing_ok=True)
        return pid


SYSTEM_TANGORC = Path("/etc/tangorc")
"""The machine's file that cppTango reads after ``~/.tangorc``: its ``TANGO_RC_FILE``, fixed when cppTango is built
(``/etc/tangorc`` in PyTango's wheels and Debian's packages); no environment variable moves it."""

EMBEDDED = "embedded"
_HOSTS = re.compile(r"[^\s:,/#]+:\d+(,[^\s:,/#]+:\d+)*")  # host:port, or host:port,host:port (a database on two hosts)


def read_tangorc(path: Path, name: str = "TANGO_HOST") -> str | None:
    """The value of ``name`` in a tangorc file, read as cppTango reads it; None when the file or the name is not there.

    cppTango's rule (``Connection::get_env_var_from_file``): the first line that holds the name (in any case, even
    inside a longer word), with no ``#`` before it and a ``=`` somewhere; the value is the rest of that line after its
    first ``=``, lower-cased, with the spaces removed (tabs and a comment after the value are kept).

    Examples
    --------
    >>> read_tangorc(Path("/etc/tangorc"))  # with "TANGO_HOST = Tango.Beamline:20000" in it  # doctest: +SKIP
    'tango.beamline:20000'
    >>> read_tangorc(Path("/no/such/tangorc")) is None
    True
    """
    try:
        text = path.read_bytes().decode(errors="replace")
    except OSError:  # absent or unreadable: cppTango goes on to the next place
        return None
    wanted = name.lower()
    for line in text.lower().split("\n"):  # cppTango's getline: a "\r" stays in the value
        at, comment = line.find(wanted), line.find("#")
        if at < 0 or 0 <= comment < at or "=" not in line:
            continue
        return line.split("=", 1)[1].replace(" ", "")
    return None


def _database_answers(hosts: str) -> bool:
    """Whether a Tango database answers at ``host:port`` (one of ``host:port,host:port``)."""
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        try:
            tango.Database(name, int(port))
        except (tango.DevFailed, ValueError):
            continue
        return True
    return False


@dataclass(frozen=True)
class TangoHostChoice:
    """Which Tango database the shell's clients use (``host`` ``None``: the embedded one), and why.

    ``origin`` is told to the user when that database does not answer, with ``fix``, what to do about it.

    Examples
    --------
    >>> choose_tango_host("tango.beamline:20000")  # doctest: +SKIP
    TangoHostChoice(host='tango.beamline:20000', origin="tango_host in the config's root __init__.yml", fix=...)
    """

    host: str | None
    origin: str
    fix: str = ""

    def problem(self) -> str | None:
        """Why the database chosen cannot be used (not ``host:port``, or it does not answer), or None if it can.

        The embedded database is started when needed: it has no problem to tell beforehand.
        """
        if self.host is None:
            return None
        if not _HOSTS.fullmatch(self.host):
            comment = " (a comment goes on a line of its own: cppTango reads the rest of the line)" if "#" in self.host else ""
            return f"Tango database {self.host!r} ({self.origin}) is not host:port{comment}: {self.fix}"
        if not _database_answers(self.host):
            return f"Tango database {self.host} ({self.origin}) does not answer: {self.fix}"
        return None

    def export(self) -> str | None:
        """Set ``TANGO_HOST`` for this process's clients, starting and asking nothing; the host set, or None.

        The host chosen, or the embedded database's while it runs (else nothing is set).
        """
        host = self.host if self.host is not None else TangoDatabase().tango_host
        if host is not None:
            os.environ["TANGO_HOST"] = host
        return host

    def resolve(self) -> str:
        """The database's ``TANGO_HOST``, set for this process's clients; the embedded one is started if chosen.

        Raises
        ------
        TangoUnavailable
            The database chosen does not answer (the message names it, where it came from and what to do), or the
            embedded one did not start.
        """
        problem = self.problem()
        if problem is not None:
            raise TangoUnavailable(problem)
        host = self.host if self.host is not None else TangoDatabase().ensure_running()
        os.environ["TANGO_HOST"] = host
        return host


def choose_tango_host(configured: object = None, home: Path | None = None, system_file: Path = SYSTEM_TANGORC) -> TangoHostChoice:
    """The Tango database to use, and why: the first of ``$TANGO_HOST``, the config's ``tango_host`` and the files.

    The files: ``TANGO_HOST`` of ``~/.tangorc`` (in ``home``, default ``$HOME``), then of ``system_file``
    (``/etc/tangorc``); none of them means the embedded database. The config's ``tango_host`` is ``host:port``
    or ``embedded`` (the shell's own database, whatever the files say). Nothing is started or asked here.

    Raises
    ------
    ConfigError
        ``tango_host`` is neither ``host:port`` nor ``embedded``.

    Examples
    --------
    >>> choose_tango_host("embedded").origin  # doctest: +SKIP
    "tango_host: embedded in the config's root __init__.yml"
    >>> choose_tango_host().origin  # with TANGO_HOST=vm:10000 in /etc/tangorc only  # doctest: +SKIP
    'TANGO_HOST from /etc/tangorc'
    """
    home_file = (home or Path.home()) / ".tangorc"
    files_fix = "start it, set TANGO_HOST, or put `tango_host: embedded` in the config's root __init__.yml"
    environment = os.environ.get("TANGO_HOST")
    if environment:
        return TangoHostChoice(environment, "TANGO_HOST in the environment", "start it, or set TANGO_HOST to one that runs "
                               "(unset, the config's tango_host and the tangorc files choose)")  # fmt: skip
    if configured is not None:
        value = str(configured).strip()
        if value.lower() == EMBEDDED:
            return TangoHostChoice(None, "tango_host: embedded in the config's root __init__.yml")
        if not _HOSTS.fullmatch(value):
            raise ConfigError(f"the config's root __init__.yml: tango_host must be host:port (or host:port,host:port), or "
                              f"{EMBEDDED} for the shell's own database, not {configured!r}")  # fmt: skip
        fix = "start it, set TANGO_HOST, or change tango_host in the config's root __init__.yml (`embedded`: the shell's own)"
        return TangoHostChoice(value, "tango_host in the config's root __init__.yml", fix)
    for path in (home_file, system_file):
        found = read_tangorc(path)
        if found is not None:
            return TangoHostChoice(found, f"TANGO_HOST from {path}", files_fix)
    return TangoHostChoice(None, f"no TANGO_HOST in the environment, the config, {home_file} or {system_file}")


def through_database(url: str) -> bool:
    """Whether ``url`` names its device through the ``TANGO_HOST`` database: a device name or an alias.

    Not through it: a URL with a host of its own (``tango://host:port/...``, ``host:port/...``) or ``#dbase=no``.

    Examples
    --------
    >>> [through_database(url) for url in ("id00/motor/roby", "roby_alias", "tango://db:10000/id00/motor/roby")]
    [True, True, False]
    >>> [through_database(url) for url in ("tango://127.0.0.1:20000/id00/motor/roby#dbase=no", "")]
    [False, False]
    """
    name = url.split("#", 1)[0]
    own_host = name.lower().startswith("tango://") or ":" in name.split("/", 1)[0]
    return bool(name) and "#dbase=no" not in url.lower() and not own_host


class TangoServer:
    """``class: TangoServer``: a device server the shell runs.

    Keys: ``module`` (run with ``python -m``; default ``bliss_shell.controllers.simulators``),
    ``server`` (its Tango server name; default ``BlissSimulators``), ``instance`` (default the
    object's name), ``devices`` (``{TangoClass: [domain/family/member, ...]}``), ``listen`` (the
    address it listens on: 127.0.0.1 unless the config names a beamline interface, or 0.0.0.0 for all).

    Raises
    ------
    ConfigError
        ``devices`` does not map Tango classes to lists of device names.

    Examples
    --------
    With the repository's config (``config/servers.yml``), which the doctests do not use:

    >>> server = config.get("demo_simulators")  # doctest: +SKIP
    >>> server, server.device_names()[:2]  # doctest: +SKIP
    (TangoServer(BlissSimulators/demo), ['id00/motor/roby', 'id00/motor/robz'])
    >>> server.start()  # doctest: +SKIP
    >>> server.pid()  # doctest: +SKIP
    52377
    """

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.module: str = node.get("module", "bliss_shell.controllers.simulators")
        self.server: str = node.get("server", "BlissSimulators")
        self.instance: str = node.get("instance", node.name)
        devices: Any = node.get("devices") or {}
        if not isinstance(devices, dict) or not all(isinstance(v, list) for v in devices.values()):
            raise ConfigError(f"{node.where}: {self.name}: devices must map a Tango class to a list of device names")
        self.devices: dict[str, list[str]] = devices
        self.listen: str = str(node.get("listen", "127.0.0.1"))  # loopback unless the config names an interface
        self._folder = runtime_dir()
        self._memory = configured_settings_folder(node.config.globals) / "devices"  # the simulators keep positions there
        self._tango_host: object = node.config.globals.get("tango_host")

    def __repr__(self) -> str:
        return f"TangoServer({self.server}/{self.instance})"

    @property
    def _pidfile(self) -> Path:
        return self._folder / f"tango-{self.server}-{self.instance}.pid"

    @property
    def log(self) -> Path:
        """The server's log file, in the runtime folder."""
        return self._folder / f"tango-{self.server}-{self.instance}.log"

    def device_names(self) -> list[str]:
        """Every device it serves, in the config's order."""
        return [name for names in self.devices.values() for name in names]

    def pid(self) -> int | None:
        """The server's pid while its process runs, else None."""
        try:
            pid = int(self._pidfile.read_text())
        except (OSError, ValueError):
            return None
        return pid if pid_runs(pid, self.module, self.instance) else None  # the pid may have been reused since

    def running(self) -> bool:
        """Whether its process runs and every one of its devices answers."""
        return self.pid() is not None and all(_answers(name) for name in self.device_names())

    def start(self) -> None:
        """Register the devices and start the server, unless its devices already answer.

        Its devices are registered in the database ``choose_tango_host`` gives (the embedded one started if that is
        the choice). Devices served already (by this server, or by another host sharing ``TANGO_HOST``) are never
        registered again: that would mark them not exported for every client.

        Raises
        ------
        TangoUnavailable
            The Tango database chosen (``choose_tango_host``) does not answer, some of its devices answer and others
            not, or it did not start within 20 s (the message ends with its log).
        """
        host = choose_tango_host(self._tango_host).resolve()
        answering = [name for name in self.device_names() if _answers(name)]
        if answering and len(answering) == len(self.device_names()):
            return
        if answering:
            missing = [name for name in self.device_names() if name not in answering]
            if self.pid() is not None:  # our own server, started before the config gave it more devices
                raise TangoUnavailable(f"{self.name}: {self.server}/{self.instance} runs without {', '.join(missing)}, "
                                       "which the config now adds: restart it with `bliss servers stop`, then open "
                                       "the session again")  # fmt: skip
            raise TangoUnavailable(f"{self.name}: {', '.join(answering)} already answer (served elsewhere), "
                                   f"{', '.join(missing)} do not; not starting {self.server}/{self.instance}: serve them "
                                   "all from one place (edit its devices in the config)")  # fmt: skip
        database = tango.Database()
        for tango_class, names in self.devices.items():
            for name in names:
                info = tango.DbDevInfo()
                info.name, info._class, info.server = name, tango_class, f"{self.server}/{self.instance}"
                database.add_device(info)
        endpoint = f"giop:tcp:{self.listen}:"  # any free port on that address; ZMQ events bind there too
        command = [sys.executable, "-m", self.module, self.instance, "-ORBendPoint", endpoint]
        process = start_detached(command, self.log, {"TANGO_HOST": host, "BLISS_SIM_MEMORY": str(self._memory)})
        self._pidfile.write_text(str(process.pid))
        if not wait_started(process, self.running, _START_TIMEOUT):
            raise TangoUnavailable(f"Tango server {self.server}/{self.instance} did not start: {log_tail(self.log)}")

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then wait for it); the pid it had, or None if it was not running."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not pid_alive(pid), _START_TIMEOUT)
        self._pidfile.unlink(missing_ok=True)
        return pid


def device_name(url: str) -> str:
    """``domain/family/member`` of a Tango URL (``tango://host:port/d/f/m#dbase=no`` or ``d/f/m``), lower case.

    Examples
    --------
    >>> device_name("tango://127.0.0.1:20000/id00/Motor/roby#dbase=no")
    'id00/motor/roby'
    >>> device_name("id00/limaccds/simulator")
    'id00/limaccds/simulator'
    """
    name = url.split("#", 1)[0]
    if name.startswith("tango://"):
        name = name[len("tango://") :].split("/", 1)[1]
    return name.lower()


def needed_servers(config: Config, object_names: list[str]) -> list[TangoServer]:
    """The ``TangoServer`` objects among ``object_names``, or serving a device one of them names in ``tango_url``."""
    urls = {device_name(str(config.get_config(name).get("tango_url", ""))) for name in object_names if name in config.names()}
    needed = []
    for name in config.names_of_class("TangoServer"):
        server = config.get(name)
        if name in object_names or urls & {device.lower() for device in server.device_names()}:
            needed.append(server)
    return needed


def database_needed(config: Config, object_names: list[str]) -> bool:
    """Whether these objects need the ``TANGO_HOST`` database.

    They do when a server is to be started for them (``needed_servers``), or a ``tango_url`` is found through it
    (``through_database``).
    """
    urls = [str(config.get_config(name).get("tango_url") or "") for name in object_names if name in config.names()]
    return bool(needed_servers(config, object_names)) or any(through_database(url) for url in urls)
