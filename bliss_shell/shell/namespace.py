"""What every session namespace starts with, before its objects and setup file."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from typing import Any

import gevent

from bliss_shell.comm import choose_redis
from bliss_shell.comm.redis_types import RedisClient
from bliss_shell.config import Session
from bliss_shell.data.blissdata_server import prepare_server
from bliss_shell.data.publisher import register_session
from bliss_shell.data.retention import Retention
from bliss_shell.scanning import COMMANDS, POLICY_COMMANDS, ScanContext, activate, current, scan_saving_of
from bliss_shell.scanning.plot_settings import load_selection

from .cells import elog_add
from .cleanup import cleanup, error_cleanup
from .config_listing import make_lsconfig
from .countdown import countdown
from .edit_mg import edit_mg
from .error_report import ErrorReport
from .info import info
from .logbook_commands import elog_print, lprint
from .loggers import debugoff, debugon, lslog
from .plot_export import elog_plot
from .scan_display import shell_display
from .scan_display_settings import ScanDisplay, opening_plots
from .screen import clear
from .shortcuts import SHORTCUTS
from .source_view import prdef
from .tweak import tw
from .user_scripts import USER_SCRIPT_COMMANDS
from .viewers import pymca, silx_view

# BLISS's shell names that are the shell's own (not scan commands): docs/commands.md has each
SHELL_COMMANDS = [prdef, lprint, elog_print, elog_add, elog_plot, clear, info, countdown, lslog, debugon, debugoff, cleanup,
                  error_cleanup, edit_mg, silx_view, pymca]  # fmt: skip


def session_namespace(session: Session, client: RedisClient, errors: ErrorReport, display: bool = False,
                      retention: Retention | None = None, revive: Callable[[], Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The shell's own names and the scan commands, bound to this session's Redis data.

    ``sleep`` is gevent's, so background greenlets keep running during it. ``display``
    shows every scan live (the shell and ``bliss --script``; tests leave it off). A shell on a
    Redis that cannot take blissdata 2's documents (no RedisJSON and RediSearch, or a cluster)
    says so in one line to the person at the terminal (docs/blissdata.md); a script whose
    standard error goes to a file or a pipe is not told. The scans are published as before.
    """
    register_session(client, session.name)
    refusal = prepare_server(client)  # sets a server with the modules up for blissdata 2's documents
    if refusal and display and sys.stderr.isatty():
        hint = _embedded_restart_hint(session, client)
        print(f"WARNING: {refusal}" + (f"; {hint}" if hint else ""), file=sys.stderr)
    scan_saving = scan_saving_of(client, session.name, session.scan_saving_config, session.config.globals.get("beamline"))
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__builtins__": builtins,
        "gevent": gevent,
        "sleep": gevent.sleep,
        "tw": tw,
        "last_error": errors.last_error,
        "SCAN_SAVING": scan_saving,
        "SCANS": session.scans,
    }
    namespace.update(SHORTCUTS)  # numpy's sin, cos..., rand, date, pprint: BLISS's standard namespace has them
    namespace.update({command.__name__: command for command in COMMANDS})
    namespace.update({command.__name__: command for command in [*USER_SCRIPT_COMMANDS, *SHELL_COMMANDS]})
    namespace.update({command.__name__: command for command in POLICY_COMMANDS})  # the ESRF data policy's
    namespace["lsconfig"] = make_lsconfig(session.config)
    namespace["SCAN_DISPLAY"] = scan_display = ScanDisplay(session.name, client)
    watch = opening_plots(shell_display(client, scan_display.columns), scan_display, namespace) if display else None
    activate(ScanContext(session.name, client, scan_saving, session.scans, namespace, watch=watch,
                         plot_selection=load_selection(client, session.name),
                         retention=retention or Retention(), revive=revive))  # fmt: skip
    return namespace


def _embedded_restart_hint(session: Session, client: RedisClient) -> str:
    """What to do when ``client`` is the embedded Redis, running plain while the modules are installed and wanted."""
    choice = choose_redis(session.config.globals)
    path = getattr(client, "connection_pool", None) and client.connection_pool.connection_kwargs.get("path")
    if choice.embedded is None or path != str(choice.embedded.socket):
        return ""
    return choice.embedded.restart_hint()


def show_active_mg(namespace: dict[str, Any], on_error: Callable[[BaseException], None]) -> None:
    """Put ``ACTIVE_MG`` in the namespace once the setup has run, unless the setup chose one.

    A setup file that made it something else is reported and left as it is: scans then say what to do.
    """
    try:
        namespace["ACTIVE_MG"] = current().active_mg
    except TypeError as error:
        on_error(error)
