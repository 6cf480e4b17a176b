"""Where and how the REST API listens: the session YAML's ``rest:`` node and ``bliss --rest [PORT]``.

BLISS's keys (``port``, ``cors``, ``iosecret``, ``debug``) keep their meaning; ``host`` is ours
(BLISS listens on every interface, the shell on 127.0.0.1 unless told). ``debug`` is accepted and
ignored: the shell never runs Flask's reloader. The environment variable ``BLISS_REST_IOSECRET``
(:data:`SECRET_VARIABLE`), when set and not empty, is the secret, over the YAML's ``iosecret``: the
secret can then stay out of the config files. Nothing here imports Flask: the shell reads the
settings of every session, and loads Flask only when one serves the API.

Examples
--------
>>> rest_settings({"port": 9030, "cors": True}, option=None, where="demo.yml, line 4")
RestSettings(port=9030, host='127.0.0.1', cors=True)
>>> rest_settings(None, option="", where="").port  # `bliss -s demo --rest`: any free port
0
>>> rest_settings(None, option=None, where="") is None  # neither: no REST API
True
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AUTO", "SECRET_VARIABLE", "RestConfigError", "RestSettings", "is_loopback", "rest_settings"]

AUTO = 0
"""The port that means "any free port" (BLISS's ``port: auto``)."""

SECRET_VARIABLE = "BLISS_REST_IOSECRET"
"""The environment variable holding the secret; set and not empty, it wins over the YAML's ``iosecret``."""

_KEYS = ("port", "host", "cors", "iosecret", "debug")


class RestConfigError(ValueError):
    """The ``rest:`` node or the ``--rest`` option holds a value the service cannot use; the message says which.

    Examples
    --------
    >>> try:
    ...     rest_settings({"cors": "maybe"}, option=None, where="demo.yml, line 4")
    ... except RestConfigError as error:
    ...     print(error)
    demo.yml, line 4: rest: cors must be true or false, not 'maybe'
    """


@dataclass(frozen=True)
class RestSettings:
    """How the service listens.

    Attributes
    ----------
    port : int
        The TCP port; 0 (:data:`AUTO`) lets the system choose a free one.
    host : str
        The address or host name to listen on; 127.0.0.1 keeps the API to this machine.
    cors : bool
        Answer cross-origin requests from any page (BLISS's ``cors: true``).
    iosecret : str or None
        The secret a peer other than this machine sends as ``Authorization: Bearer <iosecret>``
        to change anything or run code; required when ``host`` is not a loopback address.

    Examples
    --------
    >>> RestSettings(port=0).host
    '127.0.0.1'
    """

    port: int = AUTO
    host: str = "127.0.0.1"
    cors: bool = False
    iosecret: str | None = field(default=None, repr=False)  # a secret stays out of logs and reprs


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` (an address, or ``localhost``) is this machine alone.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    >>> is_loopback("::ffff:127.0.0.1")
    True
    """
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False  # a host name other than localhost: other machines may reach it
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _port(value: Any, what: str) -> int:
    """A port number from BLISS's ``auto``, an int, or digits."""
    if value == "auto" or value == "":
        return AUTO
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return value
    raise RestConfigError(f"{what} must be 'auto' (or 0) or a port number from 1 to 65535, not {value!r}")


def rest_settings(
    node: Mapping[str, Any] | None,
    option: str | None,
    where: str,
    present: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> RestSettings | None:
    """The settings of a session's REST API, or None when it serves none.

    Parameters
    ----------
    node : Mapping or None
        The value of the session YAML's ``rest:`` key (None when the key is absent or empty).
    option : str or None
        ``--rest``'s value: None when the option is not given, ``""`` when given without a port
        (then the YAML's port, else any free one), else the port (``auto`` or digits).
    where : str
        Where the ``rest:`` key is (file and line), for the error messages.
    present : bool, optional
        Whether the YAML has a ``rest:`` key (even empty); default: ``node is not None``.
    environ : Mapping, optional
        Where :data:`SECRET_VARIABLE` is read; default: ``os.environ``.

    Returns
    -------
    RestSettings or None
        None when neither the YAML nor the option asks for the service.

    Raises
    ------
    RestConfigError
        A key is unknown or has a value of the wrong kind, the port is out of range, or the host
        opens the API to other machines without ``iosecret``; the message names the key and says
        what to write.

    Examples
    --------
    >>> rest_settings({"port": "auto"}, option="9031", where="demo.yml, line 4").port  # the option wins
    9031
    >>> rest_settings({"prot": 9030}, option=None, where="demo.yml, line 4")
    Traceback (most recent call last):
    ...
    bliss_shell.rest.settings.RestConfigError: demo.yml, line 4: rest: unknown key 'prot' (keys: port, host, cors, iosecret, debug)
    >>> rest_settings({"host": "0.0.0.0"}, option=None, where="demo.yml, line 4")
    Traceback (most recent call last):
    ...
    bliss_shell.rest.settings.RestConfigError: demo.yml, line 4: rest: host '0.0.0.0' lets other machines in: add iosecret: <a secret of yours> (they send it as 'Authorization: Bearer <secret>'), or remove host to listen on 127.0.0.1 only
    >>> opened = rest_settings({"host": "0.0.0.0"}, None, "demo.yml", environ={"BLISS_REST_IOSECRET": "s3"})
    >>> opened.iosecret  # the secret from the environment
    's3'
    """
    if present is None:
        present = node is not None
    if not present and option is None:
        return None
    values: Mapping[str, Any] = {} if node is None else node
    prefix = f"{where}: rest:" if where else "rest:"
    if not isinstance(values, Mapping):
        raise RestConfigError(f"{prefix} must be a mapping of {', '.join(_KEYS)}, not {values!r}")
    for key in values:
        if key not in _KEYS:
            raise RestConfigError(f"{prefix} unknown key {key!r} (keys: {', '.join(_KEYS)})")
    try:
        port = _port(values.get("port", "auto"), "port")
    except RestConfigError as error:
        raise RestConfigError(f"{prefix} {error}") from None
    if option:
        try:
            port = _port(option, "--rest PORT")
        except RestConfigError as error:
            raise RestConfigError(str(error)) from None
    host = values.get("host", "127.0.0.1")
    if not isinstance(host, str) or not host.strip():
        raise RestConfigError(f"{prefix} host must be an address or a host name (127.0.0.1, 0.0.0.0, a name), not {host!r}")
    for key in ("cors", "debug"):
        if not isinstance(values.get(key, False), bool):
            raise RestConfigError(f"{prefix} {key} must be true or false, not {values[key]!r}")
    secret = values.get("iosecret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise RestConfigError(f"{prefix} iosecret must be a non-empty string, not {secret!r}")
    secret = (os.environ if environ is None else environ).get(SECRET_VARIABLE) or secret
    if not is_loopback(host) and secret is None:
        raise RestConfigError(
            f"{prefix} host {host!r} lets other machines in: add iosecret: <a secret of yours> (they send it as "
            "'Authorization: Bearer <secret>'), or remove host to listen on 127.0.0.1 only"
        )
    return RestSettings(port=port, host=host.strip(), cors=values.get("cors", False), iosecret=secret)
