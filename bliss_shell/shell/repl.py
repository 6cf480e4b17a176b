"""The interactive prompt: ptpython, with every command run in a greenlet of its own.

ptpython's own ``run_async`` reads input in a thread, which freezes all greenlets while
the prompt waits. Here the prompt_toolkit application runs on the gevent-backed asyncio
loop in the main greenlet, and each command runs in a greenlet that Ctrl-C kills with
KeyboardInterrupt (caught inside it), so background greenlets keep running and the
shell itself is never interrupted.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition, is_done
from prompt_toolkit.formatted_text import AnyFormattedText, StyleAndTextTuples
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import ConditionalContainer, FormattedTextControl, Window
from prompt_toolkit.patch_stdout import patch_stdout
from ptpython.prompt_style import PromptStyle
from ptpython.repl import PythonRepl, ReplExit
from ptpython.repl import exit as ptpython_exit
from ptpython.utils import unindent_code

from .cells import Cell, CellLog, keep_cells
from .error_report import ErrorReport
from .gevent_loop import GeventEventLoop
from .info import shown
from .interrupt import CommandRunner
from .typing_helper import TypingHelper


class SessionPrompt(PromptStyle):
    """``DEMO [1]: `` for input; ``  Out [1]: `` for results, right-aligned under it."""

    def __init__(self, repl: PythonRepl, label: str):
        self._repl = repl
        self._label = label

    def in_prompt(self) -> AnyFormattedText:
        """``DEMO [1]: ``: the session's name in capitals and the command's number."""
        return [
            ("class:in", f"{self._label} ["),
            ("class:in.number", str(self._repl.current_statement_index)),
            ("class:in", "]: "),
        ]

    def in2_prompt(self, width: int) -> AnyFormattedText:
        """``...: `` right-aligned to ``width``, for the lines after the first of a command."""
        return [("class:in", "...: ".rjust(width))]

    def out_prompt(self) -> AnyFormattedText:
        """``Out [1]: ``, padded so that its bracket is under the input prompt's."""
        padding = " " * max(2, len(self._label) - len("Out"))
        return [
            ("class:out", f"{padding}Out ["),
            ("class:out.number", str(self._repl.current_statement_index)),
            ("class:out", "]: "),
        ]


class SessionRepl(PythonRepl):
    """The REPL of one session; ``run()`` returns when the user exits."""

    def __init__(self, session_name: str, namespace: dict[str, Any], errors: ErrorReport, history: Path):
        self._session_name = session_name
        self._namespace = namespace
        self.typing_helper = TypingHelper(namespace)
        self.cells = CellLog()  # what elog_add sends
        super().__init__(
            get_globals=lambda: namespace,
            get_locals=lambda: namespace,
            history_filename=str(history),
            extra_key_bindings=self._typing_helper_bindings(),
            _extra_toolbars=[
                ConditionalContainer(
                    Window(FormattedTextControl(self._status), height=1, style="class:status-toolbar"), filter=~is_done
                )
            ],
        )
        self._errors = errors
        self._runner: CommandRunner | None = None
        self.default_buffer.on_text_changed += lambda buffer: self.typing_helper.text_changed(buffer.text)
        self.all_prompt_styles["session"] = SessionPrompt(self, session_name.upper())
        self.prompt_style = "session"
        self.show_signature = True
        self.enable_history_search = True

    def _typing_helper_bindings(self) -> KeyBindings:
        bindings = KeyBindings()
        helper = self.typing_helper

        @Condition
        def at_end() -> bool:
            buffer = self.default_buffer
            return helper.enabled and buffer.cursor_position == len(buffer.text)

        @Condition
        def rewrites() -> bool:
            return at_end() and helper.on_enter(self.default_buffer.text) is not None

        @bindings.add(" ", filter=at_end)
        def _(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text(helper.on_space(event.current_buffer.text))

        @bindings.add("enter", filter=rewrites)
        def _(event: KeyPressEvent) -> None:
            code = helper.on_enter(event.current_buffer.text)
            if code is not None:  # the filter saw a rewrite: None only if the namespace changed since
                event.current_buffer.document = Document(code, len(code))
            event.current_buffer.validate_and_handle()

        @bindings.add("f7")
        def _(event: KeyPressEvent) -> None:
            helper.toggle()

        return bindings

    def _status(self) -> StyleAndTextTuples:
        """Session, where the next scan is saved, typing-helper state (drawn on every key: no raising)."""
        try:
            data_file = self._namespace["SCAN_SAVING"].filename
        except Exception as error:  # Redis down: the prompt must still draw
            data_file = f"? ({type(error).__name__})"
        state = "on" if self.typing_helper.enabled else "off"
        return [
            ("class:status-toolbar", f" {self._session_name}  "),
            ("class:status-toolbar.key", "data: "),
            ("class:status-toolbar", f"{data_file}  "),
            ("class:status-toolbar.key", "[F7]"),
            ("class:status-toolbar", f" Typing helper ({state}) "),
        ]

    def run(self) -> None:
        """Read and run commands until the user exits (Ctrl-D, ``exit()``); Ctrl-C interrupts the command running."""
        loop = GeventEventLoop()
        asyncio.set_event_loop(loop)
        runner = self._runner = CommandRunner(loop)
        self._add_to_namespace()
        keep_cells(self.cells)
        try:
            loop.run_until_complete(self._loop(runner))
        finally:
            keep_cells(None)
            self._runner = None
            self._remove_from_namespace()
            loop.close()
            asyncio.set_event_loop(None)

    async def _loop(self, runner: CommandRunner) -> None:
        while True:
            try:
                text = await self._read()
            except EOFError:
                return
            if await self._evaluate(text, runner):
                return

    async def _read(self) -> str:
        while True:
            self.typing_helper.new_line()
            outer = sys.stdout
            try:
                with patch_stdout(raw=True):
                    rewrap = getattr(outer, "rewrap", None)  # the REST API's routing of its calls' output stays on top
                    if callable(rewrap):
                        sys.stdout = rewrap(sys.stdout)
                    text = await self.app.run_async(handle_sigint=False)
            except KeyboardInterrupt:  # Ctrl-C at the prompt: a fresh, empty line
                self.signatures = []
                self.default_buffer.document = Document()
                continue
            if text.lstrip().startswith("\x1a"):
                raise EOFError
            text = unindent_code(text)
            if text and not text.isspace():
                return text

    def interrupt(self) -> None:
        """Ctrl-C on the command running (the REST API's kill of a call run at the prompt); none: nothing."""
        if self._runner is not None:
            self._runner.interrupt()

    async def _evaluate(self, text: str, runner: CommandRunner) -> bool:
        """Run one command in its own greenlet; True when it asks the shell to exit."""
        with self.cells.recording(self.current_statement_index, text) as cell:
            outcome = await runner.run(self._run_command, text)
        kind, value = outcome or ("interrupted", None)
        if kind == "exit":
            return True
        if kind == "interrupted":
            self.app.output.write("\rKeyboardInterrupt\n")
            self.app.output.flush()
        elif kind == "error" and isinstance(value, BaseException):
            self._errors.report(value)
        elif value is not None:
            self._show(value, cell)
        self.current_statement_index += 1
        self.signatures = []
        return False

    def _show(self, value: Any, cell: Cell) -> None:
        """Show a result under ``Out [N]``: an object's info block, as BLISS shows it, else its repr; kept for elog_add."""
        try:
            result = shown(value)
            text = repr(result)
        except Exception as error:  # a broken __info__ or __repr__: the user's error to see, never the shell's end
            self._errors.report(error)
            return
        self._show_result(result)
        cell.add(text)

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
