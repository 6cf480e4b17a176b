"""``GET /api/info``: the session's name, its beamline, and the versions of what serves it (BLISS's ``InfoSchema``).

``bliss_version`` is this shell's version (clients only show it); ``blissdata_version`` the installed
blissdata's, or ``""``; ``flint``, ``bliss-tomo`` and ``fscan`` are BLISS packages the shell does not use
(``""`` unless installed); ``blisswebui_version`` the web UI served.

Examples
--------
>>> from flask import Flask
>>> from bliss_shell.rest import SessionContext
>>> app = Flask(__name__)
>>> service = type("Service", (), {"context": SessionContext("demo", {}, None, {"beamline": "id00"}, [])})()
>>> install(app, None, service)
>>> info = app.test_client().get("/api/info").get_json()
>>> info["session"], info["beamline"], info["synchrotron"]
('demo', 'id00', '')
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

from flask import jsonify

from bliss_shell import __version__

if TYPE_CHECKING:
    import flask
    import socketio

    from .service import RestService

__all__ = ["info", "install"]


def _version(package: str) -> str:
    """The installed version of ``package``, or ``""``."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def info(service: RestService) -> dict[str, str]:
    """BLISS's ``InfoSchema`` of the session ``service`` serves.

    Examples
    --------
    >>> from bliss_shell.rest import SessionContext
    >>> service = type("Service", (), {"context": SessionContext("demo", {}, None, {}, [])})()
    >>> sorted(info(service))  # doctest: +NORMALIZE_WHITESPACE
    ['beamline', 'bliss_version', 'blissdata_version', 'blisstomo_version', 'blisswebui_version', 'flint_version',
     'fscan_version', 'instrument', 'session', 'synchrotron']
    """
    context = service.context
    return {
        "synchrotron": context.metadata.get("synchrotron") or "",
        "beamline": context.metadata.get("beamline") or "",
        "instrument": context.metadata.get("instrument") or "",
        "session": context.name,
        "bliss_version": __version__,
        "blissdata_version": _version("blissdata"),
        "flint_version": _version("flint"),
        "blisstomo_version": _version("bliss-tomo"),
        "fscan_version": _version("fscan"),
        "blisswebui_version": _version("blisswebui"),
    }


def install(app: flask.Flask, sio: socketio.Server | None, service: RestService) -> None:
    """Add ``GET /api/info`` to ``app``."""

    def get_info() -> Any:
        return jsonify(info(service))

    app.add_url_rule("/api/info", "info", get_info, methods=["GET"])
