"""A counter read from a number attribute of a Tango device: a scalar, a spectrum or an image, behind ``Counter``.

The device says what the counter is: its channel's type and shape come from the attribute's config
(``get_attribute_config``) when the session loads the counter, and a spectrum's or an image's
length from its value when a scan is built. An attribute that is not made of numbers (a string, a
boolean, an enumeration, a state, encoded bytes) is refused at load, in one line naming it and its type.

Each scan checks the state of the counters' devices when it is prepared and after its last point: a state
the counter's ``allowed_states`` does not hold (by default FAULT and ALARM) is one warning line
of the scan and goes into the scan's info (``device_states``); the values are still counted.

Clients use PyTango's gevent green mode, so a Tango call waits in its greenlet only.

Examples
--------
>>> from bliss_shell.controllers import Counter
>>> isinstance(diode, Counter)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import tango

from bliss_shell.config import ConfigNode

from .acquisition import AcquisitionParameters, Block, DeviceState
from .interfaces import ConfiguredCounter
from .sampling import SamplingAcquisition, SamplingController, SamplingMode, sampling_settings
from .tango_client import TangoClient, TangoDeviceError

_Type = tango.CmdArgType
NUMBER_TYPES = {
    _Type.DevDouble: "float64", _Type.DevFloat: "float32",
    _Type.DevLong64: "int64", _Type.DevLong: "int32", _Type.DevShort: "int16",
    _Type.DevULong64: "uint64", _Type.DevULong: "uint32", _Type.DevUShort: "uint16", _Type.DevUChar: "uint8",
}  # fmt: skip
"""Tango's number types and the numpy type of their channel (the type PyTango reads them as)."""

_NOT_NUMBERS = {_Type.DevString: "a string", _Type.DevBoolean: "a boolean", _Type.DevEnum: "an enumeration",
                _Type.DevState: "a device state", _Type.DevEncoded: "encoded bytes"}  # fmt: skip
_FORMATS = {tango.AttrDataFormat.SCALAR: "scalar", tango.AttrDataFormat.SPECTRUM: "spectrum", tango.AttrDataFormat.IMAGE: "image"}

STATES = tuple(tango.DevState.names)
"""Every Tango device state: ON, OFF, CLOSE, OPEN, INSERT, EXTRACT, MOVING, STANDBY, FAULT, INIT, RUNNING, ALARM, DISABLE, UNKNOWN."""
NOT_ALLOWED_BY_DEFAULT = ("FAULT", "ALARM")


def allowed_states_setting(node: ConfigNode) -> tuple[str, ...]:
    """The ``allowed_states`` of a Tango counter's config, checked: default every state but FAULT and ALARM.

    Raises
    ------
    ValueError
        ``allowed_states`` is not a list of Tango state names.

    Examples
    --------
    >>> allowed_states_setting(config.get_config("diode"))
    ('ON', 'OFF', 'CLOSE', 'OPEN', 'INSERT', 'EXTRACT', 'MOVING', 'STANDBY', 'INIT', 'RUNNING', 'DISABLE', 'UNKNOWN')
    """
    value = node.get("allowed_states")
    if value is None:
        return tuple(state for state in STATES if state not in NOT_ALLOWED_BY_DEFAULT)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) and name.upper() in STATES for name in names):
        raise ValueError(f"{node.where}: {node.name}: allowed_states must be a list of Tango states "
                         f"({', '.join(STATES)}), not {value!r}")  # fmt: skip
    return tuple(dict.fromkeys(name.upper() for name in names))


def _allowed_text(allowed: tuple[str, ...]) -> str:
    """``all but FAULT, ALARM`` or ``ON, OFF``: whichever is shorter."""
    refused = [state for state in STATES if state not in allowed]
    return f"all but {', '.join(refused)}" if refused and len(refused) < len(allowed) else ", ".join(allowed) or "none"


def _by_device(counters: Sequence[TangoCounter]) -> list[list[TangoCounter]]:
    """The counters of each device (by URL), in their order: one ``read_attributes`` and one state per device."""
    by_device: dict[str, list[TangoCounter]] = {}
    for counter in counters:
        by_device.setdefault(counter.url, []).append(counter)
    return list(by_device.values())


