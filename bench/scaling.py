"""What one Redis serves, measured with real redis-server processes on 127.0.0.1 (TCP), for docs/scaling.md.

Prints one block per measurement, each figure as the median of several runs with its min-max, the number
of runs and the load average before and after the block:

1. Publishing throughput of one Redis: S shells (S = 1, 2, 4; ``bliss -s NAME -c CODE`` processes, one session
   each) looping ``loopscan(10000, 0, c1, c2, save=False)`` (4 float64 channels: elapsed_time, epoch, c1, c2)
   for the same few seconds: points/s and channel values/s the Redis took in all, and Redis's CPU
   (INFO cpu, user + sys) per million values.
2. Memory: Redis ``used_memory`` added by a ``loopscan(100000, 0, c1, c2, save=False)``, per point per channel
   (bytes per float64 value), and what a day of retention takes at an example rate.
3. Cluster: 2 shells (test_session and other_session, whose hash tags fall on different shards) on a 3-primary
   Redis Cluster against 2 shells on one Redis, run alternately: points/s in all and Redis CPU per million values.
4. Readers: R reader processes (R = 1, 10, 50; tests/follow_points.py) following a 100,000-point loopscan, on
   the primary or on one replica of it: whether every reader saw every point once, in order, the scan's
   per-point time, and the CPU the primary (and the replica) spent meanwhile. R = 0 is the reference.
   Run last: its hundreds of reader processes leave the load average high for a minute.

Every process is on this machine: shells, readers and Redis share its cores, so a rate here is bounded by the
clients' CPU as much as by Redis; Redis's CPU per million values is the figure that carries to other machines.

Usage: .venv/bin/python bench/scaling.py [runs]     (default 3: about 4 minutes on 2 cores)
"""

from scan_publishing import BEAMLINE, open_session  # noqa: I001  (patches gevent first)

import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis

from load import NPOINTS as READER_POINTS, one_scan
from machine import kill_children
from bliss_shell.comm import RedisChoice, client_for, connect, use_redis, use_settings_folder
from bliss_shell.data import keys

sys.path.insert(0, str(BEAMLINE.parent))  # tests/: the topology helper (its conftest patches gevent as above)
from redis_topology import RedisProcess, Topology
from terminal import BLISS

SESSIONS = ("test_session", "other_session", "third_session", "fourth_session")  # the last two: in the bench's config copy
SHELL_COUNTS = (1, 2, 4)
SCAN_POINTS = 10_000  # per loopscan of a shell's loop
CHANNELS = 4  # elapsed_time, epoch, c1, c2 (checked in Redis)
ROUND_SECONDS = 3.0
WARM_UP_SECONDS = 1.0
MEMORY_POINTS = 100_000
READER_COUNTS = (1, 10, 50)
EXAMPLE_CHANNELS, EXAMPLE_HZ = 10, 1000

# Run by each shell (``bliss -c``): one line "START STOP" (epoch seconds) on stdin per round; loopscans from
# START until STOP has passed, then one RESULT line. An empty line (stdin closed) ends the shell.
SHELL_CODE = textwrap.dedent(f"""
    import json, select, sys, time
    import gevent
    SCAN_SAVING.base_path = BASE_PATH
    print("ready", flush=True)
    while select.select([sys.stdin], [], []) and (line := sys.stdin.readline().split()):
        start, stop = map(float, line)
        gevent.sleep(max(0.0, start - time.time()))
        points = 0
        while time.time() < stop:
            loopscan({SCAN_POINTS}, 0, c1, c2, save=False)
            points += {SCAN_POINTS}
        print("RESULT " + json.dumps({{"points": points, "end": time.time()}}), flush=True)
""")


def redis_cpu(servers: Sequence[RedisProcess]) -> float:
    """CPU seconds (user + sys) the servers have used since they started."""
    infos = [server.ask(lambda client: client.info("cpu")) for server in servers]
    return sum(info["used_cpu_user"] + info["used_cpu_sys"] for info in infos)


def channels_of(client: redis.Redis, session: str, scan_name: str) -> int:
    """How many channels (``esrf:stream:`` streams) the scan ``scan_name`` of ``session`` has in Redis."""
    return sum(1 for _ in client.scan_iter(match=f"{keys.STREAM_PREFIX}{{{session}}}:*:{scan_name}:*", count=10_000))


