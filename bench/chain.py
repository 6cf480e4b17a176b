"""The acquisition chain on Tango devices: parallel reads, dead time per point, continuous scans, Lima's rate.

Every device is served by our simulator (``BlissSimulators``) in processes of its own, found through a
Tango database of the benchmark's own, with a Redis and a runtime folder of its own. Prints, each as the
median of ``runs`` runs with its min-max spread (a run's figure is itself the median of a few repetitions
where a single call is short):

1. ``ct(0.1, ca, cb, cc)`` on three SimCounter devices served by three server processes (``mode: SINGLE``):
   its time beyond 0.1 s, against one controller's round trip (a green-mode ``read`` of one counter;
   target: at most 1.5 times it) and against the three reads one after another (what the old engine did
   per point). Also with ``mode: MEAN`` (the default), the engine's part alone (``Engine.run``), and the
   reads timed after 0.1 s of idling, as a ct meets them (one, the three together as the engine reads them,
   the three one after another): an idle server answers its first call about three times slower.
2. ``ascan(fm, 0, 10, 100, 0.01, ...)`` on a Tango motor: dead time per point
   = (wall - 100 x count time - 99 x move time) / 100, where the move time is the computed trapezoid of
   one step (``Move(0, step, velocity, acceleration).duration``; the motor's measured bare move is printed
   beside it). Before (the engine of commit 88e54a9, run from a git worktree in a subprocess on the same
   servers and Redis) and after (this engine), on what both can drive: the motor, a Tango counter and
   Lima; then this engine with the counter card, an MCA and Lima. Saving off and on. When the old engine
   cannot drive today's simulators (its TangoMotor uses ``LowLimit``, ``HighLimit`` and ``Unit``, which
   SimMotor no longer has), a warning says why and its figures are nan.
3. ``loopscan(10000, 0, c1, c2, c3)`` in-process: see the first row of ``bench/scan_publishing.py``.
4. ``fscan(fm, 0, 0.001, 10000, 0.001, ct_timer, ct1, ct2)`` and ``ftimescan(0.001, 10000, ...)`` with
   the card, saved: points in Redis (every channel) and in the HDF5 file, and the rate, as points per
   second of ``Engine.run`` (from starting the devices, the motor's run-up included, to the last point in)
   and of the whole command (numbering, tree, file, motor to the run-up start, ending).
5. Lima (256x256 uint32) in INTERNAL_TRIGGER at 1 ms exposure: frames per second of
   ``loopscan(N, 0.001, cam)`` against the simulator's free-running rate (the same device driven directly
   with a plain DeviceProxy: ``startAcq`` to frame N-1 ready; target: at least 90 %), saving off and on.

Usage: .venv/bin/python bench/chain.py [runs]
"""

from gevent import monkey

monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)

import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import redis  # noqa: E402
import tango  # noqa: E402

from bliss_shell.comm import runtime_dir  # noqa: E402
from bliss_shell.comm.tango_host import TangoDatabase, choose_tango_host  # noqa: E402
from bliss_shell.comm.tango_servers import needed_servers  # noqa: E402
from bliss_shell.config import Config, ConfigRoot  # noqa: E402
from bliss_shell.controllers import AcquisitionParameters  # noqa: E402
from bliss_shell.controllers.acquisition import Timing  # noqa: E402
from bliss_shell.controllers.motion import Move  # noqa: E402
from bliss_shell.scanning.engine import Engine, _wait_and_read, each  # noqa: E402
from bliss_shell.shell.error_report import ErrorReport  # noqa: E402
from bliss_shell.shell.namespace import session_namespace  # noqa: E402
from bliss_shell.writer import read_measurement  # noqa: E402
from machine import saved_environ, spread  # noqa: E402
from scan_publishing import own_redis  # noqa: E402
from worktree import BEFORE, check_imported, checkout, tree_env  # noqa: E402

