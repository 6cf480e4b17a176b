"""The prompt, as the REST API runs a call ``in_terminal``: typed there for the user, Ctrl-C and all.

BLISS 2.4's ``RunInPromptTask``: the terminal prints a box saying what runs and who asked, puts
``run_call_from_remote()`` at the prompt and submits it, so the call runs as a command the user
typed (its scan display, Ctrl-C, its result under ``Out``); what the user had half typed comes
back at the next prompt. One call at a time: the REST API refuses another (429) while a command
runs.

Examples
--------
>>> print(text_in_box(["EXECUTE A FUNCTION TRIGGERED REMOTELY", "func:     wa(...)"]))
┌───────────────────────────────────────┐
│ EXECUTE A FUNCTION TRIGGERED REMOTELY │
│ func:     wa(...)                     │
└───────────────────────────────────────┘
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
from prompt_toolkit.application.current import set_app

from .repl import SessionRepl

__all__ = ["PromptTerminal", "remote_call_box", "text_in_box"]

COMMAND = "run_call_from_remote"  # the name the submitted command calls (BLISS's)


def text_in_box(lines: list[str]) -> str:
    """``lines`` framed, each padded to the longest."""
    width = max(len(line) for line in lines)
    framed = [f"│ {line.ljust(width)} │" for line in lines]
    return "\n".join([f"┌{'─' * (width + 2)}┐", *framed, f"└{'─' * (width + 2)}┘"])


def remote_call_box(description: str, args: tuple, kwargs: dict[str, Any]) -> str:
    """The box printed before a remote call runs at the prompt: the function, then each argument.

    Examples
    --------
    >>> print(remote_call_box("ascan(...)", ("roby", 0), {"save": False}))
    ┌───────────────────────────────────────┐
    │ EXECUTE A FUNCTION TRIGGERED REMOTELY │
    │ func:     ascan(...)                  │
    │ arg0:     roby                        │
    │ arg1:     0                           │
    │ save:     False                       │
    └───────────────────────────────────────┘
    """
    lines = ["EXECUTE A FUNCTION TRIGGERED REMOTELY", f"func:     {description}"]
    lines += [f"{f'arg{index}:':<10}{arg}" for index, arg in enumerate(args)]
    lines += [f"{f'{name}:':<10}{value}" for name, value in kwargs.items()]
    return text_in_box(lines)


class _Remote:
    """One call at the prompt: what it gave, whether it started, whether it was interrupted."""

    def __init__(self, function: Callable[[], Any]):
        self.function = function
        self.done = gevent.event.Event()
        self.submitted = self.started = self.interrupted = False
        self.value: Any = None
        self.error: BaseException | None = None

    def __call__(self) -> Any:
        """The command typed at the prompt: ``run_call_from_remote()``."""
        try:
            if self.interrupted:  # killed before it ran
                raise KeyboardInterrupt
            self.started = True
            self.value = self.function()
        except BaseException as error:
            self.error = error
            raise
        finally:
            self.done.set()
        return self.value


class PromptTerminal:
    """The REST API's `bliss_shell.rest.Terminal` over the session's prompt.

    Parameters
    ----------
    repl
        The session's prompt.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from bliss_shell.shell.error_report import ErrorReport
    >>> repl = SessionRepl("demo", {}, ErrorReport(), Path(tempfile.mkdtemp()) / "history")
    >>> terminal = PromptTerminal(repl)
    >>> terminal.busy()  # the prompt does not read yet (the session is still starting): no call can run there
    True
    """

    def __init__(self, repl: SessionRepl):
        self._repl = repl
        self._remote: _Remote | None = None

    def busy(self) -> bool:
        """True unless the prompt waits for input (a command runs, or the session is still starting)."""
        return self._remote is not None or not self._repl.app.is_running

    def run(self, function: Callable[[], Any], description: str, args: tuple, kwargs: dict) -> Any:
        """Run ``function()`` as a command typed at the prompt, after the box; block until it ended.

        It returns only once the prompt ran (or cancelled) the line it was given, so that the name
        that line calls is still there when it runs: a kill never leaves a ``NameError`` at the prompt.

        Raises
        ------
        RuntimeError
            "Terminal already in use": a command runs at the prompt.
        KeyboardInterrupt
            Ctrl-C at the prompt, or `interrupt`.

        Examples
        --------
        At a prompt waiting for input, the box shows, then ``run_call_from_remote()`` runs as typed there, and
        ``run`` returns its value (``42``). A prompt that does not read yet refuses it:

        >>> import tempfile
        >>> from pathlib import Path
        >>> from bliss_shell.shell.error_report import ErrorReport
        >>> terminal = PromptTerminal(SessionRepl("demo", {}, ErrorReport(), Path(tempfile.mkdtemp()) / "history"))
        >>> terminal.run(lambda: 6 * 7, "answer(...)", (), {})
        Traceback (most recent call last):
        ...
        RuntimeError: Terminal already in use
        """
        if self.busy():
            raise RuntimeError("Terminal already in use")
        remote = self._remote = _Remote(function)
        namespace = self._repl.get_globals()
        try:
            print(remote_call_box(description, args, kwargs), flush=True)
            if remote.interrupted:  # killed while the box was printed: nothing goes to the prompt
                raise KeyboardInterrupt
            namespace[COMMAND] = remote
            self._submit(remote)
            remote.done.wait()
        finally:
            if namespace.get(COMMAND) is remote:
                del namespace[COMMAND]
            self._remote = None
        if not remote.started:  # interrupted, or Ctrl-C at the prompt before the line ran
            raise KeyboardInterrupt
        if remote.error is not None:
            raise remote.error
        return remote.value

    def _submit(self, remote: _Remote) -> None:
        """Type the command at the prompt and press Enter; the half-typed input is back at the next prompt."""
        repl = self._repl
        buffer = repl.default_buffer
        typed = buffer.document
        buffer.reset()
        buffer.insert_text(f"{COMMAND}()")
        remote.submitted = True
        with set_app(repl.app):  # this greenlet is not the prompt's: its accept handler asks get_app()
            buffer.validate_and_handle()  # ptpython: the prompt returns the text; the buffer is reset at the next one
        if typed.text:
            repl.app.pre_run_callables.append(lambda: setattr(buffer, "document", typed))
        # the prompt reads again: the line ran, or a Ctrl-C cancelled it before it ran (then nothing else says so)
        repl.app.pre_run_callables.append(remote.done.set)
        repl.app.invalidate()

    def interrupt(self) -> None:
        """Ctrl-C on the call that `run` started: before it ran, it never runs.

        Once the line is at the prompt, `run` waits until the prompt ran it (it raises KeyboardInterrupt
        at once) or cancelled it: the prompt then shows ``KeyboardInterrupt``, as after a Ctrl-C.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from bliss_shell.shell.error_report import ErrorReport
        >>> terminal = PromptTerminal(SessionRepl("demo", {}, ErrorReport(), Path(tempfile.mkdtemp()) / "history"))
        >>> terminal.interrupt()  # no call at the prompt: nothing to interrupt
        >>> terminal.busy()
        True
        """
        remote = self._remote
        if remote is None:
            return
        remote.interrupted = True
        if remote.submitted:
            self._repl.interrupt()  # the command running, or the one scheduled; none yet: the line raises it itself
