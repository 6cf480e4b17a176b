"""The live scan display: a header, a row per point, or a progress bar; read from Redis like any client.

The shell runs one ``ScanTable`` per scan it starts; ``bliss --watch SESSION`` runs one per
scan it sees in another process. Both read only what the scan published, so what the
shell shows is what every reader gets.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TextIO

import gevent
import gevent.event
import numpy as np

from bliss_shell.comm.redis_types import RedisClient, RedisError
from bliss_shell.data import EventType, ScanNode, get_session_node

_BAR_PERIOD = 0.1  # progress bar refresh
_MIN_WIDTH = 12  # a float as .6g takes up to 12 characters (-1.23457e-05)
_INDEX_WIDTH = 6
_FINISH_TIMEOUT = 10.0  # the scan has ended: its last events are already in Redis


def wants_bar(npoints: int, count_time: float) -> bool:
    """Rows when a reader can follow them; a bar for many or fast points (documented in docs/shell.md).

    Parameters
    ----------
    npoints : int
        The scan's points; 0 for a scan without an end (``timescan``).
    count_time : float
        Its count time per point, in seconds.

    Examples
    --------
    >>> wants_bar(5, 0.1), wants_bar(1000, 0.1), wants_bar(100, 0.01), wants_bar(0, 0.0)
    (False, True, True, True)
    """
    if npoints == 0:
        return count_time < 0.05
    return npoints > 500 or (npoints > 50 and count_time < 0.02)


class ScanTable:
    """Prints one scan as it runs; ``follow()`` returns when the scan has ended.

    Parameters
    ----------
    node : ScanNode
        The scan to show.
    out : file, optional
        Where to print; by default standard output. Not a terminal: the bar is printed once, at the end.
    width : int, optional
        Columns to fit the table in; by default the terminal's.
    quiet : tuple of str
        Scan types that print their own lines (the shell's ``ct``): nothing is shown of them.
    only : list of str, optional
        The counters (names or fullnames) to show after the motors and ``dt``, in that order
        (``SCAN_DISPLAY.displayed_channels``); by default every one that fits.

    Examples
    --------
    The ascan run before, shown again as ``bliss --watch`` shows each scan:

    >>> ScanTable(SCANS[-1].node, width=80).follow()
    <BLANKLINE>
    Scan 2  ...  file .../test_session/data.h5
    ascan roby 0 4 5 0
       masters: [ axis:roby, timer:elapsed_time ]
    <BLANKLINE>
                  axis       timer       diode
         #    roby[mm]       dt[s]   diode[mm]
         0           0  ...
         1           1  ...
         2           2  ...
         3           3  ...
         4           4  ...
    <BLANKLINE>
    Took 0:00:00...
    """

    def __init__(self, node: Any, out: TextIO | None = None, width: int | None = None, quiet: tuple[str, ...] = (),
                 only: list[str] | None = None):  # fmt: skip
        self._node = node
        self._only = only
        self._quiet = quiet  # scan types that print their own lines (the shell's ct)
        self._out = out or sys.stdout
        self._width = width or shutil.get_terminal_size((100, 24)).columns
        self._live = self._out.isatty()  # a log file gets the bar once, at the end
        self.ended = gevent.event.Event()  # set by the scan once its END is in Redis: the bar looks at once
        self._channels: list[Any] = []  # scalar channels in publishing order
        self._skipped: list[str] = []
        self._pending: dict[str, deque] = {}
        self._shown: list[Any] = []  # the channels that fit the terminal
        self._rows = 0

    def follow(self) -> None:
        """Print the scan's header, then its rows (or a bar) as its points come, then how long it took."""
        events = self._node.walk_events()
        for event in events:
            if event.type is EventType.NEW_NODE and event.node is not self._node:
                self._add_node(event.node)
            elif event.type is EventType.PREPARED_SCAN:
                info = self._node.info
                if info.get("type") in self._quiet:
                    return
                self._header(info)
                if wants_bar(int(info.get("npoints", 0)), float(info.get("count_time", 0.0))):
                    events.close()
                    self._follow_bar(int(info.get("npoints", 0)))
                    return
            elif event.type is EventType.NEW_DATA and event.node.db_name in self._pending:
                self._pending[event.node.db_name].extend(event.data.data.tolist())
                self._print_rows()
            elif event.type is EventType.END_SCAN:
                self._footer(event.data.data)
                return

    def _add_node(self, node: Any) -> None:
        if node.type == "lima":
            self._skipped.append(node.parent.name)
        elif node.type == "channel" and node.fullname != "timer:epoch":  # dt[s] says when; BLISS shows no epoch either
            if node.shape:
                self._skipped.append(node.short_name)
            else:
                self._channels.append(node)
                self._pending[node.db_name] = deque()

    def _header(self, info: dict[str, Any]) -> None:
        number = self._node.name.lstrip("_").split("_", 1)[0]
        start = datetime.fromisoformat(info["start_time"]).strftime("%a %b %d %H:%M:%S %Y")
        lines = [f"\nScan {number}  {start}  file {info.get('filename') or '<no saving>'}", info.get("title", "")]
        masters = [c.fullname for c in self._channels if c.fullname.startswith("axis:") or c.name == "elapsed_time"]
        lines.append(f"   masters: [ {', '.join(masters)} ]")
        self._shown = self._fit()
        hidden = [c.short_name for c in self._channels if c not in self._shown]
        if self._skipped or hidden:
            lines.append(f"   not in the table: {', '.join(self._skipped + hidden)}")
        self._widths = [max(_MIN_WIDTH, len(_label(c)) + 2, len(_controller(c)) + 2) for c in self._shown]
        controllers = "".join(_cell(_controller(c), w) for c, w in zip(self._shown, self._widths))
        names = "".join(_cell(_label(c), w) for c, w in zip(self._shown, self._widths))
        lines += ["", " " * _INDEX_WIDTH + controllers, f"{'#':>{_INDEX_WIDTH}}{names}"]
        self._write("\n".join(lines) + "\n")

    def _fit(self) -> list[Any]:
        """As many columns as the terminal shows, in order: motors, dt, counters, then the channels a detector groups.

        Those are named with three parts (``lima_simulator:roi_counters:r1_sum``): a counter named in the command
        is not pushed out by a detector's ROI statistics.
        """
        shown: list[Any] = []
        used = _INDEX_WIDTH
        for channel in self._candidates():
            width = max(_MIN_WIDTH, len(_label(channel)) + 2, len(_controller(channel)) + 2)
            if used + width > self._width and shown:
                break
            shown.append(channel)
            used += width
        return shown

    def _candidates(self) -> list[Any]:
        """The columns in the order they are wanted: all, a detector's grouped channels last; or the masters, then ``only``."""
        if self._only is None:
            return sorted(self._channels, key=lambda c: c.fullname.count(":") > 1)
        masters = [c for c in self._channels if c.fullname.startswith("axis:") or c.name == "elapsed_time"]
        chosen = [c for name in self._only for c in self._channels if name in (c.short_name, c.fullname) and c not in masters]
        return masters + list(dict.fromkeys(chosen))

    def _print_rows(self) -> None:
        ready = min(len(self._pending[c.db_name]) for c in self._channels)
        lines = []
        for _ in range(ready):
            values = {c.db_name: self._pending[c.db_name].popleft() for c in self._channels}
            lines.append(self._row(self._rows, [values[c.db_name] for c in self._shown]))
            self._rows += 1
        if lines:
            self._write("\n".join(lines) + "\n")

    def _row(self, index: int, values: list[Any]) -> str:
        cells = "".join(_cell(_number(v), w) for v, w in zip(values, self._widths))
        return f"{index:>{_INDEX_WIDTH}}{cells}"

    def _follow_bar(self, npoints: int) -> None:
        """Count the points from the channel lengths; print the last point at the end."""
        timer = next(c for c in self._channels if c.name == "elapsed_time")
        started = time.monotonic()
        while True:
            end = self._node.end_state()
            done = len(timer)
            if self._live or end is not None:
                self._write(("\r" if self._live else "") + _bar(done, npoints, time.monotonic() - started, self._width))
            if end is not None:
                break
            self.ended.wait(_BAR_PERIOD)  # not a plain sleep: the scan's end would wait up to a period for it
        self._write("\n")
        if done:
            self._rows = done - 1
            self._write(self._row(done - 1, [c.get(done - 1) for c in self._shown]) + "\n")
        self._footer(end)

    def _footer(self, end: dict[str, str]) -> None:
        info = self._node.info
        begin = datetime.fromisoformat(info["start_time"])
        finish = datetime.fromisoformat(info["end_time"]) if "end_time" in info else datetime.now().astimezone()
        took = (finish - begin).total_seconds()
        counting = int(info.get("points_acquired", 0)) * float(info.get("count_time", 0.0))
        dead = f"  (dead time {max(0.0, 1 - counting / took):.0%})" if took > 0 else ""
        self._write(f"\nTook {_duration(took)}{dead}\n")
        if end["state"] != "done":
            self._write(f"Scan {end['state']}: {end['reason']}\n")

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()


def _label(channel: Any) -> str:
    if channel.name == "elapsed_time":
        return "dt[s]"
    return f"{channel.short_name}[{channel.unit}]" if channel.unit else channel.short_name


def _controller(channel: Any) -> str:
    return channel.fullname.split(":", 1)[0] if ":" in channel.fullname else ""


def _cell(text: str, width: int) -> str:
    """Right-aligned, and never touching the cell before it."""
    return " " + text.rjust(width - 1)


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)


