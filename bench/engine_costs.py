"""Cost per point and per scan of this code beside commit 88e54a9, in the same run, interleaved (issue 29).

Each tree (this repository's, or ``--code DIR``; and a git worktree of 88e54a9) gets a worker process
(bench/engine_worker.py) holding ``test_session`` of its own ``tests/beamline`` (with its own config classes) open
on a Redis of its own; the requests go to both in turn, the order swapped each run, so both see the same machine.
Only the user's API is used (the session as a shell builds it, the scan commands), so the same bench times both
commits. Prints, each as the median of ``runs`` runs with the min-max across them (a ratio is taken within each
run, then its median):

1. ``loopscan(10000, 0, c1, c2, diode)`` in-process, ms per point, saving off and on, and the floor measured in the
   same worker: ``gevent.sleep(0)`` plus the reads of the three counters, per point. Ratios to 88e54a9 (target: at
   most 1) and to the floor (target: 1.3).
2. The same with one CPU-bound process beside it (``python -c "while True: pass"``, killed after): the same ratios.
3. The real shell: ``bliss -s test_session --config <tree>/tests/beamline -c CODE`` (``bliss_shell.shell.cli.main``
   with that tree on PYTHONPATH; the live display on, its output to a file), where CODE times
   ``loopscan(10000, 0, c1, c2, diode)`` with ``time.perf_counter()`` around the call, saving off and on; its ratio
   to the in-process figure of 1 in the same run (target: at most 1.1 with saving on).
4. Fixed cost per scan, in-process: ``ct(0, diode)`` and a saved ``loopscan(1, 0, diode)``, ms per scan; a run's
   figure is the median of 50 after a warm-up (targets: 5 and 10 ms). The saved scans of all runs go to one file,
   as an alignment macro's do: the last run / first run ratio shows a cost that grows with the file.

Before and after: the 1-minute load average, the highest sampled during each block and the other processes' share
(bench/machine.py's ``LoadWatch``); the machine and the versions.

Usage: .venv/bin/python bench/engine_costs.py [runs] [--code DIR] [--write LABEL]

``--code DIR`` times the ``bliss_shell`` of DIR (a clean worktree of HEAD, say) as "this code". ``--write LABEL``
also puts the figures into docs/performance.md, between the markers ``<!-- engine_costs:LABEL -->`` and
``<!-- /engine_costs:LABEL -->`` (``before`` and ``after`` are there). It takes about 2 minutes with the default 7 runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from machine import (
    CORES,
    LoadWatch,
    load_rows,
    machine_facts,
    package_versions,
    private_folder,
    processes_in,
    spread,
    write_between_markers,
)
from worktree import BEFORE, REPO, check_imported, checkout, tree_env

WORKER = str(Path(__file__).resolve().with_name("engine_worker.py"))
DOCS = REPO / "docs" / "performance.md"
NPOINTS = 10_000
REPEATS = 50  # scans per run of a fixed-cost figure
LOOPSCAN = f"loopscan({NPOINTS}, 0, c1, c2, diode)"
# Run by each tree's shell (bliss -c): a short scan first (imports, first nodes: not counted), then one of each.
SHELL_CODE = textwrap.dedent(f"""
    import json, time, bliss_shell
    SCAN_SAVING.base_path = BASE_PATH
    counters = (c1, c2, diode)
    loopscan(100, 0, *counters)
    times = {{}}
    for save in (False, True):
        start = time.perf_counter()
        loopscan({NPOINTS}, 0, *counters, save=save)
        times[str(save)] = (time.perf_counter() - start) / {NPOINTS} * 1e3
    print("RESULT " + json.dumps({{"module": bliss_shell.__file__, "times": times}}), flush=True)