def _read_devices(devices: Sequence[Sequence[TangoCounter]]) -> dict[str, Any]:
    """Every counter, by name: one ``read_attributes`` per device (``devices``: the counters of each, ``_by_device``)."""
    values: dict[str, Any] = {}
    for same_device in devices:
        read = same_device[0].device.read_many([counter.attribute for counter in same_device])
        values.update(zip((counter.name for counter in same_device), read))
    return values


def _read_tango(counters: Sequence[TangoCounter], count_time: float) -> dict[str, Any]:
    """Every counter of a controller, once (``SamplingController``'s reading); a scan's acquisition groups them once."""
    return _read_devices(_by_device(counters))


class TangoAcquisition(SamplingAcquisition):
    """The Tango counters of one controller in a scan: sampled as ``SamplingAcquisition``, their devices' states checked.

    The states are read when the scan is prepared (a device that does not answer refuses the scan
    there) and when it stops after its last point (a scan that failed or was interrupted says why
    itself, and a device that stalled would hold its end for Tango's timeouts).

    Examples
    --------
    >>> from bliss_shell.controllers import AcquisitionParameters, Timing
    >>> acquisition = diode.controller.acquisition_object([diode])  # doctest: +SKIP
    >>> acquisition.prepare(AcquisitionParameters(1, 0.0, Timing.STEP))  # doctest: +SKIP
    >>> acquisition.device_states()  # doctest: +SKIP
    []
    """

    def __init__(self, name: str, counters: Sequence[TangoCounter], shapes: dict[str, tuple[int, ...]] | None = None):
        super().__init__(name, counters, lambda count_time: _read_devices(self._devices), blocking=True)
        self._devices = _by_device(counters)  # grouped once: every reading (each MEAN sample) and state check uses them
        if shapes:  # a spectrum's or an image's shape as read for this scan (the counter keeps the one read at load)
            self._channels = [replace(channel, shape=shapes.get(channel.name, channel.shape)) for channel in self._channels]
        self._npoints = 0
        self._points = 0  # points read since prepare
        self._states: dict[str, DeviceState] = {}  # by device URL: one line per device and scan

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Decide the sampling (``SamplingAcquisition.prepare``) and read the devices' states.

        Raises
        ------
        TangoDeviceError
            A device does not answer.
        """
        super().prepare(parameters)
        self._npoints, self._points = parameters.npoints, 0
        self._states = {}
        self._check_states(at_end=False)

    def read(self) -> Block:
        """The point's values (``SamplingAcquisition.read``), counted."""
        block = super().read()
        self._points += 1
        return block

    def stop(self) -> None:
        """Stop a sampling under way; after the scan's last point, read the devices' states again."""
        super().stop()
        if self._points >= self._npoints > 0:
            try:
                self._check_states(at_end=True)
            except TangoDeviceError:  # gone since the last point: the scan has all its points
                pass

    def device_states(self) -> list[DeviceState]:
        """The devices found since ``prepare`` in a state their counters' ``allowed_states`` does not hold."""
        return list(self._states.values())

    def _check_states(self, at_end: bool) -> None:
        for counters in self._devices:
            url = counters[0].url
            if url in self._states:
                continue
            state = str(counters[0].device.state())  # ON, FAULT, ...
            refusing = [counter for counter in counters if state not in counter.allowed_states]
            if refusing:
                names = tuple(counter.name for counter in refusing)
                self._states[url] = DeviceState(names, url, state, _allowed_text(refusing[0].allowed_states), at_end)


class TangoCounterController(SamplingController):
    """What reads Tango counters naming the same ``controller``: one ``read_attributes`` per device and reading.

    Examples
    --------
    >>> diode.controller  # doctest: +SKIP
    TangoCounterController('diode')
    """

    def __init__(self, name: str):
        super().__init__(name, _read_tango, blocking=True)

    def __repr__(self) -> str:
        return f"TangoCounterController({self.name!r})"

    def acquisition_object(self, counters: Sequence[Any]) -> TangoAcquisition:
        """The acquisition object of ``counters`` in a scan; a spectrum's or image's shape is read now, for its channel.

        Raises
        ------
        TangoDeviceError
            The device of a spectrum or image counter does not give its value.
        """
        shapes = {counter.name: np.shape(counter.device.read(counter.attribute)) for counter in counters if counter.shape}
        return TangoAcquisition(self.name, counters, shapes)


