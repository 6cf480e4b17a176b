"""An asyncio event loop that waits through gevent, so prompt_toolkit and greenlets share time.

prompt_toolkit needs asyncio; scans and publishing are greenlets. The loop runs in
the main greenlet on gevent's selector, so while the prompt waits for a key the hub
runs every other greenlet. A callback scheduled from another greenlet must wake the
selector itself, or it would wait until the next key press.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import Context
from typing import TypeVarTuple

import gevent
import gevent.selectors

_Ts = TypeVarTuple("_Ts")


class GeventEventLoop(asyncio.SelectorEventLoop):
    """The asyncio loop of the prompt: gevent's selector, woken when another greenlet schedules a callback."""

    _write_to_self: Callable[[], None]  # asyncio's own wake-up (a byte to its self-pipe), not in its type stubs

    def __init__(self) -> None:
        super().__init__(gevent.selectors.DefaultSelector())
        self._owner = gevent.getcurrent()

    def _wake_if_foreign(self) -> None:
        if gevent.getcurrent() is not self._owner:
            self._write_to_self()

    def call_soon(self, callback: Callable[[*_Ts], object], *args: *_Ts, context: Context | None = None) -> asyncio.Handle:
        """Schedule ``callback`` as asyncio does; from another greenlet, also wake the selector."""
        handle = super().call_soon(callback, *args, context=context)
        self._wake_if_foreign()
        return handle

    def call_at(
        self, when: float, callback: Callable[[*_Ts], object], *args: *_Ts, context: Context | None = None
    ) -> asyncio.TimerHandle:
        """Schedule ``callback`` at ``when`` as asyncio does; from another greenlet, also wake the selector."""
        handle = super().call_at(when, callback, *args, context=context)
        self._wake_if_foreign()
        return handle
