"""``lslog``, ``debugon``, ``debugoff``: Python's loggers of the shell, listed and switched to DEBUG, as in BLISS.

BLISS keeps a map of its objects' loggers (``session.device.controller.roby``); here the loggers are
Python's own, named after the modules that log (``bliss_shell.plot.reader``, ``bliss_shell.lprint.demo``)
and after other libraries (``urllib3``, ``tango``). ``lslog()`` lists ``bliss_shell*`` ones, as
BLISS's lists ``bliss*``. An object given to ``debugon`` stands for the loggers named after it
(``*.roby``). Debug messages go to the terminal's standard error when nothing else shows them.

Examples
--------
>>> lprint("aligned roby")  # its logger, bliss_shell.lprint.<session>, exists from now on
aligned roby
>>> debugon("bliss_shell.lprint.*")
Setting bliss_shell.lprint.test_session to show debug messages
>>> debugoff("bliss_shell.lprint.*")
Setting bliss_shell.lprint.test_session to hide debug messages
"""

from __future__ import annotations

import fnmatch
import logging
import sys
from typing import Any

_OURS = "bliss_shell*"
_EARLIER: dict[str, int] = {}  # a logger's level before debugon, which debugoff puts back (as BLISS's loggers)
_SHOWN = logging.StreamHandler(sys.stderr)  # on the root logger when nothing else shows records
_SHOWN.setFormatter(logging.Formatter("%(levelname)s %(asctime)s %(name)s: %(message)s"))


def lslog(glob: str | None = None, debug_only: bool = False) -> None:
    """List the loggers and their levels.

    Parameters
    ----------
    glob : str, optional
        A shell pattern of logger names (``*`` any characters, ``?`` one); default ``bliss_shell*``.
    debug_only : bool
        Only the loggers at DEBUG level.

    Examples
    --------
    >>> lslog("bliss_shell.lprint.*")
    <BLANKLINE>
    logger name                     level
    =============================== ========
    bliss_shell.lprint.test_session WARNING
    <BLANKLINE>
    """
    loggers = _loggers(_OURS if glob is None else _pattern("lslog", glob))
    if debug_only:
        loggers = [logger for logger in loggers if logger.getEffectiveLevel() == logging.DEBUG]
    if not loggers:
        print("No loggers found.\n")
        return
    width = max(len(logger.name) for logger in loggers)
    print(f"\n{'logger name':{width}} level")
    print(f"{'=' * width} {'=' * 8}")
    for logger in loggers:
        level = logging.getLevelName(logger.getEffectiveLevel()) + (" [DISABLED]" if logger.disabled else "")
        print(f"{logger.name:{width}} {level}")
    print()


def debugon(glob_logger_pattern_or_obj: Any) -> None:
    """Show the debug messages of the loggers a pattern (or an object's name) matches.

    Parameters
    ----------
    glob_logger_pattern_or_obj : str or object
        A shell pattern of logger names (``"bliss_shell.plot*"``), or an object of the session: the
        loggers named after it (``*.roby``).

    Examples
    --------
    >>> debugon("bliss_shell.lprint.*")
    Setting bliss_shell.lprint.test_session to show debug messages
    >>> debugon(roby)
    NO loggers found for [roby]
    >>> debugoff("bliss_shell.lprint.*")
    Setting bliss_shell.lprint.test_session to hide debug messages
    """
    loggers = _found(_pattern("debugon", glob_logger_pattern_or_obj), glob_logger_pattern_or_obj)
    if loggers and not logging.getLogger().handlers:
        logging.getLogger().addHandler(_SHOWN)  # Python's last-resort handler shows warnings only
    for logger in loggers:
        if logger.level != logging.DEBUG:
            _EARLIER[logger.name] = logger.level
        logger.setLevel(logging.DEBUG)
        print(f"Setting {logger.name} to show debug messages")


def debugoff(glob_logger_pattern_or_obj: Any) -> None:
    """Hide again the debug messages of the loggers a pattern (or an object's name) matches.

    Each gets back the level it had before ``debugon`` (as BLISS's loggers do); one that ``debugon``
    did not set keeps its level, unless it is DEBUG: then it follows its parent's again.

    Parameters
    ----------
    glob_logger_pattern_or_obj : str or object
        As for ``debugon``.

    Examples
    --------
    >>> debugoff("bliss_shell.lprint.*")
    Setting bliss_shell.lprint.test_session to hide debug messages
    """
    for logger in _found(_pattern("debugoff", glob_logger_pattern_or_obj), glob_logger_pattern_or_obj):
        earlier = _EARLIER.pop(logger.name, logging.NOTSET if logger.level == logging.DEBUG else logger.level)
        logger.setLevel(earlier)
        print(f"Setting {logger.name} to hide debug messages")


def _found(pattern: str, given: Any) -> list[logging.Logger]:
    """The loggers ``pattern`` matches; none, after the line that says so."""
    loggers = _loggers(pattern)
    if not loggers:
        print(f"NO loggers found for [{getattr(given, 'name', given)}]")
    return loggers


def _pattern(command: str, given: Any) -> str:
    if isinstance(given, str):
        return given
    name = getattr(given, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"{command}: give a pattern of logger names (\"bliss_shell*\") or an object of the session, "
                        f"not {given!r}")  # fmt: skip
    return f"*.{name}"


def _loggers(pattern: str) -> list[logging.Logger]:
    """The loggers that exist (that some module asked for) whose names match, sorted by name."""
    found = [logger for name, logger in logging.Logger.manager.loggerDict.items()
             if isinstance(logger, logging.Logger) and fnmatch.fnmatchcase(name, pattern)]  # fmt: skip
    return sorted(found, key=lambda logger: logger.name)
