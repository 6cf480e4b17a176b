"""The Redis data-node tree: publishing, ``get_node``, ``walk``, ``walk_events``, ``get``.

Layer: above ``controllers``; see docs/architecture.md and docs/redis-layout.md.
"""

from .events import Event, EventData, EventType
from .lima_view import LimaDataView
from .node import ChannelDataNode, DataNode, LimaNode, NodeExpired, ScanNode, get_node, get_session_node, get_sessions

__all__ = [
    "ChannelDataNode",
    "DataNode",
    "Event",
    "EventData",
    "EventType",
    "LimaDataView",
    "LimaNode",
    "NodeExpired",
    "ScanNode",
    "get_node",
    "get_session_node",
    "get_sessions",
]
