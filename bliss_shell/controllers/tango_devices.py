"""Motors and counters served by Tango devices, behind the same ``Axis`` and ``Counter`` interfaces.

Clients use PyTango's gevent green mode, so a Tango call waits in its greenlet only.
Optional config keys (``velocity``, ``low_limit``, ...) are written to the device when
the object is built: that is how the config drives the simulator servers.
"""

from __future__ import annotations

import gevent
import tango

from bliss_shell.config import ConfigNode

from .axis import OffsetAxis
from .interfaces import ConfiguredCounter
from .tango_client import TangoClient

_MOTOR_SETTINGS = {
    "velocity": "Velocity",
    "acceleration": "Acceleration",
    "low_limit": "LowLimit",
    "high_limit": "HighLimit",
    "unit": "Unit",
}
_POLL = 0.005


class TangoMotor(OffsetAxis):
    """``class: TangoMotor`` with ``tango_url`` (a device with Position, limits, Velocity, Stop); the device
    speaks dial positions, ``offset`` (config, default 0) makes them user positions."""

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self.name: str = node.name
        self._device = TangoClient(node)
        self.url = self._device.url
        for key, attribute in _MOTOR_SETTINGS.items():
            if key in node:
                self._device.write(attribute, node[key])
        self.unit: str | None = self._device.read("Unit") or None

    def __repr__(self) -> str:
        return f"TangoMotor({self.name!r}, {self.url})"

    @property
    def dial(self) -> float:
        return self._device.read("Position")

    @property
    def dial_limits(self) -> tuple[float, float]:
        low, high = self._device.read_many(["LowLimit", "HighLimit"])
        return low, high

    @property
    def state(self) -> str:
        state = self._device.state()
        return "MOVING" if state == tango.DevState.MOVING else "READY" if state in (tango.DevState.ON, tango.DevState.ALARM) else str(state)

    def _move_dial(self, target: float) -> None:
        self._device.write("Position", target)

    def wait_move(self) -> None:
        try:
            while self._device.state() == tango.DevState.MOVING:
                gevent.sleep(_POLL)
        except (KeyboardInterrupt, gevent.GreenletExit):
            self.stop()  # an interrupted wait (Ctrl-C) stops the motor where it is
            raise

    def stop(self) -> None:
        self._device.command("Stop")


class TangoCounter(ConfiguredCounter):
    """``class: TangoCounter`` with ``tango_url`` and ``attribute`` (default ``Value``).

    For the simulator: ``motor_url``, ``distribution``, ``mu``, ``sigma``, ``height``, ``noise``.
    """

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self._attribute: str = node.get("attribute", "Value")
        self._device = TangoClient(node)
        self.url = self._device.url
        if "distribution" in node:
            self._device.write("Distribution", node["distribution"])
        if "motor_url" in node:
            self._device.write("MotorUrl", node["motor_url"])
        if any(key in node for key in ("mu", "sigma", "height", "noise")):
            shape = [float(node.get(k, d)) for k, d in (("mu", 0), ("sigma", 1), ("height", 100), ("noise", 0))]
            self._device.write("Shape", shape)
        self._device.read(self._attribute)

    def __repr__(self) -> str:
        return f"TangoCounter({self.name!r}, {self.url})"

    def read(self, count_time: float) -> float:
        return self._device.read(self._attribute)
