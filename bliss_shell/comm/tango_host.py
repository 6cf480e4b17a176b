"""The Tango database the shell's clients use: which one and why, and the shell's own embedded one.

Name lookup uses the first of ``$TANGO_HOST``, the config's ``tango_host``, ``~/.tangorc`` and
``/etc/tangorc`` (the files read as cppTango reads them); ``tango_host: embedded``, or none of them,
means PyTango's own database server (``tango.databaseds``, sqlite) on a loopback port, run as a daemon
like the embedded Redis and reused by the next shell. The device servers registered in it are
``tango_servers``'s.
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

from bliss_shell.config import ConfigError

from .daemons import log_tail, start_detached, wait_started, wait_until
from .embedded_redis import runtime_dir
from .processes import pid_alive, pid_runs

_START_TIMEOUT = 20.0


class TangoUnavailable(Exception):
    """A Tango database or device server cannot be reached or started."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def device_answers(url: str) -> bool:
    """Whether the Tango device at ``url`` answers a ping.

    Examples
    --------
    >>> device_answers("tango://127.0.0.1:1/id00/motor/roby#dbase=no")  # nothing listens on port 1
    False
    """
    import tango  # PyTango loads only when a device is asked for (a session without Tango devices never does)

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
        host = self.recorded_host
        return host if host is not None and device_answers(f"tango://{host}/sys/database/2") else None

    @property
    def recorded_host(self) -> str | None:
        """``127.0.0.1:PORT`` while the database process recorded in the runtime folder runs; nothing is asked."""
        try:
            port, pid = self._state.read_text().split()
        except (OSError, ValueError):
            return None
        ours = pid_runs(int(pid), "tango.databaseds.database", port)  # the pid may have been reused since
        return f"127.0.0.1:{port}" if ours else None

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
    import tango  # loaded on use, as in device_answers

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

    def shown(self, host: str) -> str:
        """``TANGO_HOST`` set to ``host`` by this choice, and where it came from, as a user reads it in a message.

        Examples
        --------
        >>> TangoHostChoice("vm:10000", "TANGO_HOST from /etc/tangorc").shown("vm:10000")
        'TANGO_HOST vm:10000 from /etc/tangorc'
        >>> TangoHostChoice("db:20000", "tango_host in the config's root __init__.yml").shown("db:20000")
        "TANGO_HOST db:20000 from tango_host in the config's root __init__.yml"
        >>> TangoHostChoice(None, "tango_host: embedded in the config's root __init__.yml").shown("127.0.0.1:40213")
        "TANGO_HOST 127.0.0.1:40213, the shell's embedded database: tango_host: embedded in the config's root __init__.yml"
        """
        if self.host is None:
            return f"TANGO_HOST {host}, the shell's embedded database: {self.origin}"
        if self.origin.startswith("TANGO_HOST "):  # "TANGO_HOST from <file>", "TANGO_HOST in the environment"
            return f"TANGO_HOST {host} {self.origin.removeprefix('TANGO_HOST ')}"
        return f"TANGO_HOST {host} from {self.origin}"

    def export(self) -> str | None:
        """Set ``TANGO_HOST`` for this process's clients, starting and asking nothing; the host set, or None.

        The host chosen, or the embedded database's while it runs (else nothing is set).
        """
        host = self.host if self.host is not None else TangoDatabase().recorded_host  # asks nothing (docstring)
        if host is not None:
            _set_tango_host(host, self)
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
        _set_tango_host(host, self)
        return host


_exported: tuple[str, TangoHostChoice] | None = None  # the TANGO_HOST a choice set in this process, and that choice


def _set_tango_host(host: str, choice: TangoHostChoice) -> None:
    global _exported
    os.environ["TANGO_HOST"] = host
    _exported = (host, choice)


def tango_host_origin() -> str | None:
    """The ``TANGO_HOST`` of this process and where it came from, while a ``TangoHostChoice`` set it; else None.

    A client that cannot reach a device through the database adds it to its message, so the user sees which database
    was asked and what chose it.

    Examples
    --------
    >>> choose_tango_host().export()  # TANGO_HOST=vm:10000 in /etc/tangorc only  # doctest: +SKIP
    'vm:10000'
    >>> tango_host_origin()  # doctest: +SKIP
    'TANGO_HOST vm:10000 from /etc/tangorc'
    """
    host = os.environ.get("TANGO_HOST")
    if _exported is None or host != _exported[0]:  # set by no choice, or changed since
        return None
    return _exported[1].shown(host)


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
