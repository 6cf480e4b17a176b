"""The ``bliss`` command: open a session's shell, run a script in it, or manage servers.

Importing this module starts the command: gevent patches the standard library, and Python's cycle collector
stays off while the shell's own modules and objects load (``_loaded`` turns it on again, before any user code).
"""

import gc
from importlib import metadata

from gevent import monkey

# The start-up makes a few hundred thousand objects that live as long as the process, and almost no cyclic
# garbage: collecting meanwhile only scans them again and again (about 0.07 s of CPU of a 0.37 s start).
gc.disable()


def _patch_all() -> None:
    """Patch the standard library for gevent, the installed packages' entry points read once for it.

    gevent looks for plugins at each of its 19 patching events, and each look reads every installed package's
    metadata: about 4 ms with the 120 packages of the development environment, 0.05 to 0.08 s of the start-up in
    all. Nothing is installed meanwhile, so one reading answers them all.
    """
    installed, read = metadata.entry_points(), metadata.entry_points
    metadata.entry_points = lambda **selection: installed.select(**selection)  # type: ignore[assignment]
    try:
        # Threads stay real: PyTango's green mode and prompt_toolkit's output thread need them.
        monkey.patch_all(thread=False, queue=False)
    finally:
        metadata.entry_points = read


_patch_all()


import argparse  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import numpy as np  # noqa: E402

from bliss_shell import __version__  # noqa: E402
from bliss_shell.comm import (  # noqa: E402
    RedisUnavailable,
    SessionLock,
    SessionLocked,
    apply_memory_cap,
    choose_redis,
    configured_settings_folder,
    connect,
    redacted,
    use_redis,
    use_settings_folder,
)
from bliss_shell.comm.redis_types import RedisClient, RedisError  # noqa: E402
from bliss_shell.comm.tango_host import TangoUnavailable, choose_tango_host  # noqa: E402
from bliss_shell.comm.tango_servers import database_needed, needed_servers  # noqa: E402
from bliss_shell.config import Config, ConfigError, Session, config_roots  # noqa: E402
from bliss_shell.data import keys  # noqa: E402
from bliss_shell.data.orphans import close_orphans  # noqa: E402
from bliss_shell.data.retention import Retention, status  # noqa: E402
from bliss_shell.plot.launcher import ViewerError, stop_viewer  # noqa: E402

from .debug import install_greenlet_dump  # noqa: E402
from .error_report import ErrorReport  # noqa: E402
from .interrupt import run_interruptible  # noqa: E402
from .logbook_commands import show_logbook  # noqa: E402
from .namespace import session_namespace, show_active_mg  # noqa: E402
from .plot_export import NoPicture, fetch_png  # noqa: E402
from .plots import make_flint, show_plots, viewer_address  # noqa: E402
from .scan_display import watch_session  # noqa: E402
from .servers import run_servers_command  # noqa: E402

