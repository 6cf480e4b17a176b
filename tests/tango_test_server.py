"""Debian's TangoTest, the C++ reference device server, started for real: no Tango database, a free loopback port.

Its one device ``sys/tg_test/1`` has attributes of every type (``double_scalar``, ``long_scalar``, ``wave``,
``long_image_ro``, ``string_scalar``, ``boolean_scalar``, ``throw_exception``, ...); its state is RUNNING and
the command ``SwitchStates`` toggles it between RUNNING and FAULT.
"""

from __future__ import annotations

import os
import signal
import subprocess

import tango

from simulator_server import free_port, wait_until_answers

BINARY = "/usr/lib/tango/TangoTest"
DEVICE = "sys/tg_test/1"


class TangoTestServer:
    """``TangoTest test -nodb -dlist sys/tg_test/1`` on a free loopback port.

    Example
    -------
    >>> server = TangoTestServer()
    >>> server.url()
    'tango://127.0.0.1:40123/sys/tg_test/1#dbase=no'
    >>> server.kill()  # SIGKILL, as a crash
    """

    def __init__(self, timeout: float = 20.0):
        self.port = free_port()
        self.process = subprocess.Popen(
            [BINARY, "test", "-nodb", "-dlist", DEVICE, "-ORBendPoint", f"giop:tcp:127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        wait_until_answers(self.url(), self.process, timeout, "TangoTest")

    def url(self, device: str = DEVICE) -> str:
        return f"tango://127.0.0.1:{self.port}/{device}#dbase=no"

    def proxy(self) -> tango.DeviceProxy:
        return tango.DeviceProxy(self.url())

    def kill(self) -> None:
        """SIGKILL, from outside, as a crash or the OOM killer would."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.communicate(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.communicate(timeout=10)
