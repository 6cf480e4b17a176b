"""BLISS's "jsonready" encoding: the values a call takes and returns, as they cross the wire.

JSON has no NaN, no infinity, no scan and no motor. BLISS 2.4 (``bliss.common.jsonready``) and
blissclient write them as small tagged objects, which this module reads and writes the same way:

=====================  ==============================================================
Python                 JSON
=====================  ==============================================================
``nan``, ``-inf``,     ``{"__type__": "nan"}``, ``{"__type__": "neginf"}``,
``inf``                ``{"__type__": "posinf"}``
a scan                 ``{"__type__": "scan", "key": <its blissdata 2 key>}``
an object with a name  ``{"__type__": "object", "name": "roby"}``
an exception           ``{"__type__": "exception", "class", "message", "traceback"}``
numpy scalar / array   a plain number / nested lists (BLISS leaves them unencodable)
=====================  ==============================================================

Read back, an ``object`` is the session's object of that name (the namespace first, then the
config); ``quantity`` (we have no units library), ``scan`` and ``exception`` are refused.

Examples
--------
>>> to_jsonready([1.5, float("nan"), {"top": float("inf")}])
[1.5, {'__type__': 'nan'}, {'top': {'__type__': 'posinf'}}]
>>> from_jsonready([{"__type__": "neginf"}, 2], env={}, config=None)
[-inf, 2]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar

import numpy as np

from bliss_shell.config import ConfigError
from bliss_shell.data.blissdata import scan_key
from bliss_shell.data.blissdata_server import takes_documents
from bliss_shell.scanning.scan import Scan

from .names import ObjectNotFound, lookup

__all__ = ["NotDecodable", "from_jsonready", "scan_reference", "to_jsonready"]


class NotDecodable(ValueError):
    """A jsonready value that cannot be turned back into a Python one here (a 500 at ``/api/call``).

    Examples
    --------
    >>> str(NotDecodable("quantity"))
    "'quantity' deserialisation is not allowed: this shell has no units library; send the plain number"
    """

    _WHY: ClassVar[dict[str, str]] = {"quantity": ": this shell has no units library; send the plain number"}

    def __init__(self, kind: str):
        super().__init__(f"'{kind}' deserialisation is not allowed{self._WHY.get(kind, '')}")


def to_jsonready(content: Any) -> Any:
    """``content`` made JSON-safe the way BLISS encodes it (lists, tuples and dicts walked through).

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonready({"x": np.float64(2.0), "points": np.array([1, 2]), "low": -math.inf})
    {'x': 2.0, 'points': [1, 2], 'low': {'__type__': 'neginf'}}
    >>> to_jsonready(ValueError("too far"))
    {'__type__': 'exception', 'class': 'ValueError', 'message': 'too far'}
    """
    if isinstance(content, (list, tuple)):
        return [to_jsonready(item) for item in content]
    if isinstance(content, dict):  # every dict is walked, as in BLISS; other mappings (a config node) are values
        return {key: to_jsonready(value) for key, value in content.items()}
    if isinstance(content, np.ndarray):
        return to_jsonready(content.tolist())
    if isinstance(content, np.generic):
        return _one(content.item())
    return _one(content)


def _one(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return {"__type__": "nan"}
        if math.isinf(number):
            return {"__type__": "posinf" if number > 0 else "neginf"}
        return value
    if isinstance(value, Scan):
        return {"__type__": "scan", "key": scan_reference(value)}
    if isinstance(value, BaseException):
        encoded: dict[str, Any] = {"__type__": "exception", "class": type(value).__name__, "message": str(value)}
        if value.__traceback__ is not None:  # raised: where
            encoded["traceback"] = traceback_dict(value.__traceback__)
        return encoded
    try:
        name = value.name
    except Exception:  # no name, or one that cannot be read: the value as it is
        return value
    return {"__type__": "object", "name": name}


def scan_reference(scan: Scan) -> str | None:
    """The key that opens ``scan`` elsewhere: its blissdata 2 document's, else (no document) its node's.

    None before it has a place in Redis.

    Examples
    --------
    >>> scan_reference(SCANS[-1])  # the doctests' Redis lacks blissdata's modules: the node's key
    'test_session:tmp:...'
    """
    node = scan.node
    if node is None:
        return None
    client = scan._context.client  # the session the scan ran in
    return scan_key(node.db_name) if takes_documents(client) else node.db_name


def traceback_dict(tb: TracebackType | None) -> dict[str, Any] | None:
    """A raised exception's traceback, as the dict tblib's ``Traceback.to_dict()`` gives BLISS's clients.

    Examples
    --------
    >>> try:
    ...     1 / 0
    ... except ZeroDivisionError as error:
    ...     sorted(traceback_dict(error.__traceback__))
    ['tb_frame', 'tb_lineno', 'tb_next']
    """
    if tb is None:
        return None
    code = tb.tb_frame.f_code
    frame = {
        "f_globals": {key: value for key, value in tb.tb_frame.f_globals.items() if key in ("__file__", "__name__")},
        "f_locals": {},
        "f_code": {"co_filename": code.co_filename, "co_name": code.co_name},
        "f_lineno": tb.tb_frame.f_lineno,
    }
    return {"tb_frame": frame, "tb_lineno": tb.tb_lineno, "tb_next": traceback_dict(tb.tb_next)}


def from_jsonready(content: Any, env: Mapping[str, Any], config: Any) -> Any:
    """A call's arguments as Python values: the tagged objects decoded, object names resolved.

    Parameters
    ----------
    content
        The JSON value (``args`` or ``kwargs`` of a call).
    env
        The session namespace: ``{"__type__": "object", "name": "roby"}`` is ``env["roby"]``...
    config
        ...else ``config.get("roby")`` (a `bliss_shell.config.Config`; None: the namespace only).

    Raises
    ------
    bliss_shell.rest.names.ObjectNotFound
        An object name neither knows.
    NotDecodable
        A ``quantity``, ``scan`` or ``exception``.

    Examples
    --------
    >>> from_jsonready({"motor": {"__type__": "object", "name": "m0"}}, env={"m0": "the m0"}, config=None)
    {'motor': 'the m0'}
    >>> from_jsonready({"__type__": "object", "name": "robz"}, env={}, config=None)
    Traceback (most recent call last):
    ...
    bliss_shell.rest.names.ObjectNotFound: Object 'robz' doesn't exist in config
    """
    if isinstance(content, list):
        return [from_jsonready(item, env, config) for item in content]
    if not isinstance(content, dict):
        return content
    kind = content.get("__type__")
    if kind is None:
        return {key: from_jsonready(value, env, config) for key, value in content.items()}
    if kind in _NUMBERS:
        return _NUMBERS[kind]
    if kind == "object":
        return _object(content.get("name"), env, config)
    if kind in ("quantity", "scan", "exception"):
        raise NotDecodable(kind)
    return content


_NUMBERS = {"nan": math.nan, "neginf": -math.inf, "posinf": math.inf}


def _object(name: Any, env: Mapping[str, Any], config: Any) -> Any:
    if not isinstance(name, str):
        raise ObjectNotFound(str(name))
    try:
        return lookup(name, env, config)
    except ConfigError as error:  # named in the config, but cannot be built: the call cannot run, say why
        raise RuntimeError(f"Object '{name}' cannot be made from the config: {error}") from error
