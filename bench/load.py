"""Ten reader processes following a 100,000-point loopscan: the scan's per-point time with and without them.

The target is at most 20% more with them; each reader also checks that it saw every point once.

Each run is a fresh scan; readers are started and listening before it. Medians of several runs,
the two cases interleaved so both see the same machine.

Usage: .venv/bin/python bench/load.py [runs]
"""

from scan_publishing import open_session, own_redis  # noqa: I001  (patches gevent first)

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


FOLLOWER = str(Path(__file__).resolve().parents[1] / "tests" / "follow_points.py")
NPOINTS = 100_000
READERS = 10


def one_scan(namespace: dict, scan_name: str, env: dict[str, str], readers: int) -> tuple[float, bool]:
    """Per-point time of one loopscan, and whether every reader saw every point once, in order."""
    followers: list[subprocess.Popen] = []
    try:
        for _ in range(readers):
            followers.append(subprocess.Popen([sys.executable, FOLLOWER, "test_session", scan_name], env=env,
                                              stdout=subprocess.PIPE, text=True))  # fmt: skip
        for follower in followers:
            follower.stdout.readline()  # "ready"
        time.sleep(0.5)  # the readers block in their first XREAD
        start = time.perf_counter()
        namespace["loopscan"](NPOINTS, 0, namespace["c1"], namespace["c2"], save=False)
        per_point = (time.perf_counter() - start) / NPOINTS
        results = [json.loads(follower.communicate(timeout=300)[0]) for follower in followers]
    finally:
        for follower in followers:  # an error above: a reader would wait for the scan's end forever
            if follower.poll() is None:
                follower.kill()
                follower.wait()
    whole = all(r["in_order"] and set(r["counts"].values()) == {NPOINTS} for r in results)
    return per_point, whole


def measure(runs: int) -> dict[str, list[float]]:
    """Ms per point alone and with the readers, each run; whether every reader saw every point in every run."""
    times: dict[int, list[float]] = {0: [], READERS: []}
    complete = True
    with own_redis("bsl-") as (folder, server, client):
        env = dict(os.environ, BLISS_REDIS_URL=server.url)
        namespace = open_session(client, str(folder / "scans"))
        number = 0
        for _ in range(runs):
            for readers in (0, READERS):
                number += 1
                per_point, whole = one_scan(namespace, f"_{number}_loopscan", env, readers)
                times[readers].append(per_point)
                complete &= whole
    return {"alone_ms": [t * 1e3 for t in times[0]], "readers_ms": [t * 1e3 for t in times[READERS]],
            "complete": [float(complete)]}  # fmt: skip


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    m = {key: statistics.median(values) for key, values in measure(runs).items()}
    print(f"loopscan({NPOINTS}, 0, c1, c2), no reader:        {m['alone_ms']:.4f} ms per point (median of {runs})")
    print(f"same, {READERS} reader processes following:  {m['readers_ms']:.4f} ms per point "
          f"(ratio {m['readers_ms'] / m['alone_ms']:.2f}; target <= 1.20)")  # fmt: skip
    print(f"every reader saw every point once, in order: {'yes' if m['complete'] else 'NO'}")


if __name__ == "__main__":
    main()