class TangoCounter(ConfiguredCounter):
    """A counter read from a number attribute of a Tango device: the demo's ``diode``, ``diode2``, ``sim_ct_gauss``.

    Config: ``class: TangoCounter`` with ``tango_url`` and ``attribute`` (default ``Value``), and
    optionally:

    - ``mode``: ``MEAN`` (the readings every ``sampling_period`` s of the count, averaged),
      ``SINGLE`` (one reading after the count time) or ``INTEGRATE`` (the mean times the count
      time). Default ``MEAN`` for a floating-point scalar, ``SINGLE`` for an integer one, a
      spectrum or an image.
    - ``unit``: default the attribute's unit in Tango, if it has one.
    - ``controller``: counters naming the same one are read together, one ``read_attributes`` per device.
    - ``allowed_states``: the device states in which it counts without a word (default every
      state but FAULT and ALARM); in another, each scan prints one warning line.
    - for our ``SimCounter`` device: ``motor_url`` (the motor device it follows),
      ``distribution``, ``mu``, ``sigma``, ``height``, ``noise``, as ``SimulationCounter``'s.

    Its channel has the attribute's shape: ``()`` for a scalar, ``(n,)`` for a spectrum, published
    and saved as an MCA's, ``(height, width)`` for an image. Its type is the attribute's (an
    integer stays an integer) in ``SINGLE`` mode; ``float64`` in ``MEAN`` and ``INTEGRATE``.
    ``shape`` is the one read when the session loaded it (``lscnt`` shows it); each scan reads a
    spectrum's or an image's again for its channel, so a length the device changed since is counted.

    Raises
    ------
    TypeError
        The attribute is not made of numbers (a string, boolean, enumeration, state).
    ValueError
        A config key has a wrong value (``mode``, ``allowed_states``, ...).
    ConnectionError, TangoDeviceError
        The device does not answer, or has no such attribute.

    Examples
    --------
    >>> diode  # doctest: +SKIP
    TangoCounter('diode', id00/counter/diode)
    >>> ct(0.1, diode)  # doctest: +SKIP
    diode = ... (... /s) diode
    Scan(number=..., name=ct, path=<no saving>)
    >>> diode.url, diode.attribute, diode.mode, diode.dtype, diode.shape  # doctest: +SKIP
    ('id00/counter/diode', 'Value', <SamplingMode.MEAN: 'MEAN'>, 'float64', ())
    """

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self.attribute: str = node.get("attribute", "Value")
        self.allowed_states = allowed_states_setting(node)
        self.mode, self.sampling_period = sampling_settings(node)  # checked before the device is asked
        self.device = TangoClient(node)
        self.controller = TangoCounterController(self.controller_name)
        self.url = self.device.url
        if "distribution" in node:
            self.device.write("Distribution", node["distribution"])
        if "motor_url" in node:
            self.device.write("MotorUrl", node["motor_url"])
        if any(key in node for key in ("mu", "sigma", "height", "noise")):
            shape = [float(node.get(k, d)) for k, d in (("mu", 0), ("sigma", 1), ("height", 100), ("noise", 0))]
            self.device.write("Shape", shape)
        config = self.device.attribute_config(self.attribute)
        data_type = _Type(config.data_type)  # an int from some proxies
        kind = _FORMATS.get(tango.AttrDataFormat(config.data_format), "")
        number = NUMBER_TYPES.get(data_type)
        if number is None or not kind:
            what = _NOT_NUMBERS.get(data_type, "not a number" if number is None else "neither a scalar, a spectrum nor an image")
            raise TypeError(f"{node.where}: {self.name}: attribute {self.attribute} of Tango device {self.url} is {what} "
                            f"({data_type.name} {kind or config.data_format}); a counter counts numbers: integer or "
                            "floating-point scalars, spectra and images")  # fmt: skip
        if "mode" not in node and (kind != "scalar" or not number.startswith("float")):
            self.mode = SamplingMode.SINGLE
        self.dtype: str = number if self.mode is SamplingMode.SINGLE else "float64"
        self.shape: tuple[int, ...] = () if kind == "scalar" else np.shape(self.device.read(self.attribute))
        if self.unit is None and config.unit:
            self.unit = config.unit

    def __repr__(self) -> str:
        return f"TangoCounter({self.name!r}, {self.url})"

    def read(self, count_time: float) -> Any:
        """One reading, now: a number, or a numpy array for a spectrum or an image."""
        return self.device.read(self.attribute)
