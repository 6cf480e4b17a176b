"""What the live scan display costs a scan: per-point time with and without it, in the same run.

The display is a reader of Redis in the shell's own process, so it competes with the scan for
the process's time. Measured for both of its modes, each the median of several runs:
- table rows: ``ascan(roby, 0, 1, 50, 0, c1, c2, diode)`` eight times (a row per point, every value read back);
- progress bar: ``loopscan(10000, 0, c1, c2, diode)`` (the bar polls one channel's length).
The display writes to /dev/null, so the terminal's own speed is not measured.

Usage: .venv/bin/python bench/display.py [runs]
"""

from scan_publishing import open_session, own_redis  # noqa: I001  (patches gevent first)

import contextlib
import os
import statistics
import sys
import time


from bliss_shell.scanning import current
from bliss_shell.shell.scan_display import shell_display


def per_point(namespace: dict, rows: bool) -> float:
    counters = [namespace[name] for name in ("c1", "c2", "diode")]
    start = time.perf_counter()
    if rows:  # at most 50 fast points get a row each
        for _ in range(8):
            namespace["ascan"](namespace["roby"], 0, 1, 50, 0, *counters, save=False)
        return (time.perf_counter() - start) / 400
    namespace["loopscan"](10_000, 0, *counters, save=False)
    return (time.perf_counter() - start) / 10_000


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    times: dict[tuple[bool, bool], list[float]] = {}
    with own_redis("bsd-") as (folder, _, client):
        namespace = open_session(client, str(folder / "scans"))
        display = shell_display(client)
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for _ in range(runs):  # interleaved, so both see the same machine
                for rows in (True, False):
                    for shown in (False, True):
                        current().watch = display if shown else None
                        times.setdefault((rows, shown), []).append(per_point(namespace, rows))
    for rows, label in ((True, "8 x ascan 50 points, table rows"), (False, "loopscan 10000 points, progress bar")):
        bare, shown = (statistics.median(times[(rows, s)]) * 1e3 for s in (False, True))
        print(f"{label:36}: {shown:.4f} ms per point displayed, {bare:.4f} without (ratio {shown / bare:.2f}; median of {runs})")


if __name__ == "__main__":
    main()