VELOCITY, ACCELERATION = 100.0, 10_000.0  # the motor's; a 10/99 step then takes 6.4 ms
COUNT_TIME = 0.01  # the ascan's
ASCAN_POINTS = 100
CT_REPEATS = 10  # ct calls per run (a run's figure is their median)
READS = 200  # reads per run for a round trip
IDLE_READS = 15  # the same, each after 0.1 s idle
CONTINUOUS_POINTS = 10_000
LIMA_FRAMES = 1_000
LIMA_EXPO = 0.001

CONFIG = (
    """
- name: bench_counter_a
  class: TangoServer
  instance: chain_a
  devices:
    SimCounter: [id00/counter/ca]
- name: bench_counter_b
  class: TangoServer
  instance: chain_b
  devices:
    SimCounter: [id00/counter/cb]
- name: bench_counter_c
  class: TangoServer
  instance: chain_c
  devices:
    SimCounter: [id00/counter/cc]
- name: bench_devices
  class: TangoServer
  instance: chain_devices
  devices:
    SimMotor: [id00/motor/fm]
    CT2: [id00/ct2/card]
    SimMCA: [id00/mca/mca]
    LimaCCDs: [id00/limaccds/cam]
"""
    + "".join(
        f"""
- name: c{letter}
  class: TangoCounter
  tango_url: id00/counter/c{letter}
  distribution: FLAT
  height: {height}
  mode: SINGLE
- name: m{letter}
  class: TangoCounter
  tango_url: id00/counter/c{letter}
  mode: MEAN
"""
        for letter, height in (("a", 1), ("b", 2), ("c", 3))
    )
    + f"""
- name: fm
  class: TangoMotor
  tango_url: id00/motor/fm
  velocity: {VELOCITY}
  acceleration: {ACCELERATION}
  velocity_high_limit: 1000
  low_limit: -1000
  high_limit: 1000
- name: p201
  class: CounterCard
  tango_url: id00/ct2/card
  sim_rates: [1000, 250000]
  sim_noise: false
- name: ct_timer
  class: CardCounter
  card: p201
  channel: 11
- name: ct1
  class: CardCounter
  card: p201
  channel: 1
- name: ct2
  class: CardCounter
  card: p201
  channel: 2
- name: mca
  class: TangoMCA
  tango_url: id00/mca/mca
  nbins: 1024
  readout_time: 0  # no simulated readout: the dead time measured is the software's
- name: cam
  class: Lima
  tango_url: id00/limaccds/cam
  sim_image_size: [256, 256]
- name: bench
  class: Session
"""
)

# What the engine of BEFORE can drive, on the same devices (its config knows no ``mode`` nor velocity limit).
OLD_CONFIG = f"""
- name: fm
  class: TangoMotor
  tango_url: id00/motor/fm
  velocity: {VELOCITY}
  acceleration: {ACCELERATION}
  low_limit: -1000
  high_limit: 1000
- name: ca
  class: TangoCounter
  tango_url: id00/counter/ca
- name: cam
  class: Lima
  tango_url: id00/limaccds/cam
- name: bench_old
  class: Session
"""

# Run by the interpreter of this venv with PYTHONPATH=<worktree of BEFORE>: prints the wall times as JSON.
OLD_ASCAN = """
from gevent import monkey
monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)
import json, os, sys, time
from pathlib import Path
import redis
import bliss_shell
from bliss_shell.comm import use_redis
from bliss_shell.config import Config, ConfigRoot
from bliss_shell.shell.error_report import ErrorReport
from bliss_shell.shell.namespace import session_namespace

folder, runs, npoints, count_time = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
client = redis.Redis.from_url(os.environ["BLISS_REDIS_URL"])
use_redis(client)
session = Config([ConfigRoot(folder)]).get("bench_old")
namespace = session_namespace(session, client, ErrorReport())
session.setup(namespace, on_error=print, verbose=False)
namespace["SCAN_SAVING"].base_path = str(folder / "scans")
fm, ca, cam = (namespace[name] for name in ("fm", "ca", "cam"))
times = {}
for save in (False, True):
    times[str(save)] = []
    for _ in range(runs):
        fm.move(0)
        start = time.perf_counter()
        namespace["ascan"](fm, 0, 10, npoints, count_time, ca, cam, save=save)
        times[str(save)].append(time.perf_counter() - start)
fm.move(0)
print(json.dumps({"module": bliss_shell.__file__, "times": times}), flush=True)
"""


