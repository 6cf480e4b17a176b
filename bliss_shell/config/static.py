"""The beamline configuration: a folder tree of YAML files, objects found by unique name.

Conventions follow BLISS beacon: every top-level mapping with a ``name`` is an object;
``__init__.yml`` in a folder gives default keys to every file at or below that folder
(deeper folders override), except the root's, which holds the globals; ``class:``
chooses the Python type (see ``_classes``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from . import _classes
from ._yaml import read_mappings
from .errors import ConfigError

INIT_FILE = "__init__.yml"
CONFIG_ENV = "BLISS_CONFIG"


@dataclass(frozen=True)
class ConfigRoot:
    """A directory of YAML files, seen at ``mount`` in the config tree ("" is the top)."""

    directory: Path
    mount: str = ""


def config_roots(directory: str | None = None) -> list[ConfigRoot]:
    """Where the config lives: ``directory`` (``--config``), else ``$BLISS_CONFIG``, else the repository's.

    The repository's is its own ``config/`` folder, with ``sessions/`` mounted at ``sessions``.

    Raises
    ------
    ConfigError
        The folder named does not exist, or none is named and the repository has no ``config/``.

    Examples
    --------
    >>> config_roots("/no/such/folder")
    Traceback (most recent call last):
    ...
    bliss_shell.config.errors.ConfigError: config directory /no/such/folder (from --config) does not exist
    """
    chosen, origin = (directory, "--config") if directory else (os.environ.get(CONFIG_ENV), CONFIG_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise ConfigError(f"config directory {path} (from {origin}) does not exist")
        return [ConfigRoot(path.resolve())]
    repository = Path(__file__).resolve().parents[2]
    if not (repository / "config").is_dir():
        raise ConfigError(f"no config found: pass --config DIR or set {CONFIG_ENV}")
    return [ConfigRoot(repository / "config"), ConfigRoot(repository / "sessions", "sessions")]


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


class ConfigNode(Mapping[str, Any]):
    """One object's config: its own keys over the defaults of the ``__init__.yml`` above it."""

    def __init__(self, values: dict[str, Any], source: Path, line: int, config: Config, key_lines: dict[str, int] | None = None):
        self._values = values
        self.source = source
        self.line = line
        self.config = config
        self._key_lines = key_lines or {}

    @property
    def name(self) -> str:
        """The object's ``name``: unique in the whole config."""
        return self._values["name"]

    @property
    def where(self) -> str:
        """``file, line N``: for messages that send the user to the right place."""
        return f"{_shown(self.source)}, line {self.line}"

    def where_key(self, key: str) -> str:
        """``file, line N`` of ``key`` in this object's own file (the object's line for a key it inherits)."""
        return f"{_shown(self.source)}, line {self._key_lines.get(key, self.line)}"

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"ConfigNode({self._values!r}, {self.where})"


MAX_OBJECTS = 20_000  # named objects in a whole config (docs/config.md)