if TYPE_CHECKING:
    from bliss_shell.rest.service import RestService


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bliss",
        description="Open a beamline session shell (bliss -s demo), or run code in one.",
    )
    parser.add_argument("-s", "--session", metavar="NAME", help="the session to open")
    run = parser.add_mutually_exclusive_group()
    run.add_argument("--script", metavar="FILE", help="run FILE in the session, then exit")
    run.add_argument("-c", dest="code", metavar="CODE", help="run CODE in the session, then exit")
    parser.add_argument("--config", metavar="DIR", help="config directory (default: $BLISS_CONFIG, else the repository's)")
    parser.add_argument("--list", action="store_true", help="list the sessions and exit")
    parser.add_argument("--watch", metavar="NAME", help="show the scans of session NAME as they run, until Ctrl-C")
    parser.add_argument("--version", action="version", version=f"bliss_shell {__version__}")
    parser.add_argument("--rest", nargs="?", const="", metavar="PORT",
                        help="serve BLISS's REST API and web UI on 127.0.0.1 (PORT: a number or auto; default: the "
                             "session's rest: port, else any free one); docs/rest.md")  # fmt: skip
    commands = parser.add_subparsers(dest="command", metavar="{servers,data,plot,logbook}")
    servers = commands.add_parser("servers", help="start, show or stop the servers bliss runs (Redis, Tango)")
    servers.add_argument("action", choices=["start", "status", "stop"])
    servers.add_argument("--config", metavar="DIR", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    data = commands.add_parser(
        "data", help="what Redis holds per session: memory used, the cap, the oldest scan; closes orphaned scans"
    )
    data.add_argument("action", choices=["status"])
    data.add_argument("data_session", metavar="SESSION", nargs="?", help="one session (default: every session that published)")
    data.add_argument("--config", metavar="DIR", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    plot = commands.add_parser("plot", help="the live plots of a session in the browser: start or find them, print the URL")
    plot.add_argument("plot_session", metavar="SESSION")
    plot.add_argument("--address", help="where the viewer listens (default: plot_address of the config, else 127.0.0.1)")
    plot.add_argument("--port", type=int, help="its port (default: plot_port of the config, else any free port)")
    instead = plot.add_mutually_exclusive_group()
    instead.add_argument("--stop", action="store_true", help="stop the session's viewer instead")
    instead.add_argument("--png", metavar="FILE", help="save a picture of what the viewer shows now in FILE instead")
    plot.add_argument("--config", metavar="DIR", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    logbook = commands.add_parser("logbook", help="print the session's logbook (elog_print, lprint, every scan's end)")
    logbook.add_argument("logbook_session", metavar="SESSION")
    logbook.add_argument("--config", metavar="DIR", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    return parser


def _loaded() -> None:
    """The shell's own objects are loaded: the collector leaves them aside for good (``gc.freeze``) and runs again."""
    gc.freeze()
    gc.enable()


def main(argv: list[str] | None = None) -> int:
    """The ``bliss`` command with ``argv`` (default: the process's arguments); its exit status.

    ``bliss -s NAME`` opens the session's shell; ``--script FILE`` or ``-c CODE`` runs code in it
    and exits; ``--list`` lists the sessions; ``--watch NAME`` shows the session's scans as they
    run; ``bliss servers|data|plot|logbook ...`` manage the servers, the data in Redis, the live
    plots and the logbook. A config, Redis, Tango or lock problem prints one line and gives 1.
    """
    try:
        return _command(argv)
    finally:
        gc.enable()  # whatever way it ended (a refused session returns before _loaded), the caller collects again


def _command(argv: list[str] | None) -> int:
    """``main``'s work, the collector possibly still off."""
    args = _parser().parse_args(argv)
    if args.command is not None or args.list or args.watch is not None:
        _loaded()  # no session to open
    try:
        config = Config(config_roots(args.config))
        if args.command == "servers":
            return run_servers_command(args.action, config)
        if args.command == "data":
            return _data_status(config, args.data_session)
        if args.command == "plot":
            return _plot(args, config)
        if args.command == "logbook":
            return show_logbook(args.logbook_session, config)
        sessions = config.names_of_class("Session")
        if args.list:
            print("\n".join(sessions))
            return 0
        name = args.watch if args.watch is not None else args.session
        if name not in sessions:
            wanted = f"'{name}' is not a session" if name else "choose a session with -s NAME"
            print(f"{wanted}; sessions: {', '.join(sessions)}", file=sys.stderr)
            return 1
        if args.watch is not None:
            return _watch(name, config)
        return _open_session(config.get(name), config, args)
    except (ConfigError, RedisUnavailable, SessionLocked, TangoUnavailable, ViewerError) as error:
        print(f"bliss: {error}", file=sys.stderr)
        return 1


def _retention(config: Config) -> Retention:
    try:
        return Retention.from_config(config.globals)
    except ValueError as error:
        raise ConfigError(f"the config's root __init__.yml: {error}") from None


def _data_status(config: Config, session: str | None) -> int:
    """``bliss data status [SESSION]``: per session, the memory used of the cap, the scans held, the oldest one.

    The memory is that of the server that holds the session; orphaned scans found are closed and listed.
    """
    retention = _retention(config)
    client = connect(choose_redis(config.globals))
    try:
        sessions = [session] if session else sorted(name.decode() for name in client.smembers(keys.SESSIONS))
        if not sessions:
            print("no session has published in this Redis")
        for name in sessions:
            closed = close_orphans(client, name)
            held = status(client, name, retention)
            print(f"{name}: memory used {held['used'] / 2**20:.1f} MiB of the {held['cap'] / 2**20:.0f} MiB cap "
                  f"({held['used'] / held['cap']:.0%}); finished scans held: {held['scans']}, each kept "
                  f"{held['retention'] / 3600:g} h after it ended; running: {held['running']}")  # fmt: skip
            if held["oldest"]:
                oldest, ended = held["oldest"]
                print(f"  oldest: {oldest}, ended {datetime.fromtimestamp(ended).strftime('%Y-%m-%d %H:%M:%S')}")
            for scan, points in closed:
                print(f"  closed {scan} as failed: its publisher was gone; Redis has {points} points of it")
    finally:
        client.close()
    return 0


def _plot(args: argparse.Namespace, config: Config) -> int:
    """``bliss plot SESSION``: the session's viewer, found or started; stopped (``--stop``); or pictured (``--png``)."""
    address, port = viewer_address(config.globals)
    choice = choose_redis(config.globals)
    if args.stop:  # found in the runtime folder first: stopping never starts Redis
        print(f"stopped the viewer of {args.plot_session}" if stop_viewer(choice, args.plot_session)
              else f"no viewer of {args.plot_session} runs")  # fmt: skip
        return 0
    client = connect(choice)
    try:
        try:
            keys.check_name(args.plot_session, "session name")
        except ValueError as error:
            print(f"bliss: {error}", file=sys.stderr)
            return 1
        if args.png:
            return _save_picture(client, args.plot_session, Path(args.png))
        if args.plot_session not in config.names_of_class("Session") and not client.sismember(keys.SESSIONS, args.plot_session):
            print(f"note: {args.plot_session} is not a session of this config and has published nothing yet: "
                  "its page waits for its first scan")  # fmt: skip
        show_plots(client, args.plot_session, choice.url, args.address or address, port if args.port is None else args.port)
    finally:
        client.close()
    return 0


def _save_picture(client: RedisClient, session: str, path: Path) -> int:
    """``bliss plot SESSION --png FILE``: the PNG the session's viewer draws of what it shows now, for the logbook."""
    try:
        png, _ = fetch_png(client, session)
        path.write_bytes(png)
    except NoPicture as error:
        print(f"bliss: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"bliss: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"saved the live plot of {session} to {path}")
    return 0


def _open_session(session: Session, config: Config, args: argparse.Namespace) -> int:
    retention = _retention(config)
    choice = choose_redis(config.globals)
    client = connect(choice)
    use_redis(client)
    use_settings_folder(configured_settings_folder(config.globals))
    warning = apply_memory_cap(client, choice, retention.memory_cap)
    if warning:
        print(f"WARNING: {warning}", file=sys.stderr)
    lock = SessionLock(client, session.name)
    lock.acquire()
    rest: RestService | None = None
    for scan, points in close_orphans(client, session.name):
        print(f"note: {scan} had lost its publisher (a shell killed, or a failover): closed as failed, with "
              f"{points} points in Redis")  # fmt: skip
    try:
        interactive = args.script is None and args.code is None
        errors = ErrorReport() if interactive else ErrorReport(hint="")
        if interactive:
            print(f"Welcome to bliss_shell {__version__} running on {socket.gethostname()}")
            print(f"Redis: {redacted(choice.url)} ({choice.origin})\n")
        start_tango_servers(config, session, errors.report)
        revive = choice.embedded.ensure_running if choice.embedded is not None else None
        namespace = session_namespace(session, client, errors, display=True, retention=retention, revive=revive)
        namespace["flint"] = make_flint(client, session.name, choice.url, config.globals)
        np.set_printoptions(legacy="1.25")  # numbers show as in BLISS 1.11 (numpy 1): sin(1) is 0.84..., not np.float64(...)
        rest = _start_rest(session, config, namespace, args.rest, (client, choice.url))  # before the setup: 503 until it ran
        _loaded()  # what follows is the user's code: the setup files, then the script or the prompt
        session.setup(namespace, on_error=errors.report, verbose=interactive)
        show_active_mg(namespace, errors.report)
        if rest is not None:
            rest.set_ready()
        if not interactive:
            return _run_code(args, namespace)
        install_greenlet_dump()
        from .repl import SessionRepl  # ptpython is only needed at the prompt

        history = Path.home() / f".bliss_shell_{session.name}_history"
        repl = SessionRepl(session.name, namespace, errors, history)
        if rest is not None:
            from .remote_terminal import PromptTerminal

            rest.context.terminal = PromptTerminal(repl)  # calls made `in_terminal` run at this prompt
        repl.run()
        return 0
    finally:
        if rest is not None:
            rest.stop()
        lock.release()
        client.close()


def _start_rest(session: Session, config: Config, namespace: dict, option: str | None,
                redis: tuple[RedisClient, str]) -> "RestService | None":  # fmt: skip
    """The session's REST API, started when its YAML has ``rest:`` or ``--rest`` is given; None otherwise.

    Flask, socket.io and pydantic load only then. A bad ``rest:`` value, or an address that cannot be listened
    on, is one line on standard error and no API: the session opens all the same (docs/rest.md). Once it
    listens, the line a blissclient user pastes (``redis``: the shell's client and its URL, blissclient's
    ``blissdata_url``), and a second one when blissdata 2 cannot open the scans from that Redis.
    """
    node = config.get_config(session.name)
    if "rest" not in node and option is None:
        return None
    from bliss_shell.rest import RestConfigError, SessionContext, rest_settings

    where = node.where_key("rest") if "rest" in node else node.where
    try:
        settings = rest_settings(node.get("rest"), option, where, present="rest" in node)
    except RestConfigError as error:
        print(f"bliss: no REST API: {error}", file=sys.stderr)
        return None
    if settings is None:
        return None
    from bliss_shell.rest.service import RestService, RestStartError, rest_banner

    metadata = {key: str(node.get(key) or config.globals.get(key) or "") for key in ("beamline", "synchrotron", "instrument")}
    folders = [root.directory for root in config.roots]
    service = RestService(settings, SessionContext(session.name, namespace, config, metadata, folders))
    try:
        service.start()
    except RestStartError as error:
        print(f"bliss: {error}", file=sys.stderr)
        return None
    from bliss_shell.data.blissdata_server import takes_documents

    client, url = redis
    print(rest_banner(service.url, redacted(url), takes_documents(client)))
    return service


def _watch(session: str, config: Config) -> int:
    """Another terminal's view of a session's scans: reads Redis only (``redis_reader_url``, a replica, will do)."""
    client = connect(choose_redis(config.globals, reader=True), writer=False)
    # Ctrl-C must stop it even when started with SIGINT ignored (a non-interactive shell's background job)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    install_greenlet_dump()
    print(f"Watching the scans of session {session} (Ctrl-C to stop)", flush=True)
    try:
        watch_session(session, client)
    except KeyboardInterrupt:
        return 0
    except RedisError as error:
        print(f"bliss: lost Redis while watching: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


def start_tango_servers(config: Config, session: Session, on_error: Callable[[BaseException], None]) -> None:
    """Choose the Tango database, then start the device servers the session needs that are not running.

    The database is ``choose_tango_host``'s (docs/tango.md), set as ``TANGO_HOST`` for the session's clients;
    it is asked (or, the embedded one, started) only when the session needs it: a ``TangoServer`` among the
    session's objects, or one serving a device that an object of the session names in ``tango_url``, or a
    ``tango_url`` found through the database (a device name or an alias). It is chosen and asked once, here: the
    servers are started in it, and the choice stays the one error lines name. A database that does not answer, or a
    server that fails, is reported in one line; the session opens.

    Raises
    ------
    ConfigError
        The config's ``tango_host`` is neither ``host:port`` nor ``embedded``.
    """
    choice = choose_tango_host(config.globals.get("tango_host"))
    choice.export()
    if not database_needed(config, session.object_names()):
        return
    try:
        host = choice.resolve()
    except TangoUnavailable as error:
        on_error(error)
        return
    for server in needed_servers(config, session.object_names()):
        try:
            server.start(host)
        except TangoUnavailable as error:
            on_error(error)


def _run_code(args: argparse.Namespace, namespace: dict) -> int:
    """``--script``/``-c``: an uncaught error prints its traceback and exits 1; Ctrl-C interrupts it as at the prompt."""
    if args.script:
        try:
            filename, source = args.script, Path(args.script).read_text(encoding="utf-8")
        except OSError as error:
            print(f"bliss: cannot read script {args.script}: {error.strerror}", file=sys.stderr)
            return 1
        namespace["__file__"] = filename  # as python runs a script
    else:
        filename, source = "<-c>", args.code
    status = run_interruptible(_execute, source, filename, namespace)
    if status is None:  # Ctrl-C before the code started
        print("KeyboardInterrupt", file=sys.stderr)
        return 1
    return status


def _execute(source: str, filename: str, namespace: dict) -> int:
    """Run the code of a script in ``namespace``; its exit status."""
    try:
        exec(compile(source, filename, "exec"), namespace)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else (0 if exit_request.code is None else 1)
    except BaseException:  # the user's code, Ctrl-C included: report anything, then fail the command
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