@contextlib.contextmanager
def engine_runs() -> Iterator[list[float]]:
    """Seconds each ``Engine.run`` of the scans within takes (devices started to the last point in)."""
    durations: list[float] = []
    original = Engine.run

    def timed(self: Engine) -> None:
        start = time.perf_counter()
        try:
            original(self)
        finally:
            durations.append(time.perf_counter() - start)

    Engine.run = timed  # type: ignore[method-assign]
    try:
        yield durations
    finally:
        Engine.run = original  # type: ignore[method-assign]


def timed_call(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# -- 1. ct on three controllers ------------------------------------------------------------------------


def ct_costs(namespace: dict, names: tuple[str, ...]) -> tuple[float, float]:
    """Median over CT_REPEATS of ct(0.1, ...)'s wall time beyond 0.1 s, and of its Engine.run beyond 0.1 s."""
    counters = [namespace[name] for name in names]
    walls = []
    with engine_runs() as engine, contextlib.redirect_stdout(io.StringIO()):
        for _ in range(CT_REPEATS):
            walls.append(timed_call(lambda: namespace["ct"](0.1, *counters)) - 0.1)
    return statistics.median(walls), statistics.median(engine) - 0.1


def read_costs(namespace: dict) -> tuple[float, float]:
    """Median seconds of one green-mode read of one counter, and of the three counters read one after another.

    The reads come back to back (servers and client busy: the best case).
    """
    a, b, c = (namespace[name] for name in ("ca", "cb", "cc"))
    one = [timed_call(lambda: a.read(0)) for _ in range(READS)]
    three = [timed_call(lambda: (a.read(0), b.read(0), c.read(0))) for _ in range(READS)]
    return statistics.median(one), statistics.median(three)


def idle_read_costs(namespace: dict) -> tuple[float, float, float]:
    """The same after 0.1 s of idling, as in a ct(0.1): median seconds of one read, of three together, of three in turn.

    Together is the engine's ``each``, one greenlet per controller; in turn, one after another.
    """
    counters = [namespace[name] for name in ("ca", "cb", "cc")]
    objects = [counter.controller.acquisition_object([counter]) for counter in counters]
    for device in objects:
        device.prepare(AcquisitionParameters(npoints=1, count_time=0.0, timing=Timing.STEP))
    one, together, sequential = [], [], []
    for _ in range(IDLE_READS):
        gevent.sleep(0.1)
        one.append(timed_call(lambda: counters[0].read(0)))
        gevent.sleep(0.1)
        together.append(timed_call(lambda: each(objects, _wait_and_read)))
        gevent.sleep(0.1)
        sequential.append(timed_call(lambda: [counter.read(0) for counter in counters]))
    return statistics.median(one), statistics.median(together), statistics.median(sequential)


# -- 2. ascan dead time ----------------------------------------------------------------------------------


def step_move_time() -> float:
    return Move(0.0, 10 / (ASCAN_POINTS - 1), VELOCITY, ACCELERATION).duration


def dead_time(wall: float) -> float:
    """Seconds per point beyond the count time and the computed move of one step."""
    return (wall - ASCAN_POINTS * COUNT_TIME - (ASCAN_POINTS - 1) * step_move_time()) / ASCAN_POINTS


def bare_move(namespace: dict) -> float:
    """Seconds a move of one step takes on the motor, measured (the motor's own polling included)."""
    fm = namespace["fm"]
    fm.move(0)
    step = 10 / (ASCAN_POINTS - 1)
    moves = []
    for i in range(1, 21):
        start = time.perf_counter()
        fm.move(i * step)
        moves.append(time.perf_counter() - start)
    fm.move(0)
    return statistics.median(moves)


def ascan_wall(namespace: dict, names: tuple[str, ...], save: bool) -> float:
    fm = namespace["fm"]
    fm.move(0)  # the scan's first move is then none: 99 moves of one step
    counters = [namespace[name] for name in names]
    wall = timed_call(lambda: namespace["ascan"](fm, 0, 10, ASCAN_POINTS, COUNT_TIME, *counters, save=save))
    fm.move(0)
    return wall


def old_engine_walls(folder: Path, redis_url: str, runs: int) -> dict[bool, list[float]]:
    """Ascan walls of the engine of BEFORE on fm + ca + cam, from a worktree, in a subprocess."""
    old = folder / "old"
    old.mkdir()
    (old / "bench_old.yml").write_text(OLD_CONFIG)
    with checkout(BEFORE) as tree:
        env = tree_env(tree, folder, TANGO_HOST=os.environ["TANGO_HOST"], BLISS_REDIS_URL=redis_url, XDG_RUNTIME_DIR=str(folder),
                       HOME=str(folder))  # fmt: skip
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(OLD_ASCAN), str(old), str(runs), str(ASCAN_POINTS), str(COUNT_TIME)],
                              env=env, capture_output=True, text=True, timeout=600, cwd=str(tree))  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"the engine of {BEFORE} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        check_imported(result["module"], tree)
        return {save == "True": times for save, times in result["times"].items()}


