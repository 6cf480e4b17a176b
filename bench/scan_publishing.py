"""Publishing and saving speed of a scan, against the issues' targets, on a Redis of its own.

Prints, each as the median of several runs:
- per-point time of ``loopscan(10000, 0, c1, c2, c3)`` with publishing on and saving off (target <= 0.1 ms;
  BLISS 1.11 0.70 ms without saving, Bluesky's count 1.4 ms, on these machines);
- the same with saving on (target <= 0.15 ms; BLISS 1.11 1.28 ms);
- the rate of 1D spectra (``loopscan(2000, 0, simu_big)``, 4096 bins), saved and published, and published only;
- the same loop with no Redis at all (the scan engine's own cost), for the ratio;
- Redis memory per point per float64 channel (target <= 16 B; BLISS 1.11 about 240 B);
- latency from ``add_points`` to a ``walk_events`` reader in another process (target <= 5 ms median),
  with points spaced 10 ms apart, as a slow scan would send them.

Usage: .venv/bin/python bench/scan_publishing.py [runs]
"""

from gevent import monkey

monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)

import contextlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import numpy as np  # noqa: E402
import redis  # noqa: E402

from bliss_shell.comm import EmbeddedRedis, use_redis  # noqa: E402
from bliss_shell.config import Config, ConfigRoot  # noqa: E402
from bliss_shell.shell.error_report import ErrorReport  # noqa: E402
from bliss_shell.shell.namespace import session_namespace  # noqa: E402
from machine import private_folder  # noqa: E402

BEAMLINE = Path(__file__).resolve().parents[1] / "tests" / "beamline"
NPOINTS = 10_000

LATENCY_READER = """
import json, time
from bliss_shell.data import EventType, get_session_node
print("ready", flush=True)
delays = []
for event in get_session_node("test_session").walk_on_new_events():
    if event.type is EventType.NEW_DATA and event.node.name == "c1":
        now = time.time()
        delays.extend(now - sent for sent in event.data.data.tolist())
    if event.type is EventType.END_SCAN:
        print(json.dumps(delays), flush=True)
        break
"""


@contextlib.contextmanager
def own_redis(prefix: str) -> Iterator[tuple[Path, EmbeddedRedis, redis.Redis]]:
    """A Redis of the benchmark's own, in a private folder; both stopped and removed afterwards, whatever happened.

    What still runs from the folder then (a server that did not answer its stop) is killed.
    """
    with private_folder(prefix) as folder:
        server = EmbeddedRedis(folder)
        try:
            server.ensure_running()
            client = redis.Redis(unix_socket_path=str(server.socket))
            use_redis(client)
            try:
                yield folder, server, client
            finally:
                client.close()
        finally:
            server.stop()


def open_session(client: redis.Redis, base: str) -> dict:
    session = Config([ConfigRoot(BEAMLINE)]).get("test_session")
    namespace = session_namespace(session, client, ErrorReport())
    session.setup(namespace, on_error=print, verbose=False)
    namespace["SCAN_SAVING"].base_path = base
    return namespace


def per_point(namespace: dict, save: bool) -> float:
    counters = [namespace[name] for name in ("c1", "c2", "diode")]
    start = time.perf_counter()
    namespace["loopscan"](NPOINTS, 0, *counters, save=save)
    return (time.perf_counter() - start) / NPOINTS


def spectra_rate(namespace: dict, save: bool = True) -> float:
    """MB/s of 1D data reaching Redis (and the file, with ``save``) during a scan of big spectra."""
    start = time.perf_counter()
    namespace["loopscan"](2000, 0, namespace["simu_big"], save=save)
    return 2000 * 4096 * 8 / (time.perf_counter() - start) / 1e6


def bare_loop(namespace: dict) -> float:
    """The same reads and yields as the scan loop, publishing nothing."""
    counters = [namespace[name] for name in ("c1", "c2", "diode")]
    start = time.perf_counter()
    for _ in range(NPOINTS):
        gevent.sleep(0)
        [counter.read(0) for counter in counters]
    return (time.perf_counter() - start) / NPOINTS


