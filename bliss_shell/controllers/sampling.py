"""Sampling counters, as BLISS has them: read by the client, once or many times during the count.

A counter's ``mode`` (config key ``mode``, BLISS's ``SamplingMode`` names):

- ``SINGLE``: one reading after the count time.
- ``MEAN`` (the default, as in BLISS): readings every ``sampling_period`` seconds during the
  count time; the point's value is their mean.
- ``INTEGRATE``: like ``MEAN``, times the count time (a rate counted over the point).

The counters of one controller are read together, in one call per reading
(``read_attributes`` for Tango). A reading may be a number, a spectrum or an image: ``SINGLE``
keeps it as read (an integer stays an integer), ``MEAN`` and ``INTEGRATE`` average readings
element by element into floats. A reading that fails fails the point in the scan's greenlet,
also when the readings are sampled in a greenlet of their own (gevent never prints it).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

import gevent
import gevent.event
import numpy as np

from bliss_shell.config import ConfigNode

from .acquisition import AcquisitionBase, AcquisitionParameters, Block, ChannelInfo

DEFAULT_SAMPLING_PERIOD = 0.01  # s between two readings of a MEAN or INTEGRATE counter


class SamplingMode(enum.Enum):
    """How a sampling counter's readings make the value of a point (config key ``mode``)."""

    SINGLE = "SINGLE"
    MEAN = "MEAN"
    INTEGRATE = "INTEGRATE"


def sampling_settings(node: ConfigNode, default: SamplingMode = SamplingMode.MEAN) -> tuple[SamplingMode, float]:
    """``mode`` and ``sampling_period`` of a counter's config, checked.

    Raises
    ------
    ValueError
        ``mode`` is not a ``SamplingMode`` name, or ``sampling_period`` is not above 0.

    Examples
    --------
    >>> sampling_settings(config.get_config("diode"))
    (<SamplingMode.MEAN: 'MEAN'>, 0.01)
    """
    name = str(node.get("mode", default.value)).upper()
    try:
        mode = SamplingMode(name)
    except ValueError:
        modes = ", ".join(m.value for m in SamplingMode)
        raise ValueError(f"{node.where}: {node.name}: mode must be one of {modes}, not {name!r}") from None
    period = float(node.get("sampling_period", DEFAULT_SAMPLING_PERIOD))
    if not period > 0:
        raise ValueError(f"{node.where}: {node.name}: sampling_period must be a positive number of seconds")
    return mode, period


Reading = Callable[[float], dict[str, Any]]
"""Reads every counter of a controller once: count time -> value by counter name."""

ReadAll = Callable[[Sequence[Any], float], dict[str, Any]]
"""A controller's reading of its counters: (counters, count time) -> value by counter name."""


