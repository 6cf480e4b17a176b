"""Every benchmark, one table: each figure beside the limit it is measured against, in the same run.

Prints the table and writes it to docs/performance.md (date, machine, versions), with a plot of
the per-point time against the number of points (docs/performance.png: does it stay flat from
10^3 to 10^6 points?). Each figure is the median of ``runs`` runs, with their min and max (the 10^6-point
plot runs once), and the 1-minute load average of the machine before and during its block of measurements;
a block during which other processes loaded the machine (``machine.BUSY_PER_CORE``) is warned about, here
and in the written doc. Every server a block starts is stopped when it ends, whatever happened.

Usage: .venv/bin/pip install -q -e '.[bench]' && .venv/bin/python bench/run.py [runs]
"""

from scan_publishing import NPOINTS, open_session, own_redis  # noqa: I001  (patches gevent first)

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import gevent
import redis

import chain
import load
import scan_publishing
import shell
import startup
import tango_lima
from machine import BUSY_PER_CORE, CORES, LoadWatch, kill_children, machine_facts, package_versions
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
- Start-up is a whole `bliss -s test_session -c pass` and `bliss -s demo -c pass` (imports, config, Redis, session
  lock, setup file, exit), servers up, bytecode cached; the two alternate with bare python within each run."""
COUNTERS = ("c1", "c2", "diode")
SHELL_NOTES = """## The shell's own per-point time, and the bench's

Issue 19 timed `loopscan(10000, 0, c1, c2, diode)` in a real shell 1.7 times slower per point than this table with
saving on (0.0148 against 0.0085 ms), and equal with saving off. The *shell* block above times it as the user meets
it: in a `bliss -s test_session --config tests/beamline -c ...` process (live display on, output to a file), in this
process with the live display on (the shell's `ScanTable`, as `bench/display.py` does) and off (the bench's figure),
in the same block. This run: saving on, shell {shell_on} ms/pt, in-process with the display {display_on}, without
it {bench_on}; saving off, {shell_off}, {display_off} and {bench_off}.

Where the difference went: the live display's wait at the scan's end. A scan of many fast points shows a progress
bar; at its end the scan waits for the display (`DisplayConsumer.end` joins it) so that the last line is printed
before the prompt. The bar (`_follow_bar` in bliss_shell/shell/scan_display.py) used to notice the end by polling
`end_state()` every 0.1 s (`_BAR_PERIOD`). With saving on, the file's end (closed in the thread pool) comes just
before the Redis END, so the poll missed the END and slept a whole period: 96.5 ms per scan (96.1-98.4, 3 runs,
bench/run.py of 2026-11-30 08:36 UTC), which made the real shell 1.67 times slower per point than the in-process
session without the display (0.0248 against 0.0148 ms), as the issue measured. A cProfile of the scans with and
without the display showed the same CPU in the scan loop: the difference was that idle wait, not work per point.

Fixed on 2026-11-30: the scan's end wakes the bar (an event set by `finish()` in `shell_display`, which `_follow_bar`
waits on in place of `gevent.sleep(_BAR_PERIOD)`). The wait, timed in the rows above: {wait_on} ms per scan with
saving on ({wait_on_range} ms), {wait_off} ms with saving off ({wait_off_range} ms): about one Redis round trip and
the last line's printing. What is left between the real shell and the in-process session is the process's output
and the display's own work per refresh."""


def shell_figures(rows: "list[Row]") -> dict[str, str]:
    """The medians of the shell block's rows, by name, for SHELL_NOTES."""
    found = {row.figure: row for row in rows if row.block == "shell"}
    names = ("shell_off", "shell_on", "display_off", "display_on", "wait_off", "wait_on")
    figures = {name: f"{found[figure].value:.4g}" for name, figure in zip(names, list(found)[:6], strict=True)}
    for name, figure in zip(names[4:], list(found)[4:6], strict=True):
        figures[f"{name}_range"] = f"{min(found[figure].values):.3g}-{max(found[figure].values):.3g}"
    figures["bench_off"], figures["bench_on"] = (f"{found[figure].limit_value:.4f}" for figure in list(found)[:2])
    return figures


