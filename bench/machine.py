"""What the benchmarks need from the machine: private folders whose servers never outlive them, and the load.

- ``private_folder``: a temporary folder of the bench's own; whatever still runs from it when the ``with`` ends
  (a Redis, a Tango database, device servers, browsers: daemons in sessions of their own) is stopped, then the
  folder is removed, whatever happened (an exception, Ctrl-C).
- ``LoadWatch``: a thread sampling, every second, ``os.getloadavg()`` and the CPU of the whole machine, of this
  process and of what it started. ``block(name)`` gives a block of measurements the load before it, the highest
  during it, and the part of both that is not the bench's own; ``busy`` says why a block's figures are suspect
  (other processes' load above ``BUSY_PER_CORE`` per core before it, or their CPU above half that during it).
- ``spread``: the median, min and max of a figure's runs.
- ``machine_facts``, ``package_versions``: what the figures were measured on.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import signal
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

BUSY_PER_CORE = 0.5  # other processes' 1-minute load average per core above which a block's figures are suspect
CORES = os.cpu_count() or 1
_TICK = os.sysconf("SC_CLK_TCK")
_FOLDERS: list[Path] = []  # the bench's private folders: a process working there is the bench's


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """Median, min, max."""
    return statistics.median(values), min(values), max(values)


def machine_facts() -> str:
    """Host name, cores, CPU model and kernel, e.g. ``vm: 2 cores (AMD EPYC), Linux 6.18.44``."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{platform.node()}: {os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}"


def package_versions() -> str:
    """Python's version and the installed versions of the packages the figures depend on."""
    packages = ", ".join(f"{name} {version(name)}" for name in ("bliss_shell", "gevent", "redis", "h5py", "pytango", "numpy"))
    return f"Python {platform.python_version()}, {packages}"


# -- processes -------------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _works_in(pid: int, folders: Sequence[Path]) -> bool:
    """Whether process ``pid`` runs in one of ``folders`` (its working directory) or names one on its command line."""
    names = [str(folder) for folder in folders]

    def inside(text: str) -> bool:
        return any(text == name or f"{name}/" in text or text.endswith(name) for name in names)

    with contextlib.suppress(OSError):
        if inside(os.readlink(f"/proc/{pid}/cwd")):
            return True
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return any(inside(argument) for argument in cmdline.read().decode(errors="replace").split("\0"))
    return False


