"""Time from `bliss -s demo -c pass` to exit, with the embedded Redis already up: the fixed cost
of opening a session (imports, config, Redis connection, lock, setup file). Prints the median of
several runs. Usage: .venv/bin/python bench/startup.py [runs]
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

BLISS = str(Path(sys.executable).parent / "bliss")


def once(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([BLISS, *args], check=True, capture_output=True)
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, float]:
    """Medians of ``runs``, in ms: ``bliss -s demo -c pass`` (servers already up) and bare python."""
    once("-s", "demo", "-c", "pass")  # starts the embedded Redis and the demo's servers if needed; not counted
    python = statistics.median(once_python() for _ in range(runs))
    session = statistics.median(once("-s", "demo", "-c", "pass") for _ in range(runs))
    return {"startup_ms": session * 1000, "python_ms": python * 1000}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    m = measure(runs)
    print(f"bare python -c pass (machine floor): {m['python_ms']:7.0f} ms median of {runs}")
    print(f"bliss -s demo -c pass:               {m['startup_ms']:7.0f} ms median of {runs}")
    print(f"ratio to bare python:                {m['startup_ms'] / m['python_ms']:7.1f} x")


def once_python() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
