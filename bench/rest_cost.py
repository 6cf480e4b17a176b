"""What serving the REST API costs a shell: scan time per point, request latency, idle CPU (issue 31).

Real shells, ``bliss -s demo`` in a pseudo-terminal (its prompt, its live scan display) as a user has them, on the
embedded Redis and the demo's Tango servers the first shell starts, as a user of the bench's own (HOME and
XDG_RUNTIME_DIR in a private folder under ``$TMPDIR``; ``bliss servers stop`` at the end, whatever happened). Three
conditions, each run measuring all three in turn (ABC, then CBA: a change of load hits them alike):

- *no API*: ``bliss -s demo``;
- *API, no client*: ``bliss -s demo --rest``, no socket.io client (the objects stay registered, the poller sleeps);
- *API + web client*: the same shell with a blisswebui-like client in a process of its own: python-socketio
  connected to ``/object`` (polling, then the websocket upgrade, as the page's socket.io client does), ``roby``,
  ``robz`` and ``MG1`` registered with ``POST /api/object``, then ``GET /api/object`` and each object, as the page
  does; it counts the ``change`` events it gets. The shell's poller then reads the motors' live properties every
  0.2 s and all three objects' properties every 2 s.

In each condition, at the prompt (the commands typed, their figures printed by the shell itself):

1. ``loopscan(N, 0, diode)`` and ``ascan(roby, 0, 1, M, 0, diode)`` (saving on, into the private folder), each
   timed with ``time.perf_counter()`` around the call, us per point; a run's figure is the median of ``REPEATS``;
2. with the API: the latency of ``GET /api/object/roby`` and of ``POST /api/call`` of a function that does
   nothing (``_bench_noop``, defined at the prompt) to its ``terminated`` state (``GET /api/call/<id>`` back to back
   until the call is no longer running), from an httpx client in a process of its own, one connection kept alive
   as blissclient and browsers keep theirs; and the same GET on a new connection each; a run's figure is the
   median of its requests, with the 90th percentile;
3. the CPU the shell process spends per second idle at the prompt over ``IDLE`` s, and that of the demo's device
   server (the poller's reads of ``roby`` and ``robz`` are Tango reads), of Redis, and of the web client.

Printed: each figure as the median of the runs with their min-max; the ratios between conditions taken within
each run, then their median and min-max; the machine's load during each run (bench/machine.py's ``LoadWatch``).

Usage: .venv/bin/python bench/rest_cost.py [runs] [--points N] [--ascan M] [--idle S] [--write LABEL]

``--write LABEL`` also puts the figures into docs/performance.md, between the markers ``<!-- rest_cost:LABEL -->``
and ``<!-- /rest_cost:LABEL -->``. About 90 s a run with the defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pexpect

from machine import CORES, LoadWatch, load_rows, machine_facts, package_versions, private_folder, spread, write_between_markers

BLISS = str(Path(sys.executable).parent / "bliss")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
CONDITIONS = ("no API", "API, no client", "API + web client")
OBJECTS = ("roby", "robz", "MG1")
REPEATS = 3  # scans of each kind per condition and run
GETS, CALLS = 100, 40  # requests of each kind per condition and run (and GETS // 4 on new connections)
PROMPT = re.compile(rb"DEMO \[(\d+)\]: ")
REST_LINE = re.compile(rb"REST API: [^\r\n]*?http://([^\s\"/:]+):(\d+)")  # the first address of the line

# Run in the shell (exec'd at the first prompt): the scan timings and the function the calls run.
HELPER = textwrap.dedent("""
    import json as _bench_json, time as _bench_time
    SCAN_SAVING.base_path = BASE_PATH
    def _bench_noop():
        return None
    def _bench_scan(kind, npoints, repeats, tag):
        times = []
        for _ in range(repeats):
            mv(roby, 0)
            start = _bench_time.perf_counter()
            if kind == "loopscan":
                loopscan(npoints, 0, diode)
            else:
                ascan(roby, 0, 1, npoints, 0, diode)
            times.append((_bench_time.perf_counter() - start) / npoints * 1e6)
        print("RESULT", tag, _bench_json.dumps(times), flush=True)
