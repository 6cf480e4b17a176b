"""A scan's node tree in Redis, derived from its acquisition chain.

One container node per acquisition object under its master's node (the top master under the
scan node), one channel node per data channel below it, one ``lima`` node per 2D detector
channel: ``1_ascan`` -> ``axis`` -> (``roby``, ``timer`` -> (``elapsed_time``, ``diode`` -> ``diode``)).
A channel named ``group:name`` sits in a container ``group`` of its object (a Lima detector's
``roi_counters:r1_sum``: ``...:lima_simulator:roi_counters:r1_sum``, fullname ``lima_simulator:roi_counters:r1_sum``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bliss_shell.controllers import ChannelInfo
from bliss_shell.data.publisher import ChannelSpec, ScanPublisher

from .chain import AcquisitionChain
from .records import channel_fullname


@dataclass(frozen=True)
class PublishedChannel:
    """A channel of the scan: where it is in Redis, and what produced it."""

    spec: ChannelSpec
    info: ChannelInfo  # as the object described it before it was prepared (``kind``: data, or a camera's frames)


def publish_tree(
    publisher: ScanPublisher, scan_db: str, chain: AcquisitionChain, scan_info: dict[str, Any]
) -> list[PublishedChannel]:
    """Queue the scan node and every node below it; return the channels in tree order."""
    publisher.add_node(scan_db, scan_db.rsplit(":", 1)[1], "scan", scan_db.rsplit(":", 1)[0], info=scan_info)
    node_db: dict[int, str] = {}
    channels = []
    for node, parent in chain.walk():
        device = node.device
        parent_db = node_db[id(parent)] if parent is not None else scan_db
        db_name = node_db[id(node)] = f"{parent_db}:{device.name}"
        publisher.add_node(db_name, device.name, "container", parent_db)
        groups: set[str] = set()
        for info in device.channels:
            fullname = channel_fullname(device.name, info.name)
            *path, name = info.name.split(":")  # "roi_counters:r1_sum": channel r1_sum in a container roi_counters
            holder = db_name
            for group in path:
                if f"{holder}:{group}" not in groups:
                    publisher.add_node(f"{holder}:{group}", group, "container", holder)
                    groups.add(f"{holder}:{group}")
                holder = f"{holder}:{group}"
            spec = ChannelSpec(f"{holder}:{name}", name, fullname, info.dtype, info.shape, info.unit)
            if info.kind == "lima":
                publisher.add_node(spec.db_name, name, "lima", holder)
            else:
                publisher.add_channel(spec, holder)
            channels.append(PublishedChannel(spec, info))
    return channels
