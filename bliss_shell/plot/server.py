"""The viewer process: a Bokeh server whose pages draw one session's scans, read from Redis only.

It serves BokehJS from the installed package (nothing from the internet), answers
``/status`` with what it holds (JSON, for ``flint()`` and for tests) and ``/png`` with a
picture of a plot (``snapshot.py``), and says where it listens in the session's plot settings
so that every shell and terminal finds it.

Examples
--------
>>> viewer = Viewer("test_session", client, "unix:///run/user/1000/bliss_shell/redis.sock")
>>> viewer.status()
{'session': 'test_session', 'url': '', 'pid': ..., 'redis': 'ok', 'scans': 0, 'pages': []}
>>> viewer.listen("127.0.0.1", 0)  # doctest: +SKIP
>>> viewer.url  # doctest: +SKIP
'http://127.0.0.1:40123/'
>>> viewer.run()  # serves until SIGTERM or SIGINT  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
import weakref
from pathlib import Path
from typing import Any

from bokeh.application import Application
from bokeh.application.handlers.function import FunctionHandler
from bokeh.server.server import Server
from tornado.ioloop import PeriodicCallback
from tornado.web import RequestHandler

from bliss_shell.comm.redis_types import RedisClient, RedisError
from bliss_shell.data.keys import plot_key

from .collector import defer_bokeh_collections
from .lifetime import CHECK_PERIOD, REDIS_GRACE, Lifetime
from .page import Page
from .reader import SessionWatch
from .records import write_record
from .snapshot import PngHandler

log = logging.getLogger(__name__)


class PortInUse(OSError):
    """The viewer's port is taken; the message names it and how to choose another."""


class _Status(RequestHandler):
    def initialize(self, viewer: Viewer) -> None:
        self._viewer = viewer

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(self._viewer.status()))


class Viewer:
    """One session's viewer: the shared ``SessionWatch`` and the Bokeh server of its pages.

    It records itself in ``folder`` (the runtime folder, ``records.py``) and stops by itself when that folder is
    gone or Redis has not answered for ``redis_grace`` s (``lifetime.py``).
    """

    def __init__(self, session: str, client: RedisClient, redis_shown: str, folder: Path | None = None,
                 redis_grace: float = REDIS_GRACE):  # fmt: skip
        self.session = session
        self._client = client
        self._redis_shown = redis_shown
        self._folder = folder
        self._lifetime = Lifetime(folder, redis_shown, redis_grace)
        self._record: Path | None = None  # its record in the runtime folder, once registered
        self.watch = SessionWatch(session, client, redis_shown)
        self._pages: weakref.WeakSet[Page] = weakref.WeakSet()
        self._server: Server | None = None
        self.url = ""

    def listen(self, address: str, port: int) -> None:
        """Bind the port (0: any free one); a port in use raises ``PortInUse`` naming it."""
        application = Application(FunctionHandler(self._new_page))
        port = port or _free_port(address)
        try:
            self._server = Server(
                {"/": application},
                address=address,
                port=port,
                allow_websocket_origin=_origins(address, port),
                extra_patterns=[
                    ("/status", _Status, {"viewer": self}),
                    ("/png", PngHandler, {"watch": self.watch, "pages": self.open_pages}),  # plot/snapshot.py
                ],
                # a closed page is forgotten within 6 s (its refreshes run until then)
                unused_session_lifetime_milliseconds=5_000,
                check_unused_sessions_milliseconds=1_000,
            )
        except OSError as error:
            raise PortInUse(f"port {port} on {address} is already in use ({error.strerror}): choose another one "
                            "with --port, or plot_port in the config's __init__.yml") from None  # fmt: skip
        host = socket.gethostname() if address in ("0.0.0.0", "::") else address
        self.url = f"http://{host}:{self._server.port}/"

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT, or until its lifetime ends; the pages read what ``SessionWatch`` gathers."""
        assert self._server is not None, "listen() first"
        loop = self._server.io_loop
        for signum in (signal.SIGTERM, signal.SIGINT):  # the loop's own handler wakes it at once
            loop.asyncio_loop.add_signal_handler(signum, loop.stop)
        self.watch.start()
        defer_bokeh_collections(loop)
        self._server.start()
        PeriodicCallback(self._check_lifetime, CHECK_PERIOD * 1000).start()
        try:
            loop.start()
        finally:
            self.watch.stop()
            self.unregister()

    def register(self) -> str | None:
        """Say where the viewer is: to the session's shells (Redis) and this machine's ``bliss`` commands (a file).

        None, or why Redis could not be told (a replica refuses writes).
        """
        record = {"url": self.url, "pid": os.getpid(), "host": socket.gethostname()}
        if self._folder is not None:
            self._record = write_record(self._folder, {**record, "session": self.session, "redis": self._redis_shown})
        try:
            self._client.hset(plot_key(self.session), "viewer", json.dumps(record))
        except RedisError as error:
            return f"could not record this viewer in Redis ({error}); shells will not find it, open {self.url}"
        return None

    def unregister(self) -> None:
        """Remove the viewer's records: its file, and the plot settings' if it is still this process's."""
        if self._record is not None:
            self._record.unlink(missing_ok=True)
        try:
            raw = self._client.hget(plot_key(self.session), "viewer")
            if raw and json.loads(raw).get("pid") == os.getpid():
                self._client.hdel(plot_key(self.session), "viewer")
        except RedisError:
            pass

    def _check_lifetime(self) -> None:
        reason = self._lifetime.reason_to_stop(self.watch.redis_problem, time.monotonic())
        if reason is not None:
            log.warning("the viewer of %s stops: %s", self.session, reason)
            assert self._server is not None
            self._server.io_loop.stop()

    def open_pages(self) -> list[Page]:
        """The pages whose browser session is open."""
        return [page for page in list(self._pages) if page.doc.session_context is not None]

    def status(self) -> dict[str, Any]:
        """What ``/status`` answers: the session, URL, pid, Redis's state, the scans listed and each open page's updates."""
        pages = [{"sent": p.sent, "confirmed": p.confirmed, "dropped": p.dropped,
                  "scan": p._feed.db_name if p._feed else None} for p in self.open_pages()]  # fmt: skip
        return {"session": self.session, "url": self.url, "pid": os.getpid(),
                "redis": self.watch.redis_problem or "ok", "scans": len(self.watch.scans), "pages": pages}  # fmt: skip

    def _new_page(self, doc: Any) -> None:
        # No on_session_destroyed callback: Bokeh would run one more full collection for each closed page
        # (collector.py); a closed page's document has no session, and the next collection frees the page.
        self._pages.add(Page(doc, self.watch, open_pages=lambda: len(self.open_pages())))


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _origins(address: str, port: int) -> list[str]:
    """Pages served here may open their websocket; on every interface, pages from any name of the host."""
    if address in ("0.0.0.0", "::", ""):
        return ["*"]
    return [f"{host}:{port}" for host in dict.fromkeys((address, "localhost", "127.0.0.1", socket.gethostname()))]