""")

# The blisswebui-like client: /object connected, the objects registered and read; "READY", then the events it got
# once its stdin closes.
WEB_CLIENT = textwrap.dedent("""
    import json, sys, threading, httpx, socketio
    url, names = sys.argv[1], sys.argv[2].split(",")
    changes, lock = {}, threading.Lock()
    sio = socketio.Client()
    def change(data):
        with lock:
            changes[data["name"]] = changes.get(data["name"], 0) + 1
    sio.on("change", change, namespace="/object")
    sio.connect(url, namespaces=["/object"], wait_timeout=30)
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/api/object", json={"names": names}).raise_for_status()
        http.get("/api/object").raise_for_status()
        for name in names:
            http.get(f"/api/object/{name}").raise_for_status()
    print("READY", sio.transport(), flush=True)
    sys.stdin.read()
    sio.disconnect()
    print("RESULT", json.dumps(changes), flush=True)
""")

# The latency client: GETs of an object's state, then calls of a function that does nothing, to their end.
LATENCY_CLIENT = textwrap.dedent("""
    import json, sys, time, httpx
    url, gets, calls, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/api/object", json={"names": names}).raise_for_status()
        http.get("/api/object/roby").raise_for_status()  # the connection opened
        get_ms = []
        for _ in range(gets):
            start = time.perf_counter()
            http.get("/api/object/roby").raise_for_status()
            get_ms.append((time.perf_counter() - start) * 1e3)
    with httpx.Client(base_url=url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        get_new_ms = []  # each request on a connection of its own
        for _ in range(gets // 4):
            start = time.perf_counter()
            http.get("/api/object/roby").raise_for_status()
            get_new_ms.append((time.perf_counter() - start) * 1e3)
    with httpx.Client(base_url=url, timeout=30) as http:
        http.get("/api/info").raise_for_status()  # the connection opened
        call_ms, polls = [], []
        for _ in range(calls):
            start = time.perf_counter()
            answer = http.post("/api/call", json={"function": "_bench_noop"})
            answer.raise_for_status()
            call_id, count = answer.json()["call_id"], 0
            while True:
                count += 1
                state = http.get(f"/api/call/{call_id}")
                state.raise_for_status()
                if state.json()["state"] != "running":
                    break
            if state.json()["state"] != "terminated":
                sys.exit(f"call {call_id} ended {state.json()}")
            call_ms.append((time.perf_counter() - start) * 1e3)
            polls.append(count)
    print("RESULT", json.dumps({"get_ms": get_ms, "get_new_ms": get_new_ms, "call_ms": call_ms, "polls": polls}), flush=True)
""")


def thread_cpu(pid: int) -> dict[int, int]:
    """Ns of CPU each thread of process ``pid`` has run (the scheduler's counts: finer than /proc/PID/stat's ticks)."""
    found = {}
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                found[int(task)] = int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
    return found


def cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds between two ``thread_cpu`` samples.

    A thread that ended in between (a writer's pool thread) counts nothing, one that started all of its time.
    """
    return sum(used - before.get(thread, 0) for thread, used in after.items()) / 1e9


class Shell:
    """``bliss -s demo [--rest]`` in a pseudo-terminal; its output read all along by a thread (so it never blocks)."""

    def __init__(self, folder: Path, env: dict[str, str], rest: bool, timeout: float = 120):
        self.child = pexpect.spawn(BLISS, ["-s", "demo", *(["--rest"] if rest else [])], env=env, dimensions=(50, 140),
                                   cwd=str(folder))  # fmt: skip
        self.output = bytearray()
        self._changed = threading.Condition()
        self._ended = False
        threading.Thread(target=self._pump, name="shell-output", daemon=True).start()
        self.url = ""
        if rest:
            found = self.wait(REST_LINE, timeout)
            self.url = f"http://127.0.0.1:{int(found.group(2))}"
        self.number = int(self.wait(PROMPT, timeout).group(1))  # the prompt's number

    @property
    def pid(self) -> int:
        return self.child.pid

    def _pump(self) -> None:
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.5)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError):
                with self._changed:
                    self._ended = True
                    self._changed.notify_all()
                return
            with self._changed:
                self.output += data
                self._changed.notify_all()

    def wait(self, pattern: re.Pattern[bytes], timeout: float, start: int = 0) -> re.Match[bytes]:
        """The first match of ``pattern`` in the output from offset ``start``, once it shows (``timeout`` s at most)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = pattern.search(self.output, start)
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self._ended:
                    tail = self.output[-2000:].decode(errors="replace")
                    raise RuntimeError(f"the shell did not print {pattern.pattern!r} in {timeout} s; it printed:\n{tail}")
                self._changed.wait(min(left, 0.5))

    def enter(self, command: str, timeout: float = 30) -> int:
        """Type ``command`` and press Enter once its echo shows; the output's offset before it."""
        with self._changed:
            mark = len(self.output)
        self.child.send(command)
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.output) == mark:
                if time.monotonic() > deadline or self._ended:
                    raise RuntimeError(f"{command!r} was not echoed in {timeout} s")
                self._changed.wait(0.5)
        self.child.send("\r")
        return mark

    def result(self, command: str, tag: str, timeout: float = 300) -> object:
        """Run ``command``, which prints ``RESULT <tag> <json>``: that value, once the next prompt shows."""
        mark = self.enter(command)
        found = self.wait(re.compile(rb"RESULT " + tag.encode() + rb" ([^\r\n]+)\r?\n"), timeout, mark)
        self.next_prompt(30, found.end())
        return json.loads(found.group(1))

    def run(self, command: str, timeout: float = 60) -> None:
        """Run ``command``, back once the next prompt shows."""
        self.next_prompt(timeout, self.enter(command))

    def next_prompt(self, timeout: float, start: int) -> None:
        """Wait for the prompt after the current one (the command entered has ended)."""
        self.wait(re.compile(rb"DEMO \[%d\]: " % (self.number + 1)), timeout, start)
        self.number += 1

    def close(self) -> None:
        """``exit()``, then killed if it has not ended 30 s later."""
        with contextlib.suppress(Exception):
            if self.child.isalive():
                self.enter("exit()")
                deadline = time.monotonic() + 30
                while self.child.isalive() and time.monotonic() < deadline:
                    time.sleep(0.05)
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()