class SamplingAcquisition(AcquisitionBase):
    """The counters of one sampling controller in a scan.

    Each point reads them once after the count time, or (a ``MEAN`` or ``INTEGRATE`` counter and a
    count time above 0) every ``sampling_period`` from ``trigger`` to ``wait_ready``.

    ``reading`` None reads each counter by its own ``read(count_time)`` (in-process counters): a point
    read once and not integrated (the common case) then makes its block straight from those reads.

    Examples
    --------
    >>> from bliss_shell.controllers import AcquisitionParameters, Timing
    >>> acquisition = SamplingAcquisition("sim", [c1, c2], lambda t: {"c1": 1.0, "c2": 2.0}, blocking=False)
    >>> acquisition.prepare(AcquisitionParameters(1, 0.0, Timing.STEP)); acquisition.trigger()
    >>> acquisition.wait_ready(); acquisition.read()
    {'c1': [1.0], 'c2': [2.0]}
    >>> each = SamplingAcquisition("sim", [c1, c2], None, blocking=False)
    >>> each.prepare(AcquisitionParameters(1, 0.0, Timing.STEP))
    >>> sorted(each.read())
    ['c1', 'c2']
    """

    def __init__(self, name: str, counters: Sequence[Any], reading: Reading | None, blocking: bool):
        self.name = name
        self.blocking = blocking
        self._counters = list(counters)
        self._each = reading is None
        # without a reading: each counter's own read, bound once
        self._reads = [(counter.name, counter.read) for counter in self._counters] if self._each else []
        self._reading = reading if reading is not None else self._read_each
        self._direct: list[tuple[str, Callable[[float], Any]]] | None = None  # set by prepare: one read each, as read
        self._modes = {c.name: getattr(c, "mode", SamplingMode.SINGLE) for c in self._counters}
        self._integrating = any(mode is SamplingMode.INTEGRATE for mode in self._modes.values())
        self._period = min(getattr(c, "sampling_period", DEFAULT_SAMPLING_PERIOD) for c in self._counters)
        self._count_time = 0.0
        self._sampled = False
        self._samples: list[dict[str, Any]] = []
        self._sampler: gevent.Greenlet | None = None
        self._stop_sampling = gevent.event.Event()
        self._channels = [ChannelInfo(c.name, np.dtype(c.dtype), tuple(c.shape), c.unit, source=c) for c in self._counters]

    @property
    def channels(self) -> list[ChannelInfo]:
        """One channel per counter, named after it."""
        return self._channels

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Keep the count time; decide whether points are sampled during it."""
        self._count_time = parameters.count_time
        self._sampled = parameters.count_time > 0 and any(m is not SamplingMode.SINGLE for m in self._modes.values())
        self._direct = self._reads if self._each and not self._sampled and not self._integrating else None

    def _read_each(self, count_time: float) -> dict[str, Any]:
        """Every counter by its own ``read``: the reading when none was given."""
        return {name: read(count_time) for name, read in self._reads}

    def trigger(self) -> None:
        """Start reading every ``sampling_period`` when the point is sampled; else nothing."""
        if self._sampled:
            self._samples = []
            self._stop_sampling.clear()
            self._sampler = gevent.spawn(self._sample_until_stopped)

    def _sample_until_stopped(self) -> BaseException | None:
        """Read every ``sampling_period`` until told to stop; a failed reading is returned, never raised.

        A greenlet that dies of an exception has gevent's hub print its traceback on the terminal;
        the failure is ``wait_ready``'s to raise, in the scan's greenlet, as the scan's one line.
        """
        try:
            while True:
                self._samples.append(self._reading(self._count_time))
                if self._stop_sampling.wait(self._period):
                    return None
        except Exception as error:
            return error

    def wait_ready(self) -> None:
        """Stop the sampling of the point; a reading that failed raises here."""
        if self._sampler is not None:
            self._stop_sampling.set()
            sampler, self._sampler = self._sampler, None
            failure = sampler.get()
            if failure is not None:
                raise failure  # fails the point, naming the device

    def read(self) -> Block:
        """The point's value of each counter: one reading, or the readings combined as its mode says."""
        direct = self._direct
        if direct is not None:  # each counter read once, kept as read: the block straight from the reads
            count_time = self._count_time
            block: Block = {}
            for name, read in direct:  # a loop: cheaper than a comprehension's call in Python 3.11
                block[name] = [read(count_time)]
            return block
        if not self._sampled:  # one reading, after the count (the common case, kept short)
            values = self._reading(self._count_time)
            if not self._integrating:
                return {name: [value] for name, value in values.items()}
            return {name: [self._scaled(name, value)] for name, value in values.items()}
        samples, self._samples = self._samples or [self._reading(self._count_time)], []
        return {name: [self._combined(name, [sample[name] for sample in samples])] for name in self._modes}

    def _combined(self, name: str, values: list[Any]) -> Any:
        if self._modes[name] is SamplingMode.SINGLE:
            return values[-1]
        mean = np.mean(values, axis=0)
        return self._scaled(name, float(mean) if np.ndim(mean) == 0 else mean)

    def _scaled(self, name: str, value: Any) -> Any:
        return value * self._count_time if self._modes[name] is SamplingMode.INTEGRATE else value

    def stop(self) -> None:
        """Stop a sampling under way."""
        if self._sampler is not None:
            self._sampler.kill()
            self._sampler = None


class SamplingController:
    """A controller whose counters are read by a function of theirs, all at once.

    ``read_all(counters, count_time)`` returns each counter's value by name (None: each counter's own
    ``read(count_time)``, for counters computed in-process); ``blocking`` says whether it waits on a
    server. Two controllers of the same name, function and ``blocking`` are equal: their counters are
    counted together.

    Examples
    --------
    >>> controller = SamplingController("sim", None, blocking=False)
    >>> [channel.name for channel in controller.acquisition_object([c1, c2]).channels]
    ['c1', 'c2']
    >>> c1.controller == c2.controller, c1.controller == diode.controller
    (True, False)
    """

    def __init__(self, name: str, read_all: ReadAll | None, blocking: bool):
        self.name = name
        self._read_all = read_all
        self.blocking = blocking

    def __repr__(self) -> str:
        return f"SamplingController({self.name!r})"

    def __eq__(self, other: object) -> bool:
        """Counters naming the same controller are counted together when they are read the same way."""
        if not isinstance(other, SamplingController):
            return NotImplemented
        return (self.name, self._read_all, self.blocking) == (other.name, other._read_all, other.blocking)

    def __hash__(self) -> int:
        return hash(self.name)

    def acquisition_object(self, counters: Sequence[Any]) -> SamplingAcquisition:
        """The acquisition object that reads ``counters`` (counters of this controller) in a scan."""
        counters = list(counters)
        read_all = self._read_all
        if read_all is None:
            return SamplingAcquisition(self.name, counters, None, self.blocking)
        return SamplingAcquisition(self.name, counters, lambda count_time: read_all(counters, count_time), self.blocking)