def _own_processes() -> dict[int, float]:
    """CPU seconds by pid of this process, its descendants and the processes working in the bench's folders."""
    stats = {int(entry): found for entry in os.listdir("/proc") if entry.isdigit() and (found := _stat(int(entry)))}
    own, children = {os.getpid()}, {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    todo = [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            own.add(child)
            todo.append(child)
    folders = list(_FOLDERS)
    if folders:
        own |= {pid for pid in stats if pid not in own and _works_in(pid, folders)}
    return {pid: stats[pid][1] for pid in own if pid in stats}


def processes_in(folder: Path) -> list[int]:
    """The processes of this user that work in ``folder`` or name it on their command line (never this one)."""
    uid, found = os.getuid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid and _works_in(int(entry), [folder]):
                    found.append(int(entry))
    return found


def stop_processes_in(folder: Path, timeout: float = 10.0) -> list[int]:
    """SIGTERM what still runs from ``folder``, SIGKILL what is left after ``timeout``; the pids found."""
    found = processes_in(folder)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while any(_stat(pid) for pid in found) and time.monotonic() < deadline:
            for pid in found:  # our own children must be reaped to go
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
    return found


def kill_children() -> None:
    """SIGKILL what this process started and left running (reader processes of a run that failed)."""
    own = os.getpid()
    for pid, (parent, _) in {int(e): s for e in os.listdir("/proc") if e.isdigit() and (s := _stat(int(e)))}.items():
        if parent == own:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


@contextlib.contextmanager
def private_folder(prefix: str) -> Iterator[Path]:
    """A folder of the bench's own in the temporary folder (mode 700; short, for unix sockets).

    Afterwards, whatever happened: what still runs from it is stopped (with a line saying so), and it is removed.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    _FOLDERS.append(folder)
    try:
        folder.chmod(0o700)
        yield folder
    finally:
        try:
            left = stop_processes_in(folder)
            if left:
                print(f"(stopped {len(left)} process(es) still running from {folder}: pids {left})", flush=True)
        finally:
            _FOLDERS.remove(folder)
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def saved_environ(*keys: str) -> Iterator[None]:
    """``os.environ[key]`` of each key as it was before the ``with``, restored (or removed) after it."""
    saved = {key: os.environ.get(key) for key in keys}
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# -- load ------------------------------------------------------------------------------------------------


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK


@dataclass
class Block:
    """The load of one block of measurements.

    ``others``: the load average less the bench's own share (its CPU, averaged as the kernel averages the
    load); ``other_cpu``: the cores other processes kept busy.
    """

    name: str
    load_before: float
    others_before: float
    load_max: float = 0.0
    others_max: float = 0.0
    seconds: float = 0.0
    other_cpu: list[float] = field(default_factory=list)

    @property
    def busy(self) -> str | None:
        """Why the block's figures are suspect: other processes' load before it, or their CPU during it.

        Not the load during a block: it counts the bench's own queued processes (its reader processes, say) as well.
        """
        limit = BUSY_PER_CORE * CORES
        if self.others_before > limit:
            return f"other processes' load {self.others_before:.2f} before it (limit {limit:.2f} on {CORES} cores)"
        if self.other_cpu and statistics.mean(self.other_cpu) > limit / 2:
            return (f"other processes kept {statistics.mean(self.other_cpu):.2f} cores busy during it "
                    f"(limit {limit / 2:.2f})")  # fmt: skip
        return None

    def summary(self) -> str:
        cpu = f"{statistics.mean(self.other_cpu):.2f}" if self.other_cpu else "n/a"
        return (f"1-min load {self.load_before:.2f} before, up to {self.load_max:.2f} during; of it not the bench's: "
                f"{self.others_before:.2f}, up to {self.others_max:.2f}; other processes' CPU {cpu} cores")  # fmt: skip


class LoadWatch:
    """Samples the load every ``period`` s in a thread of its own (real: gevent leaves threads unpatched)."""

    def __init__(self, period: float = 1.0):
        self.period = period
        self.blocks: list[Block] = []
        self._current: Block | None = None
        self._own_load = 0.0  # the bench's CPU, in cores, averaged over a minute as the kernel averages the load
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="load-watch", daemon=True)

    def __enter__(self) -> LoadWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def others(self) -> float:
        return max(0.0, os.getloadavg()[0] - self._own_load)

    def _run(self) -> None:
        last, machine, stamp = _own_processes(), _machine_busy(), time.monotonic()
        decay = math.exp(-self.period / 60.0)
        while not self._stop.wait(self.period):
            own, busy, now = _own_processes(), _machine_busy(), time.monotonic()
            own_cpu = sum(cpu - last.get(pid, 0.0) for pid, cpu in own.items())
            cores = own_cpu / (now - stamp)
            other = max(0.0, (busy - machine - own_cpu) / (now - stamp))
            last, machine, stamp = own, busy, now
            with self._lock:
                self._own_load = self._own_load * decay + cores * (1 - decay)
                load, others = os.getloadavg()[0], self.others()
                if self._current is not None:
                    block = self._current
                    block.load_max, block.others_max = max(block.load_max, load), max(block.others_max, others)
                    block.other_cpu.append(other)

    @contextlib.contextmanager
    def block(self, name: str) -> Iterator[Block]:
        """A block of measurements: its load is printed after it, with a warning when the machine was busy."""
        with self._lock:
            load = os.getloadavg()[0]
            self._current = Block(name, load, self.others(), load, self.others())
        started = time.monotonic()
        try:
            yield self._current
        finally:
            with self._lock:
                block, self._current = self._current, None
            block.seconds = time.monotonic() - started
            self.blocks.append(block)
            print(f"[{name}: {block.seconds:.0f} s; {block.summary()}]", flush=True)
            if block.busy:
                print(f"WARNING: the machine was busy during '{name}': {block.busy}; its figures are suspect", flush=True)


def load_rows(watch: LoadWatch, unit: str) -> list[str]:
    r"""The markdown table of the machine's load during each of ``watch``'s blocks, its first column named ``unit``.

    Examples
    --------
    >>> watch = LoadWatch()  # not entered: no sampling thread, the blocks given by hand
    >>> watch.blocks.append(Block("1 call", load_before=0.5, others_before=0.1, load_max=0.9, others_max=0.2,
    ...                           seconds=12, other_cpu=[0.1, 0.3]))
    >>> print("\n".join(load_rows(watch, "calls")))
    <BLANKLINE>
    | calls | seconds | 1-min load before / max during | of it, not this bench's | other processes' CPU (cores) |
    |---|---|---|---|---|
    | 1 call | 12 | 0.50 / 0.90 | 0.10 / 0.20 | 0.20 |
    """
    rows = ["", f"| {unit} | seconds | 1-min load before / max during | of it, not this bench's | other processes' CPU (cores) |",
            "|---|---|---|---|---|"]  # fmt: skip
    for block in watch.blocks:
        cpu = f"{statistics.mean(block.other_cpu):.2f}" if block.other_cpu else ""
        busy = " **busy**" if block.busy else ""
        rows.append(f"| {block.name} | {block.seconds:.0f} | {block.load_before:.2f} / {block.load_max:.2f}{busy} | "
                    f"{block.others_before:.2f} / {block.others_max:.2f} | {cpu} |")  # fmt: skip
    return rows


def write_between_markers(doc: Path, bench: str, label: str, figures: str) -> None:
    r"""Put ``figures`` between ``doc``'s markers ``<!-- BENCH:LABEL -->`` and ``<!-- /BENCH:LABEL -->``.

    What was there goes; the rest of ``doc`` stays as it was. No markers: SystemExit saying what to add.

    Examples
    --------
    >>> import tempfile
    >>> doc = Path(tempfile.mkdtemp()) / "performance.md"
    >>> _ = doc.write_text("# Costs\n<!-- REST:calls -->\nold\n<!-- /REST:calls -->\nend\n")
    >>> write_between_markers(doc, "REST", "calls", "| calls | 3 ms |")
    >>> print(doc.read_text(), end="")
    # Costs
    <!-- REST:calls -->
    | calls | 3 ms |
    <!-- /REST:calls -->
    end
    """
    start, end = f"<!-- {bench}:{label} -->", f"<!-- /{bench}:{label} -->"
    text = doc.read_text(encoding="utf-8")
    if start not in text or end not in text.split(start, 1)[1]:
        raise SystemExit(f"{bench}: {doc} has no '{start}' ... '{end}' markers: add them where the figures go")
    head, rest = text.split(start, 1)
    doc.write_text(f"{head}{start}\n{figures}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")