@dataclass
class Row:
    """A figure: the value of each run (median shown, with min-max), its limit's (median), its block's name."""

    figure: str
    values: Sequence[float]
    unit: str
    limit: str = ""
    limit_values: Sequence[float] | None = None
    block: str = ""
    runs: int | None = None  # when ``values`` are (min, median, max) of that many runs

    @property
    def value(self) -> float:
        return statistics.median(self.values)

    @property
    def limit_value(self) -> float | None:
        return statistics.median(self.limit_values) if self.limit_values else None

    def cells(self, load: str) -> list[str]:
        limit = f"{self.limit}: {_fmt(self.limit_value)}" if self.limit_value is not None else self.limit
        ratio = f"{self.value / self.limit_value:.2f}" if self.limit_value else ""
        low, high = min(self.values), max(self.values)
        count = self.runs or len(self.values)
        spread = f"{_fmt(low)}-{_fmt(high)} ({count})" if count > 1 else "(1 run)"
        return [self.figure, f"{_fmt(self.value)} {self.unit}", spread, limit, ratio, load]


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
    """Points per second a reader gets replaying a finished 100,000-point scan with ``walk_events``, and its limit.

    The limit is the raw XRANGE rate of the same streams (no decoding).
    """
    scan = namespace["loopscan"](100_000, 0, *(namespace[name] for name in COUNTERS), save=False)
    start = time.perf_counter()
    points = sum(e.data.block_size for e in scan.node.walk_events(wait=False) if e.type.name == "NEW_DATA")
    ours = points / (time.perf_counter() - start) / (len(COUNTERS) + 1)
    channel = get_node(f"{scan.node.db_name}:timer:elapsed_time", client)
    start = time.perf_counter()
    for name in [channel.db_name] + [f"{scan.node.db_name}:timer:{c.controller_name}:{c.name}" for c in
                                     (namespace[n] for n in COUNTERS)]:  # fmt: skip
        client.xrange(keys.stream_key(name))
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


def engine_measures(runs: int) -> tuple[dict[str, list[float]], dict[tuple[int, bool], float]]:
    """Ascan and timescan per point, following and machine limits (each run), and the size sweep (medians).

    They run on a Redis of their own.
    """
    m: dict[str, list[float]] = {}
    sweep: dict[tuple[int, bool], float] = {}
    with own_redis("bsr-") as (folder, _, client):
        namespace = open_session(client, str(folder / "scans"))
        for command, npoints in (("ascan", 2_000), ("timescan", NPOINTS)):
            for save in (False, True):
                m[f"{command}_{save}"] = [per_point(namespace, command, npoints, save) for _ in range(runs)]
        follow = [follow_rate(namespace, client) for _ in range(runs)]
        m["follow_pps"], m["xrange_pps"] = ([f[i] for f in follow] for i in range(2))
        m["xadd_rate"] = [xadd_rate(client) for _ in range(runs)]
        m["disk_mbs"] = [disk_rate(folder) for _ in range(runs)]
        for npoints in SIZES:
            for save in (False, True):
                client.flushall()  # each size starts from an empty Redis; the memory cap never steps in
                namespace = open_session(client, str(folder / f"sweep{npoints}{save}"))
                repeat = runs if npoints < 1_000_000 else 1
                sweep[(npoints, save)] = statistics.median(per_point(namespace, "loopscan", npoints, save) for _ in range(repeat))
    return m, sweep


