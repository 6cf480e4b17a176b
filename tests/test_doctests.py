"""The examples in the docstrings run: each module's ``>>>`` lines, as a user would type them, give the output shown.

Every module of the package that has examples is run, found by looking for ``>>>`` (none is listed by hand, so
none is forgotten). The examples run against the tests' own Redis (flushed first), in the namespace of
``test_session`` (tests/beamline: simulated motors ``roby``, ``robz``, ``slowy``, counters ``diode``,
``sim_ct_gauss``, MCA ``simu1``, groups ``MG1``, ``MG2``) after two scans: ``loopscan(5, 0, diode)`` then
``ascan(roby, 0, 4, 5, 0, diode)``; ``client`` is the Redis client. An example that needs what this namespace has
not (a Tango server, a browser) says ``# doctest: +SKIP``; each module still needs one example that runs.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import bliss_shell
from bliss_shell.data import get_node, get_session_node, get_sessions


def modules_with_examples() -> list[str]:
    """Every module of the package whose source has a ``>>>`` line."""
    found = []
    for module in pkgutil.walk_packages(bliss_shell.__path__, "bliss_shell."):
        spec = importlib.util.find_spec(module.name)
        origin = spec.origin if spec else None
        if origin and origin.endswith(".py") and ">>> " in Path(origin).read_text():
            found.append(module.name)
    return sorted(found)


FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples_namespace(request: pytest.FixtureRequest) -> dict:
    """What the examples use besides their module's own names: the Redis client, the readers, the session."""
    client = request.getfixturevalue("redis_client")
    request.getfixturevalue("monkeypatch").delenv("BLISS_REDIS_URL", raising=False)  # choose_redis as configured
    namespace = {"client": client, "np": np, "get_node": get_node, "get_session_node": get_session_node,
                 "get_sessions": get_sessions}  # fmt: skip
    session = request.getfixturevalue("session")
    session["loopscan"](5, 0, session["diode"])
    session["ascan"](session["roby"], 0, 4, 5, 0, session["diode"])
    namespace.update(session)
    return namespace


@pytest.mark.parametrize("module_name", modules_with_examples())
def test_the_examples_of_a_module_give_what_they_show(module_name: str, request: pytest.FixtureRequest):
    module = importlib.import_module(module_name)
    namespace = {**examples_namespace(request), **vars(module)}
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    scans = namespace["SCANS"]
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, module_name, globs=namespace):
        while len(scans) > 2:  # each docstring starts with SCANS[-1] the ascan
            scans.pop()
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0, f"{module_name} has no example that runs"
    assert results.failed == 0, "".join(report)
