"""Is a running scan's publisher alive? Judged from its heartbeat, never from a stalled Redis.

The publisher refreshes ``alive|<scan>`` every ``HEARTBEAT`` s with a TTL. A key that is
missing only says that no refresh reached Redis lately: after Redis (or the network) stalled,
the key has expired although the publisher is alive and refreshes it as soon as Redis answers
again. So a reader calls a publisher dead only when the key stays missing for ``GRACE`` s of a
Redis that answers promptly; a stall (a slow answer, or a long gap between looks) starts the
watch again. A shell that really died is reported a few seconds after its last refresh.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import redis

from . import keys

LOOK_PERIOD = 0.5  # s between looks while following a scan
GRACE = 2.0  # s of a responsive Redis with no heartbeat before a publisher is called dead
_STALL = 1.0  # s: a look slower than this, or a gap between looks longer than 4 periods, is a stall


class Heartbeats:
    """One reader's watch over the heartbeats of the scans it follows.

    Examples
    --------
    >>> watch = Heartbeats(client)
    >>> watch.dead(["demo:tmp:scans:3_ascan"])  # call it every LOOK_PERIOD or so
    set()
    """

    def __init__(self, client: redis.Redis):
        self._client = client
        self._missing_since: dict[str, float] = {}
        self._last_look: float | None = None

    def suspects(self, scan: str) -> bool:
        """True while the scan's heartbeat is missing but not yet for long enough to call it dead."""
        return scan in self._missing_since

    def dead(self, scans: Sequence[str]) -> set[str]:
        """The scans (published, without END) whose publisher stopped without ending them."""
        asked = time.monotonic()
        pipe = self._client.pipeline(transaction=False)
        for db_name in scans:
            pipe.exists(keys.node_key(db_name))  # not published yet: not dead either
            pipe.exists(keys.alive_key(db_name))
            pipe.xrevrange(keys.events_key(db_name), count=1)
        replies = pipe.execute()
        answered = time.monotonic()
        stalled = answered - asked > _STALL or (
            self._last_look is not None and asked - self._last_look > 4 * LOOK_PERIOD + _STALL
        )
        self._last_look = answered
        if stalled:  # no heartbeat could get through meanwhile: watch again from now
            self._missing_since.clear()
        dead = set()
        for db_name, published, alive, last in zip(scans, *(replies[i::3] for i in range(3))):
            ended = bool(last) and last[0][1].get(b"event") == b"end"
            if not published or alive or ended:
                self._missing_since.pop(db_name, None)
                continue
            since = self._missing_since.setdefault(db_name, answered)
            if answered - since >= GRACE:
                dead.add(db_name)
        return dead
