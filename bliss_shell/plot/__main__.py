"""``python -m bliss_shell.plot SESSION``: the viewer process (``flint()`` and ``bliss plot`` start it).

It prints ``url: http://...`` once it listens, or ``error: ...`` (then it exits 1); after
that its stdout goes where its stderr goes (the launcher gives it a log file). It records
itself in the runtime folder and stops by itself when that folder is gone or its Redis has
not answered for ``--redis-grace`` s (``lifetime.py``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bliss_shell.comm import REDIS_URL_ENV, RedisChoice, RedisUnavailable, connect, redacted
from bliss_shell.comm.embedded_redis import runtime_dir

from .lifetime import REDIS_GRACE, REDIS_GRACE_ENV
from .server import PortInUse, Viewer


def main(argv: list[str] | None = None) -> int:
    """Run the viewer of ``argv``'s session until SIGTERM, SIGINT or its lifetime's end; the exit status (1: it could not start)."""
    parser = argparse.ArgumentParser(prog="python -m bliss_shell.plot")
    parser.add_argument("session")
    parser.add_argument("--redis", metavar="URL", help=f"the Redis to read (default: ${REDIS_URL_ENV}, which flint() sets)")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--redis-grace", type=float, metavar="SECONDS",
                        help=f"stop when Redis has not answered this long (default: ${REDIS_GRACE_ENV}, else {REDIS_GRACE:g})")  # fmt: skip
    args = parser.parse_args(argv)
    os.nice(19)  # the lowest priority: on the scans' machine, the viewer gets what the scans leave
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = args.redis or os.environ.get(REDIS_URL_ENV)
    if not url:
        parser.error(f"name the Redis to read: --redis URL or ${REDIS_URL_ENV}")
    try:
        grace = _redis_grace(args.redis_grace)
        client = connect(RedisChoice(url, "--redis" if args.redis else REDIS_URL_ENV), writer=False)  # a replica will do
        viewer = Viewer(args.session, client, redacted(url), runtime_dir(), grace)
        viewer.listen(args.address, args.port)
    except (ValueError, RedisUnavailable, PortInUse) as error:
        print(f"error: {error}", flush=True)
        return 1
    warning = viewer.register()
    print(f"url: {viewer.url}" + (f"\nwarning: {warning}" if warning else ""), flush=True)
    os.dup2(2, 1)  # closes the launcher's pipe: it has what it waited for
    viewer.run()
    return 0


def _redis_grace(given: float | None) -> float:
    """``--redis-grace``, else ``$BLISS_PLOT_REDIS_GRACE``, else ``REDIS_GRACE``; ValueError naming a bad one."""
    raw = str(given) if given is not None else os.environ.get(REDIS_GRACE_ENV, "")
    if not raw:
        return REDIS_GRACE
    origin = "--redis-grace" if given is not None else f"${REDIS_GRACE_ENV}"
    try:
        grace = float(raw)
    except ValueError:
        grace = float("nan")
    if not grace > 0:  # nan too; inf: never
        raise ValueError(f"{origin} is {raw!r}: give the seconds Redis may stay silent before the viewer stops (above 0)")
    return grace


if __name__ == "__main__":
    sys.exit(main())
