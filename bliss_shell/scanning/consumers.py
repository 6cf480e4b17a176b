"""What takes a scan's points: one small base class, what a starting scan tells them, one vocabulary of end states.

A consumer is made for each scan by a factory of the session (``subscriptions.py``), from the
``ScanStart``; it takes the scan's points (keyed by channel fullname) and its end. ``add_points``
runs in the scan's loop, between two points: it must return at once. The built-in ones only queue
the points for a greenlet of their own (Redis, the file); a consumer of yours that does more (a
fit, a plot) holds every point back by that much, and does better to queue them too. The Redis
publisher's, the HDF5 writer's, the Lima cameras' (``lima_frames.py``), the live display's and the
logbook's (``logbook.py``) are here or beside; a new one is one more factory subscribed, and
neither the engine nor ``Scan`` change.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bliss_shell.data.publisher import ScanPublisher
from bliss_shell.writer import ImageFrames, NexusScanWriter, dataset_names, entry_name

from .chain import AcquisitionChain
from .plan import ScanPlan
from .records import Points
from .tree import PublishedChannel

if TYPE_CHECKING:
    from .context import ScanContext


class EndState(enum.Enum):
    """How a scan ended, everywhere: ``SCANS[-1].state``, the Redis END, the file's ``writer/status``."""

    DONE = "done"
    ABORTED = "aborted"
    FAILED = "failed"

    @property
    def file_status(self) -> str:
        """The same end as the file's ``writer/status`` says it: ``SUCCEEDED``, ``ABORTED`` or ``FAILED``."""
        return {"done": "SUCCEEDED", "aborted": "ABORTED", "failed": "FAILED"}[self.value]


@dataclass
class Ending:
    """Everything a consumer may need when the scan ends; handed to each consumer's ``end`` in turn.

    A consumer may add what the next ones record: the Lima cameras' consumer, before the file's,
    adds the frames the file links (``images``) and the frames each camera took (``taken``, told
    after Ctrl-C).
    """

    state: EndState
    reason: str
    time: datetime
    scan_info: dict[str, Any]
    positioners: dict[str, float] = field(default_factory=dict)  # every motor's user position as the scan ended
    dial_positioners: dict[str, float] = field(default_factory=dict)  # ... and dial position
    images: list[ImageFrames] = field(default_factory=list)
    taken: dict[str, int] = field(default_factory=dict)  # frames each camera took, by its name


@dataclass(frozen=True)
class ScanStart:
    """A scan as it starts, what its consumers are made from: numbered, placed, its tree queued for Redis.

    Examples
    --------
    A consumer factory reads what it needs of it:

    >>> from bliss_shell.scanning import current
    >>> def titles(start):
    ...     print(start.plan.title, start.db_name.rsplit(":", 1)[1], [c.spec.fullname for c in start.channels])
    >>> token = current().consumers.subscribe(titles)  # makes no consumer: None
    >>> loopscan(2, 0, diode)
    loopscan 2 0 ..._loopscan ['timer:elapsed_time', 'timer:epoch', 'diode:diode']
    Scan(number=..., name=loopscan, path=.../data.h5)
    >>> current().consumers.unsubscribe(token)
    """

    context: ScanContext
    plan: ScanPlan
    chain: AcquisitionChain
    number: int
    db_name: str  # the scan's node in Redis
    path: str | None  # its file, None when not saved
    time: datetime
    info: Mapping[str, Any]  # the scan's info as it starts (``Scan.scan_info``)
    positioners: Mapping[str, float]  # every motor's user position as it starts (NaN: could not be read)
    dial_positioners: Mapping[str, float]  # ... and dial position
    channels: tuple[PublishedChannel, ...]  # every channel, in tree order, with its node
    publisher: ScanPublisher  # what the scan's Redis data goes through: the tree, references, points, END

    def data_channels(self) -> list[PublishedChannel]:
        """The channels of values: every one but the cameras' frame references."""
        return [channel for channel in self.channels if channel.info.kind == "data"]


