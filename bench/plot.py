"""Live plots in the browser: how soon a point reaches an open page, long curves, Lima frames, what pages cost a scan.

The benchmark runs a beamline of its own, as ``bench/chain.py`` does (its own Redis, Tango database and
simulator server, in a private folder), a session opened in this process, the session's viewer
(``python -m bliss_shell.plot bench_plot``) and headless Chromium pages driven by selenium. Prints, each as the
median of ``runs`` runs with its min-max spread, and the machine's load:

1. Latency of a point to an open page, ``loopscan(3000, 0.001, diode)`` (``diode``: a Tango counter, as in the
   demo session): a JS hook on ``curve_source`` records when each point index reaches the page
   (``Date.now()``, ``data.x.length``); a reader in another process follows Redis (``walk_on_new_events``)
   and records when each index is complete there (every scalar channel). Page minus Redis per index:
   median and p95 (target: median under 100 ms), and the median over the scan's second half (the first
   points also wait for the page to switch to the new scan: new line renderers, legend, scan list).
2. ``loopscan(1000000, 0, fast_diode, save=False)`` (``fast_diode``: an in-process SimulationDiode; a Tango
   counter would take 7 minutes): how many points the page holds once the scan is over (decimated), how long
   after the scan's end the page said so, and zooms: ``x_range`` set from JS on ``curve_linear`` and its
   ``RangesUpdate`` event triggered (as the zoom tools do), until ``curve_source`` holds every point of the
   window (windows of ``ZOOM_POINTS`` points: full resolution).
3. Lima 2048x2048 uint32 frames (the simulator's ``sim_image_size`` and ``sim_image_type: Bpp32``, set from
   the config as the demo's camera): ``loopscan(FRAMES, FRAME_EXPO, cam, save=False)`` with the Image tab
   shown; distinct frames the page showed per second (a JS hook on the image figure's title, ``frame N``),
   against the scan's own frame rate (target: 10 frames/s or more).
4. ``loopscan(100000, 0, diode)`` with 0 and with 10 open pages (one headless Chromium, ten windows), in
   alternating runs: wall time of each, the ratio of medians (target: at most 1.05), and the CPU seconds each
   process used during the scan (this process runs the scan). Twice: every process free to run on every core
   (the browsers compete with the scan, as on a beamline machine that also shows the pages), then pinned: the
   browsers on CPU 1, the scan, servers, Redis and viewer on CPU 0 (as when the pages are open on other
   machines; both sides of that ratio run on one core). A closed page's session lives on up to 6 s in the
   viewer: each 0-page run starts ``SESSION_LINGER`` after the pages closed.

Pages count their updates: ``/status`` gives sent, confirmed and dropped (an update skipped because the
browser had not confirmed the previous ones); their sums are printed beside each part.

Usage: .venv/bin/python bench/plot.py [runs]    (3 runs: about 40 minutes on 2 cores, most of it part 4)
"""

from gevent import monkey

monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)

import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import selectors  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import numpy as np  # noqa: E402
import tango  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import JavascriptException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from bliss_shell.comm import REDIS_URL_ENV, runtime_dir  # noqa: E402
from bliss_shell.comm.tango_host import TangoDatabase, choose_tango_host  # noqa: E402
from bliss_shell.comm.tango_servers import needed_servers  # noqa: E402
from bliss_shell.config import Config, ConfigRoot  # noqa: E402
from bliss_shell.shell.error_report import ErrorReport  # noqa: E402
from bliss_shell.shell.namespace import session_namespace  # noqa: E402
from machine import spread  # noqa: E402
from scan_publishing import own_redis  # noqa: E402

SESSION = "bench_plot"
LATENCY_POINTS, LATENCY_COUNT_TIME = 3000, 0.001
BIG_POINTS = 1_000_000
ZOOM_POINTS = 10_000  # points in each zoom window (the page sends every point up to 20,000)
ZOOMS = 5  # zoom windows per run, spread over the curve
FRAMES, FRAME_EXPO, FRAME_SIZE = 200, 0.01, 2048
PAGES, PAGES_POINTS = 10, 100_000
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000")  # fmt: skip
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SESSION_LINGER = 10.0  # s: the viewer discards a closed page's session 5 to 6 s after it closed; its refreshes run until then