def next_scan_name(client: redis.Redis, session: str = "test_session") -> str:
    """The tree name the session's next unsaved loopscan will get (bliss_shell/scanning/placing.py)."""
    done = client.hget(keys.node_key(session), "last_unsaved_scan_number")
    return f"_{int(done or 0) + 1}_loopscan"


def spread(values: Sequence[float], form: str = "{:,.0f}") -> str:
    """``median (min-max, n runs)``."""
    low, high = min(values), max(values)
    return f"{form.format(statistics.median(values))} ({form.format(low)}-{form.format(high)}, {len(values)} runs)"


@contextlib.contextmanager
def block(title: str) -> Iterator[None]:
    """One measurement's block: its title first, the load average before and after it last."""
    before, start = os.getloadavg(), time.monotonic()
    print(f"\n== {title}", flush=True)
    yield
    after = os.getloadavg()
    print(f"   load average (1/5/15 min): before {' '.join(f'{x:.2f}' for x in before)}, "
          f"after {' '.join(f'{x:.2f}' for x in after)}; block took {time.monotonic() - start:.0f} s", flush=True)  # fmt: skip


def bench_config(folder: Path) -> Path:
    """tests/beamline copied, with sessions enough for every shell (one shell per session: the session lock)."""
    config = folder / "beamline"
    shutil.copytree(BEAMLINE, config)
    for name in SESSIONS:
        (config / "sessions" / f"{name}.yml").write_text(f"name: {name}\n")
    return config


class Shells:
    """One ``bliss -s NAME --config CONFIG -c SHELL_CODE`` process per session, on the Redis at ``url``.

    Each waits for rounds (``round``); their output goes to a log file of their own (the scan display is
    read there, so a pipe never fills and stalls a shell). Stopped, or killed, when the ``with`` ends.
    """

    def __init__(self, sessions: Sequence[str], url: str, config: Path, folder: Path):
        self.sessions, self.config, self.folder = sessions, config, folder
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(("BLISS_", "XDG_", "TANGO_"))}
        self.env.update(HOME=str(folder), XDG_RUNTIME_DIR=str(folder), BLISS_REDIS_URL=url)
        self.logs = [folder / f"{name}.log" for name in sessions]
        self.processes: list[subprocess.Popen] = []
        self.rounds = 0

    def __enter__(self) -> "Shells":
        self.folder.mkdir(parents=True)
        code = SHELL_CODE.replace("BASE_PATH", repr(str(self.folder / "scans")))
        try:
            for name, log in zip(self.sessions, self.logs, strict=True):
                with open(log, "w") as output:
                    self.processes.append(subprocess.Popen([BLISS, "-s", name, "--config", str(self.config), "-c", code], env=self.env,
                                                           stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT, text=True))  # fmt: skip
            for index in range(len(self.processes)):
                self._wait_lines(index, "ready", 1, 60)
            self.round([], WARM_UP_SECONDS)  # first scans of a shell are slower (imports, first nodes): not counted
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the shell's loop ends, the session closes
        deadline = time.monotonic() + 15
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait_lines(self, index: int, prefix: str, count: int, timeout: float) -> list[str]:
        """The lines of shell ``index`` that start with ``prefix``, once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.logs[index].read_text().splitlines() if line.startswith(prefix)]
            if len(lines) >= count:
                return lines
            if self.processes[index].poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self.logs[index].read_text().splitlines()[-20:])
                raise RuntimeError(
                    f"shell {self.logs[index].stem} gave no '{prefix}' line (exit {self.processes[index].poll()}):\n{tail}"
                )
            time.sleep(0.02)

    def round(self, servers: Sequence[RedisProcess], seconds: float = ROUND_SECONDS) -> dict[str, float]:
        """Every shell loops loopscans for ``seconds``, all starting together; the figures of the round.

        They are the points in all, the wall time from the start to the last shell's end, and the CPU seconds
        ``servers`` used meanwhile.
        """
        cpu = redis_cpu(servers)
        start = time.time() + 0.3
        for process in self.processes:
            process.stdin.write(f"{start} {start + seconds}\n")
            process.stdin.flush()
        self.rounds += 1
        results = [json.loads(self._wait_lines(index, "RESULT ", self.rounds, seconds + 120)[-1].split(" ", 1)[1])
                   for index in range(len(self.processes))]  # fmt: skip
        return {"points": sum(result["points"] for result in results), "seconds": max(result["end"] for result in results) - start,
                "cpu": redis_cpu(servers) - cpu}  # fmt: skip


def rates(rounds: Sequence[dict[str, float]]) -> dict[str, list[float]]:
    """Per round: points/s, values/s, Redis CPU seconds per million values, Redis's share of one core."""
    return {
        "points": [r["points"] / r["seconds"] for r in rounds],
        "values": [r["points"] * CHANNELS / r["seconds"] for r in rounds],
        "cpu_per_million": [r["cpu"] / (r["points"] * CHANNELS / 1e6) for r in rounds],
        "busy": [r["cpu"] / r["seconds"] * 100 for r in rounds],
    }


