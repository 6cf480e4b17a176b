"""The package type-checks (mypy, config in pyproject.toml), and the modules of the scan engine stay short."""

from __future__ import annotations

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


def test_no_module_of_the_engine_is_over_400_lines():
    long = {path: n for path in ENGINE if (n := len((ROOT / path).read_text().splitlines())) > 400}
    assert long == {}
