"""The calls a REST client started: each in a greenlet of its own, its state kept until it is read.

BLISS 2.4's ``AsyncTasks`` semantics: at most 256 calls are kept (the least recently used is
forgotten first, even if it still runs); a call that ended is forgotten once its final state was
read. Kill is Ctrl-C: KeyboardInterrupt raised in the call's greenlet (or at the prompt for a call
run in the terminal), so a scan ends as Ctrl-C ends it (``aborted``, ``USER_ABORT`` in Redis), and
the call's state is then ``killed``.

Examples
--------
>>> import gevent
>>> calls = Calls(context=None, emit=lambda event, data: None)
>>> call_id = calls.spawn(FuncTask(sum, "sum(...)"), ([1, 2],), {})
>>> calls.wait(call_id)
>>> calls.state(call_id)
CallState(state='terminated', result=3, error=None, progress=None)
>>> calls.state(call_id)
Traceback (most recent call last):
...
bliss_shell.rest.calls.UnknownCall: Could not find specified function call
>>> calls.stop()
"""

from __future__ import annotations

import logging
import reprlib
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent

from bliss_shell.comm.greenlets import is_running

from . import call_stdout
from .call_stdout import SINK, EventSink, NullSink, TeeSink
from .call_tasks import FuncTask, ObjectFuncTask, ScanFactoryTask, Task
from .context import SessionContext

__all__ = [
    "CallState",
    "Calls",
    "FuncTask",
    "ObjectFuncTask",
    "ScanFactoryTask",
    "TerminalAlreadyInUse",
    "TerminalNotAvailable",
    "UnknownCall",
]

logger = logging.getLogger("bliss_shell.rest")

KEPT = 256  # calls remembered, as BLISS's LRU
_STOP_TIMEOUT = 30.0  # at the shell's exit: a killed scan ends (motors stop, files close) within this


class UnknownCall(LookupError):
    """No call has that id (never started, forgotten, or its final state was read already)."""

    def __init__(self, call_id: str):
        self.call_id = call_id
        super().__init__("Could not find specified function call")


class TerminalNotAvailable(RuntimeError):
    """``in_terminal`` in a shell without a prompt (``bliss -c``, a script): a 404."""

    def __init__(self) -> None:
        super().__init__("Terminal not available")


class TerminalAlreadyInUse(RuntimeError):
    """``in_terminal`` while a command runs at the prompt: a 429."""

    def __init__(self) -> None:
        super().__init__("Terminal already in use")


@dataclass
class CallState:
    """A call as ``GET /api/call/<id>`` reports it.

    Attributes
    ----------
    state : str
        ``running``, ``terminated`` or ``killed``.
    result
        Its value once terminated.
    error : BaseException or None
        What it raised (terminated): a 500 with the exception and its traceback.
    progress : dict or None
        What its kind says of its progress (a scan command: the scan).
    """

    state: str
    result: Any = None
    error: BaseException | None = None
    progress: dict[str, Any] | None = None


def call_text(description: str, args: tuple | list, kwargs: dict[str, Any], limit: int = 120) -> str:
    """A call as a user would type it, for the shell's lines: ``roby.move(1000000.0)``, ``ascan(roby, 0, 5, 5, 0.1)``.

    ``description`` is the task's (``roby.move(...)``); an argument with a ``name`` (a motor, a counter)
    is shown by its name, any other by `reprlib.repr` (a long list or text is shortened before it is
    turned into text); a text longer than ``limit`` is cut with ``...``.

    Examples
    --------
    >>> call_text("ascan(...)", (roby, 0, 5, 5, 0.1), {"save": False})
    'ascan(roby, 0, 5, 5, 0.1, save=False)'
    >>> call_text("print(...)", ("x" * 200,), {}, limit=20)
    "print('xxxxxxxxx...)"
    >>> call_text("sum(...)", (list(range(4_000_000)),), {})  # not 4 million numbers made text
    'sum([0, 1, 2, 3, 4, 5, ...])'
    """

    def shown(value: Any) -> str:
        name = getattr(value, "name", None)
        return name if isinstance(name, str) and not isinstance(value, (str, bytes)) else reprlib.repr(value)

    name = description[:-5] if description.endswith("(...)") else description
    inside = ", ".join([shown(value) for value in args] + [f"{key}={shown(value)}" for key, value in kwargs.items()])
    if len(inside) > limit - len(name):
        inside = inside[: max(limit - len(name) - 5, 0)] + "..."
    return f"{name}({inside})"


@dataclass
class _Call:
    task: Task
    in_terminal: bool
    greenlet: gevent.Greenlet | None = None
    result: Any = None
    error: BaseException | None = None
    killed: bool = False
    kill_asked: bool = False
    sink: Any = field(default=None, repr=False)
    args: tuple = field(default=(), repr=False)
    kwargs: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def text(self) -> str:
        """The call as the shell's lines name it (``call_text``): built only for a line that goes out."""
        return call_text(self.task.description, self.args, self.kwargs)


