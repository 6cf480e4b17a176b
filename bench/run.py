"""Every benchmark, one table: each figure beside the limit it is measured against, in the same run.

Prints the table and writes it to docs/performance.md (date, machine, versions), with a plot of
the per-point time against the number of points (docs/performance.png: does it stay flat from
10^3 to 10^6 points?). Each figure is the median of ``runs`` runs (the 10^6-point plot runs once).

Usage: .venv/bin/pip install -q -e '.[bench]' && .venv/bin/python bench/run.py [runs]
"""

from scan_publishing import NPOINTS, open_session, own_redis  # noqa: I001  (patches gevent first)

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import redis

import chain
import load
import scan_publishing
import startup
import tango_lima
from bliss_shell.comm.embedded_redis import redis_server_binary
from bliss_shell.data import get_node, keys

DOCS = Path(__file__).resolve().parents[1] / "docs"
SIZES = (1_000, 10_000, 100_000, 1_000_000)
NOTES = """What the limits are:
- *engine alone*: the same counter reads and greenlet switches as the scan loop, publishing and saving nothing;
  an ascan's time is the simulated motor's move (a greenlet sleeping the move time), not the engine.
- *raw value*: 8 bytes, what a float64 is; the Redis figure includes the stream's own bookkeeping.
- *raw XRANGE*: reading the same Redis streams without decoding or events; *pipelined XADD*: Redis taking
  one small entry at a time in pipelines of 1000 (the scan sends blocks, so it can pass this rate).
- *same scan, not saved*: the spectra scan publishing to Redis only; its ratio is what saving costs (publishing
  32 KB points and generating them is the bound, not the disk: compare with the raw disk write).
- *raw disk write*: 256 MiB written in 4 MiB blocks and fsynced.
- *plain readImage*: a blocking PyTango proxy reading and decoding the same frames; *plain blocking proxy*: a
  Tango attribute read without gevent's green mode.
- Chain rows (`bench/chain.py`): Tango simulator devices in server processes of their own. *Round trip*: a
  green-mode read of one counter, back to back; *dead time per point*: (wall - 100 x count time - 99 x the
  computed move of one step) / 100, the motor's polling included; *engine of 88e54a9*: the sequential step loop
  before the acquisition chain, run from a git worktree on the same servers; fscan/ftimescan rates are over
  `Engine.run` (devices started to the last point in); *free running*: the LimaCCDs device driven directly.
- Start-up is a whole `bliss -s demo -c pass` (imports, config, Redis, session lock, setup file, exit)."""
COUNTERS = ("c1", "c2", "diode")


@dataclass
class Row:
    figure: str
    value: float
    unit: str
    limit: str = ""
    limit_value: float | None = None

    def cells(self) -> list[str]:
        limit = f"{self.limit}: {_fmt(self.limit_value)}" if self.limit_value is not None else self.limit
        ratio = f"{self.value / self.limit_value:.2f}" if self.limit_value else ""
        return [self.figure, f"{_fmt(self.value)} {self.unit}", limit, ratio]


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if abs(value) < 1 else f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def per_point(namespace: dict, command: str, npoints: int, save: bool) -> float:
    counters = [namespace[name] for name in COUNTERS]
    start = time.perf_counter()
    if command == "ascan":
        namespace["ascan"](namespace["roby"], 0, 1, npoints, 0, *counters, save=save)
    elif command == "timescan":
        namespace["timescan"](0, *counters, npoints=npoints, save=save)
    else:
        namespace["loopscan"](npoints, 0, *counters, save=save)
    return (time.perf_counter() - start) / npoints * 1e3


def follow_rate(namespace: dict, client: redis.Redis) -> tuple[float, float]:
    """Points per second a reader gets replaying a finished 100,000-point scan with ``walk_events``, and
    the raw XRANGE rate of the same streams (no decoding) as its limit."""
    scan = namespace["loopscan"](100_000, 0, *(namespace[name] for name in COUNTERS), save=False)
    start = time.perf_counter()
    points = sum(e.data.block_size for e in scan.node.walk_events(wait=False) if e.type.name == "NEW_DATA")
    ours = points / (time.perf_counter() - start) / (len(COUNTERS) + 1)
    channel = get_node(f"{scan.node.db_name}:timer:elapsed_time", client)
    start = time.perf_counter()
    for name in [channel.db_name] + [f"{scan.node.db_name}:timer:{c.controller_name}:{c.name}" for c in
                                     (namespace[n] for n in COUNTERS)]:  # fmt: skip
        client.xrange(keys.data_key(name))
    raw = 100_000 / (time.perf_counter() - start)
    return ours, raw


def xadd_rate(client: redis.Redis) -> float:
    """Entries per second Redis takes as pipelined XADDs of one small field (1000 per pipeline)."""
    client.delete("bench|xadd")
    start = time.perf_counter()
    for _ in range(100):
        pipe = client.pipeline(transaction=False)
        for _ in range(1000):
            pipe.xadd("bench|xadd", {"v": b"12345678"})
        pipe.execute()
    rate = 100_000 / (time.perf_counter() - start)
    client.delete("bench|xadd")
    return rate


