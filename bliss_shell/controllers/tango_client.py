"""One Tango device as seen by a config object: green-mode calls, failures as one line naming both.

Every Tango-backed object (motor, counter, Lima) goes through this, so a device that is
down or refuses a call always reads ``roby: Tango device <url>: <what Tango said>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tango

from bliss_shell.config import ConfigNode


class TangoDeviceError(RuntimeError):
    """A call to a Tango device failed; the message names the object and the device URL."""


def describe(error: tango.DevFailed) -> str:
    """What Tango said, in one line: the outermost error of its stack (the root cause in brackets)."""
    descs = [e.desc.strip().splitlines()[0] for e in error.args if e.desc.strip()]
    if not descs:
        return "no reason given"
    return descs[-1] if len(descs) == 1 else f"{descs[-1]} ({descs[0]})"


class TangoClient:
    """The device behind a config object's ``tango_url``; it must answer when the object is built.

    Example
    -------
    >>> device = TangoClient(node)
    >>> device.read("Position")
    """

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        url = node.get("tango_url")
        if not url:
            raise ValueError(f"{node.where}: {node.name}: tango_url is missing")
        self.url: str = url
        try:
            self.proxy = tango.DeviceProxy(url, green_mode=tango.GreenMode.Gevent)
            self.proxy.ping()
        except tango.DevFailed as error:
            raise ConnectionError(f"{self.name}: Tango device {url} is not reachable: {describe(error)}") from None

    def _failed(self, error: tango.DevFailed) -> TangoDeviceError:
        return TangoDeviceError(f"{self.name}: Tango device {self.url}: {describe(error)}")

    def read(self, attribute: str) -> Any:
        try:
            return self.proxy.read_attribute(attribute).value
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def read_many(self, attributes: Sequence[str]) -> list[Any]:
        try:
            return [reply.value for reply in self.proxy.read_attributes(list(attributes))]
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def write(self, attribute: str, value: Any) -> None:
        try:
            self.proxy.write_attribute(attribute, value)
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def command(self, name: str, *argument: Any) -> Any:
        try:
            return self.proxy.command_inout(name, *argument)
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def state(self) -> tango.DevState:
        try:
            return self.proxy.state()
        except tango.DevFailed as error:
            raise self._failed(error) from None
