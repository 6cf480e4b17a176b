"""``scan.get_data()``: a scan's channels read back from Redis, or from its file once Redis let it go.

Examples
--------
>>> data = SCANS[-1].get_data()
>>> data["roby"], data["diode"].shape
(array([0., 1., 2., 3., 4.]), (5,))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bliss_shell.comm import TRANSIENT
from bliss_shell.data import ChannelDataNode, ScanNode, get_node
from bliss_shell.data.publisher import ChannelSpec
from bliss_shell.writer import dataset_names, read_measurement

from .consumers import ScanStart
from .scan_data import ScanData


def read_data(start: ScanStart, node: ScanNode, views: Callable[[bool], dict[str, Any]]) -> ScanData:
    """Every channel of a scan as a numpy array, from Redis; from its file when Redis lost, dropped or missed some of it.

    Parameters
    ----------
    start : ScanStart
        The scan as it started: its channels, file, number and publisher.
    node : ScanNode
        Its node.
    views : callable
        Given whether Redis let the scan go, the views its consumers add (a camera's frames), by fullname.

    Raises
    ------
    RuntimeError
        It was not saved, and Redis no longer has it, missed points of it, or is unreachable.
    """
    channels = start.data_channels()
    specs = [channel.spec for channel in channels]
    client = start.context.client
    whole = start.publisher.complete  # its publisher, a consumer of every scan, sent Redis every point
    try:
        gone = not whole or get_node(node.db_name, client) is None  # retention, memory cap, points missed
    except TRANSIENT as error:
        if not start.path:
            raise RuntimeError(f"scan {node.name} was not saved and Redis is unreachable ({error}): its data cannot be "
                               "read until Redis is back; save scans to keep them") from None  # fmt: skip
        gone = True  # the file has every point
    if gone and not start.path:
        if whole:
            raise RuntimeError(f"scan {node.name} was not saved and has expired from Redis (data_retention, or "
                               "removed to keep redis_memory_cap): its data is gone; save scans to keep them")  # fmt: skip
        raise RuntimeError(f"scan {node.name} was not saved and Redis missed points of it (it has "
                           f"{_points_held(specs, client)} of {start.publisher.points}): the rest are lost; save scans "
                           "to keep them")  # fmt: skip
    if gone and start.path:
        stored = read_measurement(start.path, start.number, start.plan.name)  # N.1, or N_name in an older file
        arrays = {spec.fullname: stored[name] for spec, name in zip(specs, dataset_names(specs))}
    else:
        nodes = {channel.fullname: channel for channel in node.walk(include_filter="channel", wait=False)
                 if isinstance(channel, ChannelDataNode)}  # fmt: skip
        arrays = {spec.fullname: nodes[spec.fullname].get(0, -1) for spec in specs}
    return ScanData(arrays, {channel.spec.fullname: channel.info.source for channel in channels}, views(gone))


def _points_held(specs: list[ChannelSpec], client: Any) -> str:
    """How many points Redis has of every channel (the fewest), or why it cannot say."""
    try:
        nodes = [get_node(spec.db_name, client) for spec in specs]
    except TRANSIENT:
        return "an unknown number"
    return str(min((len(node) if isinstance(node, ChannelDataNode) else 0 for node in nodes), default=0))
