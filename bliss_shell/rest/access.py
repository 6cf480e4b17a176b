"""Who may change things or run code through the REST API, and what a request must look like to reach a route.

A request that changes anything or runs code (POST, PUT, PATCH, DELETE under ``/api``, except
``POST /api/object``: :func:`guarded`) is let through when

- it carries ``Authorization: Bearer <iosecret>`` (the session's secret), from any peer; or
- it comes from this machine (a loopback peer address: ``REMOTE_ADDR``, never a header such as
  ``X-Forwarded-For``) *and* its ``Host`` header names this machine: ``127.0.0.1`` (any loopback
  address), ``localhost``, ``[::1]``, the configured ``host``, or, when the service listens on every
  interface, the machine's own name (the one the shell prints). The port in ``Host`` is not checked:
  an SSH tunnel may forward another local port.

The ``Host`` check stops DNS rebinding: a web page of another site, opened in a browser of this
machine, whose name its owner points at 127.0.0.1, sends its own name in ``Host``. Refused: 401 for
another machine without the secret, 403 for a ``Host`` that is not this machine. Reads (GET) stay open,
and so does registering objects (``POST /api/object``: it makes them visible to the caller, moves and
sets nothing), so that blisswebui opened on another machine shows the session.

Bodies: :func:`bounded_body` reads a chunked body (no ``Content-Length``) itself, at most the limit
and one byte more, so that a body too large is refused (413) and a small one reaches the route.

Examples
--------
>>> from bliss_shell.rest.settings import RestSettings
>>> local = RestSettings(port=0)
>>> refusal(local, {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost:9030"}) is None
True
>>> refusal(local, {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "evil.example:9030"})[0]
403
>>> opened = RestSettings(port=0, host="0.0.0.0", iosecret="s3")
>>> refusal(opened, {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "127.0.0.1"})[0]
401
>>> refusal(opened, {"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer s3"}) is None
True
"""

from __future__ import annotations

import hmac
import io
import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .settings import RestSettings, is_loopback

if TYPE_CHECKING:
    import flask

