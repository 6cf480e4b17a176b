"""Our simulator device server started for real: no Tango database, a free loopback port, the devices asked for.

Also what every test that starts a Tango server needs: a free port, a port that stays dead, and waiting until the
server's device answers.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bliss_shell.comm.tango_host import device_answers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that stays dead while the block runs: bound, never listening, so a connection to it is
    refused and no server (of another test) can take it meanwhile.

    Example
    -------
    >>> with refusing_port() as port:
    ...     device_answers(f"tango://127.0.0.1:{port}/sys/database/2")
    False
    """
    with socket.socket() as held:  # no SO_REUSEADDR: nobody else binds it
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, timeout: float, what: str, log: Path | None = None) -> None:
    """Until ``ready()`` is true, polling every 50 ms; ``RuntimeError`` naming ``what`` if ``process`` ends first or
    ``timeout`` seconds pass.

    The error holds the process's output: what it wrote to its pipe (it is then killed, to read it to the end), or
    the end of its ``log`` file.

    Example
    -------
    >>> wait_until(lambda: motor.state() == tango.DevState.ON, pool_process, 60, "motor mot01")  # doctest: +SKIP
    """
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            ended = "" if process.poll() is None else f" (it ended, code {process.returncode})"
            output = ""
            if process.stdout is not None:
                process.kill()
                output = process.communicate()[0]
            elif log is not None:
                output = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} did not start in {timeout:g} s{ended}" + (f": {output}" if output else ""))
        time.sleep(0.05)


def wait_until_answers(url: str, process: subprocess.Popen, timeout: float, what: str, log: Path | None = None) -> None:
    """Until the Tango device at ``url``, served by ``process``, answers a ping; see `wait_until`.

    Example
    -------
    >>> wait_until_answers(f"tango://{host}/sys/database/2", database, 30, "the Tango database")  # doctest: +SKIP
    """
    wait_until(lambda: device_answers(url), process, timeout, what, log)


class SimulatorServer:
    """``python -m bliss_shell.simulators`` serving ``devices`` ({Tango class: [names]}).

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
            [sys.executable, "-m", "bliss_shell.simulators", instance, "-nodb",
             "-ORBendPoint", f"giop:tcp:127.0.0.1:{self.port}", "-dlist", dlist],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        first = next(name for names in devices.values() for name in names)
        wait_until_answers(self.url(first), self.process, timeout, f"the simulator {instance}")

    def url(self, device: str) -> str:
        return f"tango://127.0.0.1:{self.port}/{device}#dbase=no"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.communicate(timeout=10)
