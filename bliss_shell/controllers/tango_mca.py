"""``class: TangoMCA``: an MCA Tango device (our ``SimMCA``): one spectrum per point, software-triggered.

The MCA is a counter (channel shape ``(nbins,)``) and its own controller. Each point starts
an acquisition of the count time (``PresetTime``, ``Start``); the point is over when the
device leaves RUNNING (count time plus its readout time), then ``Data`` is read. An MCA
cannot be the clock of a continuous scan: it refuses one when prepared.

Examples
--------
``ct`` shows a spectrum's shape and sum, for this MCA (the demo's ``mca1``) as for the in-process
``SimulationMCA`` of the test beamline (``simu1``):

>>> ct(0.1, mca1)  # doctest: +SKIP
mca1 = (1024,) spectrum, sum ...  mca1
Scan(number=..., name=ct, path=<no saving>)
>>> ct(0.1, simu1)
simu1 = (16,) spectrum, sum ...  simu1
Scan(number=..., name=ct, path=<no saving>)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tango

from bliss_shell.config import ConfigNode

from .acquisition import AcquisitionBase, AcquisitionParameters, Block, ChannelInfo, Timing
from .counting import count_once, poll_until, timeout_setting
from .interfaces import ConfiguredCounter
from .tango_client import TangoClient


class TangoMCA(ConfiguredCounter):
    """An MCA served by a Tango device (the demo's ``mca1``): a counter of one spectrum per point.

    Config: ``class: TangoMCA`` with ``tango_url``, ``timeout`` (s beyond the count time,
    default 3), ``unit``. For our ``SimMCA`` device: ``nbins`` (bins of the spectrum, written to
    ``DataLength``) and ``readout_time`` (s the device stays busy after counting,
    ``sim_readout_time``).

    Examples
    --------
    >>> mca1  # doctest: +SKIP
    TangoMCA('mca1', id00/mca/mca1)
    >>> spectrum = mca1.read(0.1)  # doctest: +SKIP
    >>> spectrum.shape, spectrum.dtype  # doctest: +SKIP
    ((1024,), dtype('int32'))
    >>> s = loopscan(5, 0.1, mca1)  # doctest: +SKIP
    """

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        self.controller = self
        self.controller_name = self.name
        self.timeout = timeout_setting(node)
        self.device = TangoClient(node)
        self.url = self.device.url
        if "nbins" in node:
            nbins = node["nbins"]
            if not isinstance(nbins, int) or isinstance(nbins, bool) or nbins < 1:
                raise ValueError(f"{node.where}: {self.name}: nbins must be a positive number of bins, not {nbins!r}")
            self.device.write("DataLength", nbins)
        if "readout_time" in node:
            self.device.write("sim_readout_time", float(node["readout_time"]))
        nbins, spectrum = self.device.read_many(["DataLength", "Data"])
        self.shape: tuple[int, ...] = (int(nbins),)
        self.dtype: str = np.asarray(spectrum).dtype.name

    def __repr__(self) -> str:
        return f"TangoMCA({self.name!r}, {self.url})"

    def acquisition_object(self, counters: Sequence[Any] = ()) -> MCAAcquisition:
        """The MCA in a scan; ``counters`` can only be the MCA itself."""
        if any(counter is not self for counter in counters):
            raise ValueError(f"{self.name}: an MCA counts only itself, not {[getattr(c, 'name', c) for c in counters]}")
        return MCAAcquisition(self)

    def read(self, count_time: float) -> np.ndarray:
        """One spectrum, counted now for ``count_time`` seconds."""
        return count_once(self.acquisition_object([self]), count_time)[self.name][0]


class MCAAcquisition(AcquisitionBase):
    """One MCA in a scan: a spectrum per point.

    Examples
    --------
    >>> from bliss_shell.controllers import AcquisitionParameters, Timing
    >>> acquisition = mca1.acquisition_object([mca1])  # doctest: +SKIP
    >>> acquisition.prepare(AcquisitionParameters(1, 0.1, Timing.STEP)); acquisition.trigger()  # doctest: +SKIP
    >>> acquisition.wait_ready(); acquisition.read()["mca1"][0].shape  # doctest: +SKIP
    (1024,)
    """

    continuous_capable = False

    def __init__(self, mca: TangoMCA):
        self.name = mca.name
        self._mca = mca
        self._count_time = 0.0
        self._channels = [ChannelInfo(mca.name, np.dtype(mca.dtype), mca.shape, mca.unit, source=mca)]

    @property
    def channels(self) -> list[ChannelInfo]:
        """The MCA's channel: a spectrum of ``nbins`` values."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Set ``PresetTime`` to the count time; a continuous scan is refused (ValueError)."""
        if parameters.timing is Timing.FREE and parameters.continuous:
            raise ValueError(f"{self.name}: an MCA cannot count in a continuous scan; "
                             "count it in a step scan, ct, loopscan or timescan")  # fmt: skip
        self._count_time = parameters.count_time
        self._mca.device.write("PresetTime", parameters.count_time)

    def trigger(self) -> None:
        """Start counting one spectrum (``Start``)."""
        self._mca.device.command("Start")

    def wait_ready(self) -> None:
        """Until the spectrum is counted and read out (the device leaves RUNNING)."""
        device, seconds = self._mca.device, self._count_time + self._mca.timeout
        poll_until(
            lambda: device.state() != tango.DevState.RUNNING, seconds,
            lambda: (f"{self.name}: Tango device {self._mca.url}: still acquiring after {self._count_time:g} s count time "
                     f"+ {self._mca.timeout:g} s; raise `timeout` in its config if its readout is slow"),
        )  # fmt: skip

    def read(self) -> Block:
        """The spectrum just counted (``Data``)."""
        return {self.name: [np.asarray(self._mca.device.read("Data"))]}  # its shape is checked by the scan

    def stop(self) -> None:
        """Stop counting (``Stop``)."""
        self._mca.device.command("Stop")