""")
SHELL = "import sys; from bliss_shell.shell.cli import main; sys.exit(main())"


@dataclass
class Worker:
    """One tree's worker process; ``figures`` gathers its values by key, one per run."""

    name: str
    tree: Path
    folder: Path
    process: subprocess.Popen
    redis_url: str = ""
    figures: dict[str, list[float]] = field(default_factory=dict)

    def next_result(self) -> dict:
        for line in self.process.stdout:
            if line.startswith("RESULT "):
                return json.loads(line.split(" ", 1)[1])
        raise RuntimeError(f"the worker of {self.name} ended:\n{(self.folder / 'worker.log').read_text()[-3000:]}")

    def ask(self, key: str, **request: object) -> float:
        """Send ``request``, keep its answer under ``key``."""
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        value = self.next_result()["value"]
        self.figures.setdefault(key, []).append(value)
        return value

    def shell(self, run: int) -> None:
        """One shell process timing the loopscan, saving off and on (keys shell_False, shell_True)."""
        folder = self.folder / f"shell{run}"
        folder.mkdir()
        env = tree_env(self.tree, folder, HOME=str(folder), XDG_RUNTIME_DIR=str(folder), XDG_STATE_HOME=str(folder / "state"),
                       BLISS_REDIS_URL=self.redis_url)  # fmt: skip
        code = SHELL_CODE.replace("BASE_PATH", repr(str(folder / "scans")))
        log = folder / "shell.log"
        with open(log, "w") as output:
            subprocess.run([sys.executable, "-c", SHELL, "-s", "test_session", "--config", str(self.tree / "tests" / "beamline"),
                            "-c", code], env=env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           timeout=300, check=False, cwd=str(folder))  # fmt: skip
        wait_gone(folder)
        results = [line for line in log.read_text().splitlines() if line.startswith("RESULT ")]
        if not results:
            raise RuntimeError(f"the shell of {self.name} gave no RESULT line:\n" + "\n".join(log.read_text().splitlines()[-20:]))
        result = json.loads(results[-1].split(" ", 1)[1])
        check_imported(result["module"], self.tree)
        for save, value in result["times"].items():
            self.figures.setdefault(f"shell_{save}", []).append(value)


def wait_gone(folder: Path, seconds: float = 10.0) -> None:
    """Wait for what a shell or worker left running from ``folder`` to end by itself, ``seconds`` at most.

    The guard of its scan files ends 0.2 s after it; the next figure must not share the machine with it.
    """
    deadline = time.monotonic() + seconds
    while processes_in(folder) and time.monotonic() < deadline:
        time.sleep(0.05)


