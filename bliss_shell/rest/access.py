"""Who may change things or run code through the REST API, and what a request must look like to reach a route.

A request that changes anything or runs code (POST, PUT, PATCH, DELETE under ``/api``, except
``POST /api/object``: :func:`guarded`) is let through when

- it carries ``Authorization: Bearer <iosecret>`` (the session's secret), from any peer; or
- it comes from this machine (a loopback peer address: ``REMOTE_ADDR``, never a header such as
  ``X-Forwarded-For``) *and* its ``Host`` header names this machine: ``127.0.0.1`` (any loopback
  address), ``localhost``, ``[::1]``, the configured ``host``, or, when the service listens on every
  interface, the machine's own name (the one the shell prints). The port in ``Host`` is not checked:
  an SSH tunnel may forward another local port. *And* its ``Origin`` header, when it has one, names
  this machine too: a page of another site sends its own origin, whatever ``cors`` says.

The ``Host`` check stops DNS rebinding: a web page of another site, opened in a browser of this
machine, whose name its owner points at 127.0.0.1, sends its own name in ``Host``. The ``Origin``
check stops a page of another site that sends its request to ``127.0.0.1`` itself (with ``cors: true``
it may, and without CORS a ``text/plain`` form still reaches the route). A request without ``Host`` (HTTP/1.0)
from this machine is let through: HTTP/1.1 clients and browsers always send one, and a page cannot
remove it. Refused: 401 for another machine without the secret, 403 for a ``Host`` or an ``Origin`` that
is not this machine. Reads (GET) stay open, and so does registering the objects the session already has
(``POST /api/object``, :func:`register_refusal`: it makes them visible to the caller, moves and sets
nothing), so that blisswebui opened on another machine shows the session; registering a name the
session has not loaded (it would build it) is refused as a change.

Socket.io ``/call`` is open to every peer, but a call's output (``stdout`` events) goes only to the
clients :func:`trusted` at their connection: as above, the secret also as socket.io auth ``{"token": ...}``.

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
>>> refusal(local, {"REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": "http://evil.example"})[0]
403
"""

from __future__ import annotations

import hmac
import io
import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .settings import RestSettings, is_loopback

if TYPE_CHECKING:
    import flask

__all__ = [
    "CHANGES",
    "KNOWN_NAMES",
    "UNAUTHORIZED",
    "bounded_body",
    "cors_headers",
    "guarded",
    "is_api",
    "local_names",
    "refusal",
    "register_refusal",
    "trusted",
]

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""The methods that change something or run code: under ``/api`` they need :func:`refusal` to say None."""

UNAUTHORIZED = (
    "Unauthorized: from another machine, a request that changes anything or runs code needs the header "
    "'Authorization: Bearer <iosecret>' (the iosecret of the session's rest: config, or BLISS_REST_IOSECRET)"
)

KNOWN_NAMES = frozenset({"SCAN_SAVING", "ACTIVE_MG"})
"""The names BLISS serves besides the session namespace's: any peer may register them."""

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

    Registering objects (``POST /api/object``) is checked by its route (:func:`register_refusal`):
    registering what the session has only makes it visible to the caller, as reading does, so that
    blisswebui opened on another machine shows the session (it registers what it shows).

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


def _names_this_machine(settings: RestSettings, name: str) -> bool:
    """Whether a host ``name`` (lower case, no port nor brackets) is this machine."""
    return name in local_names(settings) or is_loopback(name)


def _origin_name(origin: str) -> str:
    """The host of an ``Origin`` header, lower case, no port: ``http://[::1]:9030`` -> ``::1``; ``""`` for ``null``."""
    try:
        return (urlsplit(origin.strip()).hostname or "").rstrip(".")
    except ValueError:  # not a URL at all: no host
        return ""


def _has_secret(settings: RestSettings, environ: _Environ, token: Any = None) -> bool:
    """Whether the request carries ``Authorization: Bearer <iosecret>``, or ``token`` is it (never without a secret set)."""
    if not settings.iosecret:
        return False
    sent = str(environ.get("HTTP_AUTHORIZATION", ""))
    if hmac.compare_digest(sent.encode(), f"Bearer {settings.iosecret}".encode()):
        return True
    return isinstance(token, str) and hmac.compare_digest(token.encode(), settings.iosecret.encode())


