"""Ctrl-C goes to the user's command, never to another greenlet.

Python raises KeyboardInterrupt in whichever greenlet runs when SIGINT arrives: a scan's
publisher or the hub as often as the command. The prompt and ``bliss -c``/``--script`` both run
the user's code in a greenlet of its own, awaited on the gevent-backed asyncio loop of the main
greenlet, whose SIGINT handler raises KeyboardInterrupt in that greenlet only; the code run must
catch it (one that escapes a greenlet would be raised again in the main greenlet by the hub).
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
from collections.abc import Callable
from typing import Any, TypeVar

import gevent

from bliss_shell.comm.greenlets import is_running

from .gevent_loop import GeventEventLoop

T = TypeVar("T")


class CommandRunner:
    """Runs the user's commands one at a time, each in a greenlet of its own that Ctrl-C interrupts.

    Parameters
    ----------
    loop
        The asyncio loop of the main greenlet (a `GeventEventLoop`); SIGINT is this runner's until the loop is closed.

    Examples
    --------
    >>> loop = GeventEventLoop()
    >>> loop.run_until_complete(CommandRunner(loop).run(sum, [1, 2]))
    3
    >>> loop.close()  # SIGINT has Python's own handler again
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._command: gevent.Greenlet | None = None
        loop.add_signal_handler(signal.SIGINT, self.interrupt)

    async def run(self, function: Callable[..., T], *args: Any) -> T | None:
        """``function(*args)`` in a new greenlet, awaited; None when Ctrl-C came before it started (it never ran).

        ``function`` catches KeyboardInterrupt itself: Ctrl-C raises it there, wherever the command waits.
        """
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[gevent.Greenlet] = loop.create_future()
        command = gevent.spawn(contextvars.copy_context().run, function, *args)  # the shell's context (numpy's print options)
        command.rawlink(lambda done: loop.call_soon_threadsafe(finished.set_result, done))
        self._command = command
        try:
            done = await finished
        finally:
            self._command = None
        return done.value if done.successful() and not isinstance(done.value, gevent.GreenletExit) else None

    def interrupt(self) -> None:
        """Ctrl-C: KeyboardInterrupt in the command running; a command not started yet is cancelled.

        No command: nothing. A command that waits (a move, a sleep) gets KeyboardInterrupt where it waits.

        Examples
        --------
        >>> loop = GeventEventLoop()
        >>> runner = CommandRunner(loop)
        >>> def command():
        ...     gevent.spawn(runner.interrupt)  # Ctrl-C, pressed once the command waits
        ...     try:
        ...         gevent.sleep(60)
        ...     except KeyboardInterrupt:
        ...         return "interrupted"
        >>> loop.run_until_complete(runner.run(command))
        'interrupted'
        >>> runner.interrupt()  # no command runs: nothing
        >>> loop.close()
        """
        command = self._command
        if command is None:
            return
        if is_running(command):  # it waits somewhere in the command, which catches KeyboardInterrupt
            command.kill(KeyboardInterrupt, block=False)
        else:  # scheduled, not run yet: an exception thrown now would reach the hub; it never runs
            command.kill(block=False)


def run_interruptible(function: Callable[..., T], *args: Any) -> T | None:
    """Run ``function(*args)`` as the prompt runs a command, from the main greenlet outside any loop (a script).

    Returns its value, or None when Ctrl-C came before it started. SIGINT has Python's own handler again after.

    Examples
    --------
    >>> run_interruptible(print, "scan done")
    scan done
    """
    loop = GeventEventLoop()
    try:
        return loop.run_until_complete(CommandRunner(loop).run(function, *args))
    finally:
        loop.close()
