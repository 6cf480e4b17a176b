"""blissdata 2 documents beside the 1.x tree: blissdata 2.4.5's own readers see our scans, shaped as its writer makes them.

The references (the index, the seal function, a scan's document and streams) are written by blissdata's own writer on
the same server, in a process of its own; its readers also run in processes of their own (plain blocking code).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import gevent
import numpy as np
import pytest
import redis

from bliss_shell.data import blissdata, blissdata_server, get_node, keys
from bliss_shell.data.blissdata import scan_key, state_key
from bliss_shell.data.blissdata_server import prepare_server, takes_documents
from bliss_shell.data.encoding import block_fields, block_id, encode_block
from bliss_shell.data.orphans import HELD, close_orphans, close_scan
from bliss_shell.data.publisher import ChannelSpec, ScanPublisher, ensure_container, register_session
from bliss_shell.data.retention import Retention, remove_scan
from conftest import wait_for

SESSION = "demo"
IDENTITY = {"name": "ascan", "number": 3, "data_policy": "None", "session": SESSION, "proposal": None,
            "collection": None, "dataset": "sample_0001", "path": "/tmp/scans/demo/data.h5"}  # fmt: skip


def run_python(code: str, timeout: float = 60) -> Any:
    """Run ``code`` in a new Python process; what it printed last, as JSON (it prints ``json.dumps(...)``)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def blissdata_url(client: redis.Redis) -> str:
    """The URL blissdata's DataStore takes for ``client``'s server (RESP2: redis-py 8 searches need it)."""
    return f"unix://{client.connection_pool.connection_kwargs['path']}?protocol=2"


def reference_setup(client: redis.Redis) -> dict[str, Any]:
    """What blissdata's own set-up writes on an empty database: index, schema keys, seal function, protocol."""
    client.flushall()
    run_python(f"""
        from blissdata.redis_engine.store import DataStore
        DataStore({blissdata_url(client)!r}, init_db=True)
        print("null")
    """)
    return setup_seen(client)


def setup_seen(client: redis.Redis) -> dict[str, Any]:
    info = client.execute_command("FT.INFO", blissdata_server.INDEX)
    return {
        "keys": sorted(k for k in client.scan_iter() if k != b"sessions" and not k.startswith((b"node|", b"children|"))),
        "protocol": client.get(blissdata_server.PROTOCOL_KEY),
        "definition": info[b"index_definition"],
        "attributes": info[b"attributes"],
        "schema": client.get(f"{blissdata_server.INDEX}:schema"),
        "hash": client.get(f"{blissdata_server.INDEX}:hash"),
        "functions": [(lib[1], lib[5]) for lib in client.function_list()],  # library_name, functions
        "expansions": client.execute_command("FT.CONFIG", "GET", "MAXPREFIXEXPANSIONS"),
    }


def test_a_server_with_the_modules_is_set_up_as_blissdata_sets_it_up_even_holding_data(blissdata_client):
    reference = reference_setup(blissdata_client)
    blissdata_client.flushall()
    register_session(blissdata_client, SESSION)  # a database that holds data: blissdata's own set-up refuses it
    blissdata_server._servers.clear()
    assert prepare_server(blissdata_client) is None
    assert setup_seen(blissdata_client) == reference
    blissdata_server._servers.clear()
    assert prepare_server(blissdata_client) is None  # again: nothing changes
    assert setup_seen(blissdata_client) == reference
    assert (
        run_python(f"""
        import json
        from blissdata.redis_engine.store import DataStore
        store = DataStore({blissdata_url(blissdata_client)!r})
        print(json.dumps(store.search_existing_scans(session={SESSION!r})[1]))
    """)
        == []
    )


