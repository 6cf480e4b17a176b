"""A motor served by a Tango device, behind the ``Axis`` interface.

Clients use PyTango's gevent green mode, so a Tango call waits in its greenlet only.

Examples
--------
A scan, a command or a user's script need not know which kind of motor it has:

>>> from bliss_shell.controllers import Axis
>>> isinstance(roby, Axis)
True
"""

from __future__ import annotations

import gevent
import tango

from bliss_shell.config import ConfigNode

from .axis import OffsetAxis
from .tango_client import TangoClient

_ATTRIBUTES = {"velocity": "Velocity", "acceleration": "Acceleration", "low_limit": "LowLimit", "high_limit": "HighLimit"}
_FIRST_POLL = 0.0005  # a short move is seen soon...
_POLL = 0.005  # ...a long one costs few calls


class TangoMotor(OffsetAxis):
    """A motor served by a Tango device: the demo's ``roby`` and ``robz`` (our ``SimMotor``).

    Config: ``class: TangoMotor`` with ``tango_url``, a device with the attributes ``Position``,
    ``Velocity``, ``Acceleration``, ``LowLimit``, ``HighLimit``, ``Unit`` and the commands ``Stop``
    and ``DefinePosition``; optional ``velocity``, ``acceleration``, ``low_limit``, ``high_limit``
    (dial), ``unit``, ``offset``, ``tolerance``, ``velocity_high_limit``, written to the device when
    the motor is built. The device speaks dial positions; ``offset`` makes them user positions.
    Velocity, acceleration and limits the user set (settings) win over the config's.

    Examples
    --------
    >>> roby  # doctest: +SKIP
    TangoMotor('roby', id00/motor/roby)
    >>> mv(roby, 1)  # doctest: +SKIP
    Moving roby from ... to 1.00000
    >>> roby.position, roby.velocity, roby.state  # doctest: +SKIP
    (1.0, 2500.0, 'READY')
    """

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self._device = TangoClient(node)
        self.url = self._device.url
        if "unit" in node:
            self._device.write("Unit", node["unit"])
        self._restore()
        self.unit: str | None = self._device.read("Unit") or None

    def __repr__(self) -> str:
        return f"TangoMotor({self.name!r}, {self.url})"

    def _read(self, name: str) -> float:
        return self._device.read(_ATTRIBUTES[name])

    def _write(self, name: str, value: float) -> None:
        self._device.write(_ATTRIBUTES[name], value)

    def _read_dial(self) -> float:
        return self._device.read("Position")

    def _set_dial(self, dial: float) -> None:
        self._device.command("DefinePosition", dial)

    def _read_dial_limits(self) -> tuple[float, float]:
        low, high = self._device.read_many(["LowLimit", "HighLimit"])  # one call
        return low, high

    @property
    def state(self) -> str:
        """``MOVING``, ``READY`` (the device ON, or ALARM: at rest on a limit), else the device's state."""
        state = self._device.state()
        if state == tango.DevState.MOVING:
            return "MOVING"
        return "READY" if state in (tango.DevState.ON, tango.DevState.ALARM) else str(state)  # ALARM: at rest on a limit

    def _move_dial(self, target: float) -> None:
        self._device.write("Position", target)

    def wait_move(self) -> None:
        """Return when the device is no longer MOVING; an interrupted wait (Ctrl-C) stops the motor."""
        poll = _FIRST_POLL
        try:
            while self._device.state() == tango.DevState.MOVING:
                gevent.sleep(poll)
                poll = min(2 * poll, _POLL)
        except (KeyboardInterrupt, gevent.GreenletExit):
            self.stop()  # an interrupted wait (Ctrl-C) stops the motor where it is
            raise

    def stop(self) -> None:
        """Stop the motor where it is (the device's ``Stop``)."""
        self._device.command("Stop")
