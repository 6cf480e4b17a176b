"""What takes a scan's points: one small interface, one vocabulary of end states.

The Redis publisher, the HDF5 writer, the frame counter of the Lima detectors and the live
display are consumers; a new one (a live plot, a second writer) is one more class here,
and the engine does not change. A consumer never holds the scan back: it takes points
(keyed by channel fullname) and does its work in its own greenlet.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bliss_shell.data.publisher import ScanPublisher
from bliss_shell.writer import ImageFrames, NexusScanWriter

from .records import Points


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
    """Everything a consumer may need when the scan ends."""

    state: EndState
    reason: str
    time: datetime
    scan_info: dict[str, Any]
    positioners: dict[str, float] = field(default_factory=dict)
    images: list[ImageFrames] = field(default_factory=list)


class ScanConsumer(Protocol):
    """Takes a scan's points and its end.

    ``essential`` consumers keep the scan's record (Redis, the file): their end always runs,
    even through a second Ctrl-C. The others (the display) are skipped when the user forces.
    ``failure`` says why the record is incomplete (None when it is whole).
    """

    essential: bool

    def add_points(self, points: Points, count: int) -> None:
        """Take ``count`` whole points, values keyed by channel fullname; return at once."""
        ...

    def end(self, ending: Ending) -> None:
        """The scan ended (``ending`` says how): finish the record, once."""
        ...

    @property
    def failure(self) -> str | None:
        """Why the record is incomplete, else None."""
        ...


class RedisConsumer:
    """Points to the ``ScanPublisher``; each Lima channel's newest frame counters to its lima node."""

    essential = True

    def __init__(self, publisher: ScanPublisher, scan_db: str, image_nodes: Mapping[str, str]):
        self._publisher = publisher
        self._scan_db = scan_db
        self._image_nodes = dict(image_nodes)  # lima channel fullname -> its node's db_name

    def add_points(self, points: Points, count: int) -> None:
        """Queue the points for Redis, and each Lima node's newest frame counters."""
        self._publisher.add_points(points, count)
        for fullname, db_name in self._image_nodes.items():
            self._publisher.lima_status(db_name, points[fullname][-1])

    def end(self, ending: Ending) -> None:
        """The final scan info, then the END event with the end state and its reason."""
        self._publisher.set_info(self._scan_db, ending.scan_info)
        self._publisher.end(self._scan_db, ending.state.value, ending.reason)

    @property
    def failure(self) -> None:
        """Always None: Redis never fails a scan."""
        return None  # Redis never fails a scan: the file keeps every point

    @property
    def complete(self) -> bool:
        """True when Redis got every point (False: it was unreachable or dropped some; read the file)."""
        return self._publisher.complete


class FileConsumer:
    """Points to the ``NexusScanWriter``; the end writes status, end positions and the image links."""

    essential = True

    def __init__(self, writer: NexusScanWriter):
        self._writer = writer

    def add_points(self, points: Points, count: int) -> None:
        """Hand the points to the writer, which writes them in its own greenlet."""
        self._writer.add_points(points, count)

    def end(self, ending: Ending) -> None:
        """Write the last points, the end time, positions, status and image links, and close the file."""
        self._writer.end(ending.state.file_status, ending.reason, ending.time, ending.positioners, ending.scan_info,
                         ending.images)  # fmt: skip

    @property
    def failure(self) -> str | None:
        """Why the file is incomplete (a write failed), else None."""
        return self._writer.failure


class FrameCounter:
    """How many frames each Lima detector took, from its channel's frame counters."""

    essential = True
    failure = None

    def __init__(self, image_channels: list[str]):
        self.frames = dict.fromkeys(image_channels, 0)

    def add_points(self, points: Points, count: int) -> None:
        """Keep each detector's frame count: its newest ``last_image_ready`` + 1."""
        for fullname in self.frames:
            self.frames[fullname] = points[fullname][-1]["last_image_ready"] + 1

    def end(self, ending: Ending) -> None:
        """Nothing to finish: the counts stay readable in ``frames``."""


class DisplayConsumer:
    """The live display follows Redis on its own; at the end the scan waits until it showed everything."""

    essential = False
    failure = None

    def __init__(self, shown: Callable[[], None]):
        self._shown = shown

    def add_points(self, points: Points, count: int) -> None:
        """Nothing to do: the display reads the points from Redis."""

    def end(self, ending: Ending) -> None:
        """Wait until the display has shown the whole scan (a second Ctrl-C skips the wait)."""
        self._shown()