# -- 4. continuous scans ---------------------------------------------------------------------------------


def points_kept(scan) -> tuple[int, int]:
    """Fewest points of any channel in Redis, and in the file's measurement group."""
    in_redis = min(len(node.get(0, -1)) for node in scan.node.walk(include_filter="channel", wait=False))
    in_redis = min(in_redis, len(scan.get_data()["ct1"]))
    in_file = min(len(dataset) for dataset in read_measurement(scan.path, scan.number, scan.name).values())  # entry N.1
    return in_redis, in_file


def continuous(namespace: dict, command: str) -> tuple[float, float, int, int]:
    """Points/s of Engine.run and of the whole command, points in Redis and in the file."""
    card = [namespace[name] for name in ("ct_timer", "ct1", "ct2")]
    fm = namespace["fm"]
    fm.move(0)
    with engine_runs() as engine:
        start = time.perf_counter()
        if command == "fscan":
            scan = namespace["fscan"](fm, 0, 0.001, CONTINUOUS_POINTS, 0.001, *card)
        else:
            scan = namespace["ftimescan"](0.001, CONTINUOUS_POINTS, *card)
        wall = time.perf_counter() - start
    in_redis, in_file = points_kept(scan)
    fm.move(0)
    return CONTINUOUS_POINTS / engine[0], CONTINUOUS_POINTS / wall, in_redis, in_file


# -- 5. Lima free running --------------------------------------------------------------------------------


def lima_free_fps(proxy: tango.DeviceProxy, folder: Path | None) -> float:
    """Frames per second of the simulator itself: INTERNAL_TRIGGER, startAcq to frame N-1 ready."""
    proxy.acq_trigger_mode = "INTERNAL_TRIGGER"
    proxy.acq_nb_frames = LIMA_FRAMES
    proxy.acq_expo_time = LIMA_EXPO
    proxy.saving_mode = "AUTO_FRAME" if folder else "MANUAL"
    if folder:
        proxy.saving_directory = str(folder)
        proxy.saving_prefix = "free_"
        proxy.saving_next_number = 0
    proxy.prepareAcq()
    start = time.perf_counter()
    proxy.startAcq()
    while proxy.last_image_ready < LIMA_FRAMES - 1:
        gevent.sleep(0.0005)
    fps = LIMA_FRAMES / (time.perf_counter() - start)
    while proxy.acq_status == "Running":  # the acquisition thread ends (files closed)
        gevent.sleep(0.001)
    proxy.saving_mode = "MANUAL"
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
    return fps


