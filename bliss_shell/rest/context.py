"""What the REST API needs from the shell's session: its names, its objects, its terminal.

The shell builds one :class:`SessionContext` when it opens a session with the REST API turned
on; every endpoint module reads the session through it and never imports the shell itself.

Examples
--------
>>> from pathlib import Path
>>> context = SessionContext(
...     name="demo", env={}, config=None, metadata={}, config_folders=[Path("config")]
... )
>>> context.terminal is None
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bliss_shell.config import Config

__all__ = ["SessionContext", "Terminal"]


class Terminal(Protocol):
    """The shell's prompt, as the REST API drives it for calls made ``in_terminal``.

    Examples
    --------
    >>> class Idle:
    ...     def busy(self) -> bool:
    ...         return False
    ...     def run(self, function, description, args, kwargs):
    ...         return function()
    ...     def interrupt(self) -> None:
    ...         pass
    >>> Idle().run(lambda: 42, "answer", (), {})
    42
    """

    def busy(self) -> bool:
        """Tell whether a command runs at the prompt.

        Returns
        -------
        bool
            True while a command runs at the prompt, typed by the user or started remotely.
        """
        ...

    def run(self, function: Callable[[], Any], description: str, args: tuple, kwargs: dict) -> Any:
        """Run ``function()`` as a command typed at the prompt.

        The terminal first prints BLISS's "EXECUTE A FUNCTION TRIGGERED REMOTELY" box made of
        ``description``, ``args`` and ``kwargs``, then runs the function; the calling greenlet
        blocks until it ends.

        Parameters
        ----------
        function : Callable[[], Any]
            What to run, without arguments (they are already bound).
        description : str
            The name of the function shown in the box.
        args : tuple
            The positional arguments shown in the box.
        kwargs : dict
            The keyword arguments shown in the box.

        Returns
        -------
        Any
            What ``function()`` returned.

        Raises
        ------
        KeyboardInterrupt
            When Ctrl-C is pressed at the terminal, or :meth:`interrupt` is called, during the run.
        Exception
            Whatever ``function()`` raised.
        """
        ...

    def interrupt(self) -> None:
        """Interrupt the command that :meth:`run` started, as Ctrl-C at the terminal does."""
        ...


@dataclass
class SessionContext:
    """The session that the REST API serves.

    Attributes
    ----------
    name : str
        The session's name.
    env : dict[str, Any]
        The session namespace (``roby``, ``SCAN_SAVING``, ``ACTIVE_MG``, ``ascan``...).
    config : Config
        The shell's configuration; ``config.get(name)`` loads an object.
    metadata : dict[str, str]
        ``beamline``, ``synchrotron`` and ``instrument``: from the session's YAML first, then the
        root's globals, ``""`` when neither has it.
    config_folders : list[Path]
        The configuration roots in use, searched in this order by ``/api/beacon``.
    terminal : Terminal or None
        The prompt, or None for ``bliss -c`` and scripts (calls ``in_terminal`` then get 404
        "Terminal not available").

    Examples
    --------
    >>> context = SessionContext(
    ...     name="demo",
    ...     env={"answer": 42},
    ...     config=None,
    ...     metadata={"beamline": "id00", "synchrotron": "", "instrument": ""},
    ...     config_folders=[],
    ... )
    >>> context.env["answer"]
    42
    """

    name: str
    env: dict[str, Any]
    config: Config
    metadata: dict[str, str]
    config_folders: list[Path]
    terminal: Terminal | None = None
