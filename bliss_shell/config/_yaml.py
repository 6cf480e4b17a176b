"""Read one YAML config file into plain Python values, keeping line numbers for messages.

ruamel.yaml's round-trip loader is used because it reports the line of every mapping
and refuses duplicate keys; it never constructs Python objects from tags, and we refuse
tags outright so that a config file can only ever hold data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import ConfigError

# Limits that keep a hostile or broken file from hanging the shell (docs/config.md).
MAX_FILE_BYTES = 2 * 1024 * 1024  # one config file
MAX_VALUES = 100_000  # values in one file, aliases expanded ("billion laughs" expand to far more)
MAX_DEPTH = 32  # nesting of mappings and lists


@dataclass(frozen=True)
class Mapping:
    """A top-level mapping of a file, the (1-based) line where it starts and the line of each of its keys."""

    values: dict[str, Any]
    line: int
    key_lines: dict[str, int]


def read_mappings(path: Path, shown_as: str) -> list[Mapping]:
    """Return the top-level mappings of ``path`` (a mapping, or a list of mappings).

    ``shown_as`` is how the file is named in error messages (a path relative to the
    config root reads better than an absolute one).
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ConfigError(f"{shown_as}: {size} bytes is more than a config file may hold ({MAX_FILE_BYTES} bytes); "
                          "split it into several files")  # fmt: skip
    try:
        text = path.read_text(encoding="utf-8")
        _refuse_deep_nesting(text, shown_as)
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        raise ConfigError(_marked_message(shown_as, error)) from None
    except (YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{shown_as}: not valid YAML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{shown_as}: nested too deeply (at most {MAX_DEPTH} levels)") from None
    if document is None:
        return []
    if isinstance(document, CommentedMap):
        items = [document]
    elif isinstance(document, CommentedSeq):
        items = list(document)
    else:
        raise ConfigError(f"{shown_as}, line 1: expected a mapping or a list of mappings")
    mappings = []
    budget = _Budget(shown_as)
    for position, item in enumerate(items):
        if not isinstance(item, CommentedMap):
            line = document.lc.item(position)[0] + 1 if isinstance(document, CommentedSeq) else 1
            raise ConfigError(f"{shown_as}, line {line}: list items must be mappings (key: value)")
        key_lines = {str(key): item.lc.key(key)[0] + 1 for key in item}
        mappings.append(Mapping(_plain(item, shown_as, item.lc.line + 1, budget, 1), item.lc.line + 1, key_lines))
    return mappings


def _marked_message(shown_as: str, error: MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"{shown_as}, line {mark.line + 1}, column {mark.column + 1}" if mark else shown_as
    return f"{where}: {error.problem or error.context or 'not valid YAML'}"


def _refuse_deep_nesting(text: str, shown_as: str) -> None:
    """A cheap look before parsing: the parser recurses once per level and takes seconds on thousands."""
    depth = deepest = 0
    for character in text:
        if character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    indent = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    if deepest > 4 * MAX_DEPTH or indent > 16 * MAX_DEPTH:
        raise ConfigError(f"{shown_as}: nested too deeply (at most {MAX_DEPTH} levels)")


class _Budget:
    """Counts the values of one file as they are built: aliases are expanded by then."""

    def __init__(self, shown_as: str):
        self.shown_as = shown_as
        self.values = 0

    def spend(self, line: int, depth: int) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise ConfigError(f"{self.shown_as}: more than {MAX_VALUES} values (YAML aliases expanded); "
                              "a config file this big is a mistake or an attack")  # fmt: skip
        if depth > MAX_DEPTH:
            raise ConfigError(f"{self.shown_as}, line {line}: nested deeper than {MAX_DEPTH} levels")


def _plain(value: Any, shown_as: str, line: int, budget: _Budget, depth: int) -> Any:
    """Turn ruamel's round-trip types into dict/list/str/int/float/bool/None."""
    budget.spend(line, depth)
    tag = getattr(value, "tag", None)
    if isinstance(value, TaggedScalar) or (tag is not None and tag.value is not None):
        raise ConfigError(
            f"{shown_as}, line {line}: YAML tags such as {tag.value if tag else '!tag'} "
            "are not allowed in config files; write plain values"
        )
    if isinstance(value, CommentedMap):
        return {str(key): _plain(item, shown_as, value.lc.value(key)[0] + 1, budget, depth + 1) for key, item in value.items()}
    if isinstance(value, CommentedSeq):
        return [_plain(item, shown_as, value.lc.item(index)[0] + 1, budget, depth + 1) for index, item in enumerate(value)]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)