def lima_scan_fps(namespace: dict, save: bool) -> tuple[float, float]:
    """Frames per second of loopscan(N, LIMA_EXPO, cam): the whole command, and its Engine.run."""
    with engine_runs() as engine:
        wall = timed_call(lambda: namespace["loopscan"](LIMA_FRAMES, LIMA_EXPO, namespace["cam"], save=save))
    return LIMA_FRAMES / wall, LIMA_FRAMES / engine[0]


# -- all of it -------------------------------------------------------------------------------------------


def measure(runs: int) -> dict[str, tuple[float, float, float]]:
    """(median, min, max) of ``runs`` of every figure, by key; times in ms, rates in points or frames per second."""
    raw: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        raw.setdefault(key, []).append(value)

    _measure_in(runs, add, raw)
    for save in (False, True):
        raw[f"dead_ratio_{save}"] = [
            statistics.median(raw[f"dead_after_{save}_ms"]) / statistics.median(raw[f"dead_before_{save}_ms"])
        ]
    raw["move_ms"] = [step_move_time() * 1e3]
    return {key: spread(values) for key, values in raw.items()}


@contextlib.contextmanager
def tango_session(folder: Path, config_text: str, client: redis.Redis) -> Iterator[dict]:
    """The namespace of session ``bench`` of ``config_text``, on its device servers and Tango database.

    All run from ``folder``; the servers and the database are stopped afterwards, whatever happened.
    """
    # PyTango keeps the first $TANGO_HOST database it used for short device names for the rest of the process:
    # forget it, or a benchmark run after another one's database (bench/run.py) looks for our devices there.
    tango.ApiUtil.cleanup()
    servers = []
    with saved_environ("XDG_RUNTIME_DIR", "TANGO_HOST"):
        try:
            os.environ["XDG_RUNTIME_DIR"] = str(folder)  # the Tango database and servers' pid files and logs go here
            os.environ.pop("TANGO_HOST", None)  # a database of our own
            (folder / "beamline").mkdir()
            (folder / "beamline" / "bench.yml").write_text(config_text)
            (folder / "beamline" / "__init__.yml").write_text("tango_host: embedded\n")  # our simulators, in our own database
            config = Config([ConfigRoot(folder / "beamline")])
            servers = needed_servers(config, config.get("bench").object_names())
            choice = choose_tango_host(config.globals.get("tango_host"))  # the embedded one: set as TANGO_HOST
            choice.export()
            host = choice.resolve()
            for server in servers:
                server.start(host)
            session = config.get("bench")
            namespace = session_namespace(session, client, ErrorReport())
            session.setup(namespace, on_error=print, verbose=False)
            namespace["SCAN_SAVING"].base_path = str(folder / "scans")
            yield namespace
        finally:
            for server in servers:
                server.stop()
            TangoDatabase(runtime_dir()).stop()  # its state is in $XDG_RUNTIME_DIR/bliss_shell, as the servers'


@contextlib.contextmanager
def beamline() -> Iterator[tuple[Path, str, dict]]:
    """The servers started (database, four device servers), a session on them: (folder, Redis URL, namespace).

    Everything started is stopped afterwards and the folder removed, whatever happened.
    """
    with own_redis("bsc-") as (folder, redis_server, client), tango_session(folder, CONFIG, client) as namespace:
        namespace["fm"].move(0)
        yield folder, redis_server.url, namespace


