"""The examples in the docstrings run: each module's ``>>>`` lines, as a user would type them, give the output shown.

They run against the tests' own Redis (flushed first) and, for the modules that read the data tree, in the
namespace of ``test_session`` after two scans: ``loopscan(5, 0, diode)`` then ``ascan(roby, 0, 4, 5, 0, diode)``.
"""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from bliss_shell.data import get_node, get_session_node, get_sessions

# Each module, and whether its examples need the session and its two scans (else the Redis client alone).
MODULES = {
    "bliss_shell.data.keys": False,
    "bliss_shell.data.retention": True,
    "bliss_shell.data.node": True,
    "bliss_shell.data.publisher": False,
    "bliss_shell.data.orphans": True,
    "bliss_shell.data.lima_view": False,
    "bliss_shell.data.events": True,
    "bliss_shell.data.encoding": False,
    "bliss_shell.data.heartbeat": True,
    "bliss_shell.data.walk": True,
    "bliss_shell.comm.connection": False,
    "bliss_shell.comm.redis_url": False,
    "bliss_shell.comm.failover": False,
    "bliss_shell.comm.settings": False,
    "bliss_shell.comm.session_lock": False,
    "bliss_shell.scanning.scan_saving": True,
    "bliss_shell.scanning.titles": True,
}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples_namespace(request: pytest.FixtureRequest, with_session: bool) -> dict:
    """What the examples use besides their module's own names: the Redis client, the readers, the session."""
    client = request.getfixturevalue("redis_client")
    request.getfixturevalue("monkeypatch").delenv("BLISS_REDIS_URL", raising=False)  # choose_redis as configured
    namespace = {"client": client, "np": np, "get_node": get_node, "get_session_node": get_session_node,
                 "get_sessions": get_sessions}  # fmt: skip
    if with_session:
        session = request.getfixturevalue("session")
        session["loopscan"](5, 0, session["diode"])
        session["ascan"](session["roby"], 0, 4, 5, 0, session["diode"])
        namespace.update(session)
    return namespace


@pytest.mark.parametrize("module_name", list(MODULES))
def test_the_examples_of_a_module_give_what_they_show(module_name: str, request: pytest.FixtureRequest):
    module = importlib.import_module(module_name)
    namespace = {**examples_namespace(request, MODULES[module_name]), **vars(module)}
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    scans = namespace.get("SCANS")
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, module_name, globs=namespace):
        while scans is not None and len(scans) > 2:  # each docstring starts with SCANS[-1] the ascan
            scans.pop()
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0, f"{module_name} has no example that runs"
    assert results.failed == 0, "".join(report)