def print_rates(label: str, rounds: Sequence[dict[str, float]]) -> None:
    measured = rates(rounds)
    print(f"   {label}: {spread(measured['points'])} points/s, {spread(measured['values'])} values/s")
    print(f"   {' ' * len(label)}  Redis CPU {spread(measured['cpu_per_million'], '{:.3f}')} s per million values; "
          f"Redis busy {spread(measured['busy'], '{:.0f}')} % of one core")  # fmt: skip


def publishing(topology: Topology, config: Path, folder: Path, runs: int) -> None:
    """Block 1: S shells on one Redis (a fresh one per S)."""
    cpu_costs = []
    for count in SHELL_COUNTS:
        server = topology.primary()
        with Shells(SESSIONS[:count], server.url, config, folder / f"publish-{count}") as shells:
            rounds = [shells.round([server]) for _ in range(runs)]
        with server.client() as client:
            found = channels_of(client, SESSIONS[0], "_1_loopscan")
        assert found == CHANNELS, f"a loopscan of c1, c2 has {found} channels in Redis, not {CHANNELS}"
        print_rates(f"S={count} shell{'s' if count > 1 else ' '}", rounds)
        cpu_costs += rates(rounds)["cpu_per_million"]
        server.kill()
    cost = statistics.median(cpu_costs)
    print(f"   (at {cost:.3f} CPU s per million values, one Redis kept busy on one core would take about "
          f"{1 / cost:.1f} million values/s: an extrapolation, not a measurement)")  # fmt: skip


def memory(client: redis.Redis, namespace: dict, runs: int) -> None:
    """Block 2: used_memory added by one loopscan, per point per channel."""
    per_value = []
    for _ in range(runs):
        scan_name = next_scan_name(client)
        before = client.info("memory")["used_memory"]
        namespace["loopscan"](MEMORY_POINTS, 0, namespace["c1"], namespace["c2"], save=False)
        added = client.info("memory")["used_memory"] - before
        per_value.append(added / (MEMORY_POINTS * channels_of(client, "test_session", scan_name)))
    size = statistics.median(per_value)
    rate = EXAMPLE_CHANNELS * EXAMPLE_HZ
    print(f"   loopscan({MEMORY_POINTS}, 0, c1, c2, save=False), {CHANNELS} float64 channels: "
          f"{spread(per_value, '{:.2f}')} bytes per value (the raw value is 8 B)")  # fmt: skip
    print(f"   a day of retention = values/s x bytes/value x 86400; e.g. {EXAMPLE_CHANNELS} channels at "
          f"{EXAMPLE_HZ} Hz: {rate:,} values/s x {size:.2f} B x 86400 = {rate * size * 86400 / 1e9:.2f} GB per day")  # fmt: skip


