"""``SCAN_SAVING``: where a session's scans are saved, and which data-tree folder they go in.

Values are settings (``comm/settings.py``): the Redis hash ``scan_saving|{session}``, shared by the
session's shells and readers, and a file of the settings folder, so they survive a restarted Redis.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import PurePosixPath
from typing import Any

import redis

from bliss_shell.comm import Settings
from bliss_shell.data import keys

DEFAULTS = {"base_path": "/tmp/scans", "template": "{session}/", "data_filename": "data"}
_VALUE = re.compile(r"[^/\\:|\x00-\x1f\x7f]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ScanSaving:
    """The saving parameters of one session.

    Example
    -------
    >>> SCAN_SAVING.add('s_name', '')
    >>> SCAN_SAVING.template = '{session}/{s_name}/'
    >>> SCAN_SAVING.s_name = 'sample1'
    >>> SCAN_SAVING.filename
    '/tmp/scans/test_session/sample1/data.h5'
    """

    def __init__(self, client: redis.Redis, session: str):
        object.__setattr__(self, "_settings", Settings(f"scan_saving:{session}", key=f"scan_saving|{session}", client=client))
        object.__setattr__(self, "session", session)

    def _values(self) -> dict[str, str]:
        return {**DEFAULTS, **{name: str(value) for name, value in self._settings.get_all().items()}}

    def __getattr__(self, name: str) -> str:
        values = self._values()
        if name in values:
            return values[name]
        raise AttributeError(self._unknown(name, values))

    def __setattr__(self, name: str, value: Any) -> None:
        values = self._values()
        if name == "session":
            raise AttributeError("SCAN_SAVING.session is the session's name and cannot be changed")
        if name not in values:
            raise AttributeError(self._unknown(name, values))
        self._settings.set(**{name: self._checked(name, value, values)})

    def add(self, name: str, value: Any = "") -> None:
        """A new parameter, usable in the template as ``{name}``."""
        if not _KEY.fullmatch(str(name)) or name == "session":
            raise ValueError(f"SCAN_SAVING.add: {name!r} is not a valid parameter name (letters, digits, '_')")
        values = self._values()
        if name not in values:
            self._settings.set(**{name: self._checked(name, value, values)})

    @staticmethod
    def _unknown(name: str, values: dict[str, str]) -> str:
        known = ", ".join(["session", *values])
        return f"SCAN_SAVING has no parameter '{name}' (parameters: {known}); add one with SCAN_SAVING.add('{name}', value)"

    def _checked(self, name: str, value: Any, values: dict[str, str]) -> str:
        value = str(value)
        if name == "base_path":
            if not os.path.isabs(value):
                raise ValueError(f"SCAN_SAVING.base_path must be an absolute path, not {value!r}")
            return os.path.normpath(value)
        if name == "template":
            return self._checked_template(value, values)
        if not _VALUE.fullmatch(value) or value in (".", "..") or (name == "data_filename" and not value):
            raise ValueError(
                f"SCAN_SAVING.{name} = {value!r}: a value may not be '.', '..' or contain '/', ':', '|' "
                "or control characters" + (", and data_filename may not be empty" if name == "data_filename" else "")
            )
        return value

    def _checked_template(self, value: str, values: dict[str, str]) -> str:
        """Only known keys; every folder it makes stays inside base_path and is a valid data-tree name."""
        try:
            fields = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
        except ValueError as error:
            raise ValueError(f"SCAN_SAVING.template {value!r} is not a template: {error}") from None
        unknown = sorted(fields - {"session", *values})
        if unknown:
            raise ValueError(
                f"SCAN_SAVING.template: unknown key '{unknown[0]}' (keys: {', '.join(['session', *values])}); "
                f"add it first with SCAN_SAVING.add('{unknown[0]}', value)"
            )
        try:
            folders = value.format(session="session", **{key: "value" for key in values})
        except (ValueError, TypeError) as error:  # a format spec or conversion a text value cannot take
            raise ValueError(f"SCAN_SAVING.template {value!r} is not a template: {error}") from None
        if value.startswith("/") or ".." in PurePosixPath(value).parts:
            raise ValueError(f"SCAN_SAVING.template {value!r} must stay inside base_path")
        if any(not _VALUE.fullmatch(part) for part in folders.split("/")):
            raise ValueError(f"SCAN_SAVING.template {value!r}: a folder name may not contain '\\', ':', '|' or control characters")
        return value

    def get_path(self) -> str:
        """The folder of the scans: ``base_path`` / ``template`` filled in.

        Values read back from Redis are checked as values typed at the prompt are (any client
        may write that hash), and the folder must stay inside ``base_path``.
        """
        values = self._values()
        for name, value in values.items():
            try:
                self._checked(name, value, values)
            except ValueError as error:
                raise ValueError(f"{error} (read back from Redis, key {self._settings.key}); set it again: SCAN_SAVING.{name} = ...") from None
        base = os.path.normpath(values["base_path"])
        path = os.path.normpath(os.path.join(base, values["template"].format(session=self.session, **values)))
        if os.path.commonpath([base, path]) != base:
            raise ValueError(f"SCAN_SAVING: the saving folder {path} is outside base_path {base}; check the template "
                             f"{values['template']!r} and the session name {self.session!r}")  # fmt: skip
        return path

    @property
    def root_path(self) -> str:
        return self.get_path()

    @property
    def filename(self) -> str:
        return os.path.join(self.get_path(), f"{self.data_filename}.h5")

    def directory_db_name(self) -> tuple[str, str]:
        """``(db_name, name)`` of the folder's node: the session, then the folder's components
        without the session's own name (``test_session:mnt:c:tmp:sample1``)."""
        parts = [part for part in PurePosixPath(self.get_path()).parts[1:] if part != self.session]
        for part in parts:
            keys.check_name(part, "saving folder component")
        db_name = keys.SEPARATOR.join([self.session, *parts])
        return db_name, parts[-1] if parts else self.session

    def __repr__(self) -> str:
        values = self._values()
        lines = ["Parameters (default) -", f"  .session          = '{self.session}'"]
        lines += [f"  .{key:<16} = '{value}'" for key, value in values.items()]
        path, filename = self.get_path(), self.filename
        lines += [
            "",
            f"  {'exists' if os.path.exists(filename) else 'does not exist':<15} filename   {filename}",
            f"  {'exists' if os.path.isdir(path) else 'does not exist':<15} directory  {path}",
        ]
        return "\n".join(lines)
