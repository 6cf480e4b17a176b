"""``class: CounterCard`` (a P201 card behind a CT2 Tango device) and ``class: CardCounter`` (one of its channels).

The card counts every channel at once: a scan makes one acquisition object per card from
the card's counters it counts, and reads them all in one Tango call. Channels are numbered
as on the P201: inputs 1-10, the timer 11 (the elapsed counting time, in seconds).

- Step scans, ct, loopscan, timescan: each point is one acquisition of one period of the
  count time (``start_acq`` per trigger); the point is over when the device leaves RUNNING.
- Continuous scans: the card counts ``npoints`` periods back to back from the first trigger
  (when the motor passes the first point) and is the scan's clock; blocks of new rows are read from its ``data`` FIFO as they come.

Examples
--------
>>> from bliss_shell.controllers.counter_card import INPUTS, TIMER_CHANNEL
>>> INPUTS, TIMER_CHANNEL
(10, 11)
>>> ct(0.1, ct1, ct_timer)  # doctest: +SKIP
      ct1 = ... (... /s) p201
 ct_timer = 0.1 (1 /s) p201
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

INPUTS = 10
TIMER_CHANNEL = 11


class CounterCard:
    """A P201 counter/timer card behind a CT2 Tango device (the demo's ``p201``): the controller of its channels.

    Config: ``class: CounterCard`` with ``tango_url`` of a CT2 device, ``timeout`` (s beyond the
    count time, default 3). For our simulator: ``sim_rates`` (counts/s of inputs 1-10),
    ``sim_noise`` (Poisson counts). Its channels are ``CardCounter`` objects; a scan reads all
    those it counts in one call.

    Examples
    --------
    >>> p201  # doctest: +SKIP
    CounterCard('p201', id00/ct2/p201)
    >>> [channel.name for channel in p201.acquisition_object([ct1, ct_timer]).channels]  # doctest: +SKIP
    ['ct1', 'ct_timer']
    """

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.timeout = timeout_setting(node)
        self.device = TangoClient(node)
        self.url = self.device.url
        if "sim_rates" in node:
            rates = node["sim_rates"]
            if not isinstance(rates, list) or not 0 < len(rates) <= INPUTS:
                raise ValueError(f"{node.where}: {self.name}: sim_rates must be a list of 1 to {INPUTS} rates, not {rates!r}")
            self.device.write("sim_rates", [float(rate) for rate in rates])
        if "sim_noise" in node:
            self.device.write("sim_noise", bool(node["sim_noise"]))

    def __repr__(self) -> str:
        return f"CounterCard({self.name!r}, {self.url})"

    def acquisition_object(self, counters: Sequence[CardCounter]) -> CardAcquisition:
        """The card in a scan, counting ``counters`` (its own channels)."""
        return CardAcquisition(self, counters)


class CardCounter(ConfiguredCounter):
    """One channel of a counter card (the demo's ``ct1``, ``ct2``, ``ct_timer``): counts over the count time.

    Config: ``class: CardCounter`` with ``card`` (a CounterCard's name), ``channel`` (1-10 the
    inputs, 11 the timer), ``unit``. Counts integrate over the count time: float64 scalars; the
    timer counts seconds (its unit ``s`` unless ``unit`` says otherwise).

    Examples
    --------
    In the demo, input 1 counts 1000 pulses/s (``sim_rates`` of ``p201``), Poisson drawn:

    >>> ct_timer.read(0.1)  # doctest: +SKIP
    0.1
    >>> 50 < ct1.read(0.1) < 150  # doctest: +SKIP
    True
    >>> ct_timer.channel, ct_timer.unit, ct_timer.controller  # doctest: +SKIP
    (11, 's', CounterCard('p201', id00/ct2/p201))
    """

    def __init__(self, node: ConfigNode):
        super().__init__(node)
        card_name = node.get("card")
        if not card_name:
            raise ValueError(f"{node.where}: {self.name}: card is missing; name the CounterCard it counts on")
        card = node.config.get(card_name)
        if not isinstance(card, CounterCard):
            raise TypeError(f"{node.where}: {self.name}: card '{card_name}' is not a CounterCard")
        channel = node.get("channel")
        if not isinstance(channel, int) or isinstance(channel, bool) or not 1 <= channel <= TIMER_CHANNEL:
            raise ValueError(
                f"{node.where}: {self.name}: channel must be 1 to {INPUTS} (inputs) or {TIMER_CHANNEL} (the timer), not {channel!r}"
            )
        self.controller = card
        self.controller_name = card.name
        self.channel: int = channel
        self.unit = node.get("unit", "s" if channel == TIMER_CHANNEL else None)

    def read(self, count_time: float) -> float:
        """One count of ``count_time`` seconds, now."""
        return count_once(self.controller.acquisition_object([self]), count_time)[self.name][0]


class CardAcquisition(AcquisitionBase):
    """The counters of one card in a scan; see the module docstring for each timing.

    Examples
    --------
    >>> from bliss_shell.controllers import AcquisitionParameters, Timing
    >>> acquisition = p201.acquisition_object([ct1, ct_timer])  # doctest: +SKIP
    >>> acquisition.prepare(AcquisitionParameters(1, 0.1, Timing.STEP)); acquisition.trigger()  # doctest: +SKIP
    >>> acquisition.wait_ready(); acquisition.read()  # doctest: +SKIP
    {'ct1': [...], 'ct_timer': [0.1]}
    """

    continuous_capable = True

    def __init__(self, card: CounterCard, counters: Sequence[Any]):
        self.name = card.name
        self._card = card
        self._counters = list(counters)
        for counter in self._counters:
            if getattr(counter, "controller", None) is not card:
                raise ValueError(f"{card.name}: {getattr(counter, 'name', counter)!r} is not a counter of this card")
        self._channels = [ChannelInfo(c.name, np.dtype(c.dtype), tuple(c.shape), c.unit, source=c) for c in self._counters]
        self._continuous = False
        self._count_time = 0.0
        self._npoints = 0
        self._received = 0  # points read since prepare
        self._triggered = False

    @property
    def channels(self) -> list[ChannelInfo]:
        """One channel per counter, named after it."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Set the card up: one period per trigger, or ``npoints`` periods in a continuous scan (``prepare_acq``)."""
        self._continuous = parameters.timing is Timing.FREE and parameters.continuous
        if self._continuous and not parameters.count_time > 0:
            raise ValueError(f"{self.name}: a continuous count needs a count time above 0 s, not {parameters.count_time:g}")
        self._count_time = parameters.count_time
        self._npoints = parameters.npoints
        self._received = 0
        self._triggered = False
        device = self._card.device
        device.write("acq_mode", "IntTrigReadout")
        device.write("acq_expo_time", parameters.count_time)
        device.write("acq_nb_points", parameters.npoints if self._continuous else 1)
        device.command("prepare_acq")

    def trigger(self) -> None:
        """One period of the count time (step); in a continuous scan the first trigger starts all of them."""
        if not self._continuous or not self._triggered:
            self._card.device.command("start_acq")
        self._triggered = True

    def wait_ready(self) -> None:
        """Until the point is counted (step), or a new point or the end came (continuous)."""
        device, seconds = self._card.device, self._count_time + self._card.timeout
        if not self._continuous:
            poll_until(lambda: device.state() != tango.DevState.RUNNING, seconds, lambda: self._late("the end of the count"))
            return
        if self._npoints and self._received >= self._npoints:
            return

        def new_point() -> bool:
            last_point, status = device.read_many(["last_point_nb", "acq_status"])
            return last_point + 1 > self._received or status != "Running"

        poll_until(new_point, seconds, lambda: self._late(f"point {self._received}"))

    def _late(self, waited_for: str) -> str:
        return (f"{self.name}: Tango device {self._card.url}: no {waited_for} after {self._count_time:g} s count time "
                f"+ {self._card.timeout:g} s; raise `timeout` in its config if the card is slow")  # fmt: skip

    def read(self) -> Block:
        """The rows counted since the last read (``data``), a list per counter."""
        rows = np.asarray(self._card.device.read("data"), dtype=float)  # rows = points, columns = channels 1-12
        count = len(rows) if rows.size else 0
        if not self._continuous and count != 1:
            raise RuntimeError(f"{self.name}: Tango device {self._card.url}: {count} points for one count; "
                               "was it stopped or read by another client?")  # fmt: skip
        self._received += count
        return {counter.name: rows[:, counter.channel - 1].tolist() if count else [] for counter in self._counters}

    def stop(self) -> None:
        """Stop counting (``stop_acq``)."""
        self._card.device.command("stop_acq")
