"""Sessions: the named set of config objects and setup scripts that ``bliss -s NAME`` opens."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .static import ConfigNode

ErrorReport = Callable[[BaseException], None]

_LIST_KEYS = ("config-objects", "exclude-objects", "include-sessions")


class Session:
    """A session defined in the config (``class: Session``): what ``bliss -s NAME`` opens.

    Its YAML keys: ``config-objects`` (the objects it loads; default every object of the config
    but the sessions), ``exclude-objects``, ``include-sessions`` (sessions set up first) and
    ``setup-file`` (a script run in its namespace, relative to its YAML file). In the shell it is
    ``current_session``.

    Parameters
    ----------
    node : ConfigNode
        The session's config.

    Raises
    ------
    ConfigError
        A list key is not a list of names, or ``setup-file`` is not a path.

    Examples
    --------
    >>> current_session
    Session('test_session')
    >>> current_session.object_names()
    ['diode', 'diode2', 'c1', 'c2', 'sim_ct_gauss', 'simu1', 'MG1', 'MG2', 'simu_big', 'roby', 'robz', 'slowy']
    >>> current_session.setup_file is None  # test_session has no setup-file
    True
    """

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.config = node.config
        self.scans: deque = deque(maxlen=20)  # the shell's SCANS
        self._node = node
        for key in _LIST_KEYS:
            value = node.get(key)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ConfigError(f"{node.where}: session '{self.name}': {key} must be a list of names")
        setup_file = node.get("setup-file")
        if setup_file is not None and not isinstance(setup_file, str):
            raise ConfigError(f"{node.where}: session '{self.name}': setup-file must be a path")

    def __repr__(self) -> str:
        return f"Session({self.name!r})"

    @property
    def setup_file(self) -> Path | None:
        """The setup script, relative to the session's YAML file."""
        relative = self._node.get("setup-file")
        return (self._node.source.parent / relative).resolve() if relative else None

    @property
    def scan_saving_config(self) -> Any:
        """``scan_saving`` of the session's YAML (the data policy, docs/saving.md), else of the config's root."""
        chosen = self._node.get("scan_saving")
        return chosen if chosen is not None else self.config.globals.get("scan_saving")

    @property
    def scripts_dir(self) -> Path:
        """Where ``load_script`` looks: ``scripts/`` next to the session's YAML file."""
        return self._node.source.parent / "scripts"

    def sessions_in_setup_order(self) -> list[Session]:
        """Included sessions first (depth first, each once), this session last."""
        ordered: list[Session] = []
        self._collect(ordered, chain=())
        return ordered

    def _collect(self, ordered: list[Session], chain: tuple[str, ...]) -> None:
        if self.name in chain:
            cycle = " -> ".join((*chain, self.name))
            raise ConfigError(f"{self._node.where}: include-sessions loops: {cycle}")
        for name in self._node.get("include-sessions") or []:
            included = self.config.get(name)
            if not isinstance(included, Session):
                raise ConfigError(f"{self._node.where}: include-sessions names '{name}', which is not a session")
            included._collect(ordered, (*chain, self.name))
        if self not in ordered:
            ordered.append(self)

    def object_names(self) -> list[str]:
        """The objects this session loads, included sessions' first, without exclusions."""
        names: list[str] = []
        for session in self.sessions_in_setup_order():
            for name in session._own_object_names():
                if name not in names:
                    names.append(name)
        excluded = set(self._node.get("exclude-objects") or [])
        return [name for name in names if name not in excluded]

    def _own_object_names(self) -> list[str]:
        listed = self._node.get("config-objects")
        if listed is not None:
            return list(listed)
        return [name for name in self.config.names() if self.config.get_config(name).get("class") != "Session"]

    def setup(self, env: dict[str, Any], on_error: ErrorReport, verbose: bool = True) -> None:
        """Load the objects into ``env``, then run the setup files there.

        An object or a setup file that fails is reported through ``on_error`` and the
        session still opens: the user can fix it and carry on (an object that failed is an
        ``Unavailable``). ``env`` also gets ``current_session``, ``config`` and ``load_script``.

        Parameters
        ----------
        env : dict
            The session's namespace.
        on_error : callable
            Told each error, which is not raised.
        verbose : bool
            Print what is loaded, as the shell does.
        """
        say = print if verbose else (lambda *args: None)
        sessions = self.sessions_in_setup_order()
        env["current_session"] = self
        env["config"] = self.config
        env["load_script"] = _ScriptLoader(sessions, env)
        say(f"{self.name}: Loading config...")
        loaded = []
        names = self.object_names()
        for name in names:
            try:
                env[name] = self._load(name)
            except Exception as error:  # one broken object must not stop the session
                on_error(error)
                env[name] = Unavailable(name, error)
            else:
                loaded.append(name)
        say(f"OK: {len(loaded)}/{len(names)} objects successfully initialized.")
        if loaded:
            say(", ".join(loaded))
        for session in sessions:
            if session.setup_file is None:
                continue
            say(f"{session.name}: Executing setup file...")
            try:
                _run_file(session.setup_file, env, what=f"{session._node.where}: setup-file")
            except Exception as error:
                on_error(error)
        say("Done.")

    def _load(self, name: str) -> Any:
        """The object ``name``; one the config lacks is told with the session file and line that lists it."""
        try:
            self.config.get_config(name)
        except ConfigError:
            listing = next(s for s in self.sessions_in_setup_order() if name in (s._node.get("config-objects") or []))
            raise ConfigError(f"{listing._node.where_key('config-objects')}: session '{listing.name}': config-objects names '{name}', "
                              "which no config file defines; correct or remove it") from None  # fmt: skip
        return self.config.get(name)


