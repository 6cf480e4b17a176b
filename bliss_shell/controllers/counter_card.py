"""``class: CounterCard`` (a P201 card behind BLISS's CT2 Tango server) and ``class: CardCounter`` (one of its channels).

The client uses only the public interface of BLISS 1.11.4's CT2 server (``ct2_ds``), which
our simulator presents too (``simulators/card.py``); docs/tango.md compares them. The card
counts every channel at once: a scan makes one acquisition object per card from the card's
counters it counts, and reads them all from the server's ``data`` buffer. Channels are
numbered as on the P201: inputs 1-10, the timer 11.

- Preparing: ``stop_acq`` (whatever still counts hands its last rows over now, so that
  ``prepare_acq``, which empties ``data`` before it stops an acquisition, leaves none of them),
  ``acq_mode`` ``IntTrigReadout``, ``acq_expo_time`` (the count time), ``acq_nb_points``,
  ``acq_channels`` (the inputs counted); ``acq_channels_data_indexes`` and ``timer_freq`` are
  read back, then ``prepare_acq``. Rows of another acquisition cannot be told apart: each one
  numbers its points from 0.
- Step scans, ct, loopscan, timescan: each point is one acquisition of one point
  (``prepare_acq`` and ``start_acq`` per trigger: an acquisition that ended needs a new
  ``prepare_acq``). The point is in when its row is in ``data``.
- Continuous scans: one acquisition of ``npoints`` points from the first trigger (when the
  motor passes the first point); the card is the scan's clock and its rows come in blocks.
- Reading: ``data`` is a FIFO of uint32 rows, one per point: the inputs of ``acq_channels``
  (counts, kept as integers), the timer in ticks (turned into seconds with ``timer_freq``),
  the point number (checked: a row missing or out of order fails the scan).
- Waiting: the server's State stays ON while it counts (``acq_status`` says ``Running`` or
  ``Ready``), and ``acq_status`` turns ``Ready`` before the last rows reach ``data``: the
  wait is for the rows, with a deadline. A card error (``last_error``) or a server in FAULT
  ends the scan with one line naming the card and its device.

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

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import tango

from bliss_shell.config import ConfigNode

from .acquisition import AcquisitionBase, AcquisitionParameters, Block, ChannelInfo, Timing
from .counting import count_once, poll_until, timeout_setting
from .interfaces import ConfiguredCounter
from .tango_client import TangoClient, TangoDeviceError

INPUTS = 10
TIMER_CHANNEL = 11
ACQ_MODE = "IntTrigReadout"  # software start, points timed by the card's clock
_TIMER_COLUMN, _POINT_COLUMN = -2, -1  # a row of ``data``: the inputs, then the timer and the point number
_WRAP = 2**32  # the point number is a 32-bit counter

Result = TypeVar("Result")


class CounterCard:
    """A P201 counter/timer card behind BLISS's CT2 Tango server (the demo's ``p201``): the controller of its channels.

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
    inputs, 11 the timer), ``unit``. An input counts pulses: uint32 scalars, as the card
    gives them. The timer counts seconds: float64 (its unit ``s`` unless ``unit`` says otherwise).

    Examples
    --------
    In the demo, input 1 counts 1000 pulses/s (``sim_rates`` of ``p201``), Poisson drawn:

    >>> ct_timer.read(0.1)  # doctest: +SKIP
    0.1
    >>> 50 < ct1.read(0.1) < 150  # doctest: +SKIP
    True
    >>> ct1.dtype, ct_timer.dtype, ct_timer.channel, ct_timer.unit, ct_timer.controller  # doctest: +SKIP
    ('uint32', 'float64', 11, 's', CounterCard('p201', id00/ct2/p201))
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
        self.dtype = "float64" if channel == TIMER_CHANNEL else "uint32"
        self.unit = node.get("unit", "s" if channel == TIMER_CHANNEL else None)

    def read(self, count_time: float) -> Any:
        """One count of ``count_time`` seconds, now: counts (int) of an input, seconds (float) of the timer."""
        return count_once(self.controller.acquisition_object([self]), count_time)[self.name][0]


