"""Sardana's Pool started for real, with dummy motors: a Tango motor server others wrote (issue 27).

The Pool runs as a process of its own (sardana and taurus are never imported by the tests: taurus's import raises a
pint DeprecationWarning, an error under the tests' warning filter), found through a PyTango database of its own,
both on 127.0.0.1 in a private folder. Clients use plain ``tango.DeviceProxy``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tango

from simulator_server import free_port, wait_until, wait_until_answers

CONTROLLERS = Path(__file__).resolve().parent / "sardana_controllers"  # our own controller classes, for the Pool

CONTROLLER = "motctrl01"  # a DummyMotorController; its motors are motor/motctrl01/<axis>, aliases mot01, mot02, ...


class SardanaPool:
    """PyTango's database, Sardana's ``Pool test`` (device ``pool/test/1``), a DummyMotorController and its motors.

    Starting takes about 2 s here (the database 0.4 s, the Pool 1.2 s, the controller and two motors 0.2 s).

    Parameters
    ----------
    motors : int
        How many motors: axes 1, 2, ... of controller ``motctrl01``, devices ``motor/motctrl01/<axis>``, aliases
        ``mot01``, ``mot02``, ...
    timeout : float
        Seconds each step may take before the start is given up (everything started is stopped, the folder removed).

    Examples
    --------
    >>> pool = SardanaPool()
    >>> pool.url("mot01"), pool.url("motor/motctrl01/2")
    ('tango://127.0.0.1:40123/motor/motctrl01/1', 'tango://127.0.0.1:40123/motor/motctrl01/2')
    >>> tango.DeviceProxy(pool.url("mot01")).Position = 5
    >>> pool.stop()
    """

    def __init__(self, motors: int = 2, timeout: float = 60.0):
        self.motors = {f"mot{axis:02d}": axis for axis in range(1, motors + 1)}  # alias: axis
        self.folder = Path(tempfile.mkdtemp(prefix="bst-pool-"))
        self.tango_host = f"127.0.0.1:{free_port()}"
        self.timeout = timeout
        self.started: dict[str, float] = {}  # seconds each step took
        self.database: subprocess.Popen | None = None
        self.pool: subprocess.Popen | None = None
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        # HOME, TANGO_LOG_PATH: what taurus and cppTango write by default (~/.config, /tmp/tango-<user>) stays here
        env = dict(os.environ, HOME=str(self.folder), TANGO_LOG_PATH=str(self.folder),
                   PYTANGO_DATABASE_NAME=str(self.folder / "tango.db"))  # fmt: skip
        env.pop("TANGO_HOST", None)
        begin = time.monotonic()
        self.database = self._process([sys.executable, "-m", "tango.databaseds.database", "--host", "127.0.0.1",
                                       "--port", self.tango_host.split(":")[1], "2"], "database.log", env)  # fmt: skip
        wait_until_answers(f"tango://{self.tango_host}/sys/database/2", self.database, self.timeout, "the Tango database",
                           self.folder / "database.log")  # fmt: skip
        self.started["database"] = time.monotonic() - begin

        begin = time.monotonic()
        info = tango.DbDevInfo()
        info.name, info._class, info.server = "pool/test/1", "Pool", "Pool/test"
        self._db().add_device(info)
        self._db().put_device_property("pool/test/1", {"PoolPath": [str(CONTROLLERS)]})  # FaultyMotorController
        self.pool = self._process(
            [sys.executable, "-m", "sardana.tango.pool", "test", f"--log-file-name={self.folder / 'pool-log.txt'}",
             "-ORBendPoint", "giop:tcp:127.0.0.1:"], "pool.log", dict(env, TANGO_HOST=self.tango_host),
        )  # fmt: skip
        wait_until_answers(self.device_url("pool/test/1"), self.pool, self.timeout, "the Pool", self.folder / "pool.log")
        self.started["pool"] = time.monotonic() - begin

        begin = time.monotonic()
        pool = tango.DeviceProxy(self.device_url("pool/test/1"))
        pool.CreateController(["Motor", "DummyMotorController.py", "DummyMotorController", CONTROLLER])
        for alias, axis in self.motors.items():
            pool.CreateElement(["Motor", CONTROLLER, str(axis), alias])
        for alias in self.motors:
            self._wait_on(alias)
        self.started["motors"] = time.monotonic() - begin

    def add_faulty_motor(self, alias: str = "fmot01") -> str:
        """A motor of our ``FaultyMotorController`` (tests/sardana_controllers): its ``Fault`` attribute puts it in FAULT.

        Returns its URL. The controller ``faultctrl`` is created with the first such motor.
        """
        pool = tango.DeviceProxy(self.device_url("pool/test/1"))
        faulty = [name for name in self.motors if name.startswith("fmot")]
        if not faulty:
            pool.CreateController(["Motor", "FaultyMotorController.py", "FaultyMotorController", "faultctrl"])
        axis = 1 + len(faulty)
        pool.CreateElement(["Motor", "faultctrl", str(axis), alias])
        self.motors[alias] = axis
        self._wait_on(alias)
        return self.url(alias)

    def _db(self) -> tango.Database:
        host, port = self.tango_host.split(":")
        return tango.Database(host, int(port))

    def _process(self, command: list[str], log: str, env: dict[str, str]) -> subprocess.Popen:
        with open(self.folder / log, "ab") as output:
            return subprocess.Popen(command, env=env, cwd=self.folder, stdin=subprocess.DEVNULL, stdout=output,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def _wait_on(self, alias: str) -> None:
        """Until motor ``alias`` is ON (the Pool built it), within this pool's deadline."""
        wait_until(lambda: _state(self.url(alias)) == tango.DevState.ON, self.pool, self.timeout, f"motor {alias}",
                   self.folder / "pool.log")  # fmt: skip

    def device_url(self, device: str) -> str:
        """The full URL of a device of this database: ``tango://127.0.0.1:P/<device>``."""
        return f"tango://{self.tango_host}/{device}"

    def url(self, name: str) -> str:
        """The full URL of a device of this database, named or by its alias (``mot01``: its ``motor/motctrl01/1``)."""
        return self.device_url(name if "/" in name else self._db().get_device_alias(name))

    def pids(self) -> list[int]:
        """The processes it started and that still run."""
        return [p.pid for p in (self.pool, self.database) if p is not None and p.poll() is None]

    def kill(self) -> None:
        """SIGKILL the Pool from outside, as a crash would; the database keeps running."""
        if self.pool is not None and self.pool.poll() is None:
            self.pool.send_signal(signal.SIGKILL)
            self.pool.wait(timeout=10)

    def stop(self) -> None:
        """Stop the Pool and the database (SIGTERM, SIGKILL after 10 s) and remove the folder."""
        for process in (self.pool, self.database):
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _state(url: str) -> tango.DevState | None:
    try:
        return tango.DeviceProxy(url).state()
    except tango.DevFailed:
        return None