class ObjectUnavailable(AttributeError):
    """Using an object that did not load; an AttributeError, so ``hasattr`` and protocol checks say no."""


class Unavailable:
    """Holds the name of an object that failed to load, so that using it says why in one line.

    Examples
    --------
    A motor whose Tango device did not answer when the session opened:

    >>> broken = Unavailable("roby", ConnectionError("roby: Tango device id00/motor/roby is not reachable"))
    >>> broken
    <roby: unavailable: Tango device id00/motor/roby is not reachable>
    >>> broken.position
    Traceback (most recent call last):
    ...
    bliss_shell.config.session.ObjectUnavailable: roby is unavailable: Tango device id00/motor/roby is not reachable
    """

    def __init__(self, name: str, error: BaseException):
        self.name = name
        reason = str(error)
        self.reason = reason[len(name) + 2 :] if reason.startswith(f"{name}: ") else reason

    def __repr__(self) -> str:
        return f"<{self.name}: unavailable: {self.reason}>"

    def __getattr__(self, attribute: str) -> None:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise ObjectUnavailable(f"{self.name} is unavailable: {self.reason}")


class _ScriptLoader:
    """``load_script("name")``: run ``scripts/name.py`` of the session in its namespace.

    The folders looked in are ``scripts/`` next to each session's YAML file, this session's
    first, then those of the sessions it includes.

    Examples
    --------
    >>> load_script("align")  # runs scripts/align.py  # doctest: +SKIP
    >>> load_script("no_such_script")
    Traceback (most recent call last):
    ...
    FileNotFoundError: load_script: no script 'no_such_script' in .../sessions/scripts; scripts there: none
    """

    def __init__(self, sessions: list[Session], env: dict[str, Any]):
        self._folders = [session.scripts_dir for session in reversed(sessions)]
        self._env = env

    def __call__(self, name: str) -> None:
        filename = name if name.endswith(".py") else f"{name}.py"
        for folder in self._folders:
            if (folder / filename).is_file():
                _run_file(folder / filename, self._env, what="script")
                return
        available = sorted({p.stem for folder in self._folders if folder.is_dir() for p in folder.glob("*.py")})
        raise FileNotFoundError(
            f"load_script: no script '{name}' in {', '.join(map(str, self._folders))}; "
            f"scripts there: {', '.join(available) or 'none'}"
        )

    def __repr__(self) -> str:
        return "load_script(name): run sessions/scripts/<name>.py in the session namespace"


def _run_file(path: Path, env: dict[str, Any], what: str) -> None:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} not found") from None
    exec(compile(source, str(path), "exec"), env)
