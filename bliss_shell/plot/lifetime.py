"""When a viewer has outlived what it serves, and stops by itself.

A viewer outlives the shell that started it, on purpose. It stops by itself when:

- its runtime folder (``$XDG_RUNTIME_DIR/bliss_shell``, where its record and the embedded Redis's
  socket are) is gone: the user's login session ended, or the folder was removed by hand;
- its Redis has not answered for ``REDIS_GRACE`` s in a row (``$BLISS_PLOT_REDIS_GRACE`` or
  ``--redis-grace``): gone for good. A restart or a failover, seconds long, only shows
  "Redis does not answer" on its pages until Redis is back.

Examples
--------
>>> lifetime = Lifetime(None, "redis://redis.beamline:6379", grace=60)
>>> lifetime.reason_to_stop("", now=0.0) is None  # Redis answers
True
>>> lifetime.reason_to_stop("Redis at redis://redis.beamline:6379 does not answer", now=10.0) is None  # since 10 s
True
>>> lifetime.reason_to_stop("", now=40.0) is None  # back: the count starts again at the next outage
True
>>> lifetime.reason_to_stop("Redis at redis://redis.beamline:6379 does not answer", now=50.0) is None
True
>>> lifetime.reason_to_stop("Redis at redis://redis.beamline:6379 does not answer", now=110.0)
'Redis at redis://redis.beamline:6379 has not answered for 60 s'
"""

from __future__ import annotations

from pathlib import Path

REDIS_GRACE = 600.0  # s: a Redis silent this long is gone for good (a restart takes seconds, a failover under a minute)
REDIS_GRACE_ENV = "BLISS_PLOT_REDIS_GRACE"
CHECK_PERIOD = 1.0  # s between the viewer's checks


class Lifetime:
    """Whether a viewer should stop, from its runtime folder and how long its Redis has been silent.

    Parameters
    ----------
    folder : Path or None
        The runtime folder that holds the viewer's record (None: not watched).
    redis_shown : str
        Its Redis's address, as the log line names it (password redacted).
    grace : float
        Seconds Redis may stay silent before the viewer stops.
    """

    def __init__(self, folder: Path | None, redis_shown: str, grace: float):
        self.folder = folder
        self.redis_shown = redis_shown
        self.grace = grace
        self._silent_since: float | None = None

    def reason_to_stop(self, redis_problem: str, now: float) -> str | None:
        """Why the viewer should stop now (the line its log gets), or None; ``redis_problem`` is '' while Redis answers."""
        if self.folder is not None and not self.folder.is_dir():
            return f"its runtime folder {self.folder} is gone"
        if not redis_problem:
            self._silent_since = None
            return None
        if self._silent_since is None:
            self._silent_since = now
        if now - self._silent_since >= self.grace:
            return f"Redis at {self.redis_shown} has not answered for {self.grace:g} s"
        return None
