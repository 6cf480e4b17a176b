"""Follow scans live with blissdata 2's own reader API, as a BLISS 2 tool does, and write what it saw.

A test harness run in a process of its own with the test environment's Python (no gevent: blissdata's readers are
plain blocking code). It is started before the scans, so it sees each of them from its creation on:

- ``DataStore(url)`` (retried until the database carries blissdata's protocol key, which the publisher sets),
- ``get_last_scan_timetag()`` then ``get_next_scan(since=...)`` for the next ``--count`` scans,
- for each scan, in a thread of its own: ``load_scan``, ``scan.update()`` until PREPARED, ``CursorGroup(...).read()``
  until every stream is sealed, ``scan.update()`` until CLOSED,
- Lima streams through blissdata's Lima plugin: their length, their image references and, when asked, the frames,
- at the end ``search_existing_scans`` by session, by dataset and by both, for every session and dataset seen.

For each scan it writes ``<out>/scan_<k>.json`` (k: the order of creation, from 0) and ``<out>/scan_<k>.npz``
(the numeric streams' values, keyed ``s0``, ``s1``... as the JSON's ``streams[name]["npz"]`` says), then
``<out>/summary.json``. It prints ``READY <timetag>`` once it listens (and writes it to ``<out>/ready``), and as it
reads appends to ``<out>/progress.log`` one line per view, ``<k> <stream name> <points read so far> <state>`` (a test
waits on it to act while a scan runs). It exits on its own: 0 when every scan was followed to CLOSED, 1 on a
blissdata error (the error is printed, what was seen is written), 2 when the deadline passed first.

Example::

    python tests/blissdata_follower.py --url "unix:///tmp/r.sock?protocol=2" --count 2 --out /tmp/seen --deadline 60
    # READY 0-0                     (start the scans now)
    # followed esrf:scan:... CLOSED SUCCESS
    # followed esrf:scan:... CLOSED USER_ABORT
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from blissdata.exceptions import EndOfStream, NoScanAvailable
from blissdata.redis_engine.scan import ScanState
from blissdata.redis_engine.store import DataStore
from blissdata.streams import CursorGroup

IDENTITY_FIELDS = ("name", "number", "data_policy", "session", "proposal", "collection", "dataset", "path")


class Deadline:
    """Seconds left before the follower gives up.

    Example::

        >>> Deadline(5.0).left() > 0
        True
    """

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def poll(self) -> float:
        """The timeout of one blocking read: at most 1 s, and never 0, which blissdata takes as "for ever"."""
        return max(0.05, min(self.left(), 1.0))


def with_protocol_2(url: str) -> str:
    """The URL with ``protocol=2``: blissdata's searches parse RESP2 replies (redis-py 8 speaks RESP3 by default).

    Example::

        >>> with_protocol_2("redis://localhost:6379")
        'redis://localhost:6379?protocol=2'
    """
    if "protocol=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "protocol=2"


def open_store(url: str, deadline: Deadline, ready) -> tuple[DataStore, str]:
    """``DataStore(url)``, retried while the database has no blissdata protocol key yet (its publisher sets it);
    with the timetag to follow the scans from: the last one created, or the very first if the database was not
    initialised when the follower started (every scan in it is then new). ``ready(since)`` is called as soon as
    no scan can be missed any more: at once when the database was initialised, else on the first failed try."""
    waited = False
    while True:
        try:
            store = DataStore(url)
        except RuntimeError as error:
            if "No blissdata protocol version" not in str(error) or deadline.passed():
                raise
            if not waited:
                ready("0-0")
            waited = True
            time.sleep(0.02)
        else:
            if waited:
                return store, "0-0"
            since = store.get_last_scan_timetag()
            ready(since)
            return store, since


class Progress:
    """Lines appended to a file and flushed at once, from any thread.

    Example::

        Progress(Path("progress.log")).write("0 timer:epoch 3 STARTED")
    """

    def __init__(self, path: Path) -> None:
        self.file = path.open("a")
        self.lock = threading.Lock()

    def write(self, line: str) -> None:
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()


class ScanFollower:
    """Reads one scan live to its end and keeps what it saw (states, info, every stream's values).

    Example::

        follower = ScanFollower(store, key, 0, Deadline(30), lima_frames=False, progress=Progress(Path("p.log")))
        follower.follow()  # returns once the scan is CLOSED
        follower.result["end_reason"]
    """

    def __init__(self, store: DataStore, key: str, index: int, deadline: Deadline, lima_frames: bool, progress: Progress) -> None:
        self.progress = progress
        self.store = store
        self.key = key
        self.index = index
        self.deadline = deadline
        self.lima_frames = lima_frames
        self.result: dict[str, Any] = {"key": key, "index": index, "states": [], "streams": {}, "error": None}
        self.arrays: dict[str, np.ndarray] = {}
        self.done = False

    def _note_state(self, scan) -> None:
        name = ScanState(scan.state).name
        if not self.result["states"] or self.result["states"][-1] != name:
            self.result["states"].append(name)

    def _update_until(self, scan, state: ScanState) -> None:
        while scan.state < state:
            left = self.deadline.left()
            if left <= 0:
                raise TimeoutError(f"scan {self.key} stayed {ScanState(scan.state).name}, waiting for {state.name}")
            scan.update(timeout=self.deadline.poll())
            self._note_state(scan)

    def follow(self) -> None:
        try:
            scan = self.store.load_scan(self.key)
            if scan.state >= ScanState.PREPARED:
                # load_scan reads the document before the state (blissdata 2.4.5): loaded as PREPARED, the scan may
                # still carry the document of CREATED, without its streams; loaded again, it has them
                scan = self.store.load_scan(self.key)
            self._note_state(scan)
            self._update_until(scan, ScanState.PREPARED)
            chunks = self._read_streams(scan)
            self._update_until(scan, ScanState.CLOSED)
            # likewise a scan loaded as CLOSED may carry the info of STOPPED; once CLOSED the document no longer
            # changes, so it is loaded again for its end info
            self._describe(self.store.load_scan(self.key), chunks)
        except Exception as error:  # any blissdata error is reported, with what was seen
            self.result["error"] = f"{type(error).__name__}: {error}"
            self.result["traceback"] = traceback.format_exc()
        finally:
            self.done = True

    def _read_streams(self, scan) -> dict[str, list]:
        """Every stream read with one CursorGroup until each is sealed; returns the chunks read, per stream name."""
        streams = scan.streams
        chunks: dict[str, list] = {name: [] for name in streams}
        views_seen: dict[str, int] = {name: 0 for name in streams}
        points: dict[str, int] = {name: 0 for name in streams}
        group = CursorGroup(streams)
        while True:
            left = self.deadline.left()
            if left <= 0:
                raise TimeoutError(f"scan {self.key}: streams not all sealed before the deadline")
            try:
                views = group.read(timeout=self.deadline.poll())
            except EndOfStream:
                break
            if scan.update(block=False):  # a live tool notes the state as it reads
                self._note_state(scan)
            for stream, view in views.items():
                views_seen[stream.name] += 1
                if stream.plugin == "lima":
                    chunks[stream.name].append(("lima", view.index, len(view)))
                elif stream.kind == "json":
                    chunks[stream.name].extend(view.get_data())
                else:
                    chunks[stream.name].append(np.asarray(view.get_data()))
                points[stream.name] = view.index + len(view)
                self.progress.write(f"{self.index} {stream.name} {points[stream.name]} {ScanState(scan.state).name}")
        self.result["views"] = views_seen
        return chunks

    def _describe(self, scan, chunks: dict[str, list]) -> None:
        self._note_state(scan)
        self.result["identity"] = {field: getattr(scan, field, None) for field in IDENTITY_FIELDS}
        self.result["info"] = scan.info
        self.result["end_reason"] = scan.info.get("end_reason")
        for number, (name, stream) in enumerate(sorted(scan.streams.items())):
            entry: dict[str, Any] = {
                "kind": stream.kind,
                "plugin": stream.plugin,
                "dtype": np.dtype(stream.dtype).str if stream.kind != "json" else "json",
                "dtype_name": np.dtype(stream.dtype).name if stream.kind != "json" else "json",
                "shape": list(stream.shape) if stream.kind != "json" else None,
                "len": len(stream),
                "sealed": stream.is_sealed(),
                "info": stream.info,
            }
            if stream.plugin == "lima":
                entry.update(self._lima(stream, chunks[name]))
            elif stream.kind == "json":
                entry["values"] = chunks[name]
                entry["read"] = len(chunks[name])
            else:
                parts = chunks[name]
                values = np.concatenate(parts) if parts else np.empty((0, *stream.shape), dtype=stream.dtype)
                entry["read"] = len(values)
                entry["npz"] = f"s{number}"
                self.arrays[f"s{number}"] = values
            self.result["streams"][name] = entry

    def _lima(self, stream, views: list) -> dict[str, Any]:
        """A Lima stream as blissdata's Lima plugin gives it: length, views, image references, frames if asked."""
        length = len(stream)
        out: dict[str, Any] = {"views": [[index, size] for _, index, size in views], "read": length}
        try:
            out["references"] = [ref.__dict__ for ref in stream.get_references(slice(0, length))]
        except Exception as error:  # not saved: blissdata says so with a RuntimeError
            out["references_error"] = f"{type(error).__name__}: {error}"
        if self.lima_frames and length:
            try:
                frames = np.asarray(stream[0:length])
            except Exception as error:  # what blissdata says is what the test compares
                out["frames_error"] = f"{type(error).__name__}: {error}"
            else:
                key = f"lima_{len(self.arrays)}"
                self.arrays[key] = frames
                out["npz"] = key
        return out

    def write(self, out: Path) -> None:
        np.savez(out / f"scan_{self.index}.npz", **self.arrays)
        (out / f"scan_{self.index}.json").write_text(json.dumps(self.result, indent=1, default=str))


def search(store: DataStore, followers: list[ScanFollower]) -> dict[str, list[str]]:
    """``search_existing_scans`` by session, by dataset and by both, for every session and dataset followed."""
    queries: dict[str, dict[str, str]] = {}
    for follower in followers:
        identity = follower.result.get("identity") or {}
        session, dataset = identity.get("session"), identity.get("dataset")
        if session:
            queries[f"session={session}"] = {"session": session}
        if dataset:
            queries[f"dataset={dataset}"] = {"dataset": dataset}
        if session and dataset:
            queries[f"session={session},dataset={dataset}"] = {"session": session, "dataset": dataset}
    return {label: store.search_existing_scans(**query)[1] for label, query in queries.items()}


def run(url: str, count: int, out: Path, seconds: float, lima_frames: bool) -> int:
    deadline = Deadline(seconds)
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(out / "progress.log")

    def ready(since: str) -> None:
        (out / "ready").write_text(since)
        print(f"READY {since}", flush=True)

    store, since = open_store(with_protocol_2(url), deadline, ready)
    followers: list[ScanFollower] = []
    threads: list[threading.Thread] = []
    while len(followers) < count and not deadline.passed():
        try:
            since, key = store.get_next_scan(since=since, timeout=deadline.poll())
        except NoScanAvailable:
            continue
        follower = ScanFollower(store, key, len(followers), deadline, lima_frames, progress)
        followers.append(follower)
        threads.append(threading.Thread(target=follower.follow, name=key, daemon=True))
        threads[-1].start()
    for thread in threads:
        thread.join(max(0.0, deadline.left()))
    status = 0
    for follower in followers:
        if not follower.done:
            follower.result["error"] = "TimeoutError: still being read at the deadline"
        follower.write(out)
        result = follower.result
        if result["error"]:
            status = status or (2 if result["error"].startswith("TimeoutError") else 1)
            print(f"blissdata error while following {follower.key}: {result['error']}", file=sys.stderr)
            print(result.get("traceback", ""), file=sys.stderr)
        else:
            print(f"followed {follower.key} {result['states'][-1]} {result['end_reason']}", flush=True)
    summary: dict[str, Any] = {"count": count, "keys": [follower.key for follower in followers]}
    if len(followers) < count:
        status = status or 2
        print(f"deadline passed: {len(followers)} of {count} scans appeared", file=sys.stderr)
    try:
        summary["searches"] = search(store, followers)
    except Exception as error:
        summary["search_error"] = f"{type(error).__name__}: {error}"
        print(f"blissdata error in search_existing_scans: {summary['search_error']}", file=sys.stderr)
        status = status or 1
    summary["status"] = status
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the Redis URL (protocol=2 is added if absent)")
    parser.add_argument("--count", type=int, required=True, help="how many scans to follow, from now on")
    parser.add_argument("--out", type=Path, required=True, help="the folder the results are written to")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds before giving up (exit 2)")
    parser.add_argument("--lima-frames", action="store_true", help="also read Lima frames through blissdata")
    args = parser.parse_args(argv)
    try:
        return run(args.url, args.count, args.out, args.deadline, args.lima_frames)
    except Exception as error:  # a connection or protocol error before any scan
        print(f"blissdata error: {type(error).__name__}: {error}", file=sys.stderr)
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
