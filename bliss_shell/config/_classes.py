"""Which Python class a config ``class:`` name stands for.

Each layer declares its classes as entry points (group ``bliss_shell.classes``, see
pyproject.toml), so the config layer can build objects of higher layers without
importing them, and a beamline package can add classes of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

GROUP = "bliss_shell.classes"


@cache
def _declared() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=GROUP)}


def known_classes() -> list[str]:
    """The class names a config object may use, sorted."""
    return sorted(_declared())


def object_class(name: str) -> Callable[..., Any] | None:
    """The factory for ``class: name``, or None when nothing declares that name."""
    point = _declared().get(name)
    return point.load() if point is not None else None
