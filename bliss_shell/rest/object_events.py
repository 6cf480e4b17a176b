"""The throttle of the ``/object`` ``change`` events: at most one event per property in 0.2 s, the last value wins.

BLISS's ``ObjectEvents`` rule: a new value of a property is sent at once if the last event of that property is
older than the period; else it waits until the period is over, and a newer value replaces the waiting one. A burst of
values therefore gives one event at once and one trailing event that carries the last value.

Examples
--------
>>> sent = []
>>> throttle = Throttle(lambda key, value: sent.append((key, value)))
>>> for value in (1, 2, 3):
...     throttle.push(("roby", "position"), value)
>>> sent, throttle.pending
([(('roby', 'position'), 1)], 1)
>>> throttle.stop()
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import gevent

__all__ = ["THROTTLE", "Throttle"]

THROTTLE = 0.2  # s: at most one change event per property in that time (BLISS's)

Key = tuple[str, str]  # (object name, property)


class Throttle:
    """Send ``send(key, value)`` at most once per ``period`` for each key; the last value pushed is sent.

    Parameters
    ----------
    send : Callable[[tuple[str, str], Any], None]
        Sends one value of ``(object, property)``.
    period : float
        Seconds between two sends of one key.
    clock : Callable[[], float]
        The time in seconds (``time.monotonic``; a test gives its own).

    Examples
    --------
    >>> now = [10.0]
    >>> sent = []
    >>> throttle = Throttle(lambda key, value: sent.append(value), clock=lambda: now[0])
    >>> throttle.push(("roby", "position"), 1.0)
    >>> now[0] += 1.0  # a second later: sent at once again
    >>> throttle.push(("roby", "position"), 2.0)
    >>> sent
    [1.0, 2.0]
    """

    def __init__(self, send: Callable[[Key, Any], None], period: float = THROTTLE, clock: Callable[[], float] = time.monotonic):
        self._send = send
        self._period = period
        self._clock = clock
        self._last_sent: dict[Key, float] = {}
        self._waiting: dict[Key, gevent.Greenlet] = {}

    @property
    def pending(self) -> int:
        """How many values wait for their period to end."""
        return len(self._waiting)

    def push(self, key: Key, value: Any) -> None:
        """A new value of ``key``: sent now if the last send of ``key`` is a period old, else at the period's end.

        Examples
        --------
        >>> sent = []
        >>> throttle = Throttle(lambda key, value: sent.append(value))
        >>> throttle.push(("roby", "state"), ["MOVING"])
        >>> sent
        [['MOVING']]
        """
        waiting = self._waiting.pop(key, None)
        if waiting is not None:
            waiting.kill()
        since = self._clock() - self._last_sent.get(key, -math.inf)
        if since >= self._period:
            self._fire(key, value)
        else:
            self._waiting[key] = gevent.spawn_later(self._period - since, self._fire, key, value)

    def forget(self, name: str) -> None:
        """Drop what waits for object ``name`` (it was unregistered).

        Examples
        --------
        >>> throttle = Throttle(lambda key, value: None)
        >>> throttle.push(("roby", "position"), 1.0)
        >>> throttle.push(("roby", "position"), 2.0)
        >>> throttle.forget("roby")
        >>> throttle.pending
        0
        """
        for key in [key for key in self._waiting if key[0] == name]:
            self._waiting.pop(key).kill()
        for key in [key for key in self._last_sent if key[0] == name]:
            del self._last_sent[key]

    def stop(self) -> None:
        """Drop every waiting value (the service stops).

        Examples
        --------
        >>> throttle = Throttle(lambda key, value: None)
        >>> throttle.stop()
        >>> throttle.pending
        0
        """
        for waiting in list(self._waiting.values()):
            waiting.kill()
        self._waiting.clear()

    def _fire(self, key: Key, value: Any) -> None:
        self._waiting.pop(key, None)
        self._last_sent[key] = self._clock()
        self._send(key, value)
