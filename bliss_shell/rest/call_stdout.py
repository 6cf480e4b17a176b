r"""Where a remote call's output goes: every write of its greenlets, and only theirs, to the call's sink.

``sys.stdout`` is wrapped once by a `GreenletStdout`: a write looks for a sink in the writing
greenlet's ``spawn_tree_locals`` (gevent shares that dict with every greenlet spawned from it, so
a scan's display greenlet started by the call writes to the call's sink too). Without a sink, the
write goes where it went before: the terminal, the prompt's own ``patch_stdout`` proxy, a file.
The prompt keeps the wrapper on top while it reads (``rewrap``: see ``SessionRepl._read``).

Sinks: `NullSink` (BLISS drops the output of a call made without ``emit_stdout``), `EventSink`
(``stdout`` events on socket.io ``/call``, one per line or group of lines, as BLISS's event
output sends them), `TeeSink` (a call run at the prompt: the terminal and the events).

Examples
--------
>>> import gevent, io
>>> terminal = io.StringIO()
>>> out = GreenletStdout(terminal)
>>> sent = []
>>> def call():
...     out.write("in the call\n")
>>> worker = gevent.Greenlet(call)
>>> worker.spawn_tree_locals = {SINK: EventSink("c1", lambda event, data: sent.append(data))}
>>> worker.start(); worker.join()
>>> out.write("at the prompt\n")
14
>>> terminal.getvalue(), sent
('at the prompt\n', [{'call_id': 'c1', 'message': 'in the call\n'}])
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any, TextIO

import gevent

__all__ = ["SINK", "EventSink", "GreenletStdout", "NullSink", "TeeSink", "current_sink", "flush", "install", "uninstall"]

SINK = "bliss_shell.rest.stdout"  # the key of a call's sink in its greenlets' spawn_tree_locals


class NullSink:
    """Drops what is written (a call made without ``emit_stdout``, as BLISS's null app session does)."""

    def write(self, text: str, terminal: TextIO) -> None:
        """Forget ``text``."""

    def flush(self, terminal: TextIO) -> None:
        """Nothing kept."""

    def isatty(self, terminal: TextIO) -> bool:
        """Not a terminal: a scan's display prints its bar once, at the end."""
        return False


class EventSink:
    r"""``stdout`` events ``{"call_id", "message"}``: complete lines, as they come; the rest at ``flush``.

    Examples
    --------
    >>> sent = []
    >>> sink = EventSink("c1", lambda event, data: sent.append(data["message"]))
    >>> sink.write("one\ntw", sys.stdout); sink.write("o\n", sys.stdout); sink.write("end", sys.stdout)
    >>> sink.flush(sys.stdout)
    >>> sent
    ['one\n', 'two\n', 'end']
    """

    def __init__(self, call_id: str, emit: Callable[[str, dict[str, Any]], None]):
        self._call_id = call_id
        self._emit = emit
        self._pending = ""

    def write(self, text: str, terminal: TextIO) -> None:
        """Send the lines ``text`` completes; keep a line's start until its end comes."""
        text = (self._pending + text).replace("\r\n", "\n")
        cut = text.rfind("\n") + 1
        self._pending = text[cut:]
        if cut:
            self._send(text[:cut])

    def flush(self, terminal: TextIO) -> None:
        """Send a line's start that waits for its end (a prompt without newline, the call's last words)."""
        if self._pending:
            text, self._pending = self._pending, ""
            self._send(text)

    def isatty(self, terminal: TextIO) -> bool:
        """Not a terminal: a scan's display prints its bar once, at the end."""
        return False

    def _send(self, message: str) -> None:
        self._emit("stdout", {"call_id": self._call_id, "message": message})


class TeeSink(EventSink):
    """A call run at the prompt with ``emit_stdout``: the terminal shows it and the events carry it."""

    def write(self, text: str, terminal: TextIO) -> None:
        """Write ``text`` to the terminal, and send it."""
        terminal.write(text)
        super().write(text, terminal)

    def flush(self, terminal: TextIO) -> None:
        """Flush both."""
        terminal.flush()
        super().flush(terminal)

    def isatty(self, terminal: TextIO) -> bool:
        """As the terminal is."""
        return terminal.isatty()


Sink = NullSink | EventSink


def current_sink() -> Sink | None:
    """The sink of the greenlet writing now, None when it belongs to no call."""
    tree = getattr(gevent.getcurrent(), "spawn_tree_locals", None)  # the main greenlet and raw greenlets: none
    return tree.get(SINK) if isinstance(tree, dict) else None


class GreenletStdout(io.TextIOBase):
    """``sys.stdout`` for a shell serving calls: each write goes to its greenlet's call, else to ``stream``.

    Parameters
    ----------
    stream
        Where the other greenlets' writes go (what ``sys.stdout`` was).
    """

    def __init__(self, stream: TextIO):
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        """Write ``text`` to the sink of the calling greenlet's call, else to the wrapped stream."""
        sink = current_sink()
        if sink is None:
            return self.stream.write(text)
        sink.write(text, self.stream)
        return len(text)

    def flush(self) -> None:
        """Flush the calling greenlet's sink, else the wrapped stream."""
        sink = current_sink()
        if sink is None:
            self.stream.flush()
        else:
            sink.flush(self.stream)

    def isatty(self) -> bool:
        """Whether the calling greenlet writes to a terminal (a call's events are not one)."""
        sink = current_sink()
        return self.stream.isatty() if sink is None else sink.isatty(self.stream)

    def fileno(self) -> int:
        """The wrapped stream's."""
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The wrapped stream's."""
        return getattr(self.stream, "encoding", "utf-8")

    def writable(self) -> bool:
        """Always."""
        return True

    def rewrap(self, stream: TextIO) -> GreenletStdout:
        """The same routing over another stream (the prompt's ``patch_stdout`` proxy while it reads)."""
        return GreenletStdout(stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def install() -> None:
    """Wrap ``sys.stdout`` (once): from now on, a call's greenlets write to its sink.

    Examples
    --------
    >>> install(); isinstance(sys.stdout, GreenletStdout)
    True
    >>> uninstall(); isinstance(sys.stdout, GreenletStdout)
    False
    """
    if not isinstance(sys.stdout, GreenletStdout):
        sys.stdout = GreenletStdout(sys.stdout)


def flush(sink: Sink) -> None:
    """Send what ``sink`` still keeps (a call ended on a line without newline)."""
    out = sys.stdout
    sink.flush(out.stream if isinstance(out, GreenletStdout) else out)


def uninstall() -> None:
    """Unwrap ``sys.stdout`` when it is still the wrapper ``install`` put there."""
    if isinstance(sys.stdout, GreenletStdout):
        sys.stdout = sys.stdout.stream
