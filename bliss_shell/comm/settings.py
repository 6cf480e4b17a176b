"""Settings: small named values (motor offsets, measurement groups, SCAN_SAVING) that outlive shells and restarts.

Each group of settings is a Redis hash, so every shell and reader of the session sees the same
values at once (as BLISS keeps its settings in Redis), and a JSON file in the settings folder, written
at each change, so they survive a Redis that keeps nothing on disk (the embedded one). A group that
Redis lacks is read back from its file. Scan data is not a setting: it stays in Redis only.

The folder: ``settings_path`` in the config's root ``__init__.yml``, else
``$XDG_STATE_HOME/bliss_shell/settings/<beamline>`` (``~/.local/state/...``); back it up by copying it.

Examples
--------
>>> settings = Settings("axis:robz")  # the settings of motor robz
>>> settings.set(offset=1.5)
>>> settings.get("offset")
1.5
"""

from __future__ import annotations

import atexit
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gevent
import redis

from bliss_shell.config import ConfigError

from .connection import get_redis
from .failover import REDIS_ERRORS

_SAFE = re.compile(r"[^A-Za-z0-9_.:-]")
WRITE_DELAY = 0.5  # s: ``set_soon`` writes within this
_folder: Path | None = None
_pending: dict[Settings, dict[str, Any]] = {}
_writer: gevent.Greenlet | None = None


def configured_settings_folder(config_globals: Mapping[str, Any]) -> Path:
    """``settings_path`` of the config's globals, else ``$XDG_STATE_HOME/bliss_shell/settings/<beamline>``.

    Raises
    ------
    ConfigError
        ``settings_path`` is not an absolute folder.

    Examples
    --------
    >>> configured_settings_folder({"settings_path": "/data/id00/settings"})
    PosixPath('/data/id00/settings')
    >>> configured_settings_folder({"beamline": "id00"})
    PosixPath('.../bliss_shell/settings/id00')
    """
    chosen = config_globals.get("settings_path")
    if chosen is not None:
        if not isinstance(chosen, str) or not os.path.isabs(chosen):
            raise ConfigError(f"the config's root __init__.yml: settings_path must be an absolute folder, not {chosen!r}")
        return Path(chosen)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "bliss_shell" / "settings" / _SAFE.sub("_", str(config_globals.get("beamline", "default")))


def use_settings_folder(folder: Path) -> None:
    """Where every group's file goes in this process (the shell sets it from the config)."""
    global _folder
    _folder = Path(folder)


def settings_folder() -> Path:
    """The folder of this process's settings files: as ``use_settings_folder`` set it, else the default one.

    Examples
    --------
    >>> settings_folder()
    PosixPath('.../settings')
    """
    return _folder if _folder is not None else configured_settings_folder({})


def _fields(values: Mapping[str, Any]) -> dict[str | bytes, str]:
    """The hash's fields: each value as JSON (keyed as redis-py's ``hset`` types its mapping)."""
    return {field: json.dumps(value) for field, value in values.items()}


def _decoded(stored: dict[bytes, bytes]) -> dict[str, Any]:
    """JSON values; a value another client wrote as plain text is that text."""
    values = {}
    for field, raw in stored.items():
        try:
            values[field.decode()] = json.loads(raw)
        except ValueError:
            values[field.decode()] = raw.decode(errors="replace")
    return values