def test_our_seal_function_seals_as_blissdata_s(blissdata_client):
    streams = {
        "empty": [],
        "one": [("0-1", {"payload": b"a"})],
        "block": [("0-1", {"payload": b"a"}), ("1-1", {"payload": b"bc", "len": 3})],
    }

    def seal_all() -> dict[str, Any]:
        for name, entries in streams.items():
            for entry_id, fields in entries:
                blissdata_client.xadd(name, fields, id=entry_id)
        sealed = {name: blissdata_client.fcall("seal_stream", 1, name) for name in streams}
        with pytest.raises(redis.ResponseError, match="block is already sealed"):
            blissdata_client.fcall("seal_stream", 1, "block")
        return {"returned": sealed, "entries": {name: blissdata_client.xrange(name) for name in streams}}

    reference_setup(blissdata_client)
    theirs = seal_all()
    blissdata_client.flushall()
    blissdata_server._servers.clear()
    assert prepare_server(blissdata_client) is None
    assert seal_all() == theirs
    assert theirs["returned"] == {"empty": 0, "one": 1, "block": 4}


def test_a_server_without_the_modules_gets_no_blissdata_key_and_a_clear_reason(redis_client):
    blissdata_server._servers.clear()
    reason = prepare_server(redis_client)
    assert reason == ("blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see the scans: the Redis lacks the "
                      "ReJSON and search modules (see docs/blissdata.md)")  # fmt: skip
    assert redis_client.keys("*") == []


def test_another_protocol_version_is_left_alone(blissdata_client):
    blissdata_client.set(blissdata_server.PROTOCOL_KEY, 2)
    blissdata_server._servers.clear()
    assert "the Redis's _PROTOCOL_VERSION_ is 2, where blissdata 2.4 writes and reads 1" in prepare_server(blissdata_client)
    assert blissdata_client.keys("*") == [blissdata_server.PROTOCOL_KEY.encode()]


# ---- scans published by ScanPublisher, read by blissdata's readers ----

FOLDER = f"{SESSION}:tmp"
FOLLOWER = os.path.join(os.path.dirname(__file__), "blissdata_follower.py")


def channels(scan_db: str) -> list[ChannelSpec]:
    """A float with a unit, an int and a spectrum: blissdata's numeric encoding of each."""
    return [
        ChannelSpec(f"{scan_db}:timer:elapsed_time", "elapsed_time", "timer:elapsed_time", np.dtype("f8"), unit="s"),
        ChannelSpec(f"{scan_db}:timer:diode", "diode", "diode:diode", np.dtype("i4")),
        ChannelSpec(f"{scan_db}:timer:spectrum", "spectrum", "mca:spectrum", np.dtype("u4"), shape=(8,)),
    ]


def values(first: int, count: int) -> dict[str, np.ndarray]:
    index = np.arange(first, first + count)
    return {"timer:elapsed_time": index * 0.1, "diode:diode": index * 7 - 20,
            "mca:spectrum": (index[:, None] * 8 + np.arange(8)).astype("u4")}  # fmt: skip


def start_scan(client: redis.Redis, number: int, lima: dict[str, Any] | None = None, **options: Any) -> tuple[str, ScanPublisher]:
    """A scan's tree and PREPARED sent, as the scan's publisher sends them (``lima``: ``add_lima``'s arguments)."""
    register_session(client, SESSION)
    ensure_container(client, FOLDER, "tmp", SESSION)
    scan_db = f"{FOLDER}:{number}_ascan"
    publisher = ScanPublisher(client, parents=[FOLDER, SESSION], identity={**IDENTITY, "number": number}, **options)
    publisher.add_node(scan_db, f"{number}_ascan", "scan", parent=FOLDER, info={"title": f"ascan {number}", "scan_nb": number,
                                                                               "npoints": 5, "nan": float("nan")})  # fmt: skip
    publisher.add_node(f"{scan_db}:timer", "timer", "container", parent=scan_db)
    for spec in channels(scan_db):
        publisher.add_channel(spec, parent=f"{scan_db}:timer")
    if lima is not None:
        publisher.add_node(f"{scan_db}:timer:cam:image", "image", "lima", parent=f"{scan_db}:timer")
        publisher.add_lima(f"{scan_db}:timer:cam:image", "cam:image", **lima)
    publisher.prepared(scan_db)
    publisher.wait_tree_sent()
    return scan_db, publisher


