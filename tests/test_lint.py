"""The code follows the project's lint rules and format (ruff; the rule set and its reasons are in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUFF = str(Path(sys.executable).parent / "ruff")


def test_ruff_finds_nothing():
    result = subprocess.run(
        [RUFF, "check", "--no-cache", "bliss_shell", "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted():
    result = subprocess.run(
        [RUFF, "format", "--check", "--no-cache", "bliss_shell", "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"run `ruff format` on: {result.stdout}{result.stderr}"