@contextlib.contextmanager
def web_client(url: str, folder: Path) -> Iterator[dict]:
    """The blisswebui-like client, connected and its objects registered; its pid and, at the end, its events."""
    process = subprocess.Popen([sys.executable, "-c", WEB_CLIENT, url, ",".join(OBJECTS)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=str(folder))  # fmt: skip
    found: dict = {"pid": process.pid}
    try:
        line = process.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"the web client did not connect: {line!r}")
        found["transport"] = line.split()[1]
        yield found
        process.stdin.close()
        for line in process.stdout:
            if line.startswith("RESULT "):
                found["changes"] = json.loads(line.split(" ", 1)[1])
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def latency(url: str, folder: Path) -> dict[str, list[float]]:
    """The latency client's figures (``get_ms``, ``get_new_ms``, ``call_ms``, ``polls``: one per request)."""
    done = subprocess.run([sys.executable, "-c", LATENCY_CLIENT, url, str(GETS), str(CALLS), ",".join(OBJECTS)],
                          capture_output=True, text=True, timeout=300, cwd=str(folder))  # fmt: skip
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not results:
        raise RuntimeError(f"the latency client failed:\n{done.stderr[-3000:]}")
    return json.loads(results[-1].split(" ", 1)[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Bench:
    """The runs' figures by key (``<figure> | <condition>``), one value per run."""

    def __init__(self, folder: Path, points: int, ascan_points: int, idle: float):
        self.folder, self.points, self.ascan_points, self.idle = folder, points, ascan_points, idle
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(("BLISS_", "XDG_", "TANGO_"))}
        self.env.update(HOME=str(folder / "home"), XDG_RUNTIME_DIR=str(folder), XDG_STATE_HOME=str(folder / "state"),
                        PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm-256color", BENCH_HELPER=str(folder / "helper.py"))  # fmt: skip
        (folder / "home").mkdir()
        (folder / "helper.py").write_text(HELPER.replace("BASE_PATH", repr(str(folder / "scans"))))
        self.figures: dict[str, list[float]] = {}
        self.notes: dict[str, list] = {}
        self._tags = 0

    def keep(self, figure: str, condition: str, value: float) -> None:
        self.figures.setdefault(f"{figure} | {condition}", []).append(value)

    def pid_of(self, server: str) -> int | None:
        """The pid of the embedded Redis (``redis``) or of the demo's device server (``tango-BlissSimulators-demo``)."""
        with contextlib.suppress(OSError, ValueError):
            return int((self.folder / "bliss_shell" / f"{server}.pid").read_text().split()[0])
        return None

    @contextlib.contextmanager
    def shell(self, rest: bool) -> Iterator[Shell]:
        """A warm shell at its prompt: the helper run, one short scan of each kind done (imports, first files)."""
        shell = Shell(self.folder, self.env, rest)
        try:
            shell.run('import os; exec(open(os.environ["BENCH_HELPER"]).read())')
            self.scans(shell, 100, 10, 1)
            yield shell
        finally:
            shell.close()

    def scans(self, shell: Shell, points: int, ascan_points: int, repeats: int) -> tuple[list[float], list[float]]:
        """Us per point of ``repeats`` loopscans and ascans."""
        found = []
        for kind, npoints in (("loopscan", points), ("ascan", ascan_points)):
            self._tags += 1
            tag = f"t{self._tags}"
            found.append(shell.result(f'_bench_scan("{kind}", {npoints}, {repeats}, "{tag}")', tag))
        return found[0], found[1]

    def idle_cpu(self, shell: Shell, client: int | None) -> dict[str, float]:
        """Ms of CPU per second of the shell, the device server, Redis and the client, idle at the prompt."""
        time.sleep(1.0)  # the last scan's display and file closed
        pids = {"shell": shell.pid, "device server": self.pid_of("tango-BlissSimulators-demo"), "redis": self.pid_of("redis"),
                "web client": client}  # fmt: skip
        before = {name: thread_cpu(pid) for name, pid in pids.items() if pid}
        start = time.monotonic()
        time.sleep(self.idle)
        seconds = time.monotonic() - start
        return {name: cpu_between(used, thread_cpu(pids[name])) / seconds * 1e3 for name, used in before.items()}

    def condition(self, shell: Shell, condition: str) -> None:
        """Every figure of ``condition`` in ``shell`` (with a web client for the last condition)."""
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(web_client(shell.url, self.folder)) if condition == CONDITIONS[2] else None
            loopscans, ascans = self.scans(shell, self.points, self.ascan_points, REPEATS)
            self.keep("loopscan us/pt", condition, statistics.median(loopscans))
            self.keep("ascan us/pt", condition, statistics.median(ascans))
            for name, value in self.idle_cpu(shell, client and client["pid"]).items():
                self.keep(f"idle CPU {name} ms/s", condition, value)
            if shell.url:
                found = latency(shell.url, self.folder)
                for name in ("get_ms", "get_new_ms", "call_ms"):
                    self.keep(f"{name} median", condition, statistics.median(found[name]))
                    self.keep(f"{name} p90", condition, percentile(found[name], 0.9))
                self.keep("polls per call", condition, statistics.median(found["polls"]))
        if client is not None:
            self.notes.setdefault("transport", []).append(client.get("transport"))
            self.notes.setdefault("changes", []).append(client.get("changes", {}))

    def run(self, run: int) -> None:
        """One run: no API, then the API shell without and with the client; the reverse order on odd runs."""
        plain = [(False, [CONDITIONS[0]])]
        served = [(True, list(CONDITIONS[1:]))]
        order = plain + served if run % 2 == 0 else [(True, list(reversed(CONDITIONS[1:])))] + plain
        for rest, conditions in order:
            with self.shell(rest) as shell:
                for condition in conditions:
                    self.condition(shell, condition)

    def stop_servers(self) -> None:
        subprocess.run([BLISS, "servers", "stop"], capture_output=True, env=self.env, timeout=120, check=False)


# -- printing ---------------------------------------------------------------------------------------------


def _f(values: Sequence[float], digits: int) -> str:
    median, low, high = spread(values)
    return f"{median:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def _ratios(top: Sequence[float], bottom: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True) if b]


def text(bench: Bench, runs: int, watch: LoadWatch, started: datetime) -> str:
    """The figures as markdown: facts, the tables, the load of each run."""
    f, (a, b, c) = bench.figures, CONDITIONS
    versions = ", ".join(f"{name} {version(name)}" for name in ("flask", "python-socketio", "python-engineio", "simple-websocket",
                                                                "httpx", "blisswebui"))  # fmt: skip
    tree = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=DOCS.parent,
                          check=False).stdout.strip()  # fmt: skip
    out = [f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}; code: {tree or 'not a git tree'}; runs: {runs}, "
           "the three conditions in turn (ABC, CBA, ...)",
           f"- Machine: {machine_facts()}", f"- Versions: {package_versions()}, {versions}",
           f"- Scans: `loopscan({bench.points}, 0, diode)` and `ascan(roby, 0, 1, {bench.ascan_points}, 0, diode)`, saving on, "
           f"median of {REPEATS} a run; latency: {GETS} GETs and {CALLS} calls a run; idle: {bench.idle:.0f} s a run", "",
           f"| figure | {a} | {b} | {c} | ratios, each run's, median (min-max) |", "|---|---|---|---|---|"]  # fmt: skip
    for figure, label in (("loopscan us/pt", f"`loopscan({bench.points}, 0, diode)`, us per point"),
                          ("ascan us/pt", f"`ascan(roby, 0, 1, {bench.ascan_points}, 0, diode)`, us per point")):  # fmt: skip
        x, y, z = (f[f"{figure} | {name}"] for name in CONDITIONS)
        out.append(f"| {label} | {_f(x, 1)} | {_f(y, 1)} | {_f(z, 1)} | web client / no client {_f(_ratios(z, y), 3)}; "
                   f"no client / no API {_f(_ratios(y, x), 3)}; web client / no API {_f(_ratios(z, x), 3)} |")  # fmt: skip
    for figure, label in (("get_ms", "`GET /api/object/roby`, one connection kept alive, ms"),
                          ("get_new_ms", "`GET /api/object/roby`, a new connection each, ms"),
                          ("call_ms", "`POST /api/call` `_bench_noop` to `terminated`, connection kept alive, ms")):  # fmt: skip
        for kind in ("median", "p90"):
            y, z = f[f"{figure} {kind} | {b}"], f[f"{figure} {kind} | {c}"]
            out.append(f"| {label}, {'median' if kind == 'median' else '90th percentile'} of a run's requests | | "
                       f"{_f(y, 2)} | {_f(z, 2)} | web client / no client {_f(_ratios(z, y), 3)} |")  # fmt: skip
    y, z = f[f"polls per call | {b}"], f[f"polls per call | {c}"]
    out.append(f"| `GET /api/call/<id>` per call until it ended (median) | | {_f(y, 1)} | {_f(z, 1)} | |")
    for name in ("shell", "device server", "redis", "web client"):
        values = [f.get(f"idle CPU {name} ms/s | {condition}") for condition in CONDITIONS]
        cells = [_f(v, 2) if v else "" for v in values]
        extra = ""
        if values[1] and values[2]:
            extra = f"web client - no client {_f([z - y for y, z in zip(values[1], values[2])], 2)} ms/s"
        out.append(f"| idle at the prompt: CPU of the {name}, ms per s | {' | '.join(cells)} | {extra} |")
    changes = bench.notes.get("changes", [])
    if changes:
        totals = {name: sum(run.get(name, 0) for run in changes) for name in OBJECTS}
        out += ["", f"The web client's transport: {', '.join(sorted(set(bench.notes['transport'])))}; `change` events it got over "
                f"the {len(changes)} runs: " + ", ".join(f"{name} {count}" for name, count in totals.items()) + "."]  # fmt: skip
    out += load_rows(watch, "run")
    out.append(f"\nLoad on {CORES} cores.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("runs", nargs="?", type=int, default=5)
    parser.add_argument("--points", type=int, default=2000, help="points of the loopscan (default 2000)")
    parser.add_argument("--ascan", type=int, default=100, help="points of the ascan (default 100)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle at the prompt a condition (default 10)")
    parser.add_argument("--write", metavar="LABEL", help="also write the figures into docs/performance.md under LABEL")
    args = parser.parse_args()
    started = datetime.now().astimezone()
    with private_folder("bst-rest-") as folder, LoadWatch() as watch:
        bench = Bench(folder, args.points, args.ascan, args.idle)
        print(f"1-min load average {os.getloadavg()[0]:.2f} on {CORES} cores at the start", flush=True)
        try:
            for run in range(args.runs):
                with watch.block(f"run {run}"):
                    bench.run(run)
        finally:
            bench.stop_servers()
        print(f"1-min load average {os.getloadavg()[0]:.2f} at the end", flush=True)
    figures = text(bench, args.runs, watch, started)
    print(figures)
    if args.write:
        write_between_markers(DOCS, "rest_cost", args.write, figures)
        print(f"\nwritten: {DOCS} ({args.write})")


if __name__ == "__main__":
    main()
