"""The viewer process: a Bokeh server whose pages draw one session's scans, read from Redis only.

It serves BokehJS from the installed package (nothing from the internet), answers
``/status`` with what it holds (JSON, for ``flint()`` and for tests), and says where it
listens in the session's plot settings so that every shell and terminal finds it.

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
import os
import signal
import socket
import weakref
from typing import Any

import redis
from bokeh.application import Application
from bokeh.application.handlers.function import FunctionHandler
from bokeh.server.server import Server
from tornado.web import RequestHandler

from bliss_shell.data.keys import plot_key

from .page import Page
from .reader import SessionWatch


class PortInUse(OSError):
    """The viewer's port is taken; the message names it and how to choose another."""


class _Status(RequestHandler):
    def initialize(self, viewer: Viewer) -> None:
        self._viewer = viewer

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(self._viewer.status()))


class Viewer:
    """One session's viewer: the shared ``SessionWatch`` and the Bokeh server of its pages."""

    def __init__(self, session: str, client: redis.Redis, redis_shown: str):
        self.session = session
        self._client = client
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
                extra_patterns=[("/status", _Status, {"viewer": self})],
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
        """Serve until SIGTERM or SIGINT; the pages read what ``SessionWatch`` gathers."""
        assert self._server is not None, "listen() first"
        loop = self._server.io_loop
        for signum in (signal.SIGTERM, signal.SIGINT):  # the loop's own handler wakes it at once
            loop.asyncio_loop.add_signal_handler(signum, loop.stop)
        self.watch.start()
        self._server.start()
        try:
            loop.start()
        finally:
            self.watch.stop()
            self.unregister()

    def register(self) -> str | None:
        """Tell the session's shells where the viewer is; None, or why it could not (a replica refuses writes)."""
        record = json.dumps({"url": self.url, "pid": os.getpid(), "host": socket.gethostname()})
        try:
            self._client.hset(plot_key(self.session), "viewer", record)
        except redis.RedisError as error:
            return f"could not record this viewer in Redis ({error}); shells will not find it, open {self.url}"
        return None

    def unregister(self) -> None:
        """Remove the viewer's record from the plot settings, if it is still this process's."""
        try:
            raw = self._client.hget(plot_key(self.session), "viewer")
            if raw and json.loads(raw).get("pid") == os.getpid():
                self._client.hdel(plot_key(self.session), "viewer")
        except redis.RedisError:
            pass

    def status(self) -> dict[str, Any]:
        """What ``/status`` answers: the session, URL, pid, Redis's state, the scans listed and each open page's updates."""
        pages = [{"sent": p.sent, "confirmed": p.confirmed, "dropped": p.dropped,
                  "scan": p._feed.db_name if p._feed else None} for p in list(self._pages)]  # fmt: skip
        return {"session": self.session, "url": self.url, "pid": os.getpid(),
                "redis": self.watch.redis_problem or "ok", "scans": len(self.watch.scans), "pages": pages}  # fmt: skip

    def _new_page(self, doc: Any) -> None:
        page = Page(doc, self.watch, open_pages=lambda: len(self._pages))
        self._pages.add(page)
        doc.on_session_destroyed(lambda context: self._pages.discard(page))


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _origins(address: str, port: int) -> list[str]:
    """Pages served here may open their websocket; on every interface, pages from any name of the host."""
    if address in ("0.0.0.0", "::", ""):
        return ["*"]
    return [f"{host}:{port}" for host in dict.fromkeys((address, "localhost", "127.0.0.1", socket.gethostname()))]
