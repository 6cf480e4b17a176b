"""The REST service of a session: BLISS 2.4's API on a Flask app and a socket.io server, in the shell's gevent loop.

:class:`RestService` builds the Flask app and the ``socketio.Server`` (gevent mode; websockets through
simple-websocket), installs the endpoint modules (``info``, ``beacon``, ``object_routes``,
``call_routes``), and serves them with gevent's WSGI server in greenlets of the shell: no thread, no
other process. What every route shares lives here, once:

- one WARNING line on logger ``bliss_shell.rest`` per refused request (status >= 400):
  ``REST <METHOD> <path> refused (<status>): <error text>``; nothing else is logged per request;
- JSON answers for an unknown ``/api`` path (404), a wrong method (405), a body over 4 MiB (413,
  refused before any route runs) and an error no route caught (500);
- who may change anything or run code (POST, PUT, PATCH, DELETE under ``/api``; registering objects the
  session has not loaded): this machine, naming itself in ``Host`` and ``Origin``, or a peer sending
  ``Authorization: Bearer <iosecret>`` (``access``); a 401 or 403 line names the peer
  (``refused (401): from 192.0.2.2: Unauthorized: ...``); who gets the calls' output on socket.io ``/call``
  (``call_routes``);
- blisswebui's page, as BLISS serves it (``webui``).

Examples
--------
>>> service = RestService(RestSettings(port=0), context)  # doctest: +SKIP
>>> host, port = service.start()  # doctest: +SKIP
>>> service.set_ready()  # doctest: +SKIP
>>> service.stop()  # doctest: +SKIP
>>> RestService(RestSettings(port=0), None).ready  # not started: not ready
False
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from .context import SessionContext
from .settings import RestSettings

if TYPE_CHECKING:
    import flask
    import socketio
    from gevent.pywsgi import WSGIServer

__all__ = ["MAX_BODY", "RestService", "RestStartError", "logger", "rest_banner"]

logger = logging.getLogger("bliss_shell.rest")

MAX_BODY = 4 * 2**20
"""The largest request body accepted (bytes); a larger one is refused with 413 before any route reads it."""

_STOP_TIMEOUT = 1.0  # seconds the open connections (socket.io clients) get to end before they are cut


def rest_banner(url: str, redis_url: str, scans_readable: bool) -> str:
    """What the shell prints once the API listens: the blissclient line a user pastes, and the web UI's address.

    blissclient takes the base URL (it adds ``/api`` itself) and reads the scans from the session's
    Redis (``blissdata_url``; without it, it guesses a Redis at the HTTP port). A Redis where
    blissdata 2 cannot open the scans (no RedisJSON and RediSearch) adds a second line saying so.

    Parameters
    ----------
    url : str
        ``http://HOST:PORT``, as :attr:`RestService.url`.
    redis_url : str
        The shell's Redis URL (a password already hidden: the user types it).
    scans_readable : bool
        Whether scans get their blissdata 2 documents (``bliss_shell.data.blissdata_server.takes_documents``).

    Examples
    --------
    >>> print(rest_banner("http://127.0.0.1:9030", "unix:///run/bliss/redis.sock", True))
    REST API: BlissClient("http://127.0.0.1:9030", blissdata_url="unix:///run/bliss/redis.sock")  web UI: http://127.0.0.1:9030/
    >>> print(rest_banner("http://127.0.0.1:9030", "redis://localhost:6379", False))
    REST API: BlissClient("http://127.0.0.1:9030", blissdata_url="redis://localhost:6379")  web UI: http://127.0.0.1:9030/
      blissclient cannot open the scans of this Redis: blissdata 2 needs RedisJSON and RediSearch (docs/blissdata.md)
    """
    line = f'REST API: BlissClient("{url}", blissdata_url="{redis_url}")  web UI: {url}/'
    if scans_readable:
        return line
    return f"{line}\n  blissclient cannot open the scans of this Redis: blissdata 2 needs RedisJSON and RediSearch (docs/blissdata.md)"


class RestStartError(Exception):
    """The service could not listen; the message is the one line the shell prints."""


class RestService:
    """BLISS's REST API for one session, served from the shell's own process.

    Parameters
    ----------
    settings : RestSettings
        Where to listen, CORS, the secret.
    context : SessionContext
        The session the routes serve.

    Attributes
    ----------
    context : SessionContext
        What the routes read the session through.
    ready : bool
        False until :meth:`set_ready` (the session's setup has run): routes answer BLISS's 503 meanwhile.
    objects : ObjectStore or None
        The registered objects and their events (``bliss_shell.rest.objects``), once started.
    calls : Calls or None
        The calls made through the API (``bliss_shell.rest.calls``), once started.
    app : flask.Flask or None
        The Flask app, once started.
    sio : socketio.Server or None
        The socket.io server (namespaces ``/object`` and ``/call``), once started.

    Examples
    --------
    >>> service = RestService(RestSettings(port=0), None)
    >>> service.url  # not listening yet
    ''
    """

    def __init__(self, settings: RestSettings, context: SessionContext):
        self.settings = settings
        self.context = context
        self.ready = False
        self.objects: Any = None
        self.calls: Any = None
        self.app: flask.Flask | None = None
        self.sio: socketio.Server | None = None
        self.address: tuple[str, int] | None = None
        self._server: WSGIServer | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` as a user on this machine types it, or ``""`` before :meth:`start`.

        A service listening on every interface (``0.0.0.0``, ``::``) is named by the machine's host name.
        """
        if self.address is None:
            return ""
        host, port = self.address
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def start(self) -> tuple[str, int]:
        """Build the app, listen, and serve in greenlets; the address listened on.

        Port 0 (``auto``) binds a free port chosen by the system, read back from the socket.

        Returns
        -------
        tuple of (str, int)
            The host and the port listened on.

        Raises
        ------
        RestStartError
            The address cannot be listened on (a port in use, a host name unknown); nothing is left running.
        RuntimeError
            The service is already running.
        """
        if self._server is not None:
            raise RuntimeError("the REST service is already running")
        from gevent.pywsgi import WSGIServer

        host, port = self.settings.host, self.settings.port
        server = WSGIServer((host, port), None, log=None, error_log=logger, handler_class=_immediate_handler())
        try:
            server.init_socket()  # binds now: port 0 becomes the free port chosen, no window for another process
        except OSError as error:
            # the system's words (gevent appends the address to strerror; the line names it already)
            number = error.errno
            reason = os.strerror(number) if number and number > 0 else (error.strerror or str(error) or type(error).__name__)
            raise RestStartError(f"the REST API cannot listen on {host}:{port}: {reason}") from None
        try:
            self._serve(server)
        except Exception as error:  # a fault of ours: the traceback logged, one line for the user, the session opens
            logger.exception("REST service: could not start")
            self._server = server
            self.stop()
            raise RestStartError(f"the REST API could not start: {type(error).__name__}: {error}") from error
        self.address = (host, server.address[1])
        return self.address

    def _serve(self, server: WSGIServer) -> None:
        """Build the app, the socket.io server, the objects and the calls, install the routes; serve on ``server``."""
        import socketio

        from . import beacon, call_routes, info, object_routes
        from .access import bounded_body
        from .calls import Calls
        from .objects import ObjectStore

        self.app = app = self._make_app()
        self.sio = sio = socketio.Server(
            async_mode="gevent",
            cors_allowed_origins="*" if self.settings.cors else None,  # None: the page's own origin only
            logger=False,
            engineio_logger=False,
        )
        self.objects = ObjectStore(self.context, lambda event, data: self.emit(event, data, "/object"))
        # a call's output goes to the /call clients trusted at their connection only (call_routes)
        self.calls = Calls(self.context, lambda event, data: self.emit(event, data, "/call", call_routes.STDOUT_ROOM))
        for module in (info, beacon, object_routes, call_routes):
            module.install(app, sio, self)
        server.application = bounded_body(socketio.WSGIApp(sio, app), MAX_BODY)
        server.start()
        self._server = server
        self.objects.start()

    def set_ready(self) -> None:
        """The session's setup has run: the routes serve what BLISS protects until then."""
        self.ready = True

    def stop(self) -> None:
        """Stop listening (the port is free at once), stop the objects' poller and the running calls, cut the clients."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()  # the listening socket first: a new server can bind the port from now on
        running = self.calls.running() if self.calls is not None else []
        if running:
            logger.warning("REST: killing %d running call%s at exit: %s", len(running), "s" if len(running) > 1 else "",
                           ", ".join(running))  # fmt: skip
        for part in (self.objects, self.calls):
            if part is not None:
                try:
                    part.stop()
                except Exception:
                    logger.exception("REST service: stopping %s failed", type(part).__name__)
        if self.sio is not None:
            try:
                self.sio.shutdown()
            except Exception:
                logger.exception("REST service: stopping socket.io failed")
        server.stop(timeout=_STOP_TIMEOUT)
        self.ready = False

    def emit(self, event: str, data: Any, namespace: str, room: str | None = None) -> None:
        """Send a socket.io event to the clients of ``namespace`` (of its ``room`` only, if given); never raises.

        Examples
        --------
        >>> RestService(RestSettings(port=0), None).emit("change", {}, "/object")  # not started: nothing sent
        """
        if self.sio is None:
            return
        try:
            self.sio.emit(event, data, namespace=namespace, to=room)
        except Exception:
            logger.exception("REST service: could not send the %s event on %s", event, namespace)

    def refused(self, status: int, message: str, method: str | None = None, path: str | None = None) -> None:
        """Write the one WARNING line of a refused request: ``REST <METHOD> <path> refused (<status>): <text>``.

        The service writes it for every HTTP answer >= 400 itself; call it only for a refusal outside an
        HTTP request (a socket.io connection), with ``method`` and ``path`` saying what was refused.

        Examples
        --------
        >>> RestService(RestSettings(port=0), None).refused(401, "Unauthorized", method="SOCKET", path="/call")
        """
        if method is None or path is None:
            from flask import has_request_context, request

            if has_request_context():
                method, path = method or request.method, path or request.path
        logger.warning("REST %s %s refused (%d): %s", method or "?", path or "?", status, message)

    # -- the app ------------------------------------------------------------------------------------------

    def _make_app(self) -> flask.Flask:
        """The Flask app with what every route shares: limits, errors, the refusal line, access, the web UI."""
        from flask import Flask, g, request
        from werkzeug.exceptions import HTTPException

        from . import webui
        from .access import cors_headers, guarded, refusal
        from .responses import Refusal, error, exception, refusal_text

        app = Flask("bliss_shell.rest", static_folder=None)
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
        app.config["REST_SERVICE"] = self  # as BLISS's app holds its service

        @app.before_request
        def _check_request() -> Any:
            if request.content_length is not None and request.content_length > MAX_BODY:
                return _too_large()
            if guarded(request.method, request.path):
                refused = refusal(self.settings, request.environ)
                if refused is not None:
                    return error(*refused)
            return None

        @app.after_request
        def _finish(response: flask.Response) -> flask.Response:
            status = response.status_code
            if status >= 400 and not g.get("rest_logged", False):  # a failed call's state: logged as it failed
                text = refusal_text(response)
                if status in (401, 403):  # who was refused: the line a security-minded user reads
                    text = f"from {request.remote_addr}: {text}"
                self.refused(status, text)
            if self.settings.cors:
                cors_headers(response)
            return response

        def _too_large(_error: Exception | None = None) -> flask.Response:
            return error(413, "Request body too large (limit 4 MiB)")

        def _not_found(_error: Exception) -> flask.Response:
            return error(404, f"Not found: {request.path}")

        def _wrong_method(raised: Exception) -> flask.Response:
            allowed = sorted(getattr(raised, "valid_methods", None) or [])
            response = error(405, f"Method {request.method} not allowed on {request.path} (allowed: {', '.join(allowed)})")
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
            return response

        def _http_error(raised: HTTPException) -> flask.Response:
            return error(raised.code or 500, f"{raised.name}: {raised.description}")

        def _internal(raised: Exception) -> flask.Response:
            original = getattr(raised, "original_exception", None) or raised
            return exception(original)

        app.register_error_handler(Refusal, lambda raised: raised.response)
        app.register_error_handler(404, _not_found)
        app.register_error_handler(405, _wrong_method)
        app.register_error_handler(413, _too_large)
        app.register_error_handler(500, _internal)
        app.register_error_handler(HTTPException, _http_error)
        webui.install(app)
        return app


def _immediate_handler() -> type:
    """The WSGI handler of gevent, each response sent at once.

    pywsgi writes a response's headers and its body in two sends; with Nagle's algorithm on, the body waits for the
    client's acknowledgement of the headers, which Linux delays by 40 ms on a connection kept alive (blissclient's,
    a browser's): every request took 44-48 ms instead of 2-4 (bench/rest_cost.py, docs/performance.md).

    Examples
    --------
    >>> _immediate_handler().__name__
    'ImmediateHandler'
    """
    from gevent.pywsgi import WSGIHandler

    class ImmediateHandler(WSGIHandler):
        def handle(self) -> None:
            with contextlib.suppress(OSError):  # not a TCP socket: nothing to hold back
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle()

    return ImmediateHandler
