"""Time from `bliss -s SESSION -c pass` to exit, with the servers already up: the fixed cost of a session.

That cost is opening a session: imports, config, Redis connection, lock, setup file. Two sessions:
``test_session`` of tests/beamline (simulated devices only: what every session pays) and ``demo`` of config/
(its Tango devices also load PyTango). Each run times bare python, then each session, one after the other, so
that a change of load hits them alike; the figures are the medians of the runs with their min-max, the CPU time
of the shells (less sensitive to other processes than the wall time), and the machine's 1-minute load average
before the runs and the highest seen during them.

``--against DIR`` (repeatable) times the ``bliss_shell`` of another source tree in the same runs, each with its
own configs, through PYTHONPATH: e.g. a worktree of an older commit (``git worktree add /tmp/old 88e54a9``).

Usage: .venv/bin/python bench/startup.py [runs] [--against DIR ...]

The shells run as a user of their own (HOME, runtime and state folders in a private temporary folder):
the embedded Redis, Tango database and device servers the first one starts are the bench's, stopped
(``bliss servers stop``, then whatever still runs from the folder) and removed afterwards, whatever happened.
Their bytecode goes to a cache in that folder (PYTHONPYCACHEPREFIX), written by the first run of each tree and
session (not counted), as an installed package has it, whatever PYTHONDONTWRITEBYTECODE says.
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from machine import private_folder, spread

BLISS = str(Path(sys.executable).parent / "bliss")
HERE = Path(__file__).resolve().parents[1]  # this source tree
SHELL = "import sys; from bliss_shell.shell.cli import main; sys.exit(main())"  # `bliss` of the tree on PYTHONPATH
SESSIONS = {"test_session": ["--config", "tests/beamline", "-s", "test_session"], "demo": ["-s", "demo"]}


def once(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, float]:
    """Wall and CPU time of ``command``, in ms."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} (in {cwd}) failed, exit status {done.returncode}:\n{done.stderr}")
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall * 1000, (now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime) * 1000


def measure(runs: int, against: list[Path] | None = None) -> dict[str, list[float]]:
    """Each run, in ms: bare python, then ``bliss -s SESSION -c pass`` of each tree and session (servers already up).

    Keys: ``python_ms``; ``startup_ms`` (demo, this tree); ``<tree> <session>_ms`` and ``<tree> <session>_cpu_ms``
    for every tree (``here`` for this one) and session; ``load`` (the 1-minute load average before each run,
    and once after the last).
    """
    trees = {"here": HERE, **{str(tree): tree.resolve() for tree in against or []}}
    with private_folder("bsu-") as folder:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("BLISS_", "XDG_", "TANGO_")) and key not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}  # fmt: skip
        env.update(HOME=str(folder), XDG_RUNTIME_DIR=str(folder), XDG_STATE_HOME=str(folder / "state"),
                   PYTHONPYCACHEPREFIX=str(folder / "bytecode"))  # fmt: skip
        shells = {f"{name} {session}": ([sys.executable, "-c", SHELL, *args, "-c", "pass"], dict(env, PYTHONPATH=str(tree)), tree)
                  for name, tree in trees.items() for session, args in SESSIONS.items()}  # fmt: skip
        figures: dict[str, list[float]] = {"python_ms": [], "load": []}
        try:
            for command, shell_env, cwd in shells.values():  # Redis and the demo's servers start; bytecode written
                once(command, shell_env, cwd)
            for _ in range(runs):
                figures["load"].append(os.getloadavg()[0])
                figures["python_ms"].append(once([sys.executable, "-c", "pass"])[0])
                for label, (command, shell_env, cwd) in shells.items():
                    wall, cpu = once(command, shell_env, cwd)
                    figures.setdefault(f"{label}_ms", []).append(wall)
                    figures.setdefault(f"{label}_cpu_ms", []).append(cpu)
            figures["load"].append(os.getloadavg()[0])
        finally:
            subprocess.run([BLISS, "servers", "stop"], capture_output=True, env=env)
    figures["startup_ms"] = figures["here demo_ms"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="Time bliss -s SESSION -c pass, servers up.")
    parser.add_argument("runs", nargs="?", type=int, default=7)
    parser.add_argument("--against", type=Path, action="append", default=[], metavar="DIR",
                        help="another source tree to time in the same runs")  # fmt: skip
    args = parser.parse_args()
    m = measure(args.runs, args.against)
    python = spread(m["python_ms"])[0]
    load = m["load"]
    rows: list[tuple[str, list[float], list[float] | None]] = [("bare python -c pass (machine floor)", m["python_ms"], None)]
    for key in m:
        if key.endswith("_ms") and not key.endswith("_cpu_ms") and key not in ("python_ms", "startup_ms"):
            tree, session = key.removesuffix("_ms").rsplit(" ", 1)
            rows.append((f"bliss -s {session} -c pass ({tree})", m[key], m[f"{tree} {session}_cpu_ms"]))
    width = max(len(name) for name, _, _ in rows) + 1
    print(f"{args.runs} runs, each tree and session in turn; 1-min load {load[0]:.2f} before, up to {max(load):.2f} during")
    for name, values, cpu in rows:
        wall, low, high = spread(values)
        line = f"{name + ':':{width}} {wall:7.0f} ms median ({low:.0f}-{high:.0f})"
        print(line if cpu is None else f"{line}, CPU {spread(cpu)[0]:.0f} ms, {wall / python:.1f} x bare python")


if __name__ == "__main__":
    main()
