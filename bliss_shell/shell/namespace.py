"""What every session namespace starts with, before its objects and setup file."""

from __future__ import annotations

import builtins
from typing import Any

import gevent

from .error_report import ErrorReport


def shell_namespace(errors: ErrorReport) -> dict[str, Any]:
    """The shell's own names; ``sleep`` is gevent's so background greenlets keep running."""
    return {
        "__name__": "__main__",
        "__builtins__": builtins,
        "gevent": gevent,
        "sleep": gevent.sleep,
        "last_error": errors.last_error,
    }
