"""BLISS 2.4's REST API (Flask + socket.io) served from inside a shell session.

A layer between ``shell`` and ``scanning | plot``: the shell builds a :class:`SessionContext`,
reads the :class:`RestSettings` of the session (``rest:`` in its YAML, ``bliss --rest [PORT]``) and
starts a :class:`RestService`; nothing here imports the shell, redis, tango or h5py. Flask,
python-socketio and pydantic load only when a session serves the API: ``RestService`` is imported
from ``bliss_shell.rest.service`` on first use.

Examples
--------
>>> from bliss_shell.rest import SessionContext, rest_settings
>>> SessionContext(name="demo", env={}, config=None, metadata={}, config_folders=[]).name
'demo'
>>> rest_settings({"port": 9030}, option=None, where="demo.yml, line 4").port
9030
"""

from typing import TYPE_CHECKING, Any

from .context import SessionContext, Terminal
from .settings import RestConfigError, RestSettings, rest_settings

if TYPE_CHECKING:
    from .service import RestService, RestStartError

__all__ = ["RestConfigError", "RestService", "RestSettings", "RestStartError", "SessionContext", "Terminal", "rest_settings"]


def __getattr__(name: str) -> Any:
    """``RestService`` and ``RestStartError``, loaded (with Flask) when first asked for."""
    if name in ("RestService", "RestStartError"):
        from . import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
