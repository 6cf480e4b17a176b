"""``GET /api/beacon/<path>``: a file of the config, as BLISS's Beacon serves it to the web UI.

YAML files (``.yml``, ``.yaml``) come back parsed, as JSON; images (``.svg``, ``.png``, ``.jpg``) in
base64: ``{"content": ..., "mimetype": ...}``. The path is relative to the config (a root mounted at
``sessions`` serves ``sessions/...``), searched in the config's folders in order. Refused with BLISS's
codes and texts: a path starting with ``/``, holding ``..`` or ``~`` (400 "Wrong path syntax <path>"),
another kind of file (400 "Wrong file kind <path>"), a file that is not there (404 "File not found"), a
YAML file that does not parse (400, ``{"type": "YAMLError", "error": ...}``). A path that resolves
outside its folder through a symbolic link (to a file or to a folder on the way) is refused as a wrong
path (400), whether a file is there or not.

The secret never leaves: in a YAML file served, the value of every ``iosecret`` key (at any depth),
and any string equal to the service's secret, is replaced by :data:`HIDDEN`, for every peer.

Examples
--------
>>> from flask import Flask
>>> from bliss_shell.rest import SessionContext
>>> app = Flask(__name__)
>>> folders = [root.directory for root in config.roots]
>>> service = type("Service", (), {"context": SessionContext("test_session", {}, config, {}, folders)})()
>>> install(app, None, service)
>>> client = app.test_client()
>>> client.get("/api/beacon/sessions/test_session.yml").get_json()["content"]["name"]
'test_session'
>>> answer = client.get("/api/beacon/../etc/passwd")
>>> answer.status_code, answer.get_json()
(400, {'error': 'Wrong path syntax ../etc/passwd'})
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ruamel.yaml
from flask import jsonify
from werkzeug.routing import BaseConverter

from .responses import error

if TYPE_CHECKING:
    import flask
    import socketio

    from .context import SessionContext
    from .service import RestService

__all__ = ["ALLOWED_EXTENSIONS", "HIDDEN", "hide_secrets", "install", "read_config_file"]

ALLOWED_EXTENSIONS = {
    ".yml": "application/yaml",
    ".yaml": "application/yaml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpg",
}
"""The kinds of files served, and the mimetype each answer names (BLISS's)."""

HIDDEN = "<hidden>"
"""What a served YAML file shows in place of a secret."""


class FileNotThere(LookupError):
    """No folder of the config holds the file."""


class OutsideFolder(ValueError):
    """The file resolves (through a symbolic link) outside the config folder that holds it."""


class _AnyPath(BaseConverter):
    """Any path, a leading ``/`` included: BLISS's check refuses it with its own text, not a redirect."""

    regex = ".+"
    part_isolating = False


def _mounts(context: SessionContext) -> dict[Path, str]:
    """Where each config folder shows in the config tree (``""`` the top, ``sessions``...)."""
    roots = getattr(context.config, "roots", None) or []
    return {Path(root.directory): root.mount for root in roots}


def read_config_file(context: SessionContext, path: str) -> bytes:
    """The bytes of the config file at ``path`` (relative to the config tree).

    Raises
    ------
    FileNotThere
        No config folder holds a file at ``path``.
    OutsideFolder
        The file found is a symbolic link to a place outside its folder.

    Examples
    --------
    >>> from bliss_shell.rest import SessionContext
    >>> folders = [root.directory for root in config.roots]
    >>> read_config_file(SessionContext("test_session", {}, config, {}, folders), "sessions/test_session.yml")[:5]
    b'name:'
    """
    mounts = _mounts(context)
    for folder in context.config_folders:
        mount = mounts.get(Path(folder), "")
        relative = path
        if mount:
            if not path.startswith(f"{mount}/"):
                continue
            relative = path[len(mount) + 1 :]
        candidate = Path(folder, relative)
        if not candidate.resolve().is_relative_to(Path(folder).resolve()):
            raise OutsideFolder(path)  # checked first: what lies outside is not even said to exist
        if not candidate.is_file():
            continue
        try:
            return candidate.read_bytes()
        except OSError:
            continue
    raise FileNotThere(path)


def hide_secrets(content: Any, secret: str | None = None) -> Any:
    """``content`` (a parsed YAML document) with every ``iosecret`` value and every string equal to ``secret`` hidden.

    Examples
    --------
    >>> hide_secrets({"name": "demo", "rest": {"port": 9030, "iosecret": "s3"}, "aliases": ["s3", "x"]}, "s3")
    {'name': 'demo', 'rest': {'port': 9030, 'iosecret': '<hidden>'}, 'aliases': ['<hidden>', 'x']}
    """
    if isinstance(content, Mapping):
        return {key: HIDDEN if str(key).lower() == "iosecret" else hide_secrets(value, secret) for key, value in content.items()}
    if isinstance(content, list):
        return [hide_secrets(item, secret) for item in content]
    if secret and isinstance(content, str) and content == secret:
        return HIDDEN
    return content


def _beacon_file(context: SessionContext, path: str, secret: str | None = None) -> Any:
    """The answer to ``GET /api/beacon/<path>``: BLISS's checks, in BLISS's order."""
    if path.startswith("/") or ".." in path or "~" in path:
        return error(400, f"Wrong path syntax {path}")
    mimetype = ALLOWED_EXTENSIONS.get(os.path.splitext(path)[1])
    if mimetype is None:
        return error(400, f"Wrong file kind {path}")
    try:
        data = read_config_file(context, path)
    except OutsideFolder:
        return error(400, f"Wrong path syntax {path}")
    except FileNotThere:
        return error(404, "File not found")
    if mimetype != "application/yaml":
        return jsonify({"content": base64.b64encode(data).decode(), "mimetype": mimetype})
    try:
        content = ruamel.yaml.YAML().load(data)
    except ruamel.yaml.YAMLError as raised:
        response = jsonify({"type": "YAMLError", "error": str(raised)})
        response.status_code = 400
        return response
    return jsonify({"content": hide_secrets(content, secret), "mimetype": mimetype})


def install(app: flask.Flask, sio: socketio.Server | None, service: RestService) -> None:
    """Add ``GET /api/beacon/<path>`` to ``app``, over the config folders of ``service.context``.

    ``service.settings.iosecret`` (when ``service`` has settings) is hidden wherever it shows.
    Example: the module's.
    """
    app.url_map.converters["beaconpath"] = _AnyPath

    def get_beacon(path: str) -> Any:
        settings = getattr(service, "settings", None)
        return _beacon_file(service.context, path, getattr(settings, "iosecret", None))

    app.add_url_rule("/api/beacon/<beaconpath:path>", "beacon", get_beacon, methods=["GET"], merge_slashes=False)
