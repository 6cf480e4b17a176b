"""Our simulator device server started for real: no Tango database, a free loopback port, the devices asked for."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import tango


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SimulatorServer:
    """``python -m bliss_shell.controllers.simulators`` serving ``devices`` ({Tango class: [names]}).

    Example
    -------
    >>> server = SimulatorServer({"CT2": ["id00/ct2/p201"]})
    >>> server.url("id00/ct2/p201")
    'tango://127.0.0.1:40123/id00/ct2/p201#dbase=no'
    >>> server.stop()
    """

    def __init__(self, devices: dict[str, list[str]], instance: str = "test", timeout: float = 20.0):
        self.port = free_port()
        self.devices = devices
        dlist = ",".join(f"{cls}::{name}" for cls, names in devices.items() for name in names)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bliss_shell.controllers.simulators", instance, "-nodb",
             "-ORBendPoint", f"giop:tcp:127.0.0.1:{self.port}", "-dlist", dlist],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        first = next(name for names in devices.values() for name in names)
        deadline = time.monotonic() + timeout
        while True:
            try:
                tango.DeviceProxy(self.url(first)).ping()
                return
            except tango.DevFailed:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    raise RuntimeError(f"the simulator did not start: {self.process.communicate()[0]}") from None
                time.sleep(0.1)

    def url(self, device: str) -> str:
        return f"tango://127.0.0.1:{self.port}/{device}#dbase=no"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.communicate(timeout=10)
