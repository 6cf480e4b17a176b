"""The package type-checks (mypy, config in pyproject.toml), and the modules of the scan engine stay short."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
ENGINE = [
    "bliss_shell/comm/failover.py",
    "bliss_shell/comm/redis_url.py",
    "bliss_shell/data/orphans.py",
    "bliss_shell/controllers/acquisition.py",
    "bliss_shell/controllers/counter_card.py",
    "bliss_shell/controllers/counting.py",
    "bliss_shell/controllers/lima.py",
    "bliss_shell/controllers/sampling.py",
    "bliss_shell/controllers/tango_mca.py",
    "bliss_shell/scanning/chain.py",
    "bliss_shell/scanning/consumers.py",
    "bliss_shell/scanning/continuous.py",
    "bliss_shell/scanning/ending.py",
    "bliss_shell/scanning/engine.py",
    "bliss_shell/scanning/masters.py",
    "bliss_shell/scanning/placing.py",
    "bliss_shell/scanning/plan.py",
    "bliss_shell/scanning/records.py",
    "bliss_shell/scanning/scan.py",
    "bliss_shell/scanning/scan_info.py",
    "bliss_shell/scanning/scan_reader.py",
    "bliss_shell/scanning/subscriptions.py",
    "bliss_shell/scanning/lima_frames.py",
    "bliss_shell/scanning/tree.py",
    "bliss_shell/scanning/plot_settings.py",
    "bliss_shell/plot/__main__.py",
    "bliss_shell/plot/decimate.py",
    "bliss_shell/plot/feed.py",
    "bliss_shell/plot/image_panel.py",
    "bliss_shell/plot/launcher.py",
    "bliss_shell/plot/page.py",
    "bliss_shell/plot/reader.py",
    "bliss_shell/plot/server.py",
    "bliss_shell/shell/plots.py",
]


def test_the_whole_package_type_checks():
    """mypy on all of bliss_shell: no error. Untyped libraries are dealt with in pyproject.toml's [tool.mypy] alone."""
    result = subprocess.run([sys.executable, "-m", "mypy", "bliss_shell"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def code_lines(source: str) -> int:
    """The lines of a module that are not its docstrings (the user's help may be as long as it needs)."""
    documented = (node for node in ast.walk(ast.parse(source))
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)))  # fmt: skip
    docstrings = [
        node.body[0] for node in documented
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        and isinstance(node.body[0].value.value, str)
    ]  # fmt: skip
    return len(source.splitlines()) - sum((doc.end_lineno or doc.lineno) - doc.lineno + 1 for doc in docstrings)


def test_no_module_of_the_engine_is_over_400_lines_of_code():
    long = {path: n for path in ENGINE if (n := code_lines((ROOT / path).read_text())) > 400}
    assert long == {}
