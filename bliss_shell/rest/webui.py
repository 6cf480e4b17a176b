"""blisswebui's page, served as BLISS serves it: its files, and ``index.html`` (not cached) for any other page.

Examples
--------
>>> from flask import Flask
>>> app = Flask(__name__)
>>> install(app)
>>> with app.test_client().get("/some/page") as answer:
...     answer.status_code, answer.headers["Pragma"]
(200, 'no-cache')
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import flask

__all__ = ["WEBUI_MISSING", "install", "webui_folder"]

WEBUI_MISSING = "restservice: Bliss Web UI not available. To use the UI please install with: `pip install blisswebui`"
"""BLISS's line when blisswebui is not installed (the API is served all the same)."""

_NO_CACHE = {  # BLISS's `nocache` headers on the web UI's page
    "Cache-Control": "no-store, no-cache, must-revalidate, post-check=0, pre-check=0, max-age=0",
    "Pragma": "no-cache",
    "Expires": "-1",
}


def webui_folder() -> Path | None:
    """The ``static/`` folder of blisswebui, or None when the package is not installed.

    Examples
    --------
    >>> (webui_folder() / "index.html").is_file()
    True
    """
    try:
        import blisswebui
    except ModuleNotFoundError:
        return None
    return Path(blisswebui.__file__).parent / "static"


def install(app: flask.Flask) -> None:
    """Serve blisswebui's files on ``app``; its ``index.html``, never cached, for ``/`` and any other path outside ``/api``.

    Without blisswebui, prints BLISS's line (:data:`WEBUI_MISSING`) and serves nothing.
    """
    from flask import send_from_directory
    from werkzeug.http import http_date
    from werkzeug.routing import PathConverter
    from werkzeug.security import safe_join

    folder = webui_folder()
    if folder is None:
        print(WEBUI_MISSING)
        return

    class PagePath(PathConverter):
        """A path that is not under ``/api``: unknown API paths stay a JSON 404 (or 405), never the page."""

        regex = r"(?!api(?:/|$))[^/].*?"

    app.url_map.converters["page"] = PagePath

    def page(path: str = "") -> flask.Response:
        found = safe_join(str(folder), path) if path else None
        if found is not None and os.path.isfile(found):
            return send_from_directory(folder, path)
        response = send_from_directory(folder, "index.html", etag=False, conditional=False)
        response.headers.update(_NO_CACHE)
        response.headers["Last-Modified"] = http_date(datetime.now(UTC))
        return response

    app.add_url_rule("/", "webui_index", page)
    app.add_url_rule("/<page:path>", "webui_page", page)
