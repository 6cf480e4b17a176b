"""One commit's ``test_session`` in a process of its own, timing scans on request: the worker of bench/engine_costs.py.

Run by bench/engine_costs.py with the interpreter of this venv and a tree of this repository on PYTHONPATH (with
that tree's config classes: bench/worktree.py's ``tree_env``), so the same file times this code and an older commit
(a git worktree) alike. It uses only what both offer to a user:
the session as a shell builds it (``session_namespace``, ``Session.setup``) and its scan commands.

The session runs on a Redis of its own, started in FOLDER by that tree's ``EmbeddedRedis`` and stopped when stdin
closes; its scans are saved under FOLDER/scans. Protocol: one JSON request per line on stdin, one ``RESULT <json>``
line on stdout per request (anything else the session prints goes to /dev/null). The first line out, once warm, is
``RESULT {"module": <bliss_shell's file>, "redis_url": <its Redis>}``.

- ``{"what": "loopscan", "npoints": n, "save": bool}``: ms per point of ``loopscan(n, 0, c1, c2, diode, save=save)``;
- ``{"what": "floor", "npoints": n}``: ms per point of the same reads and ``gevent.sleep(0)``, ``n`` times, no scan;
- ``{"what": "ct", "repeats": n}``: median ms of ``n`` ``ct(0, diode)``;
- ``{"what": "one_point", "repeats": n}``: median ms of ``n`` saved ``loopscan(1, 0, diode)``.

Usage: PYTHONPATH=METADATA:TREE .venv/bin/python bench/engine_worker.py TREE FOLDER
"""

from gevent import monkey

monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)

import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import redis  # noqa: E402

import bliss_shell  # noqa: E402
from bliss_shell.comm import EmbeddedRedis, use_redis  # noqa: E402
from bliss_shell.config import Config, ConfigRoot  # noqa: E402
from bliss_shell.shell.error_report import ErrorReport  # noqa: E402
from bliss_shell.shell.namespace import session_namespace  # noqa: E402

COUNTERS = ("c1", "c2", "diode")


def open_session(tree: Path, client: redis.Redis, base: str) -> dict:
    """``test_session`` of ``tree``'s test beamline on ``client``'s Redis, saving under ``base``."""
    use_redis(client)
    session = Config([ConfigRoot(tree / "tests" / "beamline")]).get("test_session")
    namespace = session_namespace(session, client, ErrorReport())
    session.setup(namespace, on_error=print, verbose=False)
    namespace["SCAN_SAVING"].base_path = base
    return namespace


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def loopscan_ms(namespace: dict, npoints: int, save: bool) -> float:
    counters = [namespace[name] for name in COUNTERS]
    return timed(lambda: namespace["loopscan"](npoints, 0, *counters, save=save)) / npoints * 1e3


def floor_ms(namespace: dict, npoints: int) -> float:
    """The scan loop's least work per point: one greenlet switch and the counters' reads."""
    counters = [namespace[name] for name in COUNTERS]

    def loop() -> None:
        for _ in range(npoints):
            gevent.sleep(0)
            [counter.read(0) for counter in counters]

    return timed(loop) / npoints * 1e3


def ct_ms(namespace: dict, repeats: int) -> float:
    diode = namespace["diode"]
    return statistics.median(timed(lambda: namespace["ct"](0, diode)) for _ in range(repeats)) * 1e3


def one_point_ms(namespace: dict, repeats: int) -> float:
    diode = namespace["diode"]
    return statistics.median(timed(lambda: namespace["loopscan"](1, 0, diode, save=True)) for _ in range(repeats)) * 1e3


def answer(request: dict, namespace: dict) -> float:
    what = request["what"]
    if what == "loopscan":
        return loopscan_ms(namespace, request["npoints"], request["save"])
    if what == "floor":
        return floor_ms(namespace, request["npoints"])
    if what == "ct":
        return ct_ms(namespace, request["repeats"])
    if what == "one_point":
        return one_point_ms(namespace, request["repeats"])
    raise ValueError(f"unknown request {what!r}")


def main() -> None:
    tree, folder = Path(sys.argv[1]), Path(sys.argv[2])
    out = sys.stdout
    server = EmbeddedRedis(folder)
    client = redis.Redis.from_url(server.ensure_running())
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            namespace = open_session(tree, client, str(folder / "scans"))
            counters = [namespace[name] for name in COUNTERS]
            for save in (False, True):  # warm: imports, first nodes, first file
                namespace["loopscan"](100, 0, *counters, save=save)
            for _ in range(3):
                namespace["ct"](0, namespace["diode"])
                namespace["loopscan"](1, 0, namespace["diode"], save=True)
            print("RESULT " + json.dumps({"module": bliss_shell.__file__, "redis_url": server.url}), file=out, flush=True)
            for line in sys.stdin:
                print("RESULT " + json.dumps({"value": answer(json.loads(line), namespace)}), file=out, flush=True)
    finally:
        client.close()
        server.stop()


if __name__ == "__main__":
    main()