def disk_rate(folder: Path) -> float:
    """MB/s of a plain 256 MiB sequential write, flushed to the disk."""
    block = os.urandom(4 << 20)
    path = folder / "disk.bin"
    start = time.perf_counter()
    with open(path, "wb") as out:
        for _ in range(64):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    rate = 256 * 1.048576 / (time.perf_counter() - start)
    path.unlink()
    return rate


def engine_measures(runs: int) -> tuple[dict[str, float], dict[tuple[int, bool], float]]:
    """ascan and timescan per point, following and machine limits, and the size sweep, on a Redis of their own."""
    m: dict[str, float] = {}
    sweep: dict[tuple[int, bool], float] = {}
    with own_redis("bsr-") as (folder, _, client):
        namespace = open_session(client, str(folder / "scans"))
        for command, npoints in (("ascan", 2_000), ("timescan", NPOINTS)):
            for save in (False, True):
                m[f"{command}_{save}"] = statistics.median(per_point(namespace, command, npoints, save) for _ in range(runs))
        follow = [follow_rate(namespace, client) for _ in range(runs)]
        m["follow_pps"], m["xrange_pps"] = (statistics.median(f[i] for f in follow) for i in range(2))
        m["xadd_rate"] = statistics.median(xadd_rate(client) for _ in range(runs))
        m["disk_mbs"] = statistics.median(disk_rate(folder) for _ in range(runs))
        for npoints in SIZES:
            for save in (False, True):
                client.flushall()  # each size starts from an empty Redis; the memory cap never steps in
                namespace = open_session(client, str(folder / f"sweep{npoints}{save}"))
                repeat = runs if npoints < 1_000_000 else 1
                sweep[(npoints, save)] = statistics.median(per_point(namespace, "loopscan", npoints, save) for _ in range(repeat))
    return m, sweep


def table(runs: int) -> tuple[list[Row], dict[tuple[int, bool], float]]:
    pub = scan_publishing.measure(runs)
    engine, sweep = engine_measures(runs)
    tango = tango_lima.measure(runs)
    flow = {key: figure[0] for key, figure in chain.measure(runs).items()}  # medians
    start = startup.measure(max(runs, 5))
    loaded = load.measure(runs)
    bare = pub["bare_ms"]
    n = chain.CONTINUOUS_POINTS
    kept = {command: f"{flow[f'{command}_redis_points']:.0f}/{n} in Redis, {flow[f'{command}_file_points']:.0f}/{n} in file"
            for command in ("fscan", "ftimescan")}  # fmt: skip
    rows = [
        Row(f"loopscan {NPOINTS} pts, 3 counters, publishing on, saving off", pub["scan_ms"], "ms/pt", "engine alone (publishing off)", bare),
        Row("same, publishing on, saving on", pub["saved_ms"], "ms/pt", "engine alone", bare),
        Row("ascan 2000 pts (simulated motor), saving off", engine["ascan_False"], "ms/pt", "engine alone", bare),
        Row("ascan, saving on", engine["ascan_True"], "ms/pt", "engine alone", bare),
        Row(f"timescan {NPOINTS} pts, saving off", engine["timescan_False"], "ms/pt", "engine alone", bare),
        Row("timescan, saving on", engine["timescan_True"], "ms/pt", "engine alone", bare),
        Row("Redis memory per point per float64 channel", pub["memory_b"], "B", "raw value", 8.0),
        Row("NEW_DATA to a reader in another process, median", pub["latency_ms"], "ms"),
        Row("NEW_DATA to a reader in another process, p99", pub["latency_p99_ms"], "ms"),
        Row("points per second one reader follows (walk_events replay)", engine["follow_pps"], "pts/s",
            "raw XRANGE of the same streams", engine["xrange_pps"]),
        Row("points per second a loopscan publishes", 1e3 / pub["scan_ms"], "pts/s", "pipelined XADD rate (entries/s)",
            engine["xadd_rate"]),
        Row(f"same scan followed by {load.READERS} reader processes", loaded["readers_ms"], "ms/pt", "no reader",
            loaded["alone_ms"]),
        Row("HDF5: 4096-bin spectra scan, saved and published", pub["spectra_mbs"], "MB/s", "same scan, not saved",
            pub["spectra_unsaved_mbs"]),
        Row("raw disk write (256 MiB, fsync)", engine["disk_mbs"], "MB/s", "machine limit for the row above"),
        Row("Lima get_image, 1024x1024 uint32, server memory", tango["get_image_fps"], "frames/s",
            "plain readImage + decode", tango["read_image_fps"]),
        Row("Lima loopscan with saving, 256x256", tango["lima_fps_256"], "frames/s"),
        Row("Lima loopscan with saving, 1024x1024", tango["lima_fps_1024"], "frames/s"),
        Row("loopscan on a Tango counter", tango["counter_scan_ms"], "ms/pt", "bare green-mode read loop",
            tango["counter_green_ms"]),
        Row("bare Tango attribute read, green mode", tango["counter_green_ms"], "ms", "plain blocking proxy",
            tango["counter_plain_ms"]),
        Row("ct(0.1) on 3 Tango counters in 3 servers (SINGLE): time beyond 0.1 s", flow["ct_single_beyond_ms"], "ms",
            "one controller's round trip (target: ratio <= 1.5)", flow["round_trip_ms"]),
        Row("same, the engine's part (Engine.run beyond 0.1 s)", flow["ct_single_engine_beyond_ms"], "ms",
            "one controller's round trip", flow["round_trip_ms"]),
        Row("the 3 counters read one after another (the old engine)", flow["sequential_ms"], "ms",
            "one controller's round trip", flow["round_trip_ms"]),
        Row("ascan 100 pts, Tango motor + counter + Lima: dead time per point", flow["dead_after_False_ms"], "ms",
            f"engine of {chain.BEFORE}, same scan", flow["dead_before_False_ms"]),
        Row("same, saving on", flow["dead_after_True_ms"], "ms", f"engine of {chain.BEFORE}", flow["dead_before_True_ms"]),
        Row("ascan 100 pts, card + MCA + Lima, saving on: dead time per point", flow["dead_card_True_ms"], "ms",
            "of which the motor's own wait", flow["bare_move_ms"] - flow["move_ms"]),
        Row(f"fscan {n:,} pts at 1 ms, card, saved ({kept['fscan']})", flow["fscan_engine_pps"], "pts/s",
            "1 / acq_time", 1000.0),
        Row(f"ftimescan {n:,} pts at 1 ms, card, saved ({kept['ftimescan']})", flow["ftimescan_engine_pps"], "pts/s",
            "1 / acq_time", 1000.0),
        Row("Lima loopscan, INTERNAL_TRIGGER, 1 ms, saving off", flow["lima_scan_False_fps"], "frames/s",
            "simulator free running (target: ratio >= 0.9)", flow["lima_free_False_fps"]),
        Row("same, saving on", flow["lima_scan_True_fps"], "frames/s", "simulator free running, saving",
            flow["lima_free_True_fps"]),
        Row("shell start-up: bliss -s demo -c pass, servers up", start["startup_ms"], "ms", "bare python -c pass",
            start["python_ms"]),
    ]  # fmt: skip
    if not loaded["complete"]:
        rows.append(Row("WARNING: a reader missed points under load", 0, ""))
    return rows, sweep


