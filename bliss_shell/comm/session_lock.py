"""One open shell per session: a lock in Redis that expires when its holder dies."""

from __future__ import annotations

import json
import os
import socket
import sys

import gevent
import redis

from .errors import SessionLocked
from .processes import pid_alive

TTL = 10.0

# Delete or extend the key only if it still holds our token: another process may own it.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
_EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"


class SessionLock:
    """Held while a session is open; refreshed by a greenlet, gone ``TTL`` s after a crash.

    Examples
    --------
    >>> lock = SessionLock(client, "demo")
    >>> lock.acquire()
    >>> SessionLock(client, "demo").acquire()  # a second shell of the session
    Traceback (most recent call last):
    ...
    bliss_shell.comm.errors.SessionLocked: session 'demo' is already open on host ..., pid ... (bliss...); close it there first
    >>> lock.release()
    >>> again = SessionLock(client, "demo")  # once released, the session opens again
    >>> again.acquire()
    >>> again.release()
    """

    def __init__(self, client: redis.Redis, session: str, ttl: float = TTL):
        self._client = client
        self._key = f"lock|session|{{{session}}}"  # braces: the session's cluster slot
        self._session = session
        self._ttl_ms = int(ttl * 1000)
        self._token = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "cmd": " ".join(["bliss", *sys.argv[1:]])})
        self._refresher: gevent.Greenlet | None = None

    def acquire(self) -> None:
        """Take the lock (from a dead holder on this host at once), then keep it fresh until ``release``.

        Raises
        ------
        SessionLocked
            Another live process holds it; the message names its host, pid and command.
        """
        if not self._take():
            holder = self._client.get(self._key)
            if holder is None or not self._holder_is_dead(holder) or not self._take_over(holder):
                self._refuse(holder)
        self._refresher = gevent.spawn(self._refresh)

    def _take(self) -> bool:
        return bool(self._client.set(self._key, self._token, nx=True, px=self._ttl_ms))

    @staticmethod
    def _holder_is_dead(holder: bytes) -> bool:
        """A holder on this host whose process is gone: no need to wait for the TTL."""
        info = json.loads(holder)
        return info.get("host") == socket.gethostname() and not pid_alive(int(info.get("pid", 0)))

    def _take_over(self, holder: bytes) -> bool:
        self._client.eval(_RELEASE, 1, self._key, holder)
        return self._take()

    def _refuse(self, holder: bytes | None) -> None:
        info = json.loads(holder) if holder else {}
        raise SessionLocked(
            f"session '{self._session}' is already open on host {info.get('host', '?')}, "
            f"pid {info.get('pid', '?')} ({info.get('cmd', '?')}); close it there first"
        )

    def _refresh(self) -> None:
        while True:
            gevent.sleep(self._ttl_ms / 3000)
            try:
                if not self._client.eval(_EXTEND, 1, self._key, self._token, self._ttl_ms):
                    self._take()  # Redis came back empty (restarted): hold the session again
            except redis.RedisError:
                pass  # Redis away for a moment: the next round tries again

    def release(self) -> None:
        """Stop refreshing and give the lock back (if still ours); with Redis away it expires by itself."""
        if self._refresher is not None:
            self._refresher.kill()
            self._refresher = None
        try:
            self._client.eval(_RELEASE, 1, self._key, self._token)
        except redis.RedisError:
            pass  # the lock expires by itself
