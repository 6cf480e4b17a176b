r"""User scripts, as BLISS has them: Python files of a folder the user chooses, run or loaded at the prompt.

``user_script_homedir`` remembers the folder per session (a setting: every shell of the session, and the
next ones, see it); ``user_script_load`` runs a script in a copy of the session namespace and exports
what it defined (into ``user`` by default); ``user_script_run`` runs one and keeps nothing. An error
in a script prints its traceback (from the script's own lines) and the shell carries on, as in BLISS.

Examples
--------
The examples of this module use a folder of three scripts, made here in the session's saving folder:

>>> from pathlib import Path
>>> scripts = Path(SCAN_SAVING.base_path, "scripts")
>>> (scripts / "tomo").mkdir(parents=True)
>>> _ = (scripts / "align.py").write_text(
...     "def align_spectrometer(energy):\n"
...     "    print(f'aligning the spectrometer at {energy} keV')\n")
>>> _ = (scripts / "check_beam.py").write_text("print('checking the beam with', diode.name)\n")
>>> _ = (scripts / "tomo" / "fullfield.py").write_text("def fullfield(nproj):\n    return nproj\n")
>>> user_script_homedir(str(scripts))
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bliss_shell.comm import Settings
from bliss_shell.scanning import current

from .source_view import remember_source

DEFAULT_EXPORT = "user"


class UserNamespace:
    """What ``user_script_load`` exported: the script's names as attributes (``user.align()``).

    Parameters
    ----------
    names : dict
        The names and their values.

    Examples
    --------
    ``user_script_load("align")`` puts one in the session as ``user``; ``export_global=False`` returns it:

    >>> names = user_script_load("align", export_global=False)
    Loading [/.../scripts/align.py]
    >>> names
    <namespace of user scripts: align_spectrometer>
    >>> names.align_spectrometer(energy=7.5)
    aligning the spectrometer at 7.5 keV
    """

    def __init__(self, names: dict[str, Any]):
        self.__dict__.update(names)

    def __repr__(self) -> str:
        return f"<namespace of user scripts: {', '.join(sorted(self.__dict__)) or 'empty'}>"


def _setting() -> Settings:
    context = current()
    return Settings(f"user_script:{context.session}", client=context.client)


def user_script_homedir(new_dir: str | os.PathLike | None = None, reset: bool = False) -> str | None:
    """The folder of the user scripts: returns it, or sets it (kept for the session's next shells).

    Parameters
    ----------
    new_dir : str or os.PathLike, optional
        An absolute path to an existing folder; without it, the current folder is returned (None if unset).
    reset : bool
        Forget the folder; default False.

    Returns
    -------
    str or None
        The folder, when neither ``new_dir`` nor ``reset`` is given.

    Examples
    --------
    ``user_script_homedir("/home/blissadm/scripts")`` sets the folder; then:

    >>> folder = user_script_homedir()
    >>> folder
    '/.../scripts'
    >>> user_script_homedir(reset=True)
    >>> print(user_script_homedir())
    None
    >>> user_script_homedir(folder)
    >>> user_script_homedir("scripts")
    Traceback (most recent call last):
    ...
    ValueError: user_script_homedir: 'scripts' is not an absolute path; give the whole path, e.g. user_script_homedir('/.../scripts')
    """
    if reset:
        _setting().remove("homedir")
        return None
    if new_dir is None:
        return _setting().get("homedir")
    folder = _text(new_dir, "user_script_homedir", "folder")
    if not os.path.isabs(folder):
        raise ValueError(f"user_script_homedir: {folder!r} is not an absolute path; give the whole path, e.g. "
                         f"user_script_homedir({os.path.abspath(folder)!r})")  # fmt: skip
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"user_script_homedir: {folder} is not a folder; create it first, or give another one")
    _setting().set(homedir=os.path.normpath(folder))
    return None


def user_script_list() -> None:
    """Print the ``.py`` files of the user script folder and its subfolders, sorted.

    Examples
    --------
    >>> user_script_list()
    List of python scripts in [/.../scripts]:
     - align.py
     - check_beam.py
     - tomo/fullfield.py
    """
    folder = _homedir("user_script_list")
    print(f"List of python scripts in [{folder}]:")
    for script in _scripts(folder):
        print(f" - {script}")


def user_script_load(
    scriptname: str | os.PathLike | None = None, export_global: str | bool = DEFAULT_EXPORT
) -> UserNamespace | None:
    """Run a script and export the names it defines (those not starting with ``_``).

    Parameters
    ----------
    scriptname : str, optional
        The file, absolute or relative to ``user_script_homedir()``; ``.py`` may be left out.
        Without it, the scripts are listed.
    export_global : str or bool
        ``"user"`` (default) or another name: into that namespace object of the session (merged with
        what an earlier load put there); True: straight into the session namespace; False: only
        returned.

    Returns
    -------
    UserNamespace or None
        The names, when ``export_global`` is False.

    Examples
    --------
    >>> user_script_load("align")
    Loading [/.../scripts/align.py]
    Exported [user] namespace in session.

    At the prompt, ``user.align_spectrometer(7.5)`` then runs the script's function. A second script
    adds its names to ``user``:

    >>> user_script_load("tomo/fullfield")
    Loading [/.../scripts/tomo/fullfield.py]
    Merged [user] namespace in session.
    >>> tools = user_script_load("align", export_global=False)
    Loading [/.../scripts/align.py]
    >>> tools.align_spectrometer(7.5)
    aligning the spectrometer at 7.5 keV
    """
    if scriptname is None:
        user_script_list()
        return None
    if not isinstance(export_global, (bool, str)) or (isinstance(export_global, str) and not export_global.isidentifier()):
        raise TypeError(f"user_script_load: export_global={export_global!r}: give a name (\"user\"), True (the session "
                        "namespace) or False (returned only)")  # fmt: skip
    session_names = current().namespace
    held = session_names.get(export_global) if isinstance(export_global, str) else None
    if held is not None and not isinstance(held, UserNamespace):  # a session object: never replaced by a namespace
        raise ValueError(f"user_script_load: export_global={export_global!r}: {export_global} is already {held!r} "
                         f"({type(held).__name__}) in the session; choose another name")  # fmt: skip
    path = _script_path(scriptname, "user_script_load")
    print(f"Loading [{path}]")
    names = _defined(_run(path), session_names)
    for value in names.values():
        remember_source(value)
    if export_global is False:
        return UserNamespace(names)
    if export_global is True:
        for name, value in names.items():
            if name in session_names and session_names[name] is not value:
                print(f"Replaced [{name}] in session env")
            session_names[name] = value
        return None
    session_names[export_global] = UserNamespace({**(vars(held) if held is not None else {}), **names})
    print(f"{'Merged' if held is not None else 'Exported'} [{export_global}] namespace in session.")
    return None


def user_script_run(scriptname: str | os.PathLike | None = None) -> None:
    """Run a script: it sees the session's names, and what it defines is not kept.

    Parameters
    ----------
    scriptname : str, optional
        The file, absolute or relative to ``user_script_homedir()``; ``.py`` may be left out.
        Without it, the scripts are listed.

    Examples
    --------
    >>> user_script_run("check_beam")
    Running [/.../scripts/check_beam.py]
    checking the beam with diode
    """
    if scriptname is None:
        user_script_list()
        return
    path = _script_path(scriptname, "user_script_run")
    print(f"Running [{path}]")
    _run(path)


USER_SCRIPT_COMMANDS: list[Callable[..., Any]] = [user_script_homedir, user_script_list, user_script_load, user_script_run]


def _text(value: Any, command: str, what: str) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{command}: the {what} must be a path in quotes, not {value!r} ({type(value).__name__})")
    if not value.strip():
        raise ValueError(f"{command}: the {what} is empty; give a path, e.g. {command}('align')")
    return value


def _homedir(command: str) -> str:
    folder = user_script_homedir()
    if not folder:
        raise RuntimeError(f"{command}: no user script folder yet; set one with user_script_homedir('/path/to/scripts'), "
                           "or give the script's absolute path")  # fmt: skip
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{command}: the user script folder {folder} is gone; set another with "
                                "user_script_homedir('/path/to/scripts')")  # fmt: skip
    return folder


def _scripts(folder: str) -> list[str]:
    """Every ``.py`` file under ``folder``, relative to it, sorted."""
    found = []
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__pycache__")
        found += [os.path.relpath(os.path.join(directory, name), folder) for name in files if name.endswith(".py")]
    return sorted(found)


def _script_path(scriptname: Any, command: str) -> Path:
    name = _text(scriptname, command, "script name")
    folder = None if os.path.isabs(name) else _homedir(command)
    path = Path(name if folder is None else os.path.join(folder, name))
    if not path.suffix:
        path = path.with_name(path.name + ".py")
    if path.is_file():
        return path
    where = str(path.parent)
    there = ", ".join(_scripts(folder)) if folder else ", ".join(p.name for p in sorted(path.parent.glob("*.py")))
    raise FileNotFoundError(f"{command}: no script {path.name} in {where}; scripts there: {there or 'none'}")


def _run(path: Path) -> dict[str, Any]:
    """Run the file in a copy of the session namespace and return that copy; an error prints its traceback."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise OSError(f"cannot read the script {path}: {getattr(error, 'strerror', None) or error}") from None
    names = dict(current().namespace)
    names["__file__"] = str(path)
    try:
        exec(compile(source, str(path), "exec"), names)
    except Exception as error:  # the user's script: where it stopped, from its own lines; the shell carries on, as in BLISS
        own_lines = error.__traceback__.tb_next if error.__traceback__ is not None else None
        traceback.print_exception(type(error), error, own_lines, file=sys.stdout)
        print(f"{path.name} stopped at this error", flush=True)
    return names


def _defined(names: dict[str, Any], session_names: dict[str, Any]) -> dict[str, Any]:
    """The public names the script defined or changed."""
    missing = object()
    return {name: value for name, value in names.items()
            if not name.startswith("_") and session_names.get(name, missing) is not value}  # fmt: skip