def _measure_in(runs: int, add: Callable[[str, float], None], raw: dict[str, list[float]]) -> None:
    with beamline() as (folder, redis_url, namespace):
        # 1. ct on three controllers in three servers
        for _ in range(runs):
            one, three = read_costs(namespace)
            add("round_trip_ms", one * 1e3)
            add("sequential_ms", three * 1e3)
            one, together, sequential = idle_read_costs(namespace)
            add("idle_round_trip_ms", one * 1e3)
            add("idle_together_ms", together * 1e3)
            add("idle_sequential_ms", sequential * 1e3)
            for key, names in (("single", ("ca", "cb", "cc")), ("mean", ("ma", "mb", "mc"))):
                wall, engine = ct_costs(namespace, names)
                add(f"ct_{key}_beyond_ms", wall * 1e3)
                add(f"ct_{key}_engine_beyond_ms", engine * 1e3)
            add("ct_ratio", raw["ct_single_beyond_ms"][-1] / raw["round_trip_ms"][-1])

        # 2. ascan dead time: this engine on the set both engines drive, then on the card, MCA and Lima
        for _ in range(runs):
            add("bare_move_ms", bare_move(namespace) * 1e3)
        for save in (False, True):
            for _ in range(runs):
                add(f"dead_after_{save}_ms", dead_time(ascan_wall(namespace, ("ca", "cam"), save)) * 1e3)
                add(
                    f"dead_card_{save}_ms", dead_time(ascan_wall(namespace, ("ct_timer", "ct1", "ct2", "mca", "cam"), save)) * 1e3
                )
        try:
            for save, walls in old_engine_walls(folder, redis_url, runs).items():
                raw[f"dead_before_{save}_ms"] = [dead_time(wall) * 1e3 for wall in walls]
        except RuntimeError as error:  # the old engine on today's simulators: its figures are missing (nan), not the rest
            print(f"WARNING: no figure of the engine of {BEFORE} (its rows say nan): {error}", flush=True)
            for save in (False, True):
                raw[f"dead_before_{save}_ms"] = [math.nan]
        namespace["fm"].move(0)

        # 4. continuous scans with the card, 10,000 points at 1 ms
        for command in ("fscan", "ftimescan"):
            for _ in range(runs):
                engine_rate, wall_rate, in_redis, in_file = continuous(namespace, command)
                add(f"{command}_engine_pps", engine_rate)
                add(f"{command}_wall_pps", wall_rate)
                add(f"{command}_redis_points", in_redis)
                add(f"{command}_file_points", in_file)

        # 5. Lima free running, directly and in a loopscan
        camera = tango.DeviceProxy("id00/limaccds/cam")
        for save in (False, True):
            for _ in range(runs):
                free = lima_free_fps(camera, folder / "free_frames" if save else None)
                scan_fps, engine_fps = lima_scan_fps(namespace, save)
                add(f"lima_free_{save}_fps", free)
                add(f"lima_scan_{save}_fps", scan_fps)
                add(f"lima_engine_{save}_fps", engine_fps)
                add(f"lima_ratio_{save}", scan_fps / free)