def markdown(rows: list[Row], runs: int) -> str:
    lines = ["| figure | value | limit (same run) | ratio |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines) + f"\n\nMedians of {runs} runs; ratio = value / limit (for rates, higher is better)."


def versions() -> str:
    redis_version = subprocess.run([str(redis_server_binary()), "--version"], capture_output=True, text=True).stdout.split()[2]
    packages = ", ".join(f"{name} {version(name)}" for name in ("bliss_shell", "gevent", "redis", "h5py", "pytango", "numpy"))
    return f"Python {platform.python_version()}, redis-server {redis_version.removeprefix('v=')}, {packages}"


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{platform.node()}: {os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}"


def plot(sweep: dict[tuple[int, bool], float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for save, label in ((False, "publishing"), (True, "publishing + saving")):
        axes.plot(SIZES, [sweep[(n, save)] for n in SIZES], marker="o", label=label)
    axes.set(xscale="log", xlabel="points in the scan", ylabel="ms per point", ylim=(0, None),
             title="loopscan(n, 0, c1, c2, diode): per-point time")  # fmt: skip
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    started = datetime.now().astimezone()
    rows, sweep = table(runs)
    text = markdown(rows, runs)
    sweep_lines = ["| points | publishing (ms/pt) | publishing + saving (ms/pt) |", "|---|---|---|"]
    sweep_lines += [f"| {n:,} | {sweep[(n, False)]:.4f} | {sweep[(n, True)]:.4f} |" for n in SIZES]
    later = [sweep[(n, False)] for n in SIZES[1:]]
    flatness = (f"From {SIZES[1]:,} to {SIZES[-1]:,} points the per-point time stays within "
                f"{max(later) / min(later) - 1:.0%} of its lowest value; at {SIZES[0]:,} points the scan's fixed "
                "cost (numbering, tree, file) is spread over fewer points.")  # fmt: skip
    sweep_lines += ["", flatness]
    print(text)
    print("\n" + "\n".join(sweep_lines))
    plot(sweep, DOCS / "performance.png")
    DOCS.joinpath("performance.md").write_text(
        "# Performance\n\n"
        "Written by `bench/run.py` (`.venv/bin/pip install -q -e '.[bench]' && .venv/bin/python bench/run.py`); "
        "run it again to get your own machine's figures.\n\n"
        f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}\n- Machine: {machine()}\n- Versions: {versions()}\n\n"
        f"{text}\n\n{NOTES}\n\n## Per-point time against the number of points\n\n" + "\n".join(sweep_lines) +
        "\n\n![per-point time against the number of points](performance.png)\n",
        encoding="utf-8",
    )  # fmt: skip
    print(f"\nwritten: {DOCS / 'performance.md'}, {DOCS / 'performance.png'}")


if __name__ == "__main__":
    main()
