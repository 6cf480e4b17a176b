"""Motors and counters served by Tango devices, behind the same ``Axis`` and ``Counter`` interfaces.

Clients use PyTango's gevent green mode, so a Tango call waits in its greenlet only.
Optional config keys (``velocity``, ``low_limit``, ...) are written to the device when
the object is built: that is how the config drives the simulator servers.

Examples
--------
A scan, a command or a user's script need not know which kind of motor or counter it has:

>>> from bliss_shell.controllers import Axis, Counter
>>> isinstance(roby, Axis), isinstance(diode, Counter)
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gevent
import tango

from bliss_shell.config import ConfigNode

from .axis import OffsetAxis
from .interfaces import ConfiguredCounter
from .sampling import SamplingController, sampling_settings
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


def _read_tango(counters: Sequence[TangoCounter], count_time: float) -> dict[str, Any]:
    """Every counter of a controller: one ``read_attributes`` per device (usually one device)."""
    by_device: dict[str, list[TangoCounter]] = {}
    for counter in counters:
        by_device.setdefault(counter.url, []).append(counter)
    values: dict[str, Any] = {}
    for same_device in by_device.values():
        read = same_device[0].device.read_many([counter.attribute for counter in same_device])
        values.update(zip((counter.name for counter in same_device), read))
    return values


class TangoCounter(ConfiguredCounter):
    """A counter read from an attribute of a Tango device: the demo's ``diode``, ``diode2``, ``sim_ct_gauss``.

    Config: ``class: TangoCounter`` with ``tango_url`` and ``attribute`` (default ``Value``); a
    sampling counter (``mode``: ``MEAN``, the default, ``SINGLE`` or ``INTEGRATE``;
    ``sampling_period``). Counters naming the same ``controller`` are read together, one
    ``read_attributes`` per device. For our ``SimCounter`` device: ``motor_url`` (the motor
    device it follows), ``distribution``, ``mu``, ``sigma``, ``height``, ``noise``, as
    ``SimulationCounter``'s.

    Examples
    --------
    >>> diode  # doctest: +SKIP
    TangoCounter('diode', id00/counter/diode)
    >>> ct(0.1, diode)  # doctest: +SKIP
    diode = ... (... /s) diode
    Scan(number=..., name=ct, path=<no saving>)
    >>> diode.url, diode.attribute, diode.mode  # doctest: +SKIP
    ('id00/counter/diode', 'Value', <SamplingMode.MEAN: 'MEAN'>)
    """

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self.attribute: str = node.get("attribute", "Value")
        self.mode, self.sampling_period = sampling_settings(node)
        self.device = TangoClient(node)
        self.controller = SamplingController(self.controller_name, _read_tango, blocking=True)
        self.url = self.device.url
        if "distribution" in node:
            self.device.write("Distribution", node["distribution"])
        if "motor_url" in node:
            self.device.write("MotorUrl", node["motor_url"])
        if any(key in node for key in ("mu", "sigma", "height", "noise")):
            shape = [float(node.get(k, d)) for k, d in (("mu", 0), ("sigma", 1), ("height", 100), ("noise", 0))]
            self.device.write("Shape", shape)
        self.device.read(self.attribute)

    def __repr__(self) -> str:
        return f"TangoCounter({self.name!r}, {self.url})"

    def read(self, count_time: float) -> float:
        """One reading, now."""
        return self.device.read(self.attribute)