CONFIG = f"""
- name: bench_plot_devices
  class: TangoServer
  instance: plot_bench
  devices:
    SimCounter: [id00/counter/diode]
    LimaCCDs: [id00/limaccds/cam]
- name: diode
  class: TangoCounter
  tango_url: id00/counter/diode
  distribution: FLAT
  height: 50
  noise: 0.5
- name: fast_diode
  class: SimulationDiode
- name: cam
  class: Lima
  tango_url: id00/limaccds/cam
  sim_image_size: [{FRAME_SIZE}, {FRAME_SIZE}]
  sim_image_type: Bpp32
- name: {SESSION}
  class: Session
"""

# The page's hooks: when curve_source changes, its length (and whether a zoom asked for is there);
# when the image figure's title changes, its text. Installed once per page; ``bench`` is reset between runs.
HELPERS = "const model = (name) => Bokeh.documents[0].get_model_by_name(name);\n"
HOOKS = """
if (!window.bench) {
    window.bench = {curve: [], titles: [], zoom: null};
    const source = model('curve_source');
    const onCurve = () => {
        const x = source.data.x || [];
        const n = x.length, now = Date.now(), zoom = bench.zoom;
        bench.curve.push([now, n]);
        if (zoom && zoom.done === null && n === zoom.expected && x[0] >= zoom.low && x[n - 1] <= zoom.high) zoom.done = now;
    };
    source.connect(source.change, onCurve);  // data replaced
    source.connect(source.streaming, onCurve);  // rows streamed
    const title = model('image').title;
    title.connect(title.change, () => bench.titles.push([Date.now(), title.text]));
}
return true;
"""

# A reader in another process: when each block of each scalar channel of the next scan reaches it.
REDIS_READER = """
import json, os, sys, time
import redis
from bliss_shell.data import EventType, get_session_node
client = redis.Redis.from_url(os.environ["BLISS_REDIS_URL"])
events = get_session_node(sys.argv[1], client).walk_on_new_events()
print("ready", flush=True)
arrivals = []
for event in events:
    if event.type is EventType.NEW_DATA and event.node.type == "channel" and not event.node.shape:
        arrivals.append([event.node.db_name, event.data.first_index, event.data.block_size, time.time()])
    elif event.type is EventType.END_SCAN:
        break
print(json.dumps(arrivals), flush=True)
"""


def _f(values: list[float], digits: int = 1) -> str:
    median, low, high = spread(values)
    return f"{median:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


# -- the bench's own beamline, viewer and browsers -------------------------------------------------------


@dataclass
class Beamline:
    folder: Path
    redis_url: str
    namespace: dict
    pids: dict[str, int]  # the servers' processes, by role


@contextlib.contextmanager
def beamline() -> Iterator[Beamline]:
    """Redis, a Tango database and the simulator server of the bench's own, a session on them; all stopped after."""
    saved_env = {key: os.environ.get(key) for key in ("XDG_RUNTIME_DIR", "TANGO_HOST")}
    tango.ApiUtil.cleanup()  # forget a database another benchmark used in this process (see bench/chain.py)
    with own_redis("bsp-") as (folder, redis_server, client):
        servers = []
        try:
            os.environ["XDG_RUNTIME_DIR"] = str(folder)
            os.environ.pop("TANGO_HOST", None)
            (folder / "beamline").mkdir()
            (folder / "beamline" / "bench_plot.yml").write_text(CONFIG)
            (folder / "beamline" / "__init__.yml").write_text("tango_host: embedded\n")  # our simulators, in our own database
            config = Config([ConfigRoot(folder / "beamline")])
            servers = needed_servers(config, config.get(SESSION).object_names())
            choice = choose_tango_host(config.globals.get("tango_host"))  # the embedded one: set as TANGO_HOST
            choice.export()
            host = choice.resolve()
            for server in servers:
                server.start(host)
            session = config.get(SESSION)
            namespace = session_namespace(session, client, ErrorReport())
            session.setup(namespace, on_error=print, verbose=False)
            namespace["SCAN_SAVING"].base_path = str(folder / "scans")
            pids = {
                "Tango server": servers[0].pid(),
                "Tango database": TangoDatabase(runtime_dir()).pid,
                "Redis": redis_server.pid(),
            }
            yield Beamline(folder, redis_server.url, namespace, pids)  # type: ignore[arg-type]
        finally:
            for server in servers:
                server.stop()
            TangoDatabase(runtime_dir()).stop()
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@dataclass
class ViewerProcess:
    url: str
    process: subprocess.Popen

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "status", timeout=5) as answer:
            return json.loads(answer.read())

    def counts(self, scan: str | None = None) -> tuple[int, int, int]:
        """sent, confirmed, dropped, summed over the pages (those showing ``scan`` only, when given)."""
        pages = [p for p in self.status()["pages"] if scan is None or p["scan"] == scan]
        return tuple(sum(p[key] for p in pages) for key in ("sent", "confirmed", "dropped"))  # type: ignore[return-value]