def memory_per_point(client: redis.Redis, namespace: dict) -> float:
    client.flushall()
    namespace = open_session(client, namespace["SCAN_SAVING"].base_path)
    before = client.info("memory")["used_memory"]
    scan = namespace["loopscan"](100_000, 0, namespace["c1"], namespace["c2"], namespace["diode"], save=False)
    after = client.info("memory")["used_memory"]
    channels = sum(1 for _ in scan.node.walk(include_filter="channel", wait=False))  # elapsed_time, epoch, 3 counters
    return (after - before) / (100_000 * channels)


def latency(client: redis.Redis, server: EmbeddedRedis) -> list[float]:
    from bliss_shell.data.publisher import ChannelSpec, ScanPublisher, ensure_container

    env = {"BLISS_REDIS_URL": server.url, "PATH": "/usr/bin:/bin"}
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LATENCY_READER)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        reader.stdout.readline()
        time.sleep(0.3)
        ensure_container(client, "test_session:lat", "lat", "test_session")
        publisher = ScanPublisher(client)
        scan = "test_session:lat:1_latency"
        publisher.add_node(scan, "1_latency", "scan", "test_session:lat")
        publisher.add_channel(ChannelSpec(f"{scan}:c1", "c1", "sim:c1", np.dtype("float64")), scan)
        publisher.prepared(scan)
        for _ in range(200):
            gevent.sleep(0.01)
            publisher.add_points({"sim:c1": [time.time()]}, 1)
        publisher.end(scan)
        out, _ = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:  # an error above: the reader would wait for the scan's end forever
            reader.kill()
            reader.wait()
    return json.loads(out.strip().splitlines()[-1])


def measure(runs: int) -> dict[str, list[float]]:
    """The figure of each of ``runs`` runs: ms per point (scan, saved, engine alone), MB/s of spectra.

    B per point and the latency in ms (median and p99 of its points) come from one run.
    """
    with own_redis("bsb-") as (folder, server, client):
        namespace = open_session(client, str(folder / "scans"))
        scan_times = [per_point(namespace, save=False) for _ in range(runs)]
        saved_times = [per_point(namespace, save=True) for _ in range(runs)]
        rates = [spectra_rate(namespace) for _ in range(runs)]
        unsaved_rates = [spectra_rate(namespace, save=False) for _ in range(runs)]
        bare_times = [bare_loop(namespace) for _ in range(runs)]
        memory = memory_per_point(client, namespace)
        delays = latency(client, server)
    return {
        "scan_ms": [t * 1e3 for t in scan_times],
        "saved_ms": [t * 1e3 for t in saved_times],
        "bare_ms": [t * 1e3 for t in bare_times],
        "spectra_mbs": rates,
        "spectra_unsaved_mbs": unsaved_rates,
        "memory_b": [memory],
        "latency_ms": [statistics.median(delays) * 1e3],
        "latency_p99_ms": [sorted(delays)[int(len(delays) * 0.99)] * 1e3],
        "latency_points": [len(delays)],
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    m = {key: statistics.median(values) for key, values in measure(runs).items()}
    print(
        f"loopscan({NPOINTS}, 0, c1, c2, diode), publishing on: {m['scan_ms']:.4f} ms per point (median of {runs}; target <= 0.1)"
    )
    print(
        f"same, publishing and saving (HDF5):                 {m['saved_ms']:.4f} ms per point (target <= 0.15; ratio {m['saved_ms'] / m['scan_ms']:.1f} x)"
    )
    print(f"1D spectra (4096 float64 bins) saved and published:  {m['spectra_mbs']:.0f} MB/s "
          f"(published only: {m['spectra_unsaved_mbs']:.0f} MB/s)")  # fmt: skip
    print(
        f"same reads with no publishing:                      {m['bare_ms']:.4f} ms per point (ratio {m['scan_ms'] / m['bare_ms']:.1f} x)"
    )
    print(f"Redis memory per point per float64 channel:         {m['memory_b']:.1f} B (100,000 points; target <= 16)")
    print(f"point to reader in another process:                 {m['latency_ms']:.2f} ms median, "
          f"{m['latency_p99_ms']:.2f} ms p99 ({m['latency_points']} points; target <= 5 median)")  # fmt: skip


if __name__ == "__main__":
    main()