def publish(client: redis.Redis, number: int, state: str = "done", blocks: tuple[int, ...] = (1, 3, 1)) -> str:
    """A whole scan: its points in ``blocks``, then its END in ``state``."""
    scan_db, publisher = start_scan(client, number)
    send_blocks(client, scan_db, publisher, blocks)
    publisher.set_info(
        scan_db, {"title": f"ascan {number}", "scan_nb": number, "npoints": 5, "end_time": "2026-12-07T12:00:00+00:00"}
    )
    publisher.end(scan_db, state, "" if state == "done" else f"the scan was {state}")
    return scan_db


def send_blocks(client: redis.Redis, scan_db: str, publisher: ScanPublisher, blocks: tuple[int, ...]) -> None:
    """Points in ``blocks``, each in a round of its own: the next goes once the stream holds the one before."""
    stream, first = keys.stream_key(channels(scan_db)[0].db_name), 0
    for sent, count in enumerate(blocks, start=1):
        publisher.add_points(values(first, count), count)
        first += count
        wait_for(lambda sent=sent: client.xlen(stream) == sent, f"block {sent} did not reach Redis")


def follow(client: redis.Redis, count: int, out, *extra: str) -> subprocess.Popen:
    """blissdata's follower, listening before the scans start (it prints READY)."""
    reader = subprocess.Popen([sys.executable, FOLLOWER, "--url", blissdata_url(client), "--count", str(count),
                               "--out", str(out), "--deadline", "60", *extra], stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert reader.stdout.readline().startswith("READY")
    return reader


def seen(out, index: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    result = json.loads((out / f"scan_{index}.json").read_text())
    arrays = np.load(out / f"scan_{index}.npz")
    return result, {name: arrays[stream["npz"]] for name, stream in result["streams"].items() if "npz" in stream}


def test_blissdata_readers_follow_our_scans_live_to_their_end_reason(blissdata_client, tmp_path):
    prepare_server(blissdata_client)
    reader = follow(blissdata_client, 3, tmp_path)
    scans = [publish(blissdata_client, 3), publish(blissdata_client, 4, "aborted"), publish(blissdata_client, 5, "failed")]
    output = reader.communicate(timeout=60)[0]
    assert reader.returncode == 0, output
    for index, (scan_db, reason) in enumerate(zip(scans, ["SUCCESS", "USER_ABORT", "FAILURE"])):
        result, arrays = seen(tmp_path, index)
        assert result["key"] == scan_key(scan_db)
        assert result["states"][-1] == "CLOSED" and result["end_reason"] == reason
        assert result["identity"] == {**IDENTITY, "number": 3 + index}
        assert result["info"]["title"] == f"ascan {3 + index}" and result["info"]["end_time"].startswith("2026")
        assert sorted(arrays) == ["diode:diode", "mca:spectrum", "timer:elapsed_time"]
        for spec in channels(scan_db):
            ours = get_node(spec.db_name).get(0, -1)
            assert arrays[spec.fullname].dtype == ours.dtype and np.array_equal(arrays[spec.fullname], ours)
            assert result["streams"][spec.fullname]["sealed"] and result["streams"][spec.fullname]["len"] == 5
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert sorted(summary["searches"][f"session={SESSION},dataset={IDENTITY['dataset']}"]) == sorted(map(scan_key, scans))


def reference_scan(client: redis.Redis, number: int, lima_info: dict[str, Any]) -> str:
    """The same scan written by blissdata's own writer (on the server our set-up prepared); its key."""
    return run_python(f"""
        import json
        import numpy as np
        from blissdata.redis_engine.store import DataStore
        from blissdata.streams.default import Stream
        from blissdata.streams.lima import LimaStream
        store = DataStore({blissdata_url(client)!r})
        scan = store.create_scan({ {**IDENTITY, "number": number}!r}, info={{"title": "ascan {number}", "scan_nb": {number},
                                                                            "npoints": 5, "nan": float("nan")}})
        elapsed = scan.create_stream(Stream.make_definition("timer:elapsed_time", "float64", (), info={{"unit": "s"}}))
        diode = scan.create_stream(Stream.make_definition("diode:diode", "int32", ()))
        spectrum = scan.create_stream(Stream.make_definition("mca:spectrum", "uint32", (8,)))
        lima = scan.create_stream(LimaStream.make_definition("cam:image", "uint16", [4, 5], **{lima_info!r}))
        scan.prepare()
        scan.start()
        index = np.arange(5)
        for first, count in ((0, 1), (1, 3), (4, 1)):
            part = index[first:first + count]
            elapsed.send(part * 0.1 if count > 1 else part[0] * 0.1)
            diode.send((part * 7 - 20).astype("i4") if count > 1 else np.int32(part[0] * 7 - 20))
            spectrum.send((part[:, None] * 8 + np.arange(8)).astype("u4") if count > 1 else (part[0] * 8 + np.arange(8)).astype("u4"))
        lima.send({{"last_index": 1, "last_index_saved": -1}})
        lima.send({{"last_index": 4, "last_index_saved": 2}})
        scan.stop()
        scan.info = {{"title": "ascan {number}", "scan_nb": {number}, "npoints": 5, "end_time": "2026-12-07T12:00:00+00:00",
                     "end_reason": "SUCCESS"}}
        scan.close()
        print(json.dumps(scan.key))
    """)


LIMA = {"dtype": np.dtype("u2"), "shape": (4, 5),
        "lima_info": {"server_url": "id00/limaccds/cam", "buffer_max_number": 8, "frame_per_acquisition": 0,
                      "acquisition_offset": 2, "file_path": "/tmp/scans/cam_%04d.h5",
                      "data_path": "/entry_0000/measurement/data", "file_format": "HDF5", "file_offset": 0,
                      "frame_per_file": 2}}  # fmt: skip
LIMA_SAVING = {"file_path": "/tmp/scans/cam_%04d.h5", "data_path": "/entry_0000/measurement/data", "file_format": "HDF5",
               "file_offset": 0, "frames_per_file": 2}  # fmt: skip


def test_documents_and_streams_are_shaped_as_blissdata_s_writer_shapes_them(blissdata_client):
    blissdata_server._servers.clear()
    prepare_server(blissdata_client)
    scan_db, publisher = start_scan(blissdata_client, 3, lima=LIMA)
    send_blocks(blissdata_client, scan_db, publisher, (1, 3, 1))
    publisher.lima_status(f"{scan_db}:timer:cam:image", {"last_image_ready": 1, "last_image_saved": -1})
    publisher.lima_status(f"{scan_db}:timer:cam:image", {"last_image_ready": 4, "last_image_saved": 2})
    publisher.set_info(scan_db, {"title": "ascan 3", "scan_nb": 3, "npoints": 5, "end_time": "2026-12-07T12:00:00+00:00"})
    publisher.end(scan_db, "done")
    lima_info = {
        "server_url": "id00/limaccds/cam",
        "buffer_max_number": 8,
        "frames_per_acquisition": 0,
        "acquisition_offset": 2,
        "saving": LIMA_SAVING,
    }  # LimaStream.make_definition's arguments for LIMA
    theirs_key = reference_scan(blissdata_client, 3, lima_info)
    ours, theirs = (json.loads(blissdata_client.execute_command("JSON.GET", key)) for key in (scan_key(scan_db), theirs_key))

    def streams_of(doc: dict[str, Any]) -> dict[str, list]:
        return {name: [(entry_id, fields) for entry_id, fields in blissdata_client.xrange("esrf:stream:" + stream["pk"])]
                for name, stream in doc["data_streams"].items()}  # fmt: skip

    def states(doc: dict[str, Any]) -> list[bytes]:
        return [fields[b"state"] for _, fields in blissdata_client.xrange("esrf:stream:" + doc["state_stream"]["pk"])]

    assert streams_of(ours) == streams_of(theirs)
    assert states(ours) == states(theirs) == [b"0", b"1", b"2", b"3", b"4"]

    def without_pks(doc: Any) -> Any:
        if isinstance(doc, dict):
            return {key: "pk" if key == "pk" else without_pks(value) for key, value in doc.items()}
        return doc

    assert without_pks(ours) == without_pks(theirs)
    assert ours["pk"] == keys.tagged(scan_db) and ours["state_stream"]["pk"] == keys.tagged(scan_db) + "|state"
    assert [fields[b"key"] for _, fields in blissdata_client.xrange(blissdata.HISTORY)] == [
        scan_key(scan_db).encode(),
        theirs_key.encode(),
    ]


def test_our_lima_stream_is_read_by_blissdata_s_lima_plugin(blissdata_client, tmp_path):
    prepare_server(blissdata_client)
    reader = follow(blissdata_client, 1, tmp_path)
    scan_db, publisher = start_scan(blissdata_client, 3, lima=LIMA)
    stream = keys.stream_key(f"{scan_db}:timer:cam:image")
    for ready in range(5):
        publisher.add_points(values(ready, 1), 1)
        publisher.lima_status(f"{scan_db}:timer:cam:image", {"last_image_ready": ready, "last_image_saved": ready})
        wait_for(lambda ready=ready: blissdata_client.xlen(stream) == ready + 1)  # each frame in a round of its own
    publisher.end(scan_db, "done")
    output = reader.communicate(timeout=60)[0]
    assert reader.returncode == 0, output
    result, _ = seen(tmp_path, 0)
    lima = result["streams"]["cam:image"]
    assert (lima["plugin"], lima["dtype_name"], lima["shape"], lima["len"], lima["sealed"]) == ("lima", "uint16", [4, 5], 5, True)
    assert [ref["file_path"] for ref in lima["references"]] == ["/tmp/scans/cam_0000.h5"] * 2 + ["/tmp/scans/cam_0001.h5"] * 2 + [
        "/tmp/scans/cam_0002.h5"]  # fmt: skip
    assert [ref["index"] for ref in lima["references"]] == [0, 1, 0, 1, 0]


def test_retention_gives_the_documents_the_scan_s_ttl_and_the_memory_cap_removes_them(blissdata_client):
    prepare_server(blissdata_client)
    scan_db, publisher = start_scan(blissdata_client, 3, lima=LIMA, retention=Retention(seconds=300))
    publisher.lima_status(f"{scan_db}:timer:cam:image", {"last_image_ready": 0, "last_image_saved": 0})
    publisher.add_points(values(0, 2), 2)
    wait_for(lambda: blissdata_client.xlen(keys.stream_key(f"{scan_db}:timer:diode")) == 1, "the points did not arrive")
    ours = [scan_key(scan_db), state_key(scan_db), keys.stream_key(f"{scan_db}:timer:cam:image")]
    ours += [keys.stream_key(spec.db_name) for spec in channels(scan_db)]
    assert {key: blissdata_client.ttl(key) for key in ours} == dict.fromkeys(ours, -1)  # running: nothing expires
    publisher.end(scan_db, "done")
    assert all(290 < blissdata_client.ttl(key) <= 300 for key in ours)
    remove_scan(blissdata_client, scan_db)
    assert [key for key in blissdata_client.keys("esrf:*") if keys.tagged(scan_db).encode() in key] == []


def test_a_server_without_the_modules_gets_the_1x_tree_and_no_blissdata_key(redis_client):
    blissdata_server._servers.clear()
    scan_db = publish(redis_client, 3)
    assert len(get_node(f"{scan_db}:timer:diode").get(0, -1)) == 5
    assert sorted(redis_client.keys("esrf:scan:*") + redis_client.keys("*|state") + redis_client.keys("_*")) == []


ORPHAN = """
from gevent import monkey
monkey.patch_all(thread=False)
import sys, time
import gevent
import numpy as np
import redis
sys.path.insert(0, {tests!r})
import test_blissdata_docs as t
client = redis.Redis(unix_socket_path={socket!r})
t.prepare_server(client)
scan_db, publisher = t.start_scan(client, 7, lima=t.LIMA)
publisher.add_points(t.values(0, 3), 3)
publisher.lima_status(scan_db + ":timer:cam:image", {{"last_image_ready": 2, "last_image_saved": 1}})
while not (client.xlen(t.keys.stream_key(scan_db + ":timer:diode")) and client.xlen(t.keys.stream_key(scan_db + ":timer:cam:image"))):
    time.sleep(0.01)
print("PUBLISHED", flush=True)
time.sleep(600)
"""


def test_an_orphan_is_closed_with_failure_for_blissdata_readers(blissdata_client):
    socket = blissdata_client.connection_pool.connection_kwargs["path"]
    code = ORPHAN.format(tests=os.path.dirname(__file__), socket=socket)
    publisher = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(__file__))
    try:
        assert publisher.stdout.readline().strip() == "PUBLISHED"
    finally:
        os.kill(publisher.pid, signal.SIGKILL)
        publisher.communicate()
    scan_db = f"{FOLDER}:7_ascan"
    closed: list[tuple[str, int]] = []
    wait_for(lambda: closed.extend(close_orphans(blissdata_client, SESSION)) or closed, "the orphan was not closed", 30)
    assert closed == [(scan_db, 3)]
    result = run_python(f"""
        import json
        from blissdata.redis_engine.store import DataStore
        from blissdata.streams import CursorGroup
        from blissdata.exceptions import EndOfStream
        scan = DataStore({blissdata_url(blissdata_client)!r}).load_scan({scan_key(scan_db)!r})
        group, read = CursorGroup(scan.streams), {{}}
        while True:
            try:
                views = group.read(timeout=5)
            except EndOfStream:
                break
            for stream, view in views.items():
                read[stream.name] = read.get(stream.name, 0) + len(view)
        print(json.dumps([scan.state.name, scan.info["end_reason"], read]))
    """)
    assert result == ["CLOSED", "FAILURE", {"timer:elapsed_time": 3, "diode:diode": 3, "mca:spectrum": 3, "cam:image": 3}]


def test_a_scan_that_fails_before_it_is_prepared_is_created_then_closed_with_failure(blissdata_client):
    prepare_server(blissdata_client)
    register_session(blissdata_client, SESSION)
    ensure_container(blissdata_client, FOLDER, "tmp", SESSION)
    scan_db = f"{FOLDER}:8_ascan"
    publisher = ScanPublisher(blissdata_client, parents=[FOLDER, SESSION], identity={**IDENTITY, "number": 8})
    publisher.add_node(scan_db, "8_ascan", "scan", parent=FOLDER, info={"title": "ascan 8"})
    publisher.end(scan_db, "failed", "a device refused its parameters")
    states = [fields[b"state"] for _, fields in blissdata_client.xrange(state_key(scan_db))]
    assert states == [b"0", b"4"]  # blissdata stops only a started scan, and closes one in any state
    assert run_python(f"""
        import json
        from blissdata.redis_engine.store import DataStore
        scan = DataStore({blissdata_url(blissdata_client)!r}).load_scan({scan_key(scan_db)!r})
        print(json.dumps([scan.state.name, scan.info["end_reason"], scan.info["title"], sorted(scan.streams)]))
    """) == ["CLOSED", "FAILURE", "ascan 8", []]


def test_a_redis_out_of_reach_takes_no_document_and_the_publisher_is_made_all_the_same(tmp_path):
    away = redis.Redis(unix_socket_path=str(tmp_path / "no-such.sock"))
    assert not takes_documents(away)
    ScanPublisher(away, parents=[FOLDER, SESSION], identity=IDENTITY, on_warning=lambda message: None).end(f"{FOLDER}:9_ascan")


def test_a_server_flushed_between_scans_is_set_up_again_before_the_next_scan(blissdata_client, tmp_path):
    prepare_server(blissdata_client)
    publish(blissdata_client, 3)
    redis.Redis(unix_socket_path=blissdata_client.connection_pool.connection_kwargs["path"]).flushall()  # another client
    reader = follow(blissdata_client, 1, tmp_path)  # blissdata's DataStore(url) needs the protocol key: none now
    scan_db = publish(blissdata_client, 4)  # register_session finds the server empty and sets it up again
    output = reader.communicate(timeout=60)[0]
    assert reader.returncode == 0, output
    result, _ = seen(tmp_path, 0)
    assert result["key"] == scan_key(scan_db) and result["end_reason"] == "SUCCESS"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["searches"][f"session={SESSION},dataset={IDENTITY['dataset']}"] == [scan_key(scan_db)]  # the index


LINE = "blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see the scans"
USER = "bd_user"


@pytest.fixture
def as_user(blissdata_client):
    """``as_user(*rules)``: a new client of a Redis user whose rights are ``+@all`` and ``rules`` (an ACL an
    administrator, ``blissdata_client``, sets from outside the publisher's connection)."""
    clients = []

    def client_with(*rules: str) -> redis.Redis:
        blissdata_client.acl_setuser(USER, enabled=True, reset=True, passwords=[f"+{USER}"], keys=["*"], channels=["*"],
                                     commands=["+@all", *rules])  # fmt: skip
        clients.append(redis.Redis(unix_socket_path=blissdata_client.connection_pool.connection_kwargs["path"],
                                   username=USER, password=USER))  # fmt: skip
        return clients[-1]

    yield client_with
    for client in clients:
        client.close()
    blissdata_client.acl_deluser(USER)


def assert_every_point_in_the_1x_tree(scan_db: str) -> None:
    for spec in channels(scan_db):
        assert np.array_equal(get_node(spec.db_name).get(0, -1), values(0, 5)[spec.fullname]), spec.fullname
    assert get_node(scan_db).end_state() == {"state": "done", "reason": ""}


def test_a_user_refused_json_set_is_told_at_session_open_and_the_1x_tree_gets_every_point(blissdata_client, as_user):
    assert prepare_server(blissdata_client) is None  # an administrator set the server up
    user = as_user("-json.set")
    assert prepare_server(user) == (f"{LINE}: the Redis refused JSON.SET (User {USER} has no permissions "
                                    "to run the 'json.set' command) (see docs/blissdata.md)")  # fmt: skip
    assert blissdata_client.keys("bliss_shell:probe:*") == []  # the probe's scratch key is gone
    scan_db = publish(user, 3)
    assert_every_point_in_the_1x_tree(scan_db)
    assert not blissdata_client.exists(scan_key(scan_db), state_key(scan_db))


@pytest.mark.parametrize("refused_from", ["prepared", "end"])
def test_a_document_refused_mid_scan_is_one_warning_and_the_1x_tree_keeps_every_point(blissdata_client, as_user,
                                                                                      refused_from):  # fmt: skip
    prepare_server(blissdata_client)
    user = as_user()
    assert prepare_server(user) is None
    warnings: list[str] = []
    if refused_from == "prepared":  # the ACL changes after the session opened: the tree's JSON.SET is refused
        blissdata_client.acl_setuser(USER, enabled=True, commands=["-json.set"])
    scan_db, publisher = start_scan(user, 3, on_warning=warnings.append)
    if refused_from == "end":  # the END's JSON.SET (the info at the end) is refused
        blissdata_client.acl_setuser(USER, enabled=True, commands=["-json.set"])
    send_blocks(user, scan_db, publisher, (1, 3, 1))
    publisher.end(scan_db, "done")
    assert publisher.complete
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("blissdata 2 tools (Flint 2, ewoks, blisswriter) will not see this scan: the Redis "
                                  "refused a command of the scan's blissdata 2 document (NoPermissionError: ")  # fmt: skip
    assert warnings[0].endswith("the scan goes on and its 1.x readers get every point")
    assert_every_point_in_the_1x_tree(scan_db)
    assert not takes_documents(user)  # the next scans of this client get no document
    assert blissdata_client.exists(scan_key(scan_db)) == (refused_from == "end")


def test_a_user_without_set_up_rights_is_accepted_once_an_admin_set_the_server_up_else_told_the_step(blissdata_client,
                                                                                                   as_user):  # fmt: skip
    rules = ("-@admin", "-@dangerous", "-function|load", "-ft.create")  # no MODULE LIST, CONFIG, FUNCTION LOAD, FT.CREATE
    blissdata_client.function_flush()
    if blissdata_server.INDEX.encode() in blissdata_client.execute_command("FT._LIST"):
        blissdata_client.execute_command("FT.DROPINDEX", blissdata_server.INDEX)
    why = prepare_server(as_user(*rules))
    assert why.startswith(f"{LINE}: the search index esrf:scan:index is missing and this user may not create it"), why
    assert why.endswith("an administrator sets the Redis up once by opening a session as a user allowed to "
                        "(docs/blissdata.md), or gives this user the right (see docs/blissdata.md)")  # fmt: skip
    assert prepare_server(blissdata_client) is None  # the administrator sets it up
    assert prepare_server(as_user(*rules)) is None
    blissdata_client.function_flush()  # the seal function lost (a FUNCTION FLUSH, a server started again...)
    why = prepare_server(as_user(*rules))
    assert why.startswith(f"{LINE}: the server function library mylib (seal_stream, which blissdata's writers call) "
                          "is missing and this user may not load it"), why  # fmt: skip


def test_a_document_found_through_the_index_has_its_states_already(blissdata_client):
    """blissdata's load_scan reads the state stream's last entry: the states go before the document, the history last."""
    prepare_server(blissdata_client)
    socket = blissdata_client.connection_pool.connection_kwargs["path"]
    watcher = redis.Redis(unix_socket_path=socket)  # another client sees what the server executes, in its order
    seen: list[tuple[str, str]] = []
    with watcher.monitor() as monitor:

        def read() -> None:
            for command in monitor.listen():
                name, key, *_ = command["command"].split() + [""]
                if name in ("JSON.SET", "XADD"):
                    seen.append((name, key))

        reading = gevent.spawn(read)
        scan_db = f"{FOLDER}:3_ascan"
        start_scan(blissdata_client, 3)[1].end(scan_db, "done")
        wait_for(lambda: ("XADD", blissdata.HISTORY) in seen, "the history entry was not seen")
        reading.kill()
    creation = seen[: seen.index(("XADD", blissdata.HISTORY)) + 1]
    states = [entry for entry in creation if entry == ("XADD", state_key(scan_db))]
    assert len(states) == 3
    assert creation.index(("JSON.SET", scan_key(scan_db))) > max(i for i, entry in enumerate(creation) if entry in states)


def test_closing_a_scan_seals_where_its_data_ends_even_a_block_added_just_before(blissdata_client, monkeypatch):
    prepare_server(blissdata_client)
    scan_db, publisher = start_scan(blissdata_client, 3, lima=LIMA)
    send_blocks(blissdata_client, scan_db, publisher, (3,))
    publisher.lima_status(f"{scan_db}:timer:cam:image", {"last_image_ready": 2, "last_image_saved": 1})
    wait_for(lambda: blissdata_client.xlen(keys.stream_key(f"{scan_db}:timer:cam:image")) == 1)
    late = redis.Redis(unix_socket_path=blissdata_client.connection_pool.connection_kwargs["path"])  # a late publisher
    script = blissdata_client.eval

    def block_then_script(*args: Any) -> Any:  # the block lands after the closer looked at the scan, before its script
        for spec in channels(scan_db):
            late.xadd(keys.stream_key(spec.db_name), block_fields(encode_block(values(3, 2)[spec.fullname], spec.dtype,
                                                                              spec.shape), 2), id=block_id(3))  # fmt: skip
        late.xadd(keys.stream_key(f"{scan_db}:timer:cam:image"), blissdata.lima_entry(4, 1), id=block_id(1))
        return script(*args)

    monkeypatch.setattr(blissdata_client, "eval", block_then_script)
    assert close_scan(blissdata_client, scan_db, "failed", f"gone; Redis has {HELD} points", silent_only=False) == 5
    for spec in channels(scan_db):
        assert blissdata_client.xrevrange(keys.stream_key(spec.db_name), count=1)[0][1] == {b"id": b"5"}
    assert blissdata_client.xrevrange(keys.stream_key(f"{scan_db}:timer:cam:image"), count=1)[0][1] == {b"id": b"2"}
    end = blissdata_client.xrevrange(keys.events_key(scan_db), count=1)[0][1]
    assert (end[b"reason"], end[b"published"]) == (b"gone; Redis has 5 points", b"5")
    publisher.end(scan_db, "done")  # the publisher, still alive, finds its scan closed