class CardAcquisition(AcquisitionBase):
    """The counters of one card in a scan; see the module docstring for each timing.

    Examples
    --------
    >>> from bliss_shell.controllers import AcquisitionParameters, Timing
    >>> acquisition = p201.acquisition_object([ct1, ct_timer])  # doctest: +SKIP
    >>> acquisition.prepare(AcquisitionParameters(1, 0.1, Timing.STEP)); acquisition.trigger()  # doctest: +SKIP
    >>> acquisition.wait_ready(); acquisition.read()  # doctest: +SKIP
    {'ct1': [100], 'ct_timer': [0.1]}
    """

    continuous_capable = True
    gives_gate = True

    def __init__(self, card: CounterCard, counters: Sequence[Any]):
        self.name = card.name
        self._card = card
        self._counters = list(counters)
        for counter in self._counters:
            if getattr(counter, "controller", None) is not card:
                raise ValueError(f"{card.name}: {getattr(counter, 'name', counter)!r} is not a counter of this card")
        self._channels = [ChannelInfo(c.name, np.dtype(c.dtype), tuple(c.shape), c.unit, source=c) for c in self._counters]
        self._inputs = sorted({c.channel for c in self._counters if c.channel != TIMER_CHANNEL})  # acq_channels
        self._columns: dict[int, int] = {}  # input channel: its column in a row of ``data`` (the timer's is fixed)
        self._width = len(self._inputs) + 2
        self._timer_freq = 0.0
        self._continuous = False
        self._count_time = 0.0
        self._npoints = 0
        self._prepared = False  # prepare_acq done and not yet used by a start_acq
        self._triggered = False
        self._rows: list[np.ndarray] = []  # rows taken from ``data`` and not read yet
        self._taken = 0  # rows in ``_rows``
        self._received = 0  # points read since prepare
        self._status = "Ready"  # acq_status when last polled

    @property
    def channels(self) -> list[ChannelInfo]:
        """One channel per counter, named after it: uint32 for inputs, float64 seconds for the timer."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Stop what counts, set the card up (one point per acquisition, or ``npoints`` in a continuous scan), ``prepare_acq``.

        Raises
        ------
        ValueError
            A count time of 0 s or less: the card times each point with its clock.
        """
        if not parameters.count_time > 0:
            raise ValueError(f"{self.name}: a counter card counts for a time above 0 s, not {parameters.count_time:g}")
        self._continuous = parameters.timing is Timing.FREE and parameters.continuous
        self._count_time = parameters.count_time
        self._npoints = parameters.npoints
        self._rows, self._taken, self._received = [], 0, 0
        self._triggered = self._prepared = False
        device = self._card.device

        def set_up() -> list[Any]:
            # the real server's prepare_acq empties ``data``, then stops what runs: the last rows of an acquisition
            # still running (left by another client or a scan that failed, or started late by a start_acq the server
            # ran after the client gave up on it) would land after, as points of this one; stopped first, they do not
            device.command("stop_acq")
            device.write("acq_mode", ACQ_MODE)
            device.write("acq_expo_time", parameters.count_time)
            device.write("acq_nb_points", parameters.npoints if self._continuous else 1)
            device.write("acq_channels", np.array(self._inputs, dtype=np.int16))
            values = device.read_many(["acq_channels_data_indexes", "timer_freq"])
            device.command("prepare_acq")
            return values

        indexes, self._timer_freq = self._checked(set_up)
        self._prepared = True
        if len(indexes) != len(self._inputs) or not self._timer_freq > 0:
            raise RuntimeError(f"{self.name}: Tango device {self._card.url}: acq_channels_data_indexes {list(indexes)} "
                               f"and timer_freq {self._timer_freq:g} do not fit acq_channels {self._inputs}")  # fmt: skip
        self._columns = {channel: int(index) for channel, index in zip(self._inputs, indexes, strict=True)}

    def trigger(self) -> None:
        """One acquisition of one point (step); in a continuous scan the first trigger starts all of them."""
        device = self._card.device
        if self._continuous and self._triggered:
            return

        def start() -> None:
            if not self._prepared:
                device.command("prepare_acq")
            self._prepared = False
            device.command("start_acq")

        self._checked(start)
        self._triggered = True

    def wait_ready(self) -> None:
        """Until the point's row is in (step), or new rows came (continuous; at once when every point is in).

        Raises
        ------
        TimeoutError
            No row within the count time + ``timeout``.
        RuntimeError
            The card reports an error (``last_error``), or its rows do not follow each other.
        TangoDeviceError
            The server fails or is in FAULT.
        """
        if self._taken or (self._continuous and self._npoints and self._received >= self._npoints):
            return

        def rows_came() -> bool:
            status, error, data = self._checked(lambda: self._card.device.read_many(["acq_status", "last_error", "data"]))
            if error:
                raise RuntimeError(f"{self.name}: Tango device {self._card.url}: the card failed: {error} (last_error)")
            self._status = status
            return self._take(data)

        poll_until(rows_came, self._count_time + self._card.timeout, self._late)

    def _late(self) -> str:
        where = f"{self.name}: Tango device {self._card.url}"
        point = self._received
        if self._status != "Running":
            return (f"{where}: the acquisition ended (acq_status {self._status}) without point {point}; "
                    "was it stopped or prepared by another client?")  # fmt: skip
        return (f"{where}: no point {point} after {self._count_time:g} s count time + {self._card.timeout:g} s; "
                "raise `timeout` in its config if the card is slow")  # fmt: skip

    def _take(self, data: Any) -> bool:
        """Keep the rows just read from ``data`` after checking them; whether there were any."""
        rows = np.asarray(data)
        if not rows.size:
            return False
        where = f"{self.name}: Tango device {self._card.url}"
        if rows.ndim != 2 or rows.shape[1] != self._width:
            raise RuntimeError(f"{where}: rows of data have {rows.shape[-1]} columns, not {self._width} (acq_channels "
                               f"{self._inputs}, the timer and the point number); was it prepared by another client?")  # fmt: skip
        first = self._received + self._taken if self._continuous else self._taken
        expected = np.arange(first, first + len(rows), dtype=np.uint64) % _WRAP
        if not np.array_equal(rows[:, _POINT_COLUMN], expected):
            raise RuntimeError(f"{where}: rows of points {rows[0, _POINT_COLUMN]}-{rows[-1, _POINT_COLUMN]} came where "
                               f"point {first} was expected; was it read by another client?")  # fmt: skip
        self._rows.append(rows)
        self._taken += len(rows)
        return True

    def read(self) -> Block:
        """The points taken since the last read, a list per counter (ints of inputs, seconds of the timer)."""
        rows = np.concatenate(self._rows) if self._rows else np.empty((0, self._width), dtype=np.uint32)
        self._rows, self._taken = [], 0
        if not self._continuous and len(rows) != 1:
            raise RuntimeError(f"{self.name}: Tango device {self._card.url}: {len(rows)} points for one count; "
                               "was it stopped or read by another client?")  # fmt: skip
        self._received += len(rows)
        return {
            counter.name: (rows[:, _TIMER_COLUMN] / self._timer_freq).tolist()
            if counter.channel == TIMER_CHANNEL else rows[:, self._columns[counter.channel]].tolist()
            for counter in self._counters
        }  # fmt: skip

    def stop(self) -> None:
        """Stop counting (``stop_acq``)."""
        self._checked(lambda: self._card.device.command("stop_acq"))

    def _checked(self, call: Callable[[], Result]) -> Result:
        """``call()``; when the server fails and is in FAULT, one line naming the card, the device and its status."""
        try:
            return call()
        except TangoDeviceError as error:
            if isinstance(error.__context__, (tango.ConnectionFailed, tango.CommunicationFailed)):
                raise  # the server did not answer (stalled, gone): asking it for its state would wait again
            fault = self._fault()
            if fault is None:
                raise
            raise TangoDeviceError(fault) from error

    def _fault(self) -> str | None:
        device = self._card.device
        try:
            if device.state() != tango.DevState.FAULT:
                return None
            status = " ".join(device.status().split())
        except TangoDeviceError:
            return None
        return f"{self.name}: Tango device {self._card.url} is in FAULT: {status}"