def _f(figure: tuple[float, float, float], digits: int = 3, unit: str = "") -> str:
    median, low, high = figure
    return f"{median:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f})"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    load_before = os.getloadavg()
    m = measure(runs)
    load_after = os.getloadavg()
    n = CONTINUOUS_POINTS
    print(f"Medians of {runs} runs, (min-max) across runs; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after, on {os.cpu_count()} cores.")  # fmt: skip
    print("\n1. ct(0.1) on three SimCounter devices served by three processes (a run: median of "
          f"{CT_REPEATS} ct, of {READS} reads)")  # fmt: skip
    rt = m["round_trip_ms"]
    print(f"   one controller's round trip (green-mode read of one counter): {_f(rt)} ms")
    print(f"   the three reads one after another (the old engine, per point): {_f(m['sequential_ms'])} ms "
          f"= {m['sequential_ms'][0] / rt[0]:.2f} round trips")  # fmt: skip
    print(f"   ct(0.1, ca, cb, cc), mode SINGLE: time beyond 0.1 s {_f(m['ct_single_beyond_ms'])} ms "
          f"= {_f(m['ct_ratio'], 2)} round trips (target <= 1.5)")  # fmt: skip
    print(f"      of which Engine.run beyond 0.1 s (start, count, read; no numbering, tree or ending): "
          f"{_f(m['ct_single_engine_beyond_ms'])} ms = {m['ct_single_engine_beyond_ms'][0] / rt[0]:.2f} round trips")  # fmt: skip
    print(f"   after 0.1 s idle, as in a ct: one read {_f(m['idle_round_trip_ms'])} ms; the three together (engine's "
          f"each) {_f(m['idle_together_ms'])} ms, one after another {_f(m['idle_sequential_ms'])} ms")  # fmt: skip
    print(f"   ct(0.1, ma, mb, mc), mode MEAN:   time beyond 0.1 s {_f(m['ct_mean_beyond_ms'])} ms "
          f"= {m['ct_mean_beyond_ms'][0] / rt[0]:.2f} round trips; Engine.run beyond 0.1 s "
          f"{_f(m['ct_mean_engine_beyond_ms'])} ms")  # fmt: skip
    print(f"\n2. ascan(fm, 0, 10, {ASCAN_POINTS}, {COUNT_TIME}, ...) on a Tango motor: dead time per point = "
          f"(wall - {ASCAN_POINTS} x {COUNT_TIME} - {ASCAN_POINTS - 1} x move) / {ASCAN_POINTS}")  # fmt: skip
    print(f"   move of one step, computed trapezoid (used): {m['move_ms'][0]:.2f} ms; "
          f"measured bare move on the motor: {_f(m['bare_move_ms'], 2)} ms")  # fmt: skip
    for save in (False, True):
        label = "saving on " if save else "saving off"
        before, after = m[f"dead_before_{save}_ms"], m[f"dead_after_{save}_ms"]
        print(f"   {label}: motor + Tango counter + Lima: before ({BEFORE}) {_f(before, 2)} ms, "
              f"after {_f(after, 2)} ms (after / before {m[f'dead_ratio_{save}'][0]:.2f})")  # fmt: skip
        print(f"   {label}: motor + card (3 counters) + MCA + Lima, this engine: {_f(m[f'dead_card_{save}_ms'], 2)} ms")
    polling = (m["bare_move_ms"][0] - m["move_ms"][0]) * (ASCAN_POINTS - 1) / ASCAN_POINTS
    print(f"   of each dead time, {polling:.2f} ms per point is the motor's own wait (measured bare move - computed move)")
    print("\n3. loopscan(10000, 0, c1, c2, c3) in-process: the first row of bench/scan_publishing.py (c1, c2, diode).")
    print(f"\n4. continuous scans with the card (ct_timer, ct1, ct2), {n} points at 1 ms, saved")
    for command, call in (("fscan", f"fscan(fm, 0, 0.001, {n}, 0.001, ...)"), ("ftimescan", f"ftimescan(0.001, {n}, ...)")):
        redis_points, file_points = m[f"{command}_redis_points"], m[f"{command}_file_points"]
        print(f"   {call}: {redis_points[1]:.0f}/{n} in Redis, {file_points[1]:.0f}/{n} in file (fewest of any channel, "
              f"any run); {_f(m[f'{command}_engine_pps'], 0)} points/s over Engine.run, "
              f"{_f(m[f'{command}_wall_pps'], 0)} over the whole command (1 ms periods: 1000 at most)")  # fmt: skip
    print(f"\n5. Lima 256x256 uint32, INTERNAL_TRIGGER, {LIMA_FRAMES} frames at {LIMA_EXPO * 1e3:g} ms exposure")
    for save in (False, True):
        label = "saving on " if save else "saving off"
        print(f"   {label}: simulator free running {_f(m[f'lima_free_{save}_fps'], 0)} frames/s; loopscan "
              f"{_f(m[f'lima_scan_{save}_fps'], 0)} frames/s (whole command; Engine.run {_f(m[f'lima_engine_{save}_fps'], 0)}); "
              f"ratio {_f(m[f'lima_ratio_{save}'], 2)} (target >= 0.9)")  # fmt: skip


if __name__ == "__main__":
    main()
