"""``elog_print`` and ``lprint`` at the prompt, and ``bliss logbook SESSION`` in a terminal.

Both print what they are given and add it to the session's logbook (``scanning/logbook.py``):
``elog_print`` as a comment, ``lprint`` as an info line, also sent to Python's logging at INFO
(logger ``bliss_shell.lprint.<session>``), as BLISS's ``lprint`` logs.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from bliss_shell.comm import choose_redis, configured_settings_folder, connect, use_settings_folder
from bliss_shell.config import Config
from bliss_shell.scanning import current, scan_saving_of
from bliss_shell.scanning.logbook import add_entry, logbook_file, session_logbook, warn_unwritten


def elog_print(*values: Any, sep: str = " ") -> None:
    """Print a message and write it, timestamped, into the session's logbook (a comment).

    The logbook is ``<session>_logbook.txt`` in the saving folder (``bliss logbook SESSION`` prints
    it; every scan adds its end there too). A blank message is printed only. When the logbook cannot
    be written, a warning says so and the message is still printed.

    Parameters
    ----------
    *values : object
        What to write, as ``print`` takes it: each as ``str()`` makes it.
    sep : str
        Between the values; default one space.

    Examples
    --------
    >>> elog_print("sample changed to lysozyme, 2 mm slit")
    sample changed to lysozyme, 2 mm slit
    >>> elog_print("slits", 0.5, 2, sep=" x ")
    slits x 0.5 x 2
    """
    _print_and_add("elog_print", "comment", values, sep)


def lprint(*values: Any, sep: str = " ") -> None:
    """Print, log at INFO level and write into the session's logbook (an info line).

    The log record goes to Python's logger ``bliss_shell.lprint.<session>``, as BLISS's ``lprint`` logs;
    the logbook entry is as ``elog_print``'s, marked ``info:`` instead of ``comment:``.

    Parameters
    ----------
    *values : object
        What to print, as ``print`` takes it.
    sep : str
        Between the values; default one space.

    Examples
    --------
    >>> lprint("aligned roby at", 1.25)
    aligned roby at 1.25
    """
    text = _print_and_add("lprint", "info", values, sep)
    logging.getLogger(f"bliss_shell.lprint.{current().session}").info(text)


def _print_and_add(command: str, kind: str, values: tuple[Any, ...], sep: Any) -> str:
    """Print the text; a text that is not blank goes into the logbook as ``kind: text``."""
    if not isinstance(sep, str):
        raise TypeError(f"{command}: sep must be a text, not {sep!r}")
    text = sep.join(str(value) for value in values)
    print(text, flush=True)
    if text.strip():
        add_to_logbook(f"{kind}: {text}")
    return text


def add_to_logbook(text: str) -> None:
    """Add an entry to the open session's logbook; a warning with the entry when it cannot be written."""
    context = current()
    try:
        path = session_logbook(context)
    except Exception as error:  # SCAN_SAVING unreadable (Redis gone, a bad value): the message was printed
        warn_unwritten(f"of session {context.session}", f"{type(error).__name__}: {error}", text)
        return
    add_entry(path, text)


def show_logbook(session: str, config: Config) -> int:
    """``bliss logbook SESSION``: print the logbook of the session's current saving folder."""
    sessions = config.names_of_class("Session")
    if session not in sessions:
        print(f"'{session}' is not a session; sessions: {', '.join(sessions)}", file=sys.stderr)
        return 1
    use_settings_folder(configured_settings_folder(config.globals))  # SCAN_SAVING of a Redis that lost it
    client = connect(choose_redis(config.globals))
    try:
        node = config.get(session)
        saving = scan_saving_of(client, session, node.scan_saving_config, config.globals.get("beamline"))
        path = logbook_file(saving.logbook_folder(), session)
    except ValueError as error:
        print(f"bliss: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        print(f"bliss: session {session} has no logbook yet: {path} does not exist "
              "(elog_print and the session's scans write it)", file=sys.stderr)  # fmt: skip
        return 1
    except OSError as error:
        print(f"bliss: cannot read the logbook {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0
