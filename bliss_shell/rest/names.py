"""Which object of the session a name given by a REST client is: the namespace's, else the config's.

One lookup for every name a client sends: a registered object (``POST /api/object``, through
`bliss_shell.rest.mappings`) and an ``{"__type__": "object", "name": ...}`` argument of a call
(`bliss_shell.rest.jsonready`). A name in neither is `ObjectNotFound`, with BLISS's text. An object
named in the config that fails to load raises what the config raised: each caller gives its own
answer (a registered object is served offline, as BLISS's ``DummyNotLoaded``; a call's argument is
refused, since the call cannot run without it).

Examples
--------
>>> lookup("roby", {"roby": roby}, config=None) is roby
True
>>> lookup("robz2", {}, config=None)
Traceback (most recent call last):
...
bliss_shell.rest.names.ObjectNotFound: Object 'robz2' doesn't exist in config
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ObjectNotFound", "lookup"]


class ObjectNotFound(RuntimeError):
    """No object of that name in the session's namespace nor in its config (BLISS's class and text).

    Examples
    --------
    >>> str(ObjectNotFound("robz2"))
    "Object 'robz2' doesn't exist in config"
    """

    def __init__(self, name: str):
        super().__init__(f"Object '{name}' doesn't exist in config")
        self.name = name


def lookup(name: str, env: Mapping[str, Any], config: Any) -> Any:
    """The session's object ``name``: ``env[name]``, else ``config.get(name)`` (built now if it was not yet).

    Parameters
    ----------
    name
        What the client sent.
    env
        The session namespace (searched first: a name the user rebound is the user's object).
    config
        A `bliss_shell.config.Config`, or None: the namespace only.

    Raises
    ------
    ObjectNotFound
        Neither has ``name``.
    Exception
        Whatever ``config.get`` raises when the object named there cannot be built.

    Examples
    --------
    >>> lookup("diode", {}, config).name  # not in this namespace: the config builds it
    'diode'
    """
    if name in env:
        return env[name]
    if config is None or name not in config.names():
        raise ObjectNotFound(name)
    return config.get(name)