__all__ = ["CHANGES", "UNAUTHORIZED", "bounded_body", "cors_headers", "guarded", "is_api", "local_names", "refusal"]

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""The methods that change something or run code: under ``/api`` they need :func:`refusal` to say None."""

UNAUTHORIZED = (
    "Unauthorized: from another machine, a request that changes anything or runs code needs the header "
    "'Authorization: Bearer <iosecret>' (the iosecret of the session's rest: config, or BLISS_REST_IOSECRET)"
)

_WILDCARDS = ("0.0.0.0", "::", "")
_Environ = dict[str, Any]
_StartResponse = Callable[..., Any]
_Application = Callable[[_Environ, _StartResponse], Iterable[bytes]]


def is_api(path: str) -> bool:
    """Whether ``path`` is under ``/api`` (JSON answers, the secret's rules).

    Examples
    --------
    >>> is_api("/api/call"), is_api("/api"), is_api("/apiary")
    (True, True, False)
    """
    return path == "/api" or path.startswith("/api/")


def guarded(method: str, path: str) -> bool:
    """Whether a request needs :func:`refusal`'s check: it changes anything or runs code.

    Registering objects (``POST /api/object``) only makes them visible to the caller, as reading
    does: open, so that blisswebui opened on another machine shows the session (it registers
    what it shows), though it cannot move or set anything there.

    Examples
    --------
    >>> guarded("POST", "/api/call"), guarded("PUT", "/api/object/roby"), guarded("DELETE", "/api/call/1")
    (True, True, True)
    >>> guarded("POST", "/api/object"), guarded("GET", "/api/call/1"), guarded("POST", "/motors")
    (False, False, False)
    """
    if method not in CHANGES or not is_api(path):
        return False
    return not (method == "POST" and path == "/api/object")


def local_names(settings: RestSettings) -> frozenset[str]:
    """The host names (lower case) that name this machine in a request's ``Host``, besides loopback addresses.

    Examples
    --------
    >>> sorted(local_names(RestSettings(port=0, host="beamline-pc", iosecret="s3")))
    ['beamline-pc', 'localhost']
    """
    names = {"localhost"}
    host = settings.host.strip().lower()
    if host in _WILDCARDS:
        names.add(socket.gethostname().lower())  # the name the shell prints in its URL
    else:
        names.add(host.strip("[]"))
    return frozenset(names)


def _host_name(header: str) -> str:
    """The name of a ``Host`` header, without its port or brackets, lower case: ``[::1]:9030`` -> ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    name, _, _port = header.partition(":") if header.count(":") == 1 else (header, "", "")
    return name.rstrip(".")


def _has_secret(settings: RestSettings, environ: _Environ) -> bool:
    """Whether the request carries ``Authorization: Bearer <iosecret>`` (never true without a secret set)."""
    if not settings.iosecret:
        return False
    sent = str(environ.get("HTTP_AUTHORIZATION", ""))
    return hmac.compare_digest(sent.encode(), f"Bearer {settings.iosecret}".encode())


def refusal(settings: RestSettings, environ: _Environ) -> tuple[int, str] | None:
    """Why a request that changes anything or runs code is refused (status and text), or None when it may run.

    Parameters
    ----------
    settings : RestSettings
        The service's host and secret.
    environ : dict
        The request's WSGI environ: ``REMOTE_ADDR`` (the peer), ``HTTP_HOST``, ``HTTP_AUTHORIZATION``.

    Returns
    -------
    tuple of (int, str) or None
        401 and what to send for another machine without the secret; 403 and what to do for a ``Host``
        that does not name this machine; None when the request may run.

    Examples
    --------
    >>> refusal(RestSettings(port=0), {"REMOTE_ADDR": "::1", "HTTP_HOST": "[::1]:9030"}) is None
    True
    >>> refusal(RestSettings(port=0), {"REMOTE_ADDR": "10.1.2.3", "HTTP_HOST": "localhost"})[0]
    401
    """
    if _has_secret(settings, environ):
        return None
    if not is_loopback(str(environ.get("REMOTE_ADDR", ""))):
        return 401, UNAUTHORIZED
    host = environ.get("HTTP_HOST")
    if host is None:  # no browser sends a request without one: DNS rebinding always names its site
        return None
    name = _host_name(str(host))
    if name in local_names(settings) or is_loopback(name):
        return None
    return 403, (
        f"Forbidden: the request names the host {str(host)!r}, not this machine; a request that changes anything or "
        "runs code must be sent to 127.0.0.1, localhost or [::1] (or the rest: host), as in the URL the shell "
        "prints, or carry 'Authorization: Bearer <iosecret>'"
    )


def bounded_body(application: _Application, limit: int) -> _Application:
    """Wrap a WSGI ``application`` so that a chunked request body (no ``Content-Length``) reaches it read and sized.

    The body is read here, at most ``limit + 1`` bytes, and given on as a sized body: werkzeug reads
    no chunked body under gevent's server (no ``wsgi.input_terminated``), and the size check (413) of
    the app then sees it. The rest of a body too large is left unread.

    Examples
    --------
    >>> def echo(environ, start_response):
    ...     start_response("200 OK", [])
    ...     return [environ["CONTENT_LENGTH"].encode(), environ["wsgi.input"].read()]
    >>> environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"0123456789")}
    >>> b"".join(bounded_body(echo, 4)(environ, lambda *args: None))
    b'501234'
    """

    def sized(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
        if "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower():
            stream, parts, size = environ["wsgi.input"], [], 0
            while size <= limit:
                part = stream.read(limit + 1 - size)
                if not part:
                    break
                parts.append(part)
                size += len(part)
            environ["wsgi.input"] = io.BytesIO(b"".join(parts))
            environ["CONTENT_LENGTH"] = str(size)
            del environ["HTTP_TRANSFER_ENCODING"]
        return application(environ, start_response)

    return sized


def cors_headers(response: flask.Response) -> None:
    """CORS for any origin (BLISS's ``cors: true``): the answer readable by any page, preflights answered."""
    from flask import request

    if "Origin" not in request.headers:
        return
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response.headers["Access-Control-Allow-Methods"] = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
        wanted = request.headers.get("Access-Control-Request-Headers")
        if wanted:
            response.headers["Access-Control-Allow-Headers"] = wanted
