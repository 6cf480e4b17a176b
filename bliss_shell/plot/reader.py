"""The viewer's only source: Redis, read through the public data-node API, by threads of its own.

``SessionWatch`` keeps the session's scan list (``walk_events`` on the session, scans only),
the plot settings the shell writes (``plotselect``, the peak tools' marker) and whether Redis
answers. ``feed(db_name)`` gives a scan's ``ScanFeed``, filled by a thread that follows the
scan in Redis, or read once from its file when the scan has left Redis.

Examples
--------
A scan's feed, read from Redis until the scan's end (what the thread of ``feed(db_name)`` does):

>>> feed = ScanFeed(SCANS[-1].node.db_name)
>>> follow_scan(feed, get_node(SCANS[-1].node.db_name))
>>> feed.ended, feed.points(), feed.x_name, feed.counters
(True, 5, 'roby', ['diode'])
>>> feed.scalar("roby")
array([0., 1., 2., 3., 4.])

The viewer's watch over the session, with threads of its own:

>>> watch = SessionWatch("test_session", client, "redis://localhost:6379")
>>> watch.start()  # doctest: +SKIP
>>> watch.newest().name  # doctest: +SKIP
'2_ascan'
>>> watch.stop()
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bliss_shell.comm.redis_types import RedisClient, RedisError
from bliss_shell.data import EventType, LimaNode, NodeExpired, ScanNode, get_node, get_session_node
from bliss_shell.data.keys import node_key, plot_key
from bliss_shell.writer.saved_data import FileFrames, read_channels

from .feed import FRAME_PERIOD, SPECTRA_KEPT, ScanFeed, make_frame

SETTINGS_PERIOD = 0.2  # s between reads of the plot settings (also how soon a lost Redis is noticed)
PRESENCE_PERIOD = 2.0  # s between checks that the listed scans are still in Redis
RETRY_PERIOD = 0.5  # s between attempts while Redis is away
FEEDS_KEPT = 6  # finished scans whose data stays loaded
READ_PERIOD = 0.02  # s: at most 50 reads of a scan per second (a 1 kHz scan: 20 points a read, not 2)

log = logging.getLogger(__name__)


@dataclass
class ScanEntry:
    """A row of the page's scan list."""

    db_name: str
    name: str
    title: str
    state: str  # "starting", "running", "done", "aborted", "failed"
    reason: str
    filename: str
    info: dict[str, Any]
    order: int  # the order they appeared in (a walk gives a folder's scans, then the next folder's)
    in_redis: bool = True

    @property
    def number(self) -> str:
        """The scan number ('' for ct, which is not numbered)."""
        head = self.name.split("_", 1)[0]
        return head if head.isdigit() else ""

    @property
    def started(self) -> tuple[float, int]:
        """When the scan started (its info's ``start_time``), then ``order``: the scans' order in time, whatever the folder."""
        try:
            return datetime.fromisoformat(self.info["start_time"]).timestamp(), self.order
        except (KeyError, TypeError, ValueError):
            return float("-inf"), self.order  # no start time (not published by a shell): oldest, as they appeared


