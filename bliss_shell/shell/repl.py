"""The interactive prompt: ptpython, with every command run in a greenlet of its own.

ptpython's own ``run_async`` reads input in a thread, which freezes all greenlets while
the prompt waits. Here the prompt_toolkit application runs on the gevent-backed asyncio
loop in the main greenlet, and each command runs in a greenlet that Ctrl-C kills with
KeyboardInterrupt (caught inside it), so background greenlets keep running and the
shell itself is never interrupted.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import gevent
from prompt_toolkit.formatted_text import AnyFormattedText
from prompt_toolkit.patch_stdout import patch_stdout
from ptpython.prompt_style import PromptStyle
from ptpython.repl import PythonRepl, ReplExit, exit as ptpython_exit
from ptpython.utils import unindent_code

from .error_report import ErrorReport
from .gevent_loop import GeventEventLoop


class SessionPrompt(PromptStyle):
    """``DEMO [1]: `` for input; ``  Out [1]: `` for results, right-aligned under it."""

    def __init__(self, repl: PythonRepl, label: str):
        self._repl = repl
        self._label = label

    def in_prompt(self) -> AnyFormattedText:
        return [
            ("class:in", f"{self._label} ["),
            ("class:in.number", str(self._repl.current_statement_index)),
            ("class:in", "]: "),
        ]

    def in2_prompt(self, width: int) -> AnyFormattedText:
        return [("class:in", "...: ".rjust(width))]

    def out_prompt(self) -> AnyFormattedText:
        padding = " " * max(2, len(self._label) - len("Out"))
        return [
            ("class:out", f"{padding}Out ["),
            ("class:out.number", str(self._repl.current_statement_index)),
            ("class:out", "]: "),
        ]


class SessionRepl(PythonRepl):
    """The REPL of one session; ``run()`` returns when the user exits."""

    def __init__(self, session_name: str, namespace: dict[str, Any], errors: ErrorReport, history: Path):
        super().__init__(
            get_globals=lambda: namespace,
            get_locals=lambda: namespace,
            history_filename=str(history),
        )
        self._errors = errors
        self._command: gevent.Greenlet | None = None
        self.all_prompt_styles["session"] = SessionPrompt(self, session_name.upper())
        self.prompt_style = "session"
        self.show_signature = True
        self.enable_history_search = True

    def run(self) -> None:
        loop = GeventEventLoop()
        asyncio.set_event_loop(loop)
        loop.add_signal_handler(signal.SIGINT, self._interrupt_command)
        self._add_to_namespace()
        try:
            loop.run_until_complete(self._loop())
        finally:
            self._remove_from_namespace()
            loop.close()
            asyncio.set_event_loop(None)

    async def _loop(self) -> None:
        while True:
            try:
                text = await self._read()
            except EOFError:
                return
            if await self._evaluate(text):
                return

    async def _read(self) -> str:
        while True:
            try:
                with patch_stdout(raw=True):
                    text = await self.app.run_async(handle_sigint=False)
            except KeyboardInterrupt:
                self.signatures = []
                continue
            if text.lstrip().startswith("\x1a"):
                raise EOFError
            text = unindent_code(text)
            if text and not text.isspace():
                return text

    async def _evaluate(self, text: str) -> bool:
        """Run one command in its own greenlet; True when it asks the shell to exit."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[gevent.Greenlet] = loop.create_future()
        command = gevent.spawn(self._run_command, text)
        command.rawlink(lambda done: loop.call_soon_threadsafe(finished.set_result, done))
        self._command = command
        try:
            done = await finished
        finally:
            self._command = None
        kind, value = done.value if done.successful() else ("interrupted", None)
        if kind == "exit":
            return True
        if kind == "interrupted":
            self.app.output.write("\rKeyboardInterrupt\n")
            self.app.output.flush()
        elif kind == "error":
            self._errors.report(value)
        elif value is not None:
            self._show_result(value)
        self.current_statement_index += 1
        self.signatures = []
        return False

    def _run_command(self, text: str) -> tuple[str, Any]:
        try:
            result = self.eval(text)
        except KeyboardInterrupt:
            return "interrupted", None
        except (SystemExit, ReplExit):
            return "exit", None
        except BaseException as error:  # every error is the user's to see, none may end the shell
            return "error", error
        return ("exit", None) if isinstance(result, ptpython_exit) else ("result", result)

    def _interrupt_command(self) -> None:
        command = self._command
        if command is None:
            return
        if command:
            command.kill(KeyboardInterrupt, block=False)
        else:  # not started yet: cancel it without raising into the hub
            command.kill(block=False)

