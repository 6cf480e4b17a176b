"""``SCAN_SAVING``: where a session's scans are saved, and which data-tree folder they go in.

Values are settings (``comm/settings.py``): the Redis hash ``scan_saving|{session}``, shared by the
session's shells and readers, and a file of the settings folder, so they survive a restarted Redis.
BLISS's built-in keys fill the templates: ``{session}``, ``{date}`` (``date_format``), ``{user_name}``,
``{beamline}`` (the config's root ``beamline``) everywhere; ``{scan_name}`` and ``{scan_number}``, which
only a scan knows, everywhere too: until a scan fills them, ``get_path()`` and ``filename`` show them as
they are, as BLISS does; ``{img_acq_device}``, each detector's name, in ``images_path_template`` only.
"""

from __future__ import annotations

import getpass
import os
import re
import string
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from bliss_shell.comm import Settings
from bliss_shell.comm.redis_types import RedisClient
from bliss_shell.data import keys

DEFAULTS = {"base_path": "/tmp/scans", "template": "{session}/", "data_filename": "data", "date_format": "%Y%m%d",
            "images_path_template": "scan{scan_number}/{img_acq_device}_", "writer": "nexus"}  # fmt: skip
WRITERS = ("hdf5", "nexus", "null")  # "null": published to Redis, no file (BLISS's way to switch saving off)
IN_PATH = ("scan_name", "scan_number")  # values a scan gives, in any template (BLISS's test_scan_saving_path)
PER_SCAN = (*IN_PATH, "img_acq_device")  # and each detector's name: images_path_template only
UNFILLED = {key: f"{{{key}}}" for key in IN_PATH}  # what get_path() and filename show for them, as BLISS's
BUILT_IN = ("session", "date", "beamline", *PER_SCAN)  # computed, never set
SCAN_NUMBER_FORMAT = "%04d"  # BLISS's scan_number_format
TEMPLATES = ("template", "data_filename", "images_path_template")
_VALUE = re.compile(r"[^/\\:|\x00-\x1f\x7f]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ScanSaving:
    """The saving parameters of one session.

    Examples
    --------
    >>> SCAN_SAVING.base_path = '/data/id00/inhouse'
    >>> SCAN_SAVING.add('s_name', '')
    >>> SCAN_SAVING.template = '{session}/{date}/{s_name}/'
    >>> SCAN_SAVING.s_name = 'sample1'
    >>> SCAN_SAVING.filename
    '/data/id00/inhouse/test_session/.../sample1/data.h5'
    >>> SCAN_SAVING.sample = 'x'
    Traceback (most recent call last):
    ...
    AttributeError: SCAN_SAVING has no parameter 'sample' (parameters: session, date, ...); add one with SCAN_SAVING.add('sample', value)
    """

    policy = "default"  # what the repr's first line says, as BLISS's
    session: str
    beamline: str | None
    _settings: Settings

    def __init__(self, client: RedisClient, session: str, beamline: str | None = None):
        object.__setattr__(
            self, "_settings", Settings(f"scan_saving:{session}", key=keys.session_key("scan_saving", session), client=client)
        )
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "beamline", beamline)

    def _values(self) -> dict[str, str]:
        stored = {name: str(value) for name, value in self._settings.get_all().items()}
        return {**DEFAULTS, "user_name": getpass.getuser(), **stored}

    def _keys(self, values: dict[str, str]) -> dict[str, str]:
        """What the templates are filled with: the parameters and the built-in keys a session knows."""
        built_in = {"session": self.session, "date": datetime.now().strftime(values["date_format"])}
        if self.beamline is not None:
            built_in["beamline"] = self.beamline
        return {**values, **built_in}

    def __getattr__(self, name: str) -> str:
        values = self._values()
        if name in values:
            return values[name]
        if name == "date":
            return self._keys(values)["date"]
        raise AttributeError(self._unknown(name, values))

    def __setattr__(self, name: str, value: Any) -> None:
        values = self._values()
        if name in BUILT_IN:
            raise AttributeError(f"SCAN_SAVING.{name} is a built-in key, filled in by the session or the scan; it cannot be set")
        if name not in values:
            raise AttributeError(self._unknown(name, values))
        self._settings.set(**{name: self._checked(name, value, values)})

    def add(self, name: str, value: Any = "") -> None:
        """A new parameter, usable in the templates as ``{name}``; one that exists keeps its value.

        Raises
        ------
        ValueError
            ``name`` is not an identifier or is a built-in key (``session``, ``date``, ...), or ``value``
            is refused (as when set).

        Examples
        --------
        >>> SCAN_SAVING.add('s_name', 'sample1')
        >>> SCAN_SAVING.s_name
        'sample1'
        >>> SCAN_SAVING.add('s_name', 'sample2')  # already there: unchanged
        >>> SCAN_SAVING.s_name
        'sample1'
        """
        if not _KEY.fullmatch(str(name)) or name in BUILT_IN:
            raise ValueError(f"SCAN_SAVING.add: {name!r} is not a valid parameter name (letters, digits, '_'; "
                             f"not a built-in key: {', '.join(BUILT_IN)})")  # fmt: skip
        values = self._values()
        if name not in values:
            self._settings.set(**{name: self._checked(name, value, values)})

    def _known_keys(self, values: dict[str, str]) -> list[str]:
        return ["session", "date", *(["beamline"] if self.beamline is not None else []), *values]

    def _unknown(self, name: str, values: dict[str, str]) -> str:
        return (f"SCAN_SAVING has no parameter '{name}' (parameters: {', '.join(self._known_keys(values))}); "
                f"add one with SCAN_SAVING.add('{name}', value)")  # fmt: skip

    def _checked(self, name: str, value: Any, values: dict[str, str]) -> str:
        value = str(value)
        if name == "base_path":
            if not os.path.isabs(value):
                raise ValueError(f"SCAN_SAVING.base_path must be an absolute path, not {value!r}")
            return os.path.normpath(value)
        if name == "writer":
            if value not in WRITERS:
                raise ValueError(f"SCAN_SAVING.writer {value!r} is not a writer: choose one of {', '.join(map(repr, WRITERS))}")
            return value
        if name == "date_format":
            shown = datetime.now().strftime(value)
            if not shown or not _VALUE.fullmatch(shown) or shown in (".", ".."):
                raise ValueError(f"SCAN_SAVING.date_format {value!r} gives {shown!r}, not a folder name; try '%Y%m%d'")
            return value
        if name in TEMPLATES:
            return self._checked_template(name, value, values)
        if not _VALUE.fullmatch(value) or value in (".", ".."):
            raise ValueError(f"SCAN_SAVING.{name} = {value!r}: a value may not be '.', '..' or contain '/', ':', '|' "
                             "or control characters")  # fmt: skip
        return value

    def _checked_template(self, name: str, value: str, values: dict[str, str]) -> str:
        """The template, checked: only known keys, folders inside their parent, valid data-tree names.

        ``{img_acq_device}`` is allowed in images_path_template only; data_filename must be one file name.
        """
        try:
            fields = _fields(value)
        except ValueError as error:
            raise ValueError(f"SCAN_SAVING.{name} {value!r} is not a template: {error}") from None
        if "img_acq_device" in fields and name != "images_path_template":
            raise ValueError(f"SCAN_SAVING.{name}: '{{img_acq_device}}' is each detector's name; use it in "
                             "images_path_template only (BLISS's rule)")  # fmt: skip
        known = self._known_keys({**values, name: value})
        unknown = sorted(fields - set(known) - set(PER_SCAN))
        if unknown:
            hint = " (the config's root __init__.yml gives no beamline)" if unknown[0] == "beamline" else ""
            raise ValueError(f"SCAN_SAVING.{name}: unknown key '{unknown[0]}'{hint} (keys: {', '.join(known)}); "
                             f"add it first with SCAN_SAVING.add('{unknown[0]}', value)")  # fmt: skip
        try:
            filled = value.format(**{key: "value" for key in [*known, *PER_SCAN]})
        except (ValueError, TypeError, IndexError) as error:  # a format spec or conversion a text value cannot take
            raise ValueError(f"SCAN_SAVING.{name} {value!r} is not a template: {error}") from None
        if name == "data_filename" and (not filled or "/" in filled or not _VALUE.fullmatch(filled) or filled in (".", "..")):
            raise ValueError(f"SCAN_SAVING.data_filename = {value!r}: a value may not be '.', '..' or contain '/', ':', '|' "
                             "or control characters, and data_filename may not be empty")  # fmt: skip
        if value.startswith("/") or ".." in PurePosixPath(value).parts:
            raise ValueError(
                f"SCAN_SAVING.{name} {value!r} must stay inside " + ("base_path" if name == "template" else "the scan folder")
            )
        if any(not _VALUE.fullmatch(part) for part in filled.split("/")):
            raise ValueError(f"SCAN_SAVING.{name} {value!r}: a folder name may not contain '\\', ':', '|' or control characters")
        return value

    def _checked_values(self) -> dict[str, str]:
        """Values read back from Redis, checked as values typed at the prompt are (any client may write that hash)."""
        values = self._values()
        for name, value in values.items():
            try:
                self._checked(name, value, values)
            except ValueError as error:
                raise ValueError(
                    f"{error} (read back from Redis, key {self._settings.key}); set it again: SCAN_SAVING.{name} = ..."
                ) from None
        return values

    def logbook_folder(self) -> str:
        """Where the session logbook goes: the saving folder, up to a per-scan key (the ESRF data policy: beside the datasets)."""
        return self._common_folder()

    def get_path(self) -> str:
        """The folder of the scans: ``base_path`` / ``template`` filled in; it must stay inside ``base_path``.

        ``{scan_name}`` and ``{scan_number}`` stay as they are: each scan fills them (BLISS's ``root_path``).

        Raises
        ------
        ValueError
            A value read back from Redis is refused, or the folder is outside ``base_path``.

        Examples
        --------
        >>> SCAN_SAVING.base_path = '/data/id00/inhouse'
        >>> SCAN_SAVING.template = '{session}/'
        >>> SCAN_SAVING.get_path()
        '/data/id00/inhouse/test_session'
        >>> SCAN_SAVING.template = '{session}/{scan_name}/{scan_number}'
        >>> SCAN_SAVING.get_path()
        '/data/id00/inhouse/test_session/{scan_name}/{scan_number}'
        """
        values = self._checked_values()
        return self._folder(values, values["template"], UNFILLED)

    def _folder(self, values: dict[str, str], template: str, scan: dict[str, str]) -> str:
        """``base_path`` / ``template`` filled with the session's keys and the scan's (``scan``), inside ``base_path``."""
        base = os.path.normpath(values["base_path"])
        path = os.path.normpath(os.path.join(base, template.format(**self._keys(values), **scan)))
        if os.path.commonpath([base, path]) != base:
            raise ValueError(f"SCAN_SAVING: the saving folder {path} is outside base_path {base}; check the template "
                             f"{values['template']!r}, the session name {self.session!r} and the scan name")  # fmt: skip
        return path

    @property
    def number_in_path(self) -> bool:
        """Whether ``{scan_number}`` is in the folder or the file's name: each scan then has its own file.

        Its file is known once the scan is numbered (``scan_filename(save, name, number)``); the numbers
        come from the session's folder counter in Redis, as in BLISS.

        Examples
        --------
        >>> SCAN_SAVING.template = '{session}/{scan_name}/{scan_number}'
        >>> SCAN_SAVING.number_in_path
        True
        """
        values = self._checked_values()
        return any("scan_number" in _fields(values[name]) for name in ("template", "data_filename"))

    @property
    def root_path(self) -> str:
        """BLISS's name for ``get_path()``: the folder of the scans."""
        return self.get_path()

    @property
    def filename(self) -> str:
        """The file the scans are saved in: ``data_filename`` filled in, ``.h5``, in the saving folder.

        ``''`` when ``writer`` is ``'null'`` (no file), as BLISS's. ``{scan_name}`` and ``{scan_number}``
        stay as they are: each scan fills them.

        Examples
        --------
        >>> SCAN_SAVING.base_path = '/data/id00/inhouse'
        >>> SCAN_SAVING.template = '{session}/'
        >>> SCAN_SAVING.data_filename = '{session}_{date}'
        >>> SCAN_SAVING.filename
        '/data/id00/inhouse/test_session/test_session_....h5'
        >>> SCAN_SAVING.writer = 'null'
        >>> SCAN_SAVING.filename
        ''
        """
        return "" if self.writer == "null" else self._file(UNFILLED)

    def scan_filename(self, save: bool, name: str | None = None, number: int | None = None) -> str | None:
        """The file a scan writes: None when it is not saved (``save=False``, or ``writer`` is ``"null"``).

        Parameters
        ----------
        save : bool
            Whether the scan is saved.
        name, number : str and int, optional
            The scan's name and number, for ``{scan_name}`` and ``{scan_number}`` (not given: left as they are).

        Examples
        --------
        >>> SCAN_SAVING.writer, SCAN_SAVING.data_filename = 'nexus', 'data'
        >>> SCAN_SAVING.base_path = '/data/id00/inhouse'
        >>> SCAN_SAVING.template = '{session}/{scan_name}/{scan_number}'
        >>> SCAN_SAVING.scan_filename(save=True) == SCAN_SAVING.filename
        True
        >>> SCAN_SAVING.filename
        '/data/id00/inhouse/test_session/{scan_name}/{scan_number}/data.h5'
        >>> SCAN_SAVING.scan_filename(True, "ascan", 3)
        '/data/id00/inhouse/test_session/ascan/0003/data.h5'
        >>> SCAN_SAVING.writer = 'null'
        >>> SCAN_SAVING.scan_filename(save=True) is None
        True
        """
        if not save or self.writer == "null":
            return None
        return self._file({**UNFILLED, **_scan_keys(name, number)})

    def _file(self, scan: dict[str, str]) -> str:
        """The file of the scans: ``data_filename``, ``.h5``, in the folder, ``scan``'s keys filled in."""
        values = self._checked_values()
        folder = self._scan_folder(values, scan)
        return os.path.join(folder, values["data_filename"].format(**self._keys(values), **scan) + ".h5")

    def _scan_folder(self, values: dict[str, str], scan: dict[str, str]) -> str:
        """The folder of a scan's file, ``scan``'s keys filled in."""
        return self._folder(values, values["template"], scan)

    def _common_folder(self) -> str:
        """The folder of the scans' node in the data tree: the saving folder up to its first per-scan key."""
        values = self._checked_values()
        template = values["template"].split("/")
        common = next((index for index, part in enumerate(template) if set(IN_PATH) & _fields(part)), len(template))
        return self._folder(values, "/".join(template[:common]), {})

    def images_path(self, scan_number: int, scan_name: str) -> str:
        """Where a scan's 2D detectors save their frames: folder and file prefix.

        ``{img_acq_device}`` is left for each detector to fill (``/tmp/scans/demo/scan0003/{img_acq_device}_``).

        Examples
        --------
        >>> SCAN_SAVING.base_path = '/data/id00/inhouse'
        >>> SCAN_SAVING.template = '{session}/'
        >>> SCAN_SAVING.images_path(3, "ascan")
        '/data/id00/inhouse/test_session/scan0003/{img_acq_device}_'
        """
        values = self._checked_values()
        scan = _scan_keys(scan_name, scan_number)
        folder = self._scan_folder(values, scan)
        escaped = {key: value.replace("{", "{{").replace("}", "}}") for key, value in {**self._keys(values), **scan}.items()}
        return os.path.join(folder, values["images_path_template"].format(**escaped, img_acq_device="{img_acq_device}"))

    def directory_db_name(self) -> tuple[str, str]:
        """``(db_name, name)`` of the saving folder's node in the data tree.

        The db_name is the session, then the folder's components without the session's own name
        (``test_session:mnt:c:tmp:sample1``). A template with ``{scan_name}`` or ``{scan_number}``
        gives the folder of its components before them: the scans' common folder, whose counter
        numbers them.

        Examples
        --------
        >>> SCAN_SAVING.base_path = '/mnt/c/tmp'
        >>> SCAN_SAVING.template = '{session}/sample1'
        >>> SCAN_SAVING.directory_db_name()
        ('test_session:mnt:c:tmp:sample1', 'sample1')
        >>> SCAN_SAVING.template = '{session}/sample1/{scan_name}/{scan_number}'
        >>> SCAN_SAVING.directory_db_name()
        ('test_session:mnt:c:tmp:sample1', 'sample1')
        """
        parts = [part for part in PurePosixPath(self._common_folder()).parts[1:] if part != self.session]
        for part in parts:
            keys.check_name(part, "saving folder component")
        db_name = keys.SEPARATOR.join([self.session, *parts])
        return db_name, parts[-1] if parts else self.session

    def _parameters(self) -> dict[str, str]:
        values = self._values()
        built_in = {"session": self.session, "date": self._keys(values)["date"], "beamline": self.beamline or "(not configured)"}
        return {**values, **built_in, **{key: f"{{{key}}}" for key in PER_SCAN}}

    def __repr__(self) -> str:
        """BLISS's table: the parameters, then the file and the folder and whether each exists."""
        lines = [f"Parameters ({self.policy}) -"]
        lines += [f"  .{key:<20} = '{value}'" for key, value in self._parameters().items()]
        path, filename = self.get_path(), self.filename
        rows: list[tuple[str, ...]]
        if filename:
            rows = [("exists" if os.path.exists(filename) else "does not exist", "filename", filename),
                    ("exists" if os.path.isdir(path) else "does not exist", "directory", path)]  # fmt: skip
        else:  # writer 'null'
            rows = [("NO SAVING",)]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        rule = "  ".join("-" * width for width in widths)
        lines += ["", rule, *("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows), rule]
        return "\n".join(lines)


def _fields(template: str) -> set[str]:
    """The keys a (checked) template names: ``{'session', 'scan_number'}`` of ``'{session}/{scan_number}'``."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _scan_keys(name: str | None, number: int | None) -> dict[str, str]:
    """``{scan_name}`` and ``{scan_number}`` of a scan, those given (the number as BLISS writes it: ``0003``)."""
    given = {} if name is None else {"scan_name": name}
    return given if number is None else {**given, "scan_number": SCAN_NUMBER_FORMAT % number}
