"""The shell's own per-point time, as a user meets it, beside the in-process figure of bench/scan_publishing.py.

``loopscan(10000, 0, c1, c2, diode)``, saving off and on, timed three ways, the same number of runs each:
- in a real shell: ``bliss -s test_session --config tests/beamline -c CODE`` (the live display on; its output
  to a file, so no terminal is measured), on a Redis and in folders of the bench's own;
- in this process with the live display on (``bench/display.py``'s way: the shell's ``ScanTable`` follows Redis);
- in this process with the display off: what ``bench/scan_publishing.py`` measures for docs/performance.md.

Usage: .venv/bin/python bench/shell.py [runs]
"""

from scan_publishing import BEAMLINE, NPOINTS, open_session, own_redis  # noqa: I001  (patches gevent first)

import contextlib
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time

from bliss_shell.scanning import consumers, current
from bliss_shell.shell.scan_display import shell_display
from startup import BLISS

COUNTERS = ("c1", "c2", "diode")
# Run by the shell (``bliss -c``): a first short scan (imports, first nodes: not counted), then RUNS rounds.
SHELL_CODE = textwrap.dedent(f"""
    import json, time
    SCAN_SAVING.base_path = BASE_PATH
    counters = {", ".join(COUNTERS)}
    loopscan(100, 0, *counters)
    times = {{"False": [], "True": []}}
    for _ in range(RUNS):
        for save in (False, True):
            start = time.perf_counter()
            loopscan({NPOINTS}, 0, *counters, save=save)
            times[str(save)].append((time.perf_counter() - start) / {NPOINTS} * 1e3)
    print("RESULT " + json.dumps(times), flush=True)
""")


def in_shell(server_url: str, folder, runs: int) -> dict[str, list[float]]:
    """Ms per point of each run in a ``bliss -c`` process (display on), saving off and on."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BLISS_", "XDG_", "TANGO_"))}
    env.update(HOME=str(folder), XDG_RUNTIME_DIR=str(folder), XDG_STATE_HOME=str(folder / "state"), BLISS_REDIS_URL=server_url)
    code = SHELL_CODE.replace("BASE_PATH", repr(str(folder / "shell_scans"))).replace("RUNS", str(runs))
    log = folder / "shell.log"
    with open(log, "w") as output:
        subprocess.run([BLISS, "-s", "test_session", "--config", str(BEAMLINE), "-c", code], env=env, stdout=output,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=600, check=False)  # fmt: skip
    results = [line for line in log.read_text().splitlines() if line.startswith("RESULT ")]
    if not results:
        raise RuntimeError("the shell gave no RESULT line:\n" + "\n".join(log.read_text().splitlines()[-20:]))
    times = json.loads(results[-1].split(" ", 1)[1])
    return times


def in_process(namespace: dict, client, runs: int, display: bool) -> dict[str, list[float]]:
    """Ms per point of each run in this process, the live display on or off, saving off and on (keys False, True).

    With the display, also the ms each scan's end waited for it (``DisplayConsumer.end``: wait_False, wait_True).
    """
    counters = [namespace[name] for name in COUNTERS]
    current().watch = shell_display(client) if display else None
    times: dict[str, list[float]] = {}
    waits: list[float] = []
    shown = consumers.DisplayConsumer.end

    def timed_end(self: consumers.DisplayConsumer, ending: consumers.Ending) -> None:
        start = time.perf_counter()
        try:
            shown(self, ending)
        finally:
            waits.append((time.perf_counter() - start) * 1e3)

    consumers.DisplayConsumer.end = timed_end  # type: ignore[method-assign]
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            namespace["loopscan"](100, 0, *counters)
            for _ in range(runs):
                for save in (False, True):
                    start = time.perf_counter()
                    namespace["loopscan"](NPOINTS, 0, *counters, save=save)
                    times.setdefault(str(save), []).append((time.perf_counter() - start) / NPOINTS * 1e3)
                    if display:
                        times.setdefault(f"wait_{save}", []).append(waits[-1])
    finally:
        current().watch = None
        consumers.DisplayConsumer.end = shown  # type: ignore[method-assign]
    return times


def measure(runs: int) -> dict[str, list[float]]:
    """Ms per point of each run: ``{where}_{save}_ms`` for where in shell, display (in-process), bench.

    And ``display_wait_{save}_ms``: what each scan's end waited for the display, in ms per scan.
    """
    with own_redis("bsh-") as (folder, server, client):
        shell = in_shell(server.url, folder, runs)
        namespace = open_session(client, str(folder / "scans"))
        shown = in_process(namespace, client, runs, display=True)
        bench = in_process(namespace, client, runs, display=False)
    found = {f"{where}_{save}_ms": times[str(save)] for where, times in (("shell", shell), ("display", shown), ("bench", bench))
             for save in (False, True)}  # fmt: skip
    return found | {f"display_wait_{save}_ms": shown[f"wait_{save}"] for save in (False, True)}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    m = measure(runs)
    for save in (False, True):
        label = "saving on " if save else "saving off"
        cells = [f"{where} {statistics.median(m[f'{where}_{save}_ms']):.4f} ({min(m[f'{where}_{save}_ms']):.4f}-"
                 f"{max(m[f'{where}_{save}_ms']):.4f})" for where in ("shell", "display", "bench")]  # fmt: skip
        print(f"loopscan({NPOINTS}, 0, c1, c2, diode), {label}, ms per point, median (min-max) of {runs}: " + "; ".join(cells))
        print(
            f"   the scan's end waiting for the live display: {statistics.median(m[f'display_wait_{save}_ms']):.1f} ms per scan"
        )


if __name__ == "__main__":
    main()