def refusal(settings: RestSettings, environ: _Environ) -> tuple[int, str] | None:
    """Why a request that changes anything or runs code is refused (status and text), or None when it may run.

    Parameters
    ----------
    settings : RestSettings
        The service's host and secret.
    environ : dict
        The request's WSGI environ: ``REMOTE_ADDR`` (the peer), ``HTTP_HOST``, ``HTTP_ORIGIN``,
        ``HTTP_AUTHORIZATION``.

    Returns
    -------
    tuple of (int, str) or None
        401 and what to send for another machine without the secret; 403 and what to do for a ``Host``
        or an ``Origin`` that does not name this machine; None when the request may run.

    Examples
    --------
    >>> refusal(RestSettings(port=0), {"REMOTE_ADDR": "::1", "HTTP_HOST": "[::1]:9030"}) is None
    True
    >>> refusal(RestSettings(port=0), {"REMOTE_ADDR": "10.1.2.3", "HTTP_HOST": "localhost"})[0]
    401
    >>> refusal(RestSettings(port=0), {"REMOTE_ADDR": "127.0.0.1"}) is None  # no Host (HTTP/1.0): this machine
    True
    >>> refusal(RestSettings(port=0), {"REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": "http://localhost:5173"}) is None
    True
    """
    if _has_secret(settings, environ):
        return None
    if not is_loopback(str(environ.get("REMOTE_ADDR", ""))):
        return 401, UNAUTHORIZED
    host = environ.get("HTTP_HOST")
    # no Host (HTTP/1.0): let through; HTTP/1.1 clients and browsers always send one, and a page (DNS rebinding)
    # cannot remove it: its request names its own site
    if host is not None and not _names_this_machine(settings, _host_name(str(host))):
        return 403, (
            f"Forbidden: the request names the host {str(host)!r}, not this machine; a request that changes anything "
            "or runs code must be sent to 127.0.0.1, localhost or [::1] (or the rest: host), as in the URL the shell "
            "prints, or carry 'Authorization: Bearer <iosecret>'"
        )
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and not _names_this_machine(settings, _origin_name(str(origin))):
        return 403, (
            f"Forbidden: the request comes from a page of {str(origin)!r}, not of this machine; a web page of another "
            "site may not change anything or run code here, whatever cors says: send the request from a page or a "
            "program of this machine, or with 'Authorization: Bearer <iosecret>'"
        )
    return None


def trusted(settings: RestSettings, environ: _Environ, auth: Any = None) -> bool:
    """Whether a socket.io client may get the calls' output: :func:`refusal` lets it through, or its ``auth`` has the secret.

    Parameters
    ----------
    settings : RestSettings
        The service's host and secret.
    environ : dict
        The WSGI environ of the client's connection.
    auth : Any
        What the client sent as socket.io auth: ``{"token": <iosecret>}`` counts as the secret.

    Examples
    --------
    >>> opened = RestSettings(port=0, host="0.0.0.0", iosecret="s3")
    >>> trusted(opened, {"REMOTE_ADDR": "10.1.2.3"}), trusted(opened, {"REMOTE_ADDR": "10.1.2.3"}, {"token": "s3"})
    (False, True)
    >>> trusted(opened, {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost:9030"})
    True
    """
    token = auth.get("token") if isinstance(auth, dict) else None
    return _has_secret(settings, environ, token) or refusal(settings, environ) is None


def register_refusal(
    settings: RestSettings, environ: _Environ, names: Iterable[str], env: Iterable[str]
) -> tuple[int, str] | None:
    """Why registering ``names`` is refused (status and text), or None: a name the session has not loaded is a change.

    Registering a name of the session namespace (``env``), ``SCAN_SAVING`` or ``ACTIVE_MG`` only shows
    what the session has: open to every peer. Another name of the config would be built now (its
    controller's code run, its connections opened): it needs what :func:`refusal` asks of any change.

    Parameters
    ----------
    settings : RestSettings
        The service's host and secret.
    environ : dict
        The request's WSGI environ.
    names : Iterable of str
        The names to register.
    env : Iterable of str
        The names of the session namespace (a mapping will do).

    Examples
    --------
    >>> opened = RestSettings(port=0, host="0.0.0.0", iosecret="s3")
    >>> remote = {"REMOTE_ADDR": "10.1.2.3"}
    >>> register_refusal(opened, remote, ["roby", "SCAN_SAVING"], {"roby": None}) is None
    True
    >>> register_refusal(opened, remote, ["roby", "robz2"], {"roby": None})[0]
    401
    """
    known = set(env) | KNOWN_NAMES
    unknown = [name for name in names if name not in known]
    if not unknown:
        return None
    refused = refusal(settings, environ)
    if refused is None:
        return None
    status, text = refused
    return status, f"{text} (registering {', '.join(unknown)}, which the session has not loaded, would build it)"


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