def readers(primary: RedisProcess, replica: RedisProcess, client: redis.Redis, namespace: dict, runs: int) -> None:
    """Block 4: R readers on the primary or on the replica, interleaved run by run."""
    cases = [(0, primary)] + [(count, server) for count in READER_COUNTS for server in (primary, replica)]
    found: dict[tuple[int, int], dict[str, list]] = {
        (count, server.port): {"ms": [], "primary": [], "replica": [], "whole": []} for count, server in cases
    }  # fmt: skip
    for _ in range(runs):
        for count, server in cases:
            env = dict(os.environ, BLISS_REDIS_URL=server.url)
            before = redis_cpu([primary]), redis_cpu([replica])
            per_point, whole = one_scan(namespace, next_scan_name(client), env, count)
            row = found[(count, server.port)]
            row["ms"].append(per_point * 1e3)
            row["primary"].append(redis_cpu([primary]) - before[0])
            row["replica"].append(redis_cpu([replica]) - before[1])
            row["whole"].append(whole)
    for count, server in cases:
        row = found[(count, server.port)]
        where = "no reader" if count == 0 else f"R={count:2d} on the {'primary' if server is primary else 'replica'}"
        seen = (
            "" if count == 0 else f"; every reader saw every point once, in order: {sum(row['whole'])}/{len(row['whole'])} runs"
        )
        print(f"   {where:21s}: {spread(row['ms'], '{:.4f}')} ms per point{seen}")
        print(f"   {'':21s}  CPU during the scan and its readers: primary {spread(row['primary'], '{:.2f}')} s, "
              f"replica {spread(row['replica'], '{:.2f}')} s")  # fmt: skip
    alone = statistics.median(found[(0, primary.port)]["primary"])
    for count in READER_COUNTS:
        on_primary, on_replica = (statistics.median(found[(count, server.port)]["primary"]) for server in (primary, replica))
        print(f"   R={count:2d}: the readers cost the primary {on_primary - alone:.2f} CPU s per scan above the scan's own "
              f"{alone:.2f} s; on the replica they cost it {on_replica - alone:+.2f} s")  # fmt: skip


def cluster(topology: Topology, config: Path, folder: Path, runs: int) -> None:
    """Block 3: 2 shells on a 3-primary cluster against 2 shells on one Redis, alternately."""
    single, nodes = topology.primary(), topology.cluster()
    sessions = SESSIONS[:2]
    with client_for(topology.cluster_url(nodes)) as client:  # where the cluster puts each session's hash tag
        owners = {
            session: (client.keyslot(f"{{{session}}}"), client.get_node_from_key(f"{{{session}}}").port) for session in sessions
        }
    found: dict[str, list[dict[str, float]]] = {"one": [], "cluster": []}
    with Shells(sessions, single.url, config, folder / "one-redis") as on_one, \
         Shells(sessions, topology.cluster_url(nodes), config, folder / "cluster") as on_cluster:  # fmt: skip
        for _ in range(runs):
            found["one"].append(on_one.round([single]))
            found["cluster"].append(on_cluster.round(nodes))
    print_rates("2 shells, one Redis          ", found["one"])
    print_rates("2 shells, 3-primary cluster  ", found["cluster"])
    print(f"   sessions' shards: {', '.join(f'{s} slot {slot} on node :{port}' for s, (slot, port) in owners.items())}")


def measure(runs: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bss-"))
    folder.chmod(0o700)
    use_settings_folder(folder / "settings")
    try:
        config = bench_config(folder)
        with Topology(folder / "redis") as topology:
            version = topology.primary()
            print(f"redis-server {version.ask(lambda c: c.info('server')['redis_version'])} on 127.0.0.1 (TCP), "
                  f"{os.cpu_count()} cores, Python {platform.python_version()}; {runs} runs per figure", flush=True)  # fmt: skip
            version.kill()
            with block(f"1. Publishing throughput of one Redis: S shells (bliss -c), each looping "
                       f"loopscan({SCAN_POINTS}, 0, c1, c2, save=False) for {ROUND_SECONDS:g} s, all at once"):  # fmt: skip
                publishing(topology, config, folder, runs)
            primary = topology.primary()
            client = connect(RedisChoice(primary.url, "bench"))
            use_redis(client)
            namespace = open_session(client, str(folder / "scans"))
            with block("2. Redis memory per point per float64 channel"):
                memory(client, namespace, runs)
            with block("3. Cluster: 2 shells (test_session, other_session) on a 3-primary Redis Cluster vs on one Redis"):
                cluster(topology, config, folder, runs)
            replica = topology.replica(primary)
            with block(f"4. Readers (tests/follow_points.py) following loopscan({READER_POINTS}, 0, c1, c2, save=False) "
                       f"in this process, on the primary :{primary.port} or its replica :{replica.port}"):  # fmt: skip
                readers(primary, replica, client, namespace, runs)
            client.close()
    finally:
        kill_children()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    start = time.monotonic()
    measure(runs)
    print(f"\n(whole bench: {time.monotonic() - start:.0f} s)")


if __name__ == "__main__":
    main()
