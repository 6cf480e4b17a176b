"""docs/tutorial.md is run as written, in the real shell (``bliss -s test_session --script``)."""

from __future__ import annotations

from pathlib import Path

from terminal import run_bliss

RUNNER = str(Path(__file__).parent / "run_tutorial.py")


def test_every_tutorial_command_gives_the_output_shown(shell_env, tmp_path):
    result = run_bliss(
        "-s", "test_session", "--script", RUNNER, env=dict(shell_env, TUTORIAL_BASE=str(tmp_path / "t")), timeout=180
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert result.stdout.rstrip().endswith(" failed") and ", 0 failed" in result.stdout