@contextlib.contextmanager
def worker(name: str, tree: Path) -> Iterator[Worker]:
    """A warm worker of ``tree`` in a private folder; stopped (stdin closed, then killed if need be) afterwards."""
    with private_folder("bse-") as folder, open(folder / "worker.log", "w") as log:
        process = subprocess.Popen([sys.executable, WORKER, str(tree), str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=log, text=True, env=tree_env(tree, folder, HOME=str(folder), XDG_RUNTIME_DIR=str(folder)),
                                   cwd=str(tree))  # fmt: skip
        try:
            found = Worker(name, tree, folder, process)
            first = found.next_result()
            check_imported(first["module"], tree)
            found.redis_url = first["redis_url"]
            yield found
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            wait_gone(folder)


@contextlib.contextmanager
def cpu_hog() -> Iterator[None]:
    """One CPU-bound process beside the bench, killed afterwards."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        hog.kill()
        hog.wait()


def in_turn(workers: Sequence[Worker], run: int) -> Sequence[Worker]:
    """The workers in their order on even runs, reversed on odd ones."""
    return workers if run % 2 == 0 else list(reversed(workers))


def measure(runs: int, code: Path, watch: LoadWatch) -> tuple[Worker, Worker]:
    """Every figure of both trees, block by block; (this code's worker, 88e54a9's)."""
    with checkout(BEFORE) as old_tree, worker("this code", code) as now, worker(BEFORE, old_tree) as before:
        both = (now, before)
        with watch.block("loopscan and shell"):
            for run in range(runs):
                for one in in_turn(both, run):
                    for save in (False, True):
                        one.ask(f"scan_{save}", what="loopscan", npoints=NPOINTS, save=save)
                    one.ask("floor", what="floor", npoints=NPOINTS)
                for one in in_turn(both, run):
                    one.shell(run)
        with watch.block("loopscan beside a CPU-bound process"), cpu_hog():
            for run in range(runs):
                for one in in_turn(both, run):
                    for save in (False, True):
                        one.ask(f"hog_scan_{save}", what="loopscan", npoints=NPOINTS, save=save)
                    one.ask("hog_floor", what="floor", npoints=NPOINTS)
        with watch.block("fixed cost per scan"):
            for run in range(runs):
                for one in in_turn(both, run):
                    one.ask("ct", what="ct", repeats=REPEATS)
                    one.ask("one_point", what="one_point", repeats=REPEATS)
    return now, before


# -- printing ---------------------------------------------------------------------------------------------


def _f(values: Sequence[float], digits: int = 4) -> str:
    median, low, high = spread(values)
    return f"{median:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def ratios(top: Sequence[float], bottom: Sequence[float]) -> list[float]:
    """The ratio of each run (the two lists are the same runs)."""
    return [a / b for a, b in zip(top, bottom, strict=True)]


@dataclass
class Line:
    """A figure of both trees, and the ratios that tell it: (label, values, target)."""

    figure: str
    unit: str
    now: Sequence[float]
    before: Sequence[float]
    checks: list[tuple[str, list[float], str]]


def lines(now: Worker, before: Worker) -> list[Line]:
    n, b = now.figures, before.figures
    found = []
    for prefix, beside in (("", ""), ("hog_", ", one CPU-bound process beside it")):
        for save in (False, True):
            key = f"{prefix}scan_{save}"
            found.append(Line(f"{LOOPSCAN} in-process, saving {'on' if save else 'off'}{beside}", "ms/pt", n[key], b[key], [
                (f"/ {BEFORE}", ratios(n[key], b[key]), "<= 1"),
                ("/ floor", ratios(n[key], n[f"{prefix}floor"]), "1.3"),
                (f"{BEFORE} / its floor", ratios(b[key], b[f"{prefix}floor"]), ""),
            ]))  # fmt: skip
        found.append(Line(f"floor: gevent.sleep(0) + reads of c1, c2, diode{beside}", "ms/pt", n[f"{prefix}floor"],
                          b[f"{prefix}floor"], []))  # fmt: skip
    for save in (False, True):
        key = f"shell_{save}"
        found.append(Line(f"same in the real shell (bliss -c, live display on), saving {'on' if save else 'off'}", "ms/pt",
                          n[key], b[key], [
            ("/ in-process", ratios(n[key], n[f"scan_{save}"]), "<= 1.1" if save else ""),
            (f"{BEFORE}: / in-process", ratios(b[key], b[f"scan_{save}"]), ""),
            (f"/ {BEFORE}", ratios(n[key], b[key]), ""),
        ]))  # fmt: skip
    for key, figure, target in (("ct", "ct(0, diode)", "5"), ("one_point", "loopscan(1, 0, diode), saved", "10")):
        found.append(Line(f"{figure}, in-process, median of {REPEATS} a run", "ms/scan", n[key], b[key], [
            (f"/ {BEFORE}", ratios(n[key], b[key]), ""), (f"target {target} ms: / target", [v / float(target) for v in n[key]], "<= 1"),
            # the runs' scans go to one file, as an alignment macro's: a cost that grows with the file shows here
            ("last run / first run", [n[key][-1] / n[key][0]], ""), (f"{BEFORE}: last run / first run", [b[key][-1] / b[key][0]], ""),
        ]))  # fmt: skip
    return found


def text(found: list[Line], runs: int, code: Path, watch: LoadWatch, started: datetime) -> str:
    """The figures as markdown: facts, a table, the load of each block."""
    digits = lambda unit: 4 if unit == "ms/pt" else 2  # noqa: E731
    out = [f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}; this code: {code}; runs: {runs}, interleaved with {BEFORE}",
           f"- Machine: {machine_facts()}", f"- Versions: {package_versions()}", "",
           f"| figure | this code | {BEFORE} | ratios, each run's, median (min-max) |", "|---|---|---|---|"]  # fmt: skip
    for line in found:
        checks = "; ".join(
            f"{label} {_f(values, 2)}" + (f" (target {target})" if target else "") for label, values, target in line.checks
        )
        out.append(
            f"| {line.figure} | {_f(line.now, digits(line.unit))} {line.unit} | {_f(line.before, digits(line.unit))} | {checks} |"
        )
    out += load_rows(watch, "block")
    out.append(f"\nLoad on {CORES} cores; the CPU-bound process of the second block is this bench's own.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("runs", nargs="?", type=int, default=7)
    parser.add_argument("--code", type=Path, default=REPO, help="the tree whose bliss_shell is 'this code' (default: this one)")
    parser.add_argument("--write", metavar="LABEL", help="also write the figures into docs/performance.md under LABEL")
    args = parser.parse_args()
    started = datetime.now().astimezone()
    with LoadWatch() as watch:
        print(f"1-min load average {os.getloadavg()[0]:.2f} on {CORES} cores at the start", flush=True)
        now, before = measure(args.runs, args.code.resolve(), watch)
        print(f"1-min load average {os.getloadavg()[0]:.2f} at the end", flush=True)
    figures = text(lines(now, before), args.runs, args.code.resolve(), watch, started)
    print(figures)
    if args.write:
        write_between_markers(DOCS, "engine_costs", args.write, figures)
        print(f"\nwritten: {DOCS} ({args.write})")


if __name__ == "__main__":
    main()