class Settings:
    """One group of settings: Redis hash ``settings|<name>`` and file ``<folder>/<name>.json``.

    Values are anything JSON can hold (JSON in Redis too; a plain-text value written there by another
    client reads as that text). ``key`` overrides the Redis key (``SCAN_SAVING`` keeps
    its documented ``scan_saving|<session>``).

    Examples
    --------
    >>> mg = Settings("measurement_group:MG1")
    >>> mg.set(disabled=["diode2"])
    >>> mg.get_all()
    {'disabled': ['diode2']}
    >>> mg.key, mg.path.name
    ('settings|measurement_group:MG1', 'measurement_group:MG1.json')
    """

    def __init__(self, name: str, key: str | None = None, client: redis.Redis | None = None):
        self.name = name
        self.key = key or f"settings|{name}"
        self._client = client

    def __repr__(self) -> str:
        return f"Settings({self.name!r})"

    @property
    def client(self) -> redis.Redis:
        """The Redis given, else the process's (``get_redis()``)."""
        return self._client if self._client is not None else get_redis()

    @property
    def path(self) -> Path:
        """The group's file: ``<settings folder>/<name>.json`` (characters unsafe in a file name as ``_``)."""
        return settings_folder() / f"{_SAFE.sub('_', self.name)}.json"

    def get_all(self) -> dict[str, Any]:
        """Every value of the group.

        Read back from its file (and put back in Redis) when Redis has lost the group, or from
        the file alone while Redis does not answer: the file is never behind.

        Examples
        --------
        >>> notes = Settings("user:notes")
        >>> notes.set(sample="Si", temperature=300)
        >>> notes.get_all()
        {'sample': 'Si', 'temperature': 300}
        """
        try:
            stored = self.client.hgetall(self.key)
        except REDIS_ERRORS:
            return self._read_file()
        if stored:
            return _decoded(stored)
        saved = self._read_file()
        if saved:
            self.client.hset(self.key, mapping=_fields(saved))
        return saved

    def get(self, field: str, default: Any = None) -> Any:
        """One value of the group, or ``default``.

        Examples
        --------
        >>> robz_settings = Settings("axis:robz")
        >>> robz_settings.set(offset=1.5)
        >>> robz_settings.get("offset"), robz_settings.get("velocity", 10)
        (1.5, 10)
        """
        return self.get_all().get(field, default)

    def set(self, **values: Any) -> None:
        """Store values (JSON-able): Redis first (one round trip), then the file gets the whole group."""
        fields = _fields(values)
        pipe = self.client.pipeline()
        try:
            existed, _, stored = pipe.exists(self.key).hset(self.key, mapping=fields).hgetall(self.key).execute()
        except REDIS_ERRORS:
            self._write_file({**self._read_file(), **values})  # kept for the next shell; this one is told
            raise
        group = _decoded(stored)
        if not existed:  # Redis had lost the group: the rest of it comes back from its file
            lost = {field: value for field, value in self._read_file().items() if field not in values}
            if lost:
                self.client.hset(self.key, mapping=_fields(lost))
                group = {**lost, **group}
        self._write_file(group)

    def set_soon(self, **values: Any) -> None:
        """``set`` within ``WRITE_DELAY`` s, the last value of each field only.

        A scan moving a simulation motor at every point so costs one write. What is pending is
        also written when the process ends, and at ``write_pending()``.
        """
        global _writer
        _pending.setdefault(self, {}).update(values)
        if _writer is None or _writer.dead:
            _writer = gevent.spawn_later(WRITE_DELAY, write_pending)

    def remove(self, *fields: str) -> None:
        """Forget these fields of the group, in Redis and in its file.

        Examples
        --------
        >>> robz_settings = Settings("axis:robz")  # robz has not moved: nothing of it is being written meanwhile
        >>> robz_settings.set(offset=1.5, sign=-1)
        >>> robz_settings.remove("offset")
        >>> robz_settings.get_all()
        {'sign': -1}
        """
        kept = {field: value for field, value in self.get_all().items() if field not in fields}
        if fields:
            self.client.hdel(self.key, *fields)
        self._write_file(kept)

    def clear(self) -> None:
        """Forget the whole group (``apply_config`` of a motor: back to what the config says)."""
        self.client.delete(self.key)
        self.path.unlink(missing_ok=True)

    def _read_file(self) -> dict[str, Any]:
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise ValueError(f"settings file {self.path} cannot be read ({error}); fix or remove it") from None
        if not isinstance(saved, dict):
            raise ValueError(f"settings file {self.path} does not hold a mapping; fix or remove it")
        return saved

    def _write_file(self, values: dict[str, Any]) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        if not values:
            self.path.unlink(missing_ok=True)
            return
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(values, out, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise


@atexit.register
def write_pending() -> None:
    """Write what ``set_soon`` holds now. With Redis gone, ``set`` has kept it in the files."""
    while _pending:
        settings, values = _pending.popitem()
        try:
            settings.set(**values)
        except (*REDIS_ERRORS, OSError) as error:
            print(f"WARNING: settings {settings.name} not written to Redis ({error}); its file has them unless the "
                  "disk refused too")  # fmt: skip
