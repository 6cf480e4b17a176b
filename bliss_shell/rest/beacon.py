"""``GET /api/beacon/<path>``: a file of the config, as BLISS's Beacon serves it to the web UI.

YAML files (``.yml``, ``.yaml``) come back parsed, as JSON; images (``.svg``, ``.png``, ``.jpg``) in
base64: ``{"content": ..., "mimetype": ...}``. The path is relative to the config (a root mounted at
``sessions`` serves ``sessions/...``), searched in the config's folders in order. Refused with BLISS's
codes and texts: a path starting with ``/``, holding ``..`` or ``~`` (400 "Wrong path syntax <path>"),
another kind of file (400 "Wrong file kind <path>"), a file that is not there (404 "File not found"), a
YAML file that does not parse (400, ``{"type": "YAMLError", "error": ...}``: unlike BLISS's, the error
is the problem and where it is only, :func:`yaml_problem`, never a snippet of the file nor a value). A
path that resolves outside its folder through a symbolic link (to a file or to a folder on the way) is
refused as a wrong path (400), whether a file is there or not.

The secret never leaves, for any peer: in a YAML file served, the value of every ``iosecret`` key (at
any depth) is replaced by :data:`HIDDEN`, and so is the service's secret wherever it shows (inside any
string, a number equal to it); an image's bytes and every error text have it replaced too.

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
from ruamel.yaml.constructor import DuplicateKeyError
from werkzeug.routing import BaseConverter

from .responses import error

if TYPE_CHECKING:
    import flask
    import socketio

    from .context import SessionContext
    from .service import RestService

__all__ = ["ALLOWED_EXTENSIONS", "HIDDEN", "hide_secrets", "install", "read_config_file", "yaml_problem"]

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


def _masked(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by :data:`HIDDEN`."""
    return text.replace(secret, HIDDEN) if secret else text


def hide_secrets(content: Any, secret: str | None = None) -> Any:
    """``content`` (a parsed YAML document) with every ``iosecret`` value and ``secret`` wherever it shows hidden.

    ``secret`` is replaced inside every string (keys too), and a value that is not a string but reads as
    ``secret`` (a number: ``pin: 12345`` with the secret ``"12345"``) is replaced whole.

    Examples
    --------
    >>> hide_secrets({"name": "demo", "rest": {"port": 9030, "iosecret": "s3"}, "aliases": ["s3", "x"]}, "s3")
    {'name': 'demo', 'rest': {'port': 9030, 'iosecret': '<hidden>'}, 'aliases': ['<hidden>', 'x']}
    >>> hide_secrets({"url": "http://x?token=12345", "pin": 12345}, "12345")
    {'url': 'http://x?token=<hidden>', 'pin': '<hidden>'}
    """
    if isinstance(content, Mapping):
        return {
            hide_secrets(key, secret): HIDDEN if str(key).lower() == "iosecret" else hide_secrets(value, secret)
            for key, value in content.items()
        }
    if isinstance(content, list):
        return [hide_secrets(item, secret) for item in content]
    if not secret:
        return content
    if isinstance(content, str):
        return _masked(content, secret)
    if content is not None and str(content) == secret:
        return HIDDEN
    return content


def yaml_problem(raised: ruamel.yaml.YAMLError, secret: str | None = None) -> str:
    r"""What a YAML file that does not parse is told with: the problem and its line and column, nothing of the file.

    ruamel's own text quotes the line at fault, and a duplicate key's values: it could show a secret.

    Examples
    --------
    >>> try:
    ...     ruamel.yaml.YAML().load(b"rest:\n  iosecret: s3\n  iosecret: s4\n")
    ... except ruamel.yaml.YAMLError as raised:
    ...     print(yaml_problem(raised))
    while constructing a mapping: found duplicate key "iosecret" (line 3, column 3)
    >>> try:
    ...     ruamel.yaml.YAML().load(b"rest: {iosecret: s3\n")
    ... except ruamel.yaml.YAMLError as raised:
    ...     print(yaml_problem(raised, "s3"))
    while parsing a flow mapping: expected ',' or '}', but got '<stream end>' (line 2, column 1)
    """
    problem = str(getattr(raised, "problem", None) or getattr(raised, "reason", None) or type(raised).__name__)
    if isinstance(raised, DuplicateKeyError):
        problem = problem.partition(' with value "')[0]  # the key, not its values
    context = getattr(raised, "context", None)
    if isinstance(context, str) and context.startswith("while "):
        problem = f"{context}: {problem}"
    mark = getattr(raised, "problem_mark", None) or getattr(raised, "context_mark", None)
    if mark is not None:
        problem = f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    elif isinstance(getattr(raised, "position", None), int):
        problem = f"{problem} (at byte {raised.position})"  # type: ignore[attr-defined]
    return _masked(problem, secret)


def _beacon_file(context: SessionContext, path: str, secret: str | None = None) -> Any:
    """The answer to ``GET /api/beacon/<path>``: BLISS's checks, in BLISS's order."""
    if path.startswith("/") or ".." in path or "~" in path:
        return error(400, _masked(f"Wrong path syntax {path}", secret))
    mimetype = ALLOWED_EXTENSIONS.get(os.path.splitext(path)[1])
    if mimetype is None:
        return error(400, _masked(f"Wrong file kind {path}", secret))
    try:
        data = read_config_file(context, path)
    except OutsideFolder:
        return error(400, _masked(f"Wrong path syntax {path}", secret))
    except FileNotThere:
        return error(404, "File not found")
    if mimetype != "application/yaml":
        if secret:
            data = data.replace(secret.encode(), HIDDEN.encode())
        return jsonify({"content": base64.b64encode(data).decode(), "mimetype": mimetype})
    try:
        content = ruamel.yaml.YAML().load(data)
    except ruamel.yaml.YAMLError as raised:
        response = jsonify({"type": "YAMLError", "error": yaml_problem(raised, secret)})
        response.status_code = 400
        return response
    return jsonify({"content": hide_secrets(content, secret), "mimetype": mimetype})


def install(app: flask.Flask, sio: socketio.Server | None, service: RestService) -> None:
    """Add ``GET /api/beacon/<path>`` to ``app``, over the config folders of ``service.context``.

    ``service.settings.iosecret`` (when ``service`` has settings) is hidden wherever it shows.

    Examples
    --------
    >>> from flask import Flask
    >>> from bliss_shell.rest import SessionContext
    >>> app = Flask(__name__)
    >>> folders = [root.directory for root in config.roots]
    >>> install(app, None, type("Service", (), {"context": SessionContext("test_session", {}, config, {}, folders)})())
    >>> app.test_client().get("/api/beacon/sessions/nothing.yml").get_json()
    {'error': 'File not found'}
    """
    app.url_map.converters["beaconpath"] = _AnyPath

    def get_beacon(path: str) -> Any:
        settings = getattr(service, "settings", None)
        return _beacon_file(service.context, path, getattr(settings, "iosecret", None))

    app.add_url_rule("/api/beacon/<beaconpath:path>", "beacon", get_beacon, methods=["GET"], merge_slashes=False)
