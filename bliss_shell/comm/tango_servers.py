"""The Tango device servers that the shell starts and stops itself, and which of them a session needs.

Device servers are declared in the config (``class: TangoServer``), registered in the Tango database
``tango_host.choose_tango_host`` gives (resolved once by the caller: the embedded one started if that is the choice)
and run as daemons, like the embedded Redis, reused by the next shell.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from bliss_shell.config import Config, ConfigError, ConfigNode

from .daemons import log_tail, start_detached, wait_started, wait_until
from .embedded_redis import runtime_dir
from .processes import pid_alive, pid_runs
from .settings import configured_settings_folder
from .tango_host import TangoUnavailable, device_answers, through_database

_START_TIMEOUT = 20.0


class TangoServer:
    """``class: TangoServer``: a device server the shell runs.

    Keys: ``module`` (run with ``python -m``; default ``bliss_shell.simulators``),
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
    >>> server.start(choose_tango_host(config.globals.get("tango_host")).resolve())  # doctest: +SKIP
    >>> server.pid()  # doctest: +SKIP
    52377
    """

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.module: str = node.get("module", "bliss_shell.simulators")
        self.server: str = node.get("server", "BlissSimulators")
        self.instance: str = node.get("instance", node.name)
        devices: Any = node.get("devices") or {}
        if not isinstance(devices, dict) or not all(isinstance(v, list) for v in devices.values()):
            raise ConfigError(f"{node.where}: {self.name}: devices must map a Tango class to a list of device names")
        self.devices: dict[str, list[str]] = devices
        self.listen: str = str(node.get("listen", "127.0.0.1"))  # loopback unless the config names an interface
        self._folder = runtime_dir()
        self._memory = configured_settings_folder(node.config.globals) / "devices"  # the simulators keep positions there

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
        return self.pid() is not None and all(device_answers(name) for name in self.device_names())

    def start(self, host: str) -> None:
        """Register the devices and start the server, unless its devices already answer.

        ``host`` is the database's ``TANGO_HOST``, as ``TangoHostChoice.resolve`` gives and sets it for this process
        (its clients find the devices there): the caller chooses and resolves it once for all its servers, so the
        choice it made (and where it came from, which error lines tell) stands. Devices served already (by this
        server, or by another host sharing ``TANGO_HOST``) are never registered again: that would mark them not
        exported for every client.

        Raises
        ------
        TangoUnavailable
            Some of its devices answer and others not, or it did not start within 20 s (the message ends with its
            log).
        """
        answering = [name for name in self.device_names() if device_answers(name)]
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
        import tango  # the sessions that start no server never load PyTango

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