class Calls:
    """The calls of one REST service: start, state, kill, and all killed at its stop.

    Parameters
    ----------
    context
        The session (its ``terminal`` runs the calls made ``in_terminal``).
    emit
        ``emit(event, data)`` on socket.io ``/call`` (the ``stdout`` events); never raises.
    """

    def __init__(self, context: SessionContext | None, emit: Callable[[str, dict[str, Any]], None]):
        self._context = context
        self._emit = emit
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        call_stdout.install()  # a call's prints go to its sink from now on, whatever greenlet it spawns

    @property
    def terminal(self) -> Any:
        """The session's prompt, None without one."""
        return None if self._context is None else self._context.terminal

    def check_terminal(self) -> None:
        """Raise unless a call can run at the prompt now.

        Raises
        ------
        TerminalNotAvailable
            No prompt (``bliss -c``, a script).
        TerminalAlreadyInUse
            A command runs at the prompt (typed, or a call).

        Examples
        --------
        >>> Calls(context=None, emit=lambda event, data: None).check_terminal()  # no session, no prompt
        Traceback (most recent call last):
        ...
        bliss_shell.rest.calls.TerminalNotAvailable: Terminal not available
        """
        terminal = self.terminal
        if terminal is None:
            raise TerminalNotAvailable()
        if terminal.busy():
            raise TerminalAlreadyInUse()

    def spawn(self, task: Task, args: tuple | list, kwargs: dict[str, Any], in_terminal: bool = False,
              emit_stdout: bool = False) -> str:  # fmt: skip
        r"""Start ``task`` in a greenlet of its own; return its call id (a uuid4, as BLISS's).

        Without ``emit_stdout`` the call's output is dropped (BLISS); with it, it goes as ``stdout``
        events. ``in_terminal``: the call runs at the prompt, its output shown there (and sent too
        with ``emit_stdout``). The output of a greenlet the call started goes there until the call
        ends, then where any other greenlet's goes.

        Examples
        --------
        >>> sent = []
        >>> calls = Calls(context=None, emit=lambda event, data: sent.append(data["message"]))
        >>> call_id = calls.spawn(FuncTask(print, "print(...)"), ("roby at 0",), {}, emit_stdout=True)
        >>> calls.wait(call_id); sent
        ['roby at 0\n']
        >>> calls.stop()
        """
        call_id = str(uuid.uuid4())
        call = _Call(task, in_terminal, args=tuple(args), kwargs=dict(kwargs))
        call_stdout.install()  # again: the prompt may have put its own stdout back
        if in_terminal:
            call.sink = TeeSink(call_id, self._emit) if emit_stdout else None
        else:
            call.sink = EventSink(call_id, self._emit) if emit_stdout else NullSink()
        greenlet = gevent.Greenlet(self._run, call, call.args, call.kwargs)
        # its own tree: the sink must reach the greenlets it spawns, not the server's other requests
        greenlet.spawn_tree_locals = {} if in_terminal else {SINK: call.sink}
        greenlet.name = f"rest-call-{call_id}"
        call.greenlet = greenlet
        self._calls[call_id] = call
        while len(self._calls) > KEPT:
            self._calls.popitem(last=False)
        greenlet.start()
        return call_id

    def _run(self, call: _Call, args: tuple, kwargs: dict[str, Any]) -> None:
        """The call's greenlet: its value, its error or its kill kept; nothing escapes to the hub."""
        try:
            if call.in_terminal:
                call.result = self._in_terminal(call, args, kwargs)
            else:
                try:
                    call.result = call.task.run(args, kwargs)
                finally:
                    call_stdout.flush(call.sink)
                    # the call ended: a greenlet it started (a poller, a display) writes where the others write
                    gevent.getcurrent().spawn_tree_locals.pop(SINK, None)
        except KeyboardInterrupt:
            call.killed = True
        except gevent.GreenletExit:
            call.killed = True
        except BaseException as error:  # the client's to read at its state (500), never the shell's end
            call.error = error
            if not call.in_terminal:  # the prompt showed it already
                # one line at the shell as it fails; the later read of its state (500) adds none
                logger.warning("REST call %s failed: %s: %s", call.text, type(error).__name__, error)

    def _in_terminal(self, call: _Call, args: tuple, kwargs: dict[str, Any]) -> Any:
        terminal = self.terminal
        if terminal is None:
            raise TerminalNotAvailable()

        def at_prompt() -> Any:
            tree = getattr(gevent.getcurrent(), "spawn_tree_locals", None)
            if call.sink is None or not isinstance(tree, dict):
                return call.task.run(args, kwargs)
            tree[SINK] = call.sink
            try:
                return call.task.run(args, kwargs)
            finally:
                del tree[SINK]
                call_stdout.flush(call.sink)

        if call.kill_asked:  # killed before it reached the prompt
            raise KeyboardInterrupt
        return terminal.run(at_prompt, call.task.description, args, kwargs)

    def _get(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None:
            raise UnknownCall(call_id)
        self._calls.move_to_end(call_id)
        return call

    def state(self, call_id: str) -> CallState:
        """The call's state; one that ended is forgotten once this returned it (BLISS).

        Raises
        ------
        UnknownCall
            No such call (or no longer).

        Examples
        --------
        >>> calls = Calls(context=None, emit=lambda event, data: None)
        >>> call_id = calls.spawn(FuncTask(gevent.sleep, "sleep(...)"), (0.05,), {})
        >>> calls.state(call_id).state
        'running'
        >>> calls.wait(call_id); calls.state(call_id).state
        'terminated'
        >>> calls.stop()
        """
        call = self._get(call_id)
        progress = call.task.progress()
        assert call.greenlet is not None
        if not call.greenlet.ready():
            return CallState("running", progress=progress)
        del self._calls[call_id]
        if call.killed:
            return CallState("killed", progress=progress)
        return CallState("terminated", result=call.result, error=call.error, progress=progress)

    def kill(self, call_id: str) -> None:
        """Ctrl-C on the call: KeyboardInterrupt in its greenlet, or at the prompt for a call run there.

        It is kept until its final state (``killed``) is read. A call that ended already: nothing.

        Raises
        ------
        UnknownCall
            No such call (or no longer).

        Examples
        --------
        >>> calls = Calls(context=None, emit=lambda event, data: None)
        >>> call_id = calls.spawn(FuncTask(gevent.sleep, "sleep(...)"), (60,), {})
        >>> gevent.sleep(0)  # it starts: the kill is a KeyboardInterrupt in its sleep
        >>> calls.kill(call_id); calls.wait(call_id); calls.state(call_id).state
        'killed'
        >>> calls.stop()
        """
        call = self._get(call_id)
        self._interrupt(call)

    def _interrupt(self, call: _Call) -> None:
        greenlet = call.greenlet
        if greenlet is None or greenlet.ready():
            return
        call.kill_asked = True
        if not is_running(greenlet):  # scheduled, not run yet: it never runs (KeyboardInterrupt would reach the hub)
            call.killed = True
            greenlet.kill(block=False)
        elif call.in_terminal:
            terminal = self.terminal
            if terminal is not None:
                terminal.interrupt()
        else:
            greenlet.kill(KeyboardInterrupt, block=False)

    def wait(self, call_id: str, timeout: float | None = None) -> None:
        """Block until the call ended (tests, scripts); its state is still to be read.

        Examples
        --------
        >>> calls = Calls(context=None, emit=lambda event, data: None)
        >>> call_id = calls.spawn(FuncTask(abs, "abs(...)"), (-2,), {})
        >>> calls.wait(call_id, timeout=10); calls.state(call_id).result
        2
        >>> calls.stop()
        """
        call = self._calls.get(call_id)
        if call is not None and call.greenlet is not None:
            call.greenlet.join(timeout)

    def running(self) -> list[str]:
        """The calls still running, as the shell's lines name them (``loopscan(1000, 0.1)``).

        Examples
        --------
        >>> calls = Calls(context=None, emit=lambda event, data: None)
        >>> call_id = calls.spawn(FuncTask(gevent.sleep, "sleep(...)"), (60,), {})
        >>> calls.running()
        ['sleep(60)']
        >>> calls.stop()
        """
        return [call.text for call in self._calls.values()
                if call.greenlet is not None and not call.greenlet.ready()]  # fmt: skip

    def stop(self) -> None:
        """Ctrl-C on every call still running, wait for them to end, forget them all; ``sys.stdout`` unwrapped.

        Examples
        --------
        >>> calls = Calls(context=None, emit=lambda event, data: None)
        >>> call_id = calls.spawn(FuncTask(gevent.sleep, "sleep(...)"), (60,), {})
        >>> calls.stop()  # the sleep is interrupted at once
        >>> calls.state(call_id)
        Traceback (most recent call last):
        ...
        bliss_shell.rest.calls.UnknownCall: Could not find specified function call
        """
        running = [call for call in self._calls.values() if call.greenlet is not None and not call.greenlet.ready()]
        for call in running:
            self._interrupt(call)
        gevent.joinall([call.greenlet for call in running if call.greenlet is not None], timeout=_STOP_TIMEOUT)
        for call in running:
            if call.greenlet is not None and not call.greenlet.ready():
                call.greenlet.kill(block=False)
        self._calls.clear()
        call_stdout.uninstall()