class Config:
    """All objects of a config tree, by name; objects are built once, when first asked for.

    A session's namespace holds its config as ``config``; a script makes one with
    ``Config(config_roots())``. ``globals`` holds the root ``__init__.yml`` (``beamline``,
    ``redis_url``, ...).

    Parameters
    ----------
    roots : sequence of ConfigRoot
        The folders of YAML files, as ``config_roots`` gives them.

    Raises
    ------
    ConfigError
        A file is not valid YAML, or names an object twice or wrongly; the message names the file and line.

    Examples
    --------
    >>> config.names_of_class("Session")
    ['other_session', 'test_session']
    >>> config.get("roby") is roby  # the session's objects are the config's
    True
    >>> config.get_config("roby")["velocity"], config.get_config("roby").where
    (10000, '...devices/motors.yml, line 2')
    """

    def __init__(self, roots: Sequence[ConfigRoot]):
        self.roots = list(roots)
        self._nodes: dict[str, ConfigNode] = {}
        self._objects: dict[str, Any] = {}
        defaults, files = self._scan()
        self.globals: dict[str, Any] = dict(defaults.get(PurePosixPath(""), {}))
        for logical, path in files:
            inherited = self._inherited(defaults, logical.parent)
            for mapping in read_mappings(path, _shown(path)):
                self._add(inherited | mapping.values, path, mapping.line, mapping.key_lines)

    def _scan(self) -> tuple[dict[PurePosixPath, dict[str, Any]], list[tuple[PurePosixPath, Path]]]:
        defaults: dict[PurePosixPath, dict[str, Any]] = {}
        files = []
        for root in self.roots:
            for path in sorted(root.directory.rglob("*.y*ml")):
                relative = path.relative_to(root.directory)
                if any(part.startswith(".") for part in relative.parts) or path.suffix not in (".yml", ".yaml"):
                    continue
                logical = PurePosixPath(root.mount, *relative.parts)
                if path.name == INIT_FILE:
                    defaults.setdefault(logical.parent, {}).update(self._folder_defaults(path))
                else:
                    files.append((logical, path))
        return defaults, files

    @staticmethod
    def _folder_defaults(path: Path) -> dict[str, Any]:
        mappings = read_mappings(path, _shown(path))
        if len(mappings) > 1:
            raise ConfigError(f"{_shown(path)}: {INIT_FILE} must hold one mapping, not a list")
        if mappings and "name" in mappings[0].values:
            raise ConfigError(
                f"{_shown(path)}, line {mappings[0].line}: {INIT_FILE} gives defaults to its folder "
                "and cannot define a named object; move it to a file of its own"
            )
        return mappings[0].values if mappings else {}

    @staticmethod
    def _inherited(defaults: dict[PurePosixPath, dict[str, Any]], folder: PurePosixPath) -> dict[str, Any]:
        """Defaults of every folder from just below the root down to ``folder``.

        The root's own ``__init__.yml`` holds the globals (``redis_url``, ``beamline``...)
        and is not copied into every object.
        """
        merged: dict[str, Any] = {}
        for ancestor in reversed([folder, *folder.parents]):
            if ancestor != PurePosixPath(""):
                merged |= defaults.get(ancestor, {})
        return merged

    def _add(self, values: dict[str, Any], source: Path, line: int, key_lines: dict[str, int]) -> None:
        name = values.get("name")
        if name is None:
            return
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"{_shown(source)}, line {line}: name {name!r} is not valid: it becomes a Python name in the "
                              "session and a node of the data tree: use letters, digits and '_', not starting with a digit")  # fmt: skip
        if len(self._nodes) >= MAX_OBJECTS:
            raise ConfigError(f"{_shown(source)}, line {line}: more than {MAX_OBJECTS} objects in the config; "
                              "a beamline has far fewer: is a generated file in the config folder?")  # fmt: skip
        if name in self._nodes:
            first = self._nodes[name]
            raise ConfigError(
                f"duplicate name '{name}': {first.where} and {_shown(source)}, line {line}; "
                "names must be unique across the whole config"
            )
        self._nodes[name] = ConfigNode(values, source, line, self, key_lines)

    def names(self) -> list[str]:
        """Every object name, in file order."""
        return list(self._nodes)

    def names_of_class(self, class_name: str) -> list[str]:
        """The names of the objects whose ``class`` is ``class_name``, in file order."""
        return [name for name, node in self._nodes.items() if node.get("class") == class_name]

    def get_config(self, name: str) -> ConfigNode:
        """The config of object ``name`` (its keys, with its folders' defaults), without building it.

        Raises
        ------
        ConfigError
            No object has that name.
        """
        try:
            return self._nodes[name]
        except KeyError:
            raise ConfigError(f"no object named '{name}' in the config") from None

    def get(self, name: str) -> Any:
        """The object called ``name``, built on first use from its ``class``.

        An object without ``class`` is its plain config (a read-only mapping).

        Raises
        ------
        ConfigError
            No object has that name, or its ``class`` is not a known one.
        """
        if name not in self._objects:
            self._objects[name] = self._build(self.get_config(name))
        return self._objects[name]

    def _build(self, node: ConfigNode) -> Any:
        class_name = node.get("class")
        if class_name is None:
            return node
        factory = _classes.object_class(class_name)
        if factory is None:
            raise ConfigError(
                f"{node.where}: '{node.name}' has unknown class '{class_name}'; "
                f"known classes: {', '.join(_classes.known_classes())}"
            )
        return factory(node)