def table(runs: int, watch: LoadWatch) -> tuple[list[Row], dict[tuple[int, bool], float]]:
    """Every block of measurements, each in ``watch.block``; the rows carry their block's name."""
    with watch.block("publishing"):
        pub = scan_publishing.measure(runs)
    with watch.block("engine"):
        engine, sweep = engine_measures(runs)
    with watch.block("shell"):
        real = shell.measure(runs)
    with watch.block("tango"):
        tango = tango_lima.measure(runs)
    with watch.block("chain"):
        flow = chain.measure(runs)  # (median, min, max) of each figure
    with watch.block("startup"):
        start = startup.measure(max(runs, 5))
    with watch.block("readers"):
        loaded = load.measure(runs)
    bare = pub["bare_ms"]
    f = {key: [figure[1], figure[0], figure[2]] for key, figure in flow.items()}  # min, median, max: all a row shows
    n = chain.CONTINUOUS_POINTS
    kept = {command: f"{flow[f'{command}_redis_points'][1]:.0f}/{n} in Redis, {flow[f'{command}_file_points'][1]:.0f}/{n} in file"
            for command in ("fscan", "ftimescan")}  # fmt: skip
    medians = {key: [figure[0]] for key, figure in flow.items()}
    rows = [
        Row(f"loopscan {NPOINTS} pts, 3 counters, publishing on, saving off", pub["scan_ms"], "ms/pt", "engine alone (publishing off)", bare, "publishing"),
        Row("same, publishing on, saving on", pub["saved_ms"], "ms/pt", "engine alone", bare, "publishing"),
        Row("same scan in a real shell (bliss -c, live display on), saving off", real["shell_False_ms"], "ms/pt",
            "in-process, display off, same block", real["bench_False_ms"], "shell"),
        Row("same, saving on", real["shell_True_ms"], "ms/pt", "in-process, display off, same block", real["bench_True_ms"], "shell"),
        Row("in-process, live display on, saving off", real["display_False_ms"], "ms/pt", "display off", real["bench_False_ms"], "shell"),
        Row("in-process, live display on, saving on", real["display_True_ms"], "ms/pt", "display off", real["bench_True_ms"], "shell"),
        Row("the scan's end waiting for the live display, saving off", real["display_wait_False_ms"], "ms/scan",
            "the display's poll period", [100.0], "shell"),
        Row("the scan's end waiting for the live display, saving on", real["display_wait_True_ms"], "ms/scan",
            "the display's poll period", [100.0], "shell"),
        Row("ascan 2000 pts (simulated motor), saving off", engine["ascan_False"], "ms/pt", "engine alone", bare, "engine"),
        Row("ascan, saving on", engine["ascan_True"], "ms/pt", "engine alone", bare, "engine"),
        Row(f"timescan {NPOINTS} pts, saving off", engine["timescan_False"], "ms/pt", "engine alone", bare, "engine"),
        Row("timescan, saving on", engine["timescan_True"], "ms/pt", "engine alone", bare, "engine"),
        Row("Redis memory per point per float64 channel", pub["memory_b"], "B", "raw value", [8.0], "publishing"),
        Row("NEW_DATA to a reader in another process, median", pub["latency_ms"], "ms", block="publishing"),
        Row("NEW_DATA to a reader in another process, p99", pub["latency_p99_ms"], "ms", block="publishing"),
        Row("points per second one reader follows (walk_events replay)", engine["follow_pps"], "pts/s",
            "raw XRANGE of the same streams", engine["xrange_pps"], "engine"),
        Row("points per second a loopscan publishes", [1e3 / t for t in pub["scan_ms"]], "pts/s",
            "pipelined XADD rate (entries/s)", engine["xadd_rate"], "engine"),
        Row(f"same scan followed by {load.READERS} reader processes", loaded["readers_ms"], "ms/pt", "no reader",
            loaded["alone_ms"], "readers"),
        Row("HDF5: 4096-bin spectra scan, saved and published", pub["spectra_mbs"], "MB/s", "same scan, not saved",
            pub["spectra_unsaved_mbs"], "publishing"),
        Row("raw disk write (256 MiB, fsync)", engine["disk_mbs"], "MB/s", "machine limit for the row above", block="engine"),
        Row("Lima get_image, 1024x1024 uint32, server memory", tango["get_image_fps"], "frames/s",
            "plain readImage + decode", tango["read_image_fps"], "tango"),
        Row("Lima loopscan with saving, 256x256", tango["lima_fps_256"], "frames/s", block="tango"),
        Row("Lima loopscan with saving, 1024x1024", tango["lima_fps_1024"], "frames/s", block="tango"),
        Row("loopscan on a Tango counter", tango["counter_scan_ms"], "ms/pt", "bare green-mode read loop",
            tango["counter_green_ms"], "tango"),
        Row("bare Tango attribute read, green mode", tango["counter_green_ms"], "ms", "plain blocking proxy",
            tango["counter_plain_ms"], "tango"),
        Row("ct(0.1) on 3 Tango counters in 3 servers (SINGLE): time beyond 0.1 s", f["ct_single_beyond_ms"], "ms",
            "one controller's round trip (target: ratio <= 1.5)", medians["round_trip_ms"], "chain"),
        Row("same, the engine's part (Engine.run beyond 0.1 s)", f["ct_single_engine_beyond_ms"], "ms",
            "one controller's round trip", medians["round_trip_ms"], "chain"),
        Row("the 3 counters read one after another (the old engine)", f["sequential_ms"], "ms",
            "one controller's round trip", medians["round_trip_ms"], "chain"),
        Row("ascan 100 pts, Tango motor + counter + Lima: dead time per point", f["dead_after_False_ms"], "ms",
            f"engine of {chain.BEFORE}, same scan", medians["dead_before_False_ms"], "chain"),
        Row("same, saving on", f["dead_after_True_ms"], "ms", f"engine of {chain.BEFORE}", medians["dead_before_True_ms"], "chain"),
        Row("ascan 100 pts, card + MCA + Lima, saving on: dead time per point", f["dead_card_True_ms"], "ms",
            "of which the motor's own wait", [flow["bare_move_ms"][0] - flow["move_ms"][0]], "chain"),
        Row(f"fscan {n:,} pts at 1 ms, card, saved ({kept['fscan']})", f["fscan_engine_pps"], "pts/s",
            "1 / acq_time", [1000.0], "chain"),
        Row(f"ftimescan {n:,} pts at 1 ms, card, saved ({kept['ftimescan']})", f["ftimescan_engine_pps"], "pts/s",
            "1 / acq_time", [1000.0], "chain"),
        Row("Lima loopscan, INTERNAL_TRIGGER, 1 ms, saving off", f["lima_scan_False_fps"], "frames/s",
            "simulator free running (target: ratio >= 0.9)", medians["lima_free_False_fps"], "chain"),
        Row("same, saving on", f["lima_scan_True_fps"], "frames/s", "simulator free running, saving",
            medians["lima_free_True_fps"], "chain"),
        Row("shell start-up: bliss -s test_session -c pass, servers up", start["here test_session_ms"], "ms",
            "bare python -c pass", start["python_ms"], "startup"),
        Row("shell start-up: bliss -s demo -c pass, servers up", start["startup_ms"], "ms", "bare python -c pass",
            start["python_ms"], "startup"),
    ]  # fmt: skip
    for row in rows:
        if row.block == "chain":
            row.runs = runs
    if not all(loaded["complete"]):
        rows.append(Row("WARNING: a reader missed points under load", [0], "", block="readers"))
    return rows, sweep