class SessionWatch:
    """What a session's pages share: its scans, the plot settings, Redis's state and the loaded scans.

    Parameters
    ----------
    session : str
        The session whose scans it follows.
    client : redis.Redis
        The Redis to read (a replica will do).
    redis_shown : str
        The Redis's address as a page shows it when Redis does not answer (password redacted).
    """

    def __init__(self, session: str, client: RedisClient, redis_shown: str):
        self.session = session
        self._client = client
        self._redis_shown = redis_shown
        self.lock = threading.Lock()
        self.version = 0
        self.scans: dict[str, ScanEntry] = {}
        self.selection: list[str] = []
        self.marker: dict[str, Any] | None = None
        self.redis_problem = ""
        self._feeds: OrderedDict[str, ScanFeed] = OrderedDict()
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the threads that follow the session's scans and its plot settings."""
        for target in (self._watch_scans, self._watch_settings):
            threading.Thread(target=target, name=target.__name__, daemon=True).start()

    def stop(self) -> None:
        """Ask the threads to stop: the settings' within ``SETTINGS_PERIOD``, the scans' at its next event."""
        self._stopping.set()

    def wait_stopped(self, seconds: float) -> bool:
        """Wait ``seconds``, or less if the watch is stopped; True once it is (a waiting thread then gives up)."""
        return self._stopping.wait(seconds)

    def newest(self) -> ScanEntry | None:
        """The scan that appeared last, or None."""
        with self.lock:
            return max(self.scans.values(), key=lambda e: e.started, default=None)

    def listed(self) -> list[ScanEntry]:
        """The scans, newest first (by start time: scans of several data folders interleave as they ran)."""
        with self.lock:
            return sorted(self.scans.values(), key=lambda e: e.started, reverse=True)

    def ended_in_redis(self, db_name: str) -> bool:
        """The scan's end is in Redis, or the scan has left it (its feed then comes whole from its file).

        The watch's own list may not have read that end yet. False when Redis does not answer.
        """
        try:
            node = get_node(db_name, self._client)
            return not isinstance(node, ScanNode) or node.end_state() is not None
        except (RedisError, NodeExpired):
            return False

    def feed(self, db_name: str) -> ScanFeed:
        """The scan's data, loading it in a thread the first time it is asked for."""
        with self.lock:
            feed = self._feeds.get(db_name)
            if feed is not None:
                self._feeds.move_to_end(db_name)
                feed.wanted_at = time.monotonic()
                return feed
            entry = self.scans[db_name]
            feed = ScanFeed(db_name)
            self._feeds[db_name] = feed
            finished = [name for name, f in self._feeds.items() if f.ended]
            for name in finished[: max(0, len(finished) - FEEDS_KEPT)]:
                del self._feeds[name]
        threading.Thread(target=self._load, args=(feed, entry), name=f"load {db_name}", daemon=True).start()
        return feed

    # -- threads -----------------------------------------------------------------------

    def _changed(self) -> None:
        self.version += 1

    def _watch_scans(self) -> None:
        """Scans as they appear, start and end; after a Redis outage the walk starts again."""
        while not self._stopping.is_set():
            try:
                session = get_session_node(self.session, self._client)
                for event in session.walk_events(include_filter="scan", exclude_children="scan"):
                    self._on_scan_event(event)
                    if self._stopping.is_set():
                        return
            except RedisError:
                self._stopping.wait(RETRY_PERIOD)
            except Exception:  # a bug must not leave the pages frozen: say it in the log, start again
                log.exception("following the scans of %s", self.session)
                self._stopping.wait(RETRY_PERIOD)

    def _on_scan_event(self, event: Any) -> None:
        node = event.node
        with self.lock:
            entry = self.scans.get(node.db_name)
            if entry is None and event.type is EventType.NEW_NODE:
                info = node.info
                filename = info.get("filename", "") if info.get("save", True) else ""
                entry = ScanEntry(node.db_name, node.name, info.get("title", node.name), "starting", "", filename, info,
                                  order=len(self.scans))  # fmt: skip
                self.scans[node.db_name] = entry
            elif entry is None:
                return
            if event.type is EventType.PREPARED_SCAN and entry.state == "starting":
                entry.state = "running"
            elif event.type is EventType.END_SCAN:
                entry.state, entry.reason = event.data.data["state"], event.data.data["reason"]
            self._changed()

    def _watch_settings(self) -> None:
        """The shell's plot settings, every ``SETTINGS_PERIOD``; Redis's health comes with them."""
        last_presence = 0.0
        while not self._stopping.wait(SETTINGS_PERIOD):
            try:
                raw = self._client.hgetall(plot_key(self.session))
                if time.monotonic() - last_presence > PRESENCE_PERIOD:
                    last_presence = time.monotonic()
                    self._check_presence()
                problem = ""
            except RedisError as error:
                raw, problem = None, f"Redis at {self._redis_shown} does not answer ({error}); the page resumes when it is back"
            with self.lock:
                if raw is not None:
                    selection = _settings(raw, "select", list) or []
                    marker = _settings(raw, "marker", dict)
                    if selection != self.selection or marker != self.marker:
                        self.selection, self.marker = selection, marker
                        self._changed()
                if problem != self.redis_problem:
                    self.redis_problem = problem
                    self._changed()

    def _check_presence(self) -> None:
        """Scans whose keys left Redis (retention, memory cap): their data now comes from their file."""
        entries = [e for e in self.listed() if e.in_redis]
        if not entries:
            return
        pipe = self._client.pipeline(transaction=False)
        for entry in entries:
            pipe.exists(node_key(entry.db_name))
        gone = [entry for entry, present in zip(entries, pipe.execute()) if not present]
        with self.lock:
            for entry in gone:
                entry.in_redis = False
                if entry.state in ("starting", "running"):
                    entry.state, entry.reason = "failed", "it left Redis before its end was published"
                feed = self._feeds.get(entry.db_name)
                if feed is not None and feed.ended and feed.source == "redis":
                    del self._feeds[entry.db_name]  # the next look reads the file
            if gone:
                self._changed()

    def _load(self, feed: ScanFeed, entry: ScanEntry) -> None:
        """Fill the feed; whatever goes wrong is said on the page, the viewer goes on."""
        try:
            self._fill(feed, entry)
        except Exception as error:  # a reader thread never dies silently: the page says why it stopped
            log.exception("reading %s", feed.db_name)
            feed.problem = f"reading this scan stopped: {type(error).__name__}: {error}"
            feed.end()

    def _fill(self, feed: ScanFeed, entry: ScanEntry) -> None:
        try:
            if entry.in_redis and self._load_from_redis(feed):
                return
        except NodeExpired:
            pass
        if not entry.filename:
            feed.problem = "this scan has left Redis and was not saved: its data is gone"
            feed.end()
            return
        feed.info = entry.info
        try:
            load_from_file(feed, entry.filename, entry.name)
        except (OSError, KeyError) as error:
            feed.problem = f"this scan has left Redis and its file cannot be read: {error}"
            feed.end()

    def _load_from_redis(self, feed: ScanFeed) -> bool:
        """Follow the scan until its end; False when it is not in Redis. Redis going away: retry, resume."""
        while not self._stopping.is_set():
            try:
                node = get_node(feed.db_name, self._client)
                if node is None:
                    return False
                feed.info = node.info
                follow_scan(feed, node)
                return True
            except RedisError:
                self._stopping.wait(RETRY_PERIOD)
        return True