@contextlib.contextmanager
def viewer(line: Beamline) -> Iterator[ViewerProcess]:
    """The session's viewer, started as ``flint()`` starts it (its own process); stopped afterwards."""
    log = open(line.folder / "viewer.log", "ab")  # noqa: SIM115  (the viewer's output while it runs)
    process = subprocess.Popen([sys.executable, "-m", "bliss_shell.plot", SESSION, "--address", "127.0.0.1"],
                               env={**os.environ, REDIS_URL_ENV: line.redis_url}, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=log)  # fmt: skip
    try:
        url = _viewer_url(process, line.folder / "viewer.log")
        yield ViewerProcess(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _viewer_url(process: subprocess.Popen, log: Path, timeout: float = 60.0) -> str:
    """The ``url: ...`` line the viewer prints once it listens."""
    assert process.stdout is not None
    out = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"url: " not in out or not out.endswith(b"\n"):
            if time.monotonic() > deadline or not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                raise RuntimeError(f"the viewer did not start: {out!r}; {log.read_text()[-2000:]}")
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the viewer exited: {out!r}; {log.read_text()[-2000:]}")
            out += chunk
    return next(line[5:] for line in out.decode().splitlines() if line.startswith("url: "))


class Browser:
    """A headless Chromium (chromedriver and its browser) with ``windows`` windows, one page each."""

    def __init__(self, folder: Path, windows: int = 1):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=folder)}"):
            options.add_argument(flag)
        self.service = Service(CHROMEDRIVER)
        self.driver = webdriver.Chrome(service=self.service, options=options)
        try:
            self.handles = [self.driver.current_window_handle]
            for _ in range(windows - 1):
                self.driver.switch_to.new_window("window")
                self.handles.append(self.driver.current_window_handle)
        except WebDriverException:
            self.close()
            raise

    def open(self, url: str) -> None:
        """The viewer's page in every window, hooks installed."""
        for handle in self.handles:
            self.driver.switch_to.window(handle)
            self.driver.get(url)
            self.wait("window.Bokeh && Bokeh.documents.length > 0 && model('curve_source') !== null && model('image') !== null",
                      "the page to load")  # fmt: skip
            self.driver.execute_script(HELPERS + HOOKS)

    def blank(self) -> None:
        """Every window away from the viewer (its pages closed)."""
        for handle in self.handles:
            self.driver.switch_to.window(handle)
            self.driver.get("about:blank")

    def js(self, code: str) -> Any:
        """Run ``code`` (a function body; ``model(name)`` defined) in the current window's page."""
        return self.driver.execute_script(HELPERS + code)

    def wait(self, expression: str, what: str, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.js(f"return ({expression});")
            except JavascriptException as error:
                last = error.msg
            else:
                if last:
                    return last
            time.sleep(0.05)
        raise RuntimeError(f"the page did not show {what} within {timeout:g} s; last: {str(last)[:300]}")

    def pids(self) -> list[int]:
        """Chromedriver and every process under it (the browser, its renderers)."""
        return descendants(self.service.process.pid)

    def close(self) -> None:
        survivors = self.pids()
        try:
            self.driver.quit()
        except WebDriverException:
            pass
        for pid in survivors:  # whatever quit left behind
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/exe").resolve().name in ("chromium", "chromedriver"):
                    os.kill(pid, 9)


@contextlib.contextmanager
def browser(folder: Path, windows: int = 1) -> Iterator[Browser]:
    opened = Browser(folder, windows)
    try:
        yield opened
    finally:
        opened.close()


# -- processes' CPU time ---------------------------------------------------------------------------------


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def descendants(root: int) -> list[int]:
    """``root`` and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (parent := _parent(int(entry))) is not None:
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (those gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / CLOCK_TICKS


# -- 1. latency of a point to a page ---------------------------------------------------------------------


def reset_hooks(page: Browser) -> None:
    page.js("bench.curve = []; bench.titles = []; bench.zoom = null;")


def index_times(log: list[list[float]], npoints: int) -> np.ndarray:
    """Seconds at which each index first reached the page, from (ms, length) records since the last empty one."""
    times = np.full(npoints, np.nan)
    lengths = [length for _, length in log]
    start = len(lengths) - lengths[::-1].index(0) if 0 in lengths else 0
    done = 0
    for stamp, length in log[start:]:
        length = min(int(length), npoints)
        if length > done:
            times[done:length] = stamp / 1e3
            done = length
    return times


def redis_times(arrivals: list[list[Any]], npoints: int) -> np.ndarray:
    """Seconds at which each index was complete in Redis (its last scalar channel had it)."""
    by_channel: dict[str, np.ndarray] = {}
    for name, first, size, stamp in arrivals:
        times = by_channel.setdefault(name, np.full(npoints, np.nan))
        times[first : first + size] = stamp
    return np.max(np.vstack(list(by_channel.values())), axis=0)


def start_redis_reader(line: Beamline) -> subprocess.Popen:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), REDIS_URL_ENV: line.redis_url}
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(REDIS_READER), SESSION], env=env,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert reader.stdout is not None
    if reader.stdout.readline().strip() != "ready":
        raise RuntimeError("the Redis reader did not start")
    time.sleep(1.0)  # its walk has taken its starting point
    return reader


def latency_run(line: Beamline, page: Browser) -> dict[str, float]:
    """Page minus Redis time per index of one loopscan at 1 kHz: median and p95 in ms, and the scan's rate."""
    reset_hooks(page)
    reader = start_redis_reader(line)
    try:
        start = time.perf_counter()
        line.namespace["loopscan"](LATENCY_POINTS, LATENCY_COUNT_TIME, line.namespace["diode"])
        wall = time.perf_counter() - start
        out, _ = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    page.wait(f"model('curve_source').data.x.length >= {LATENCY_POINTS}", "every point")
    in_page = index_times(page.js("return bench.curve;"), LATENCY_POINTS)
    in_redis = redis_times(json.loads(out.strip().splitlines()[-1]), LATENCY_POINTS)
    delays = (in_page - in_redis) * 1e3
    return {"median_ms": float(np.nanmedian(delays)), "p95_ms": float(np.nanpercentile(delays, 95)),
            "max_ms": float(np.nanmax(delays)), "second_half_ms": float(np.nanmedian(delays[LATENCY_POINTS // 2 :])),
            "rate_hz": LATENCY_POINTS / wall}  # fmt: skip


# -- 2. a million points, and zooms ----------------------------------------------------------------------


def big_curve_run(line: Beamline, page: Browser) -> dict[str, float]:
    """Points the page holds after a 1,000,000-point scan, how long after the scan it said so, zoom times."""
    reset_hooks(page)
    start = time.perf_counter()
    scan = line.namespace["loopscan"](BIG_POINTS, 0, line.namespace["fast_diode"], save=False)
    ended = time.perf_counter()
    page.wait(f"model('status').text.includes(': done, {BIG_POINTS}/{BIG_POINTS} points')", "the scan done", timeout=300)
    caught_up = time.perf_counter() - ended
    time.sleep(1.0)  # a last redraw would come with the status; make sure none is on its way
    held = page.js("return model('curve_source').data.x.length;")
    x = scan.get_data()["elapsed_time"]
    zooms = [zoom(page, x, int(where * (BIG_POINTS - ZOOM_POINTS))) for where in np.linspace(0.1, 0.9, ZOOMS)]
    return {"scan_s": ended - start, "caught_up_s": caught_up, "held": held, "zoom_ms": statistics.median(zooms)}


def zoom(page: Browser, x: np.ndarray, first: int) -> float:
    """Milliseconds from setting the x range of curve_linear to the window's ZOOM_POINTS points in curve_source."""
    low, high = float(x[first]), float(x[first + ZOOM_POINTS - 1])
    expected = int(np.count_nonzero((x >= low) & (x <= high)))
    page.js(f"""
        const plot = model('curve_linear');
        bench.zoom = {{low: {low!r}, high: {high!r}, expected: {expected}, t0: Date.now(), done: null}};
        plot.x_range.setv({{start: {low!r}, end: {high!r}}});
        Bokeh.index.find_one(plot).trigger_ranges_update_event();  // what the zoom tools do when they end
    """)
    page.wait("bench.zoom.done !== null", f"the zoomed window ({expected} points)", timeout=60)
    return page.js("return bench.zoom.done - bench.zoom.t0;")


# -- 3. Lima frames --------------------------------------------------------------------------------------


def frames_run(line: Beamline, page: Browser) -> dict[str, float]:
    """Distinct frames per second the page showed during a Lima scan, and the scan's own frame rate."""
    reset_hooks(page)
    show_tab(page, "Image")  # as a user watching frames has it
    start = time.time()
    line.namespace["loopscan"](FRAMES, FRAME_EXPO, line.namespace["cam"], save=False)
    end = time.time()
    page.wait(f"model('image').title.text == 'frame {FRAMES - 1}'", "the last frame", timeout=60)
    titles = page.js("return bench.titles;")
    show_tab(page, "Curves")
    during = [(stamp / 1e3, text) for stamp, text in titles if start <= stamp / 1e3 <= end and text.startswith("frame ")]
    shown = len({text for _, text in during})
    return {"page_fps": shown / (end - start), "scan_fps": FRAMES / (end - start), "shown": shown}


def show_tab(page: Browser, title: str) -> None:
    page.js(f"const tabs = model('tabs'); tabs.active = tabs.tabs.findIndex((tab) => tab.title == '{title}');")


# -- 4. what ten pages cost a scan -----------------------------------------------------------------------


def pages_run(line: Beamline, view: ViewerProcess, pages: Browser, count: int) -> dict[str, float]:
    """Wall time of loopscan(PAGES_POINTS, 0, diode), the CPU seconds of each process during it, and the pages' updates.

    The updates, with pages open, are summed over the pages that showed this scan.
    """
    groups = {"scan (this process)": [os.getpid()], "viewer": [view.process.pid],
              **{role: [pid] for role, pid in line.pids.items()}, "Chromium": pages.pids()}  # fmt: skip
    before = {role: cpu_seconds(pids) for role, pids in groups.items()}
    start = time.perf_counter()
    scan = line.namespace["loopscan"](PAGES_POINTS, 0, line.namespace["diode"])
    figures = {"wall_s": time.perf_counter() - start}
    figures.update({f"cpu {role}": cpu_seconds(pids) - before[role] for role, pids in groups.items()})
    if count:
        figures.update(zip(("sent", "confirmed", "dropped"), view.counts(scan.node.db_name)))
    return figures


def pages_cost(line: Beamline, view: ViewerProcess, runs: int, pinned: bool) -> Iterator[tuple[int, dict[str, float]]]:
    """(pages open, figures) of ``runs`` scans with 0 and with PAGES pages, alternating.

    ``pinned``: the browsers on CPU 1, everything else (scan, servers, Redis, viewer) on CPU 0, as when the
    browsers run on other machines.
    """
    scan_side = [os.getpid(), view.process.pid, *line.pids.values()]
    with browser(line.folder, PAGES) as pages:
        if pinned:
            pin(scan_side, {0})
            pin(pages.pids(), {1})  # the renderers the browser starts later inherit it
        try:
            for _ in range(runs):
                for count in (0, PAGES):
                    if count:
                        pages.open(view.url)
                    yield count, pages_run(line, view, pages, count)
                    if count:
                        pages.blank()
                        time.sleep(SESSION_LINGER)  # until the viewer has discarded the closed pages
        finally:
            pin(scan_side, set(range(os.cpu_count() or 1)))


def pin(pids: list[int], cpus: set[int]) -> None:
    """Every thread of the processes onto ``cpus``."""
    for pid in pids:
        for task in os.listdir(f"/proc/{pid}/task") if os.path.exists(f"/proc/{pid}/task") else []:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(int(task), cpus)


# -- all of it -------------------------------------------------------------------------------------------


def measure(runs: int) -> Iterator[tuple[str, dict[str, list[float]]]]:
    """(part, every run's figures by key), each part as soon as it is measured."""
    with beamline() as line, viewer(line) as view:
        with browser(line.folder) as page:
            page.open(view.url)
            for part, run in (("latency", latency_run), ("big", big_curve_run), ("frames", frames_run)):
                before = view.counts()
                figures = collect(run(line, page) for _ in range(runs))
                figures.update(zip(("sent", "confirmed", "dropped"), ([n] for n in np.subtract(view.counts(), before))))
                yield part, figures
            page.blank()
        time.sleep(SESSION_LINGER)
        for pinned in (False, True) if (os.cpu_count() or 1) >= 2 else (False,):
            runs_of = list(pages_cost(line, view, runs, pinned))
            yield (
                "pinned" if pinned else "shared",
                {
                    **{f"0 {key}": values for key, values in collect(f for count, f in runs_of if not count).items()},
                    **{f"{PAGES} {key}": values for key, values in collect(f for count, f in runs_of if count).items()},
                },
            )


def collect(runs: Iterable[dict[str, float]]) -> dict[str, list[float]]:
    """Each key's values over the runs."""
    figures: dict[str, list[float]] = {}
    for run in runs:
        for key, value in run.items():
            figures.setdefault(key, []).append(value)
    return figures


def print_latency(lat: dict[str, list[float]]) -> None:
    print(f"\n1. loopscan({LATENCY_POINTS}, {LATENCY_COUNT_TIME}, diode), one page: point in the page minus point in Redis")
    print(f"   median {_f(lat['median_ms'])} ms (target < 100), p95 {_f(lat['p95_ms'])} ms, max {_f(lat['max_ms'])} ms")
    print(f"   median over the scan's second half (the page long past its switch to the new scan): {_f(lat['second_half_ms'])} ms; "
          f"the scan ran at {_f(lat['rate_hz'], 0)} points/s (whole command)")  # fmt: skip
    print_updates(lat)


def print_big(big: dict[str, list[float]]) -> None:
    print(f"\n2. loopscan({BIG_POINTS}, 0, fast_diode, save=False), one page")
    print(f"   scan {_f(big['scan_s'], 2)} s; the page said done {_f(big['caught_up_s'], 2)} s after the scan's end; "
          f"it holds {_f(big['held'], 0)} points (decimated)")  # fmt: skip
    print(f"   zoom to {ZOOM_POINTS} points (median of {ZOOMS} windows per run), x range set to every point in "
          f"curve_source: {_f(big['zoom_ms'])} ms")  # fmt: skip
    print_updates(big)


def print_frames(fr: dict[str, list[float]]) -> None:
    print(f"\n3. loopscan({FRAMES}, {FRAME_EXPO}, cam, save=False), {FRAME_SIZE}x{FRAME_SIZE} uint32, Image tab shown")
    print(f"   distinct frames the page showed: {_f(fr['page_fps'])} frames/s (target >= 10); {_f(fr['shown'], 0)} of "
          f"{FRAMES}; the scan's own rate {_f(fr['scan_fps'])} frames/s")  # fmt: skip
    print_updates(fr)


def print_updates(figures: dict[str, list[float]]) -> None:
    sent, confirmed, dropped = (figures[key][0] for key in ("sent", "confirmed", "dropped"))
    print(f"   the page's updates over the runs: sent {sent:.0f}, confirmed {confirmed:.0f}, dropped {dropped:.0f}")


def print_pages_cost(m: dict[str, list[float]], label: str) -> None:
    none, ten = (statistics.median(m[f"{count} wall_s"]) for count in (0, PAGES))
    print(f"   {label}: wall with 0 pages {_f(m['0 wall_s'], 2)} s, with {PAGES} pages {_f(m[f'{PAGES} wall_s'], 2)} s; "
          f"ratio of medians {ten / none:.3f} (target <= 1.05)")  # fmt: skip
    print(f"      CPU seconds during the scan, 0 pages / {PAGES} pages:")
    for key in (k[2:] for k in m if k.startswith("0 cpu ")):
        print(f"        {key[4:]:20} {_f(m[f'0 {key}'], 2):>20} / {_f(m[f'{PAGES} {key}'], 2)}")
    print(f"      page updates per run, summed over the {PAGES} pages: sent {_f(m[f'{PAGES} sent'], 0)}, confirmed "
          f"{_f(m[f'{PAGES} confirmed'], 0)}, dropped {_f(m[f'{PAGES} dropped'], 0)}")  # fmt: skip


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    main_greenlet = gevent.getcurrent()  # SIGTERM: stop what the bench started (the finally blocks), then end
    gevent.signal_handler(signal.SIGTERM, lambda: main_greenlet.throw(SystemExit(128 + signal.SIGTERM)))
    print(f"Medians of {runs} runs, (min-max) across runs, on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}.",
          flush=True)  # fmt: skip
    printers = {"latency": print_latency, "big": print_big, "frames": print_frames}
    for part, figures in measure(runs):
        if part in printers:
            printers[part](figures)
        else:
            if part == "shared":
                print(
                    f"\n4. loopscan({PAGES_POINTS}, 0, diode), 0 and {PAGES} open pages (one Chromium, {PAGES} windows), alternating"
                )
            print_pages_cost(figures, "every process on any core" if part == "shared" else "browsers on CPU 1, the rest on CPU 0")
        print(f"   (load average {os.getloadavg()[0]:.2f} after this part)", flush=True)


if __name__ == "__main__":
    main()