def kept_sections(old: str) -> str:
    """The ``## `` sections of the old docs/performance.md that this bench does not write, as they were.

    Those of other benches (bench/engine_costs.py's figures beside 88e54a9) survive a new run of this one.
    """
    sections = ("\n" + old).split("\n## ")[1:]  # before the first: the title and the table, written here
    own = (SHELL_NOTES.split("\n", 1)[0].removeprefix("## "), "Per-point time against the number of points")
    return "".join(f"\n## {section.rstrip()}\n" for section in sections if not section.startswith(own))


def markdown(rows: list[Row], runs: int, watch: LoadWatch) -> str:
    blocks = {block.name: block for block in watch.blocks}
    lines = ["| figure | median | min-max (runs) | limit (same run) | ratio | load before / max during |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        block = blocks.get(row.block)
        load = f"{block.load_before:.2f} / {block.load_max:.2f}" + (" **busy**" if block.busy else "") if block else ""
        lines.append("| " + " | ".join(row.cells(load)) + " |")
    lines += ["", f"Medians of {runs} runs, with their min-max; ratio = value / limit (for rates, higher is better). "
              "A chain row's run is itself the median of a few repetitions; its limit is the median only. "
              f"Load: the machine's 1-minute load average ({CORES} cores) before the row's block of measurements and "
              "the highest sampled during it (every second), this bench's own work included.", "",
              "| block | seconds | load, as above | of it, not this bench's | other processes' CPU (cores, mean) |",
              "|---|---|---|---|---|"]  # fmt: skip
    for block in watch.blocks:
        cpu = f"{statistics.mean(block.other_cpu):.2f}" if block.other_cpu else ""
        lines.append(f"| {block.name} | {block.seconds:.0f} | {block.load_before:.2f} / {block.load_max:.2f} | "
                     f"{block.others_before:.2f} / {block.others_max:.2f} | {cpu} |")  # fmt: skip
    lines += ["", f"*Not this bench's*: the load average less this bench's own share (the CPU of this process, of what it "
              "started and of the servers in its folders, averaged over a minute as the kernel averages the load; during a block "
              "it also counts the bench's own processes queued for a core, e.g. its 10 readers). A block is warned about when "
              f"that exceeds {BUSY_PER_CORE} per core before it, or when other processes' CPU exceeds {BUSY_PER_CORE / 2} "
              "per core during it: other processes then shared the machine and its figures are suspect."]  # fmt: skip
    return "\n".join(lines)


def warnings(watch: LoadWatch) -> list[str]:
    return [f"WARNING: the machine was busy during the '{b.name}' block: {b.busy}; its figures are suspect (run again on "
            "a quiet machine)" for b in watch.blocks if b.busy]  # fmt: skip


def versions() -> str:
    redis_version = subprocess.run([str(redis_server_binary()), "--version"], capture_output=True, text=True).stdout.split()[2]
    python, packages = package_versions().split(", ", 1)
    return f"{python}, redis-server {redis_version.removeprefix('v=')}, {packages}"


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
    main_greenlet = gevent.getcurrent()  # SIGTERM, SIGHUP: stop what the bench started (the finally blocks), then end
    for sig in (signal.SIGTERM, signal.SIGHUP):
        gevent.signal_handler(sig, lambda sig=sig: main_greenlet.throw(SystemExit(128 + sig)))
    started = datetime.now().astimezone()
    try:
        with LoadWatch() as watch:
            print(f"1-min load average {os.getloadavg()[0]:.2f} on {CORES} cores at the start", flush=True)
            rows, sweep = table(runs, watch)
    finally:
        kill_children()  # a reader or shell process a failed block left
    text = markdown(rows, runs, watch)
    alerts = warnings(watch)
    sweep_lines = ["| points | publishing (ms/pt) | publishing + saving (ms/pt) |", "|---|---|---|"]
    sweep_lines += [f"| {n:,} | {sweep[(n, False)]:.4f} | {sweep[(n, True)]:.4f} |" for n in SIZES]
    later = [sweep[(n, False)] for n in SIZES[1:]]
    flatness = (f"From {SIZES[1]:,} to {SIZES[-1]:,} points the per-point time stays within "
                f"{max(later) / min(later) - 1:.0%} of its lowest value; at {SIZES[0]:,} points the scan's fixed "
                "cost (numbering, tree, file) is spread over fewer points.")  # fmt: skip
    sweep_lines += ["", flatness]
    print(text)
    print("\n" + "\n".join(sweep_lines))
    print("\n".join(["", *alerts]) if alerts else "\nno block ran on a busy machine")
    plot(sweep, DOCS / "performance.png")
    shell_text = SHELL_NOTES.format(**shell_figures(rows))
    kept = kept_sections(DOCS.joinpath("performance.md").read_text(encoding="utf-8"))
    DOCS.joinpath("performance.md").write_text(
        "# Performance\n\n"
        "Written by `bench/run.py` (`.venv/bin/pip install -q -e '.[bench]' && .venv/bin/python bench/run.py`); "
        "run it again to get your own machine's figures.\n\n"
        + "".join(f"**{alert}**\n\n" for alert in alerts) +
        f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}\n- Machine: {machine_facts()}\n- Versions: {versions()}\n\n"
        f"{text}\n\n{NOTES}\n\n{shell_text}\n\n## Per-point time against the number of points\n\n" + "\n".join(sweep_lines) +
        "\n\n![per-point time against the number of points](performance.png)\n" + kept,
        encoding="utf-8",
    )  # fmt: skip
    print(f"\nwritten: {DOCS / 'performance.md'}, {DOCS / 'performance.png'}")


if __name__ == "__main__":
    main()
