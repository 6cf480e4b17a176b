"""Time from `bliss -s demo -c pass` to exit, with the embedded Redis already up: the fixed cost of a session.

That cost is opening a session: imports, config, Redis connection, lock, setup file. Prints the median
of several runs. Usage: .venv/bin/python bench/startup.py [runs]

The shells run as a user of their own (HOME, runtime and state folders in a private temporary folder):
the embedded Redis, Tango database and device servers the first one starts are the bench's, stopped
(``bliss servers stop``, then whatever still runs from the folder) and removed afterwards, whatever happened.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import private_folder

BLISS = str(Path(sys.executable).parent / "bliss")


def once(*args: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([BLISS, *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, list[float]]:
    """Each run, in ms: ``bliss -s demo -c pass`` (servers already up) and bare python."""
    with private_folder("bsu-") as folder:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("BLISS_", "XDG_", "TANGO_"))}
        env.update(HOME=str(folder), XDG_RUNTIME_DIR=str(folder), XDG_STATE_HOME=str(folder / "state"))
        try:
            once("-s", "demo", "-c", "pass", env=env)  # starts the embedded Redis and the demo's servers; not counted
            python = [once_python() for _ in range(runs)]
            session = [once("-s", "demo", "-c", "pass", env=env) for _ in range(runs)]
        finally:
            subprocess.run([BLISS, "servers", "stop"], capture_output=True, env=env)
    return {"startup_ms": [t * 1000 for t in session], "python_ms": [t * 1000 for t in python]}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    m = {key: statistics.median(values) for key, values in measure(runs).items()}
    print(f"bare python -c pass (machine floor): {m['python_ms']:7.0f} ms median of {runs}")
    print(f"bliss -s demo -c pass:               {m['startup_ms']:7.0f} ms median of {runs}")
    print(f"ratio to bare python:                {m['startup_ms'] / m['python_ms']:7.1f} x")


def once_python() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
