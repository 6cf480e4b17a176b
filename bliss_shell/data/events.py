"""What ``walk_events`` yields: ``(event_type, node, event_data)``."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class EventType(enum.Enum):
    """What an event of ``walk_events`` says: a new node, a scan prepared, new points, a scan's end.

    Examples
    --------
    >>> print(EventType.NEW_DATA)
    event.NEW_DATA
    >>> EventType.NEW_CHILD is EventType.NEW_NODE  # BLISS 1.x's name for it
    True
    """

    NEW_NODE = "new_node"
    NEW_CHILD = "new_node"  # noqa: PIE796  (BLISS 1.x name of the same event: an alias)
    PREPARED_SCAN = "prepared_scan"
    NEW_DATA = "new_data"
    END_SCAN = "end_scan"

    def __str__(self) -> str:
        return f"event.{self.name}"


@dataclass(frozen=True)
class EventData:
    """NEW_DATA: ``data`` holds points ``first_index .. first_index + block_size - 1``.

    END_SCAN: ``data`` is ``{"state": "done" | "aborted" | "failed", "reason": ...}`` and
    ``description`` the reason ('' for a scan that ended normally).
    """

    first_index: int = -1
    data: Any = None
    description: Any = ""
    block_size: int = 0
    info: dict = field(default_factory=dict)


class Event(NamedTuple):
    """One event of ``walk_events``: ``(type, node, data)``; ``data`` is None for NEW_NODE.

    Examples
    --------
    >>> event_type, node, data = list(SCANS[-1].node.walk_events(wait=False))[-1]
    >>> event_type, node.name, data.data
    (<EventType.END_SCAN: 'end_scan'>, '2_ascan', {'state': 'done', 'reason': ''})
    """

    type: EventType
    node: Any
    data: EventData | None = None
