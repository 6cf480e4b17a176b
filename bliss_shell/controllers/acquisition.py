"""The life cycle every acquisition object of a scan follows, devices and masters alike.

A scan runs a tree of acquisition objects (``scanning/chain.py``). The engine only calls
these verbs; it never knows whether an object is a Tango counter card, a Lima camera, an
in-process simulation or a motor master:

- ``prepare(parameters)``: once per scan, before anything starts (number of points, count
  time, timing, where 2D frames are saved).
- ``start()``: once, after every object is prepared; slaves are started before their masters.
- ``trigger()``: once per point, for software-timed objects (``Timing.STEP``); internally
  timed objects (``Timing.FREE``) take their points on their own after ``start``.
- ``wait_ready()``: until the object has data for the point just triggered (``STEP``), or
  until new data came (``FREE``; returns at once when the acquisition is over).
- ``read()``: the points acquired since the last read, as one block keyed by channel name:
  ``{"diode": [56.0]}``; every channel of a block has the same number of points.
- ``stop()``: always, at the end, after an error and after Ctrl-C.

In a continuous scan every device times itself: ``start()`` arms it, the first ``trigger()``
(when the motor reaches the first point) starts its ``npoints`` periods, and the engine
then only waits and reads. Objects that cannot (``continuous_capable`` False) are refused
before anything moves.

A call that waits on a server is made in a greenlet of its own, so the objects of one level
wait together; ``blocking = False`` says an object never waits (in-process simulations)
and is called in the engine's greenlet: a greenlet gains nothing for work that cannot yield.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .lima_protocol import FrameReferences


class Timing(enum.Enum):
    """How an object's points are timed.

    ``STEP``: the master triggers each point (a step scan: motors move between points).
    ``FREE``: nothing moves between points; the device counts ``npoints`` periods of
    ``count_time`` back to back once started (ct, loopscan, timescan, continuous scans).
    A device that cannot count freely is software-triggered each point instead
    (``AcquisitionParameters.timing`` tells what the scan wants, the device decides).
    """

    STEP = "STEP"
    FREE = "FREE"


@dataclass(frozen=True)
class AcquisitionParameters:
    """What a scan asks of every object when it prepares it.

    Examples
    --------
    >>> AcquisitionParameters(npoints=10, count_time=0.1, timing=Timing.STEP)
    AcquisitionParameters(npoints=10, count_time=0.1, timing=<Timing.STEP: 'STEP'>, continuous=False, images_path=None)
    """

    npoints: int  # 0: until stopped (an endless timescan)
    count_time: float
    timing: Timing
    continuous: bool = False  # a continuous scan: FREE-timed devices are the scan's clock
    images_path: str | None = (
        None  # folder and file prefix of 2D detectors' frames ({img_acq_device}: each one's name); None: not saved
    )


@dataclass(frozen=True)
class ChannelInfo:
    """One channel an acquisition object produces.

    ``kind`` is ``"data"`` for values (published and written as arrays) or ``"lima"`` for a
    2D detector's frame references (each value is the server's frame counters, a dict). Once the
    object is prepared, such a channel's ``references`` say where its frames are (``channels``
    then gives the prepared description: the object states its own data).

    Examples
    --------
    >>> ChannelInfo("diode", unit="cps")
    ChannelInfo(name='diode', dtype=dtype('float64'), shape=(), unit='cps', kind='data', source=None, references=None)
    """

    name: str
    dtype: np.dtype = np.dtype("float64")  # noqa: RUF009  (a dtype is immutable)
    shape: tuple[int, ...] = ()
    unit: str | None = None
    kind: str = "data"
    source: Any = None  # the counter or motor object behind it (``scan.get_data()[diode]``)
    references: FrameReferences | None = None  # a camera's frames, once prepared (``kind`` "lima")


@dataclass(frozen=True)
class DeviceState:
    """A device found in a state its config does not allow (a Tango counter's ``allowed_states``).

    The scan prints its ``line`` once, as a warning (one line per device for all its counters), and
    keeps ``state`` by counter in its info (``device_states``); the counters are still counted.

    Examples
    --------
    >>> DeviceState(("tt",), "sys/tg_test/1", "FAULT", "all but FAULT, ALARM").line
    'tt: device sys/tg_test/1 is in FAULT (allowed_states: all but FAULT, ALARM); counted anyway'
    >>> DeviceState(("tt", "tt2"), "sys/tg_test/1", "FAULT", "ON, RUNNING", at_end=True).line
    "tt, tt2: device sys/tg_test/1 was in FAULT at the scan's end (allowed_states: ON, RUNNING)"
    """

    counters: tuple[str, ...]
    device: str
    state: str
    allowed: str  # the allowed states, as the config says them: ``ON, RUNNING``, ``all but FAULT, ALARM``
    at_end: bool = False  # found when the scan stopped, not when it was prepared

    @property
    def line(self) -> str:
        """The warning: the counters, the device, its state and what their config allows."""
        found = f"was in {self.state} at the scan's end" if self.at_end else f"is in {self.state}"
        return (f"{', '.join(self.counters)}: device {self.device} {found} (allowed_states: {self.allowed})"
                f"{'' if self.at_end else '; counted anyway'}")  # fmt: skip


Block = dict[str, Sequence[Any]]
"""Points of one object keyed by channel name: ``{"c1": [3.0, 4.0], "c2": [1.0, 7.0]}``."""


@runtime_checkable
class AcquisitionObject(Protocol):
    """What the engine drives. ``name`` is the object's node in the scan's data tree."""

    name: str
    blocking: bool

    @property
    def channels(self) -> list[ChannelInfo]:
        """The channels it produces, known before the scan starts; once prepared, what ``prepare`` learnt of them."""

    def prepare(self, parameters: AcquisitionParameters) -> None:
        """Set the device up for the scan, once, before anything starts."""

    def start(self) -> None:
        """Arm the device, once, after every object is prepared."""

    def trigger(self) -> None:
        """Take one point (``STEP``); in a ``FREE`` scan the first trigger starts them all."""

    def wait_ready(self) -> None:
        """Return when the point just triggered (``STEP``) or new points (``FREE``) can be read."""

    def read(self) -> Block:
        """The points acquired since the last read."""

    def stop(self) -> None:
        """Stop the device: always called, at the end, after an error and after Ctrl-C."""


@runtime_checkable
class CounterController(Protocol):
    """What groups counters: one acquisition object per controller reads all its counters a scan counts.

    A scan makes one acquisition object per controller from the controller's counters it counts, so
    that one call reads them all.
    """

    name: str

    def acquisition_object(self, counters: Sequence[Any]) -> AcquisitionObject:
        """The acquisition object that counts ``counters`` (counters of this controller) in a scan."""


class AcquisitionBase:
    """Defaults for objects that need no start, trigger or stop: override what the device needs."""

    name: str
    blocking = True
    continuous_capable = False  # True: it counts through a continuous scan (a card, a camera, an MCA gated by the card)
    needs_gate = False  # True: in a continuous scan it counts per gate of a device that gives gates (an MCA)
    gives_gate = False  # True: its periods gate the others (a counter card)

    def start(self) -> None:
        """Nothing to arm."""

    def trigger(self) -> None:
        """Nothing to trigger."""

    def wait_ready(self) -> None:
        """Nothing to wait for."""

    def stop(self) -> None:
        """Nothing to stop."""

    def device_states(self) -> list[DeviceState]:
        """The devices found in a state their config does not allow since ``prepare`` (Tango counters: there and at the end)."""
        return []
