"""``class: TangoMCA``: an MCA Tango device (our ``SimMCA``): one spectrum per point, software-triggered or gated.

The MCA is a counter (channel shape ``(nbins,)``) and its own controller.

- Step scans, ct, loopscan, timescan: each point starts an acquisition of the count time
  (``PresetTime``, ``Start``; ``trigger_mode`` ``SOFTWARE`` when the device has one); the point
  is over when the device leaves RUNNING (count time plus its readout time), then ``Data`` is read.
- Continuous scans (fscan, ftimescan), as BLISS's ``McaAcquisitionSlave`` with
  ``trigger_mode=TriggerMode.GATE``: the MCA takes one spectrum per gate of the counter card
  (``trigger_mode`` ``GATE``, ``hardware_points`` the scan's points, ``block_size`` the spectra of
  about 0.1 s), armed with ``Start`` at the first trigger, when the card starts. The spectra come
  in blocks (``block_data``), one per point, in the card's order. An MCA without ``trigger_mode``
  cannot be gated: a continuous scan refuses it before anything moves.

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
>>> s = ftimescan(0.001, 2000, ct1, ct_timer, mca1)  # doctest: +SKIP
>>> s.get_data()["mca1"].shape  # doctest: +SKIP
(2000, 1024)
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

_BLOCK_TIME = 0.1  # s of gates whose spectra a continuous scan takes in one block (as the card hands its rows over)


class TangoMCA(ConfiguredCounter):
    """An MCA served by a Tango device (the demo's ``mca1``): a counter of one spectrum per point.

    Config: ``class: TangoMCA`` with ``tango_url``, ``timeout`` (s beyond the count time,
    default 3), ``unit``. For our ``SimMCA`` device: ``nbins`` (bins of the spectrum, written to
    ``DataLength``) and ``readout_time`` (s the device stays busy after counting,
    ``sim_readout_time``). ``gated``: whether it takes a gate (continuous scans).

    Examples
    --------
    >>> mca1  # doctest: +SKIP
    TangoMCA('mca1', id00/mca/mca1)
    >>> spectrum = mca1.read(0.1)  # doctest: +SKIP
    >>> spectrum.shape, spectrum.dtype  # doctest: +SKIP
    ((1024,), dtype('int32'))
    >>> s = loopscan(5, 0.1, mca1)  # doctest: +SKIP
    """

    device_type = "mca"  # BLISS's ``type`` of its device in a scan's info (its DEVICE_TYPE)

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
        self.gated = "trigger_mode" in self.device.names()[0]  # it takes a gate: continuous scans count it
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
    """One MCA in a scan: a spectrum per point, counted on its own (step) or per gate of the card (continuous).

    Examples
    --------
    >>> from bliss_shell.controllers import AcquisitionParameters, Timing
    >>> acquisition = mca1.acquisition_object([mca1])  # doctest: +SKIP
    >>> acquisition.prepare(AcquisitionParameters(1, 0.1, Timing.STEP)); acquisition.trigger()  # doctest: +SKIP
    >>> acquisition.wait_ready(); acquisition.read()["mca1"][0].shape  # doctest: +SKIP
    (1024,)
    """

    def __init__(self, mca: TangoMCA):
        self.name = mca.name
        self.continuous_capable = self.needs_gate = mca.gated
        self._mca = mca
        self._count_time = 0.0
        self._channels = [ChannelInfo(mca.name, np.dtype(mca.dtype), mca.shape, mca.unit, source=mca)]
        self._gated = False  # this scan takes a spectrum per gate
        self._npoints = 0
        self._block = 1
        self._started = False
        self._spectra: list[np.ndarray] = []  # taken from ``block_data``, not read yet
        self._received = 0  # spectra read since prepare

    @property
    def channels(self) -> list[ChannelInfo]:
        """The MCA's channel: a spectrum of ``nbins`` values."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Set the trigger mode (GATE in a continuous scan, with ``hardware_points`` and ``block_size``) and ``PresetTime``.

        Raises
        ------
        TangoDeviceError
            The device refuses the count time (a gate shorter than it takes) or the number of points (beyond its buffer).
        """
        device, count_time = self._mca.device, parameters.count_time
        self._gated = parameters.timing is Timing.FREE and parameters.continuous
        self._count_time, self._npoints = count_time, parameters.npoints
        self._started, self._spectra, self._received = False, [], 0
        if self._mca.gated:
            device.write("trigger_mode", "GATE" if self._gated else "SOFTWARE")
        device.write("PresetTime", count_time)  # GATE: refused when shorter than a gate it takes
        if self._gated:
            device.write("hardware_points", parameters.npoints)
            self._block = max(1, min(parameters.npoints, int(_BLOCK_TIME / count_time)))
            device.write("block_size", self._block)

    def trigger(self) -> None:
        """Start counting one spectrum (``Start``); in a continuous scan the first trigger arms it for every gate."""
        if self._gated and self._started:
            return
        self._mca.device.command("Start")
        self._started = True

    def wait_ready(self) -> None:
        """Until the spectrum is counted and read out (step), or new spectra came (continuous; at once once all are in).

        Raises
        ------
        TimeoutError
            Still acquiring after the count time (a block of gates in a continuous scan) + ``timeout``.
        RuntimeError
            The acquisition ended before every gate's spectrum came (stopped by another client).
        """
        device = self._mca.device
        if not self._gated:
            seconds = self._count_time + self._mca.timeout
            poll_until(
                lambda: device.state() != tango.DevState.RUNNING, seconds,
                lambda: (f"{self.name}: Tango device {self._mca.url}: still acquiring after {self._count_time:g} s count time "
                         f"+ {self._mca.timeout:g} s; raise `timeout` in its config if its readout is slow"),
            )  # fmt: skip
        elif not self._spectra and self._received < self._npoints:
            poll_until(self._spectra_came, self._block * self._count_time + self._mca.timeout, self._late)

    def _spectra_came(self) -> bool:
        """Take the spectra handed over since the last look; whether there were any."""
        device = self._mca.device
        block, state = device.read_many(["block_data", "State"])  # Tango reads State last, whatever the order asked
        if state != tango.DevState.RUNNING and not np.size(block):
            block = device.read("block_data")  # read after it left RUNNING: every spectrum is handed over
        spectra = np.asarray(block)
        if spectra.size:
            self._spectra.extend(spectra)
            return True
        if state != tango.DevState.RUNNING:
            raise RuntimeError(f"{self.name}: Tango device {self._mca.url}: the acquisition ended after {self._received} of "
                               f"{self._npoints} spectra; was it stopped by another client?")  # fmt: skip
        return False

    def _late(self) -> str:
        return (f"{self.name}: Tango device {self._mca.url}: no spectrum {self._received} after {self._block} gates of "
                f"{self._count_time:g} s + {self._mca.timeout:g} s; raise `timeout` in its config if its readout is slow")  # fmt: skip

    def read(self) -> Block:
        """The spectrum just counted (``Data``), or the spectra taken since the last read (continuous)."""
        if not self._gated:
            return {self.name: [np.asarray(self._mca.device.read("Data"))]}  # its shape is checked by the scan
        spectra, self._spectra = self._spectra, []
        self._received += len(spectra)
        return {self.name: spectra}

    def stop(self) -> None:
        """Stop counting (``Stop``)."""
        self._mca.device.command("Stop")