class ScanConsumer:
    """What a scan hands its life to: every method does nothing until a consumer overrides it.

    In order: ``start`` (before the devices are prepared), ``prepared`` (they are; what is queued on
    ``ScanStart.publisher`` now reaches Redis with the tree and PREPARED), ``add_points`` for every
    batch of whole points, ``end`` once. ``failure`` says why a record it keeps is incomplete.

    Examples
    --------
    A consumer that keeps every diode value, subscribed from the prompt:

    >>> from bliss_shell.scanning import current
    >>> class Diodes(ScanConsumer):
    ...     def __init__(self, start):
    ...         self.values = []
    ...     def add_points(self, points, count):
    ...         self.values.extend(points["diode:diode"])
    ...     def end(self, ending):
    ...         print(ending.state.value, self.values)
    >>> token = current().consumers.subscribe(Diodes)
    >>> s = loopscan(3, 0, diode)
    done [..., ..., ...]
    >>> current().consumers.unsubscribe(token)
    """

    def start(self) -> None:
        """The scan starts: its devices are not prepared yet."""

    def prepared(self) -> None:
        """Every device is prepared (a camera's channel now has its ``references``)."""

    def add_points(self, points: Points, count: int) -> None:
        """Take ``count`` whole points, values keyed by channel fullname; return at once."""

    def end(self, ending: Ending) -> None:
        """The scan ended (``ending`` says how): finish, once."""

    @property
    def failure(self) -> str | None:
        """Why a record it keeps is incomplete, else None."""
        return None

    def data_views(self, expired: bool) -> dict[str, Any]:
        """What it adds to ``scan.get_data()``, by channel fullname (``expired``: Redis has let the scan go)."""
        return {}


ConsumerFactory = Callable[[ScanStart], "ScanConsumer | None"]
"""Makes a scan's consumer from its ``ScanStart``; None when it has nothing to do for that scan."""


class RedisConsumer(ScanConsumer):
    """Points to the ``ScanPublisher`` of the scan's node (the scan itself publishes its tree and END)."""

    def __init__(self, start: ScanStart):
        self._publisher = start.publisher

    def add_points(self, points: Points, count: int) -> None:
        """Queue the points for Redis."""
        self._publisher.add_points(points, count)


class FileConsumer(ScanConsumer):
    """Points to the ``NexusScanWriter``; the end writes status, end positions and the image links."""

    def __init__(self, start: ScanStart):
        self._start = start
        self._writer = scan_writer(start)

    def start(self) -> None:
        """Open the file: the entry, the positioners as the scan starts, the scan's info."""
        start = self._start
        self._writer.start(start.plan.title, start.time, start.positioners, dict(start.info), start.dial_positioners)

    def add_points(self, points: Points, count: int) -> None:
        """Hand the points to the writer, which writes them in its own greenlet."""
        self._writer.add_points(points, count)

    def end(self, ending: Ending) -> None:
        """Write the last points, the end time, positions, status and image links, and close the file."""
        self._writer.end(ending.state.file_status, ending.reason, ending.time, ending.positioners, ending.scan_info,
                         ending.images, ending.dial_positioners)  # fmt: skip

    @property
    def failure(self) -> str | None:
        """Why the file is incomplete (a write failed), else None."""
        return self._writer.failure


def file_consumer(start: ScanStart) -> FileConsumer | None:
    """The scan's file, when it is saved."""
    return FileConsumer(start) if start.path else None


def scan_writer(start: ScanStart) -> NexusScanWriter:
    """The scan's file writer; its plot is the first counted channel (a scalar if any) along the motors."""
    assert start.path is not None
    channels = start.data_channels()
    specs = [channel.spec for channel in channels]
    names = dict(zip((spec.fullname for spec in specs), dataset_names(specs)))
    axes = [names[f"axis:{axis.name}"] for axis in start.plan.axes]
    counters = {id(counter) for counter in start.plan.counters}
    counted = [channel.spec for channel in channels if id(channel.info.source) in counters]
    first = min(counted, key=lambda spec: len(spec.shape), default=None)  # a scalar, else a spectrum (an MCA alone)
    signal = names[first.fullname] if first else None  # the plot silx draws on open
    return NexusScanWriter(start.path, entry_name(start.number), specs, plot=(signal, axes))


class DisplayConsumer(ScanConsumer):
    """The live display follows Redis on its own; at the end the scan waits until it showed everything."""

    def __init__(self, shown: Callable[[], None]):
        self._shown = shown

    def end(self, ending: Ending) -> None:
        """Wait until the display has shown the whole scan (a second Ctrl-C skips the wait)."""
        self._shown()


def display_consumer(start: ScanStart) -> DisplayConsumer | None:
    """The live display of the shell (``ScanContext.watch``), told the scan's node; None without one."""
    watch = start.context.watch
    return DisplayConsumer(watch(start.db_name)) if watch is not None else None
