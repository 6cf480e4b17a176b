"""A counter read from an attribute of a Tango device, behind the ``Counter`` interface.

Clients use PyTango's gevent green mode, so a Tango call waits in its greenlet only.

Examples
--------
>>> from bliss_shell.controllers import Counter
>>> isinstance(diode, Counter)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bliss_shell.config import ConfigNode

from .interfaces import ConfiguredCounter
from .sampling import SamplingController, sampling_settings
from .tango_client import TangoClient


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