def _duration(seconds: float) -> str:
    """``0:00:01.27``, as Sardana shows it."""
    whole = timedelta(seconds=int(seconds))
    return f"{whole}.{int((seconds % 1) * 100):02d}"


def _bar(done: int, total: int, elapsed: float, width: int) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    if total:
        left = f"{_duration((total - done) / rate)} left" if rate else "-- left"
        text = f" {done}/{total}  {rate:.0f} pts/s  {left}"
        size = max(10, min(40, width - len(text) - 3))
        filled = int(size * done / total)
        return f"[{'#' * filled}{'.' * (size - filled)}]{text}"
    return f"{done} points  {rate:.0f} pts/s  {_duration(elapsed)}"


def shell_display(
    client: RedisClient, columns: Callable[[], list[str] | None] = lambda: None
) -> Callable[[str], Callable[[], None]]:
    """What a session's scans call when they start (``ScanContext.watch``): ``ct`` prints its own lines.

    ``columns`` gives, at each scan's start, the counters its table is limited to (``SCAN_DISPLAY.columns``).
    """

    def watch(db_name: str) -> Callable[[], None]:
        node = ScanNode(client, db_name, {"name": db_name.rsplit(":", 1)[1], "type": "scan"})  # published soon
        table = ScanTable(node, quiet=("ct", "sct"), only=columns())
        follower = gevent.spawn(_shown_until_redis_fails, table)

        def finish() -> None:
            table.ended.set()
            try:
                follower.join(timeout=_FINISH_TIMEOUT)
            finally:
                follower.kill()

        return finish

    return watch


def _shown_until_redis_fails(table: ScanTable) -> None:
    """The scan goes on without Redis (its publisher warns); the display just stops."""
    try:
        table.follow()
    except RedisError as error:
        print(f"\n(live display stopped: {type(error).__name__}: {error})", flush=True)


def watch_session(session: str, client: RedisClient, out: TextIO | None = None) -> None:
    """``bliss --watch SESSION``: show every scan the session starts from now on, until Ctrl-C."""
    node = get_session_node(session, client)
    for event in node.walk_on_new_events(exclude_children="scan"):
        if event.type is EventType.NEW_NODE and event.node.type == "scan":
            ScanTable(event.node, out).follow()
