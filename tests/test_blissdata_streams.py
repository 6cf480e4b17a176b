"""A channel's stream is blissdata 2's: blissdata 2.4.5's own stream readers read what ``get_node`` reads.

Each value is stored once (docs/redis-layout.md): the stream ``esrf:stream:{session}:...`` holds blissdata's
entries (ID ``{first_index}-1``, ``payload``, ``len``; the seal ``id``), and both APIs read it. Here blissdata's
reader is built on the stream as its ``Scan`` builds it (``EventStream.open`` on a ``StreamModel`` whose pk is the
tagged db_name, wrapped in a ``Stream``); the scan document that lists the streams is tested elsewhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from blissdata.exceptions import EndOfStream
from blissdata.redis_engine.store import DataStore
from blissdata.streams import CursorGroup
from blissdata.streams.default import Stream
from blissdata.streams.event_stream import EventStream

from bliss_shell.data import get_node, keys
from bliss_shell.data.orphans import PUBLISHER_GONE, close_scan
from bliss_shell.data.publisher import ChannelSpec, ScanPublisher, ensure_container, register_session
from conftest import wait_for


@pytest.fixture
def data_store(redis_client, redis_server):
    """blissdata's DataStore on the tests' Redis (its protocol key set, as a shell sets it)."""
    redis_client.set("_PROTOCOL_VERSION_", 1)
    return DataStore(redis_server.url)


def blissdata_stream(data_store: DataStore, channel) -> Stream:
    """blissdata's reader of a channel, as ``Scan`` builds it from the stream's model in a scan document."""
    encoding = {"type": "numeric", "dtype_str": channel.dtype.newbyteorder("<").str, "shape": list(channel.shape)}
    model = data_store._stream_model(pk=keys.tagged(channel.db_name), encoding=encoding, info={})
    assert model.key() == keys.stream_key(channel.db_name)  # blissdata's key of that pk is our stream
    return Stream(EventStream.open(data_store, channel.fullname, model))


def read_to_the_end(stream: Stream) -> np.ndarray:
    """Every value, as a blissdata client reads a stream: ``CursorGroup.read`` until the end of the stream."""
    group, values = CursorGroup([stream]), []
    while True:
        try:
            views = group.read(block=False)
        except EndOfStream:
            break
        values.extend(view.get_data() for view in views.values())
    return np.concatenate(values) if values else np.empty((0, *stream.shape), stream.dtype)


def same_as_ours(stream: Stream, channel, sealed: bool) -> None:
    ours = channel.get(0, -1)
    assert len(stream) == len(channel) == len(ours)
    assert stream.event_stream.is_sealed() is sealed
    assert np.array_equal(stream[:], ours) and stream[:].dtype == ours.dtype
    assert np.array_equal(stream[len(ours) - 1], ours[-1])
    if sealed:  # blissdata reads a stream to its seal, and knows negative indexes only then
        assert np.array_equal(read_to_the_end(stream), ours)
        assert np.array_equal(stream[-1], ours[-1])


def test_blissdata_reads_the_channels_of_a_finished_scan(session, data_store):
    scan = session["loopscan"](30, 0, session["diode"], session["simu1"])
    channels = {node.name: node for node in scan.node.walk(include_filter="channel", wait=False)}
    assert channels["simu1"].shape == (16,) and channels["diode"].shape == ()
    for name in ("diode", "simu1", "elapsed_time"):
        same_as_ours(blissdata_stream(data_store, channels[name]), channels[name], sealed=True)
        assert len(channels[name]) == 30


def test_blissdata_reads_a_running_scan_block_by_block_then_its_seal(redis_client, data_store):
    register_session(redis_client, "test_session")
    ensure_container(redis_client, "test_session:tmp", "tmp", "test_session")
    scan = "test_session:tmp:1_loopscan"
    publisher = ScanPublisher(redis_client, parents=["test_session:tmp", "test_session"])
    publisher.add_node(scan, "1_loopscan", "scan", parent="test_session:tmp", info={"title": "loopscan"})
    specs = [ChannelSpec(f"{scan}:diode", "diode", "diode:diode", np.dtype("int32")),
             ChannelSpec(f"{scan}:mca", "mca", "mca:mca", np.dtype("float32"), (4,))]  # fmt: skip
    for spec in specs:
        publisher.add_channel(spec, parent=scan)
    publisher.prepared(scan)
    publisher.wait_tree_sent()
    channels = [get_node(spec.db_name) for spec in specs]
    streams = [blissdata_stream(data_store, channel) for channel in channels]
    assert [len(stream) for stream in streams] == [0, 0] and not streams[0].event_stream.is_sealed()
    sent = 0
    for count in (1, 3, 1, 5):  # blocks of one point (no len field) and of several
        points = range(sent, sent + count)
        publisher.add_points({"diode:diode": list(points), "mca:mca": [[i, i + 0.5, -i, 2 * i] for i in points]}, count)
        sent += count
        wait_for(lambda: len(channels[0]) == sent, f"{sent} points did not reach Redis")  # noqa: B023
        for stream, channel in zip(streams, channels):
            same_as_ours(stream, channel, sealed=False)
    layout = [(entry_id, fields.get(b"len")) for entry_id, fields in redis_client.xrange(keys.stream_key(specs[0].db_name))]
    assert layout == [(b"0-1", None), (b"1-1", b"3"), (b"4-1", None), (b"5-1", b"5")]  # each add_points a block
    publisher.end(scan)
    for stream, channel in zip(streams, channels):
        same_as_ours(stream, channel, sealed=True)
        assert len(stream) == 10
    seal = redis_client.xrevrange(keys.stream_key(specs[1].db_name), count=1)
    assert seal == [(b"18446744073709551615-18446744073709551615", {b"id": b"10"})]
    assert channels[0].get(0, -1).tolist() == list(range(10))


def test_a_scan_closed_without_its_publisher_is_sealed_as_blissdata_seals(redis_client, data_store):
    register_session(redis_client, "test_session")
    ensure_container(redis_client, "test_session:tmp", "tmp", "test_session")
    scan, warnings = "test_session:tmp:1_loopscan", []
    publisher = ScanPublisher(redis_client, parents=["test_session:tmp", "test_session"], on_warning=warnings.append)
    publisher.add_node(scan, "1_loopscan", "scan", parent="test_session:tmp", info={"title": "loopscan"})
    spec = ChannelSpec(f"{scan}:diode", "diode", "diode:diode", np.dtype("float64"))
    publisher.add_channel(spec, parent=scan)
    publisher.prepared(scan)
    publisher.add_points({"diode:diode": [0.5, 1.5, 2.5]}, 3)
    wait_for(lambda: len(get_node(spec.db_name) or []) == 3, "3 points did not reach Redis")
    assert close_scan(redis_client, scan, "failed", PUBLISHER_GONE, silent_only=False) == 3  # a reader took it for dead
    channel = get_node(spec.db_name)
    same_as_ours(blissdata_stream(data_store, channel), channel, sealed=True)
    publisher.end(scan)  # its publisher finds it closed
    assert len(warnings) == 1 and "Redis has the first 3" in warnings[0]  # its seal comes after blissdata's: refused
    same_as_ours(blissdata_stream(data_store, channel), channel, sealed=True)
    assert len(channel) == 3