def _settings(raw: dict, field: str, kind: type) -> Any:
    """One plot setting as the shell wrote it; None when absent or not what a shell writes."""
    try:
        value = json.loads(raw[field.encode()])
    except (KeyError, ValueError):
        return None
    if kind is dict and isinstance(value, dict) and isinstance(value.get("x"), (int, float)):
        return value
    if kind is list and isinstance(value, list):
        return [name for name in value if isinstance(name, str)]
    return None


def follow_scan(feed: ScanFeed, node: Any) -> None:
    """Read a scan's channels into the feed until its END, resuming after what the feed holds."""
    names: dict[str, str] = {}
    pending: dict[str, Any] = {}  # Lima views whose newest frame was not fetched yet (fetching is paced)
    for event in node.walk_events(first_index=feed.points(), read_period=READ_PERIOD):
        channel = event.node
        if event.type is EventType.NEW_NODE and channel.type == "channel":
            name = channel.short_name if channel.short_name not in names.values() else channel.fullname
            names[channel.db_name] = name
            (feed.add_scalar if not channel.shape else feed.add_spectrum)(name)
        elif event.type is EventType.NEW_NODE and channel.type == "lima":
            names[channel.db_name] = channel.db_name.split(":")[-2]
            feed.add_images(names[channel.db_name])
        elif event.type is EventType.PREPARED_SCAN:
            feed.info = node.info
        elif event.type is EventType.NEW_DATA and isinstance(channel, LimaNode):
            pending[names[channel.db_name]] = event.data.data
            fetch_frames(feed, pending, paced=True)
        elif event.type is EventType.NEW_DATA and channel.db_name in names:
            feed.append(names[channel.db_name], event.data.first_index, event.data.data)
        elif event.type is EventType.END_SCAN:
            fetch_frames(feed, pending, paced=False)
            feed.info = node.info
            feed.end()
            return


def fetch_frames(feed: ScanFeed, pending: dict[str, Any], paced: bool) -> None:
    """Fetch the newest frame of each detector with news, at most every ``FRAME_PERIOD`` when paced."""
    for name, view in list(pending.items()):
        images = feed.images[name]
        if paced and time.monotonic() - images.fetched_at < FRAME_PERIOD:
            continue
        del pending[name]
        images.fetched_at = time.monotonic()
        if view.last_image_ready < 0:
            feed.set_frame(name, None, view)
            continue
        try:
            frame = make_frame(view.last_image_ready, view.get_image(-1))
            feed.set_frame(name, frame, view)
        except IndexError as error:
            feed.set_frame(name, None, view, str(error))


def load_from_file(feed: ScanFeed, filename: str, entry: str) -> None:
    """A scan that left Redis, from the ``measurement`` group of its entry; frames stay in the file."""
    for channel in read_channels(filename, entry, spectra=SPECTRA_KEPT):
        if len(channel.shape) == 1:
            feed.add_scalar(channel.name)
            feed.append(channel.name, 0, channel.data)
        elif len(channel.shape) == 2:
            feed.add_spectrum(channel.name)
            feed.append(channel.name, 0, channel.data)
        elif channel.shape[0]:
            feed.add_images(channel.name)
            frames = FileFrames(filename, channel.path, channel.shape[0])
            feed.set_frame(channel.name, make_frame(channel.shape[0] - 1, channel.data), frames)
    feed.source = "file"
    feed.end()
