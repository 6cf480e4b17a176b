"""One Tango device as seen by a config object: green-mode calls, failures as one line naming both.

Every Tango-backed object (motor, counter, Lima) goes through this, so a device that is
down or refuses a call always reads ``roby: Tango device <url>: <what Tango said>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tango

from bliss_shell.comm.tango_host import tango_host_origin, through_database
from bliss_shell.config import ConfigNode

# What Tango says when a device's server cannot be reached (not running, killed, or its host gone)
_UNREACHABLE = ("API_CantConnectToDevice", "API_DeviceNotExported", "TRANSIENT_ConnectFailed", "COMM_FAILURE")
SERVER_HINT = "is its device server running? `bliss servers status`; `bliss servers start` starts the config's servers"


class TangoDeviceError(RuntimeError):
    """A call to a Tango device failed; the message names the object and the device URL."""


def describe(error: tango.DevFailed) -> str:
    """What Tango said, in one line: the outermost error of its stack (the root cause in brackets).

    Examples
    --------
    >>> try:
    ...     tango.Except.throw_exception("CT2_REFUSED", "id00/ct2/p201: an acquisition is running", "CT2.start_acq")
    ... except tango.DevFailed as error:
    ...     describe(error)
    'id00/ct2/p201: an acquisition is running'
    """
    descs = [e.desc.strip().splitlines()[0] for e in error.args if e.desc.strip()]
    if not descs:
        return "no reason given"
    return descs[-1] if len(descs) == 1 else f"{descs[-1]} ({descs[0]})"


def unreachable(error: tango.DevFailed) -> bool:
    """True when the call failed because the device's server could not be reached (not a refusal by the device).

    Examples
    --------
    >>> try:
    ...     tango.Except.throw_exception("API_CantConnectToDevice", "Failed to connect to device id00/ct2/p201", "connect")
    ... except tango.DevFailed as error:
    ...     unreachable(error)
    True
    """
    return any(mark in f"{e.reason} {e.desc}" for e in error.args for mark in _UNREACHABLE)


class TangoClient:
    """The device behind a config object's ``tango_url``; it must answer when the object is built.

    Calls use PyTango's gevent green mode; a call that fails raises ``TangoDeviceError``, whose
    message names the object and the device.

    Raises
    ------
    ValueError
        The config gives no ``tango_url``.
    ConnectionError
        The device does not answer; when it is found through the database, the message ends with ``TANGO_HOST``
        and where that came from (``tango_host_origin``), if the shell chose it.

    Examples
    --------
    >>> device = TangoClient(config.get_config("roby"))  # doctest: +SKIP
    >>> device.read("Velocity"), device.read_many(["Offset", "Sign"])  # doctest: +SKIP
    (2500.0, [0.0, 1])
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
            origin = tango_host_origin() if through_database(url) else None  # which database was asked, and why that one
            where = f" ({origin})" if origin else ""
            raise ConnectionError(f"{self.name}: Tango device {url} is not reachable: {describe(error)}{where}") from None

    def _failed(self, error: tango.DevFailed) -> TangoDeviceError:
        hint = f": {SERVER_HINT}" if unreachable(error) else ""
        return TangoDeviceError(f"{self.name}: Tango device {self.url}: {describe(error)}{hint}")

    def read(self, attribute: str) -> Any:
        """The value of one attribute; never None: one without a value raises, as in ``read_many``.

        Raises
        ------
        TangoDeviceError
            The call failed, or the device could not read the attribute (``read_many``).
        """
        return self.read_many([attribute])[0]

    def read_many(self, attributes: Sequence[str]) -> list[Any]:
        """The values of several attributes, in one call (``read_attributes``); an attribute without a value raises.

        ``read_attributes`` does not raise for one attribute the device failed to read (its reply holds
        the error), nor for one it could not read now (its value is None, its quality ``ATTR_INVALID``):
        here either is an error naming the attribute.

        Raises
        ------
        TangoDeviceError
            The call failed: ``tt: Tango device <url>: Failed to read_attributes on device sys/tg_test/1, attribute
            throw_exception (here is the exception you requested)``; or one attribute has no value: ``roby: Tango
            device <url>: Position has no value: the device could not read it now (quality ATTR_INVALID); its state
            and status may say why``.
        """
        try:
            replies = self.proxy.read_attributes(list(attributes))
        except tango.DevFailed as error:
            raise self._failed(error) from None
        for reply in replies:
            if reply.has_failed:
                raise self._failed(tango.DevFailed(*reply.get_err_stack()))
            if reply.value is None:  # the server's read gave no value (ATTR_INVALID): a hardware or driver problem
                raise TangoDeviceError(f"{self.name}: Tango device {self.url}: {reply.name} has no value: the device could "
                                       f"not read it now (quality {reply.quality}); its state and status may say why")  # fmt: skip
        return [reply.value for reply in replies]

    def write(self, attribute: str, value: Any) -> None:
        """Write one attribute."""
        try:
            self.proxy.write_attribute(attribute, value)
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def command(self, name: str, *argument: Any) -> Any:
        """Run a command, with its argument if it takes one; its answer."""
        try:
            return self.proxy.command_inout(name, *argument)
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def names(self) -> tuple[list[str], list[str]]:
        """The device's attribute names and command names, as it spells them."""
        try:
            return list(self.proxy.get_attribute_list()), [info.cmd_name for info in self.proxy.command_list_query()]
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def attribute_config(self, attribute: str) -> Any:
        """The configuration of one attribute (``unit``, ``min_value``, ``max_value``, ``data_type``, ...)."""
        try:
            return self.proxy.get_attribute_config(attribute)
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def set_attribute_config(self, config: Any) -> None:
        """Change an attribute's configuration (one got from ``attribute_config``)."""
        try:
            self.proxy.set_attribute_config(config)
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def state(self) -> tango.DevState:
        """The device's state (ON, MOVING, RUNNING, ...)."""
        try:
            return self.proxy.state()
        except tango.DevFailed as error:
            raise self._failed(error) from None

    def status(self) -> str:
        """The device's status: what its state means, in its own words."""
        try:
            return str(self.proxy.status())
        except tango.DevFailed as error:
            raise self._failed(error) from None
