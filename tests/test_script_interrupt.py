"""Ctrl-C (SIGINT sent from outside) during ``bliss -c``: the scan ends aborted as at the prompt.

Python raises KeyboardInterrupt in whichever greenlet runs when the signal arrives. A fast scan spends a good part of its
time in its publisher's greenlet, which the interrupt used to kill: the scan then failed ("its publisher stopped") or
the script hung, instead of ending aborted. Here the scans publish spectra of 4096 bins as fast as they can (a busy
publisher), and a script's loop of scans is interrupted scan after scan, so that an interrupt that can land elsewhere
than in the command does (the loop of ten failed every time before the change, a single interrupt one time in two).
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import h5py
import pytest

from bliss_shell.data import ScanNode, get_node, get_session_node
from conftest import BEAMLINE, wait_for
from terminal import BLISS

INTERRUPTED = "interrupted by user (Ctrl-C)"
COUNTERS = "diode, simu_big"  # a spectrum of 4096 bins: a busy publisher


def scan_node(number: int) -> ScanNode | None:
    """Scan ``number`` of test_session in Redis, or None (not published yet, or removed to keep the memory cap)."""
    scans = get_session_node("test_session").walk(include_filter="scan", wait=False)
    return next((scan for scan in scans if scan.name.lstrip("_") == f"{number}_loopscan"), None)  # _: not saved


def published_points(number: int) -> int:
    """The points of scan ``number`` of test_session in Redis (0 before it is published)."""
    scan = scan_node(number)
    return len(get_node(f"{scan.db_name}:timer:diode:diode")) if scan is not None else 0


@contextmanager
def running_script(code: str, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """``bliss -c code`` in test_session; killed at the end if it still runs (a hung publisher)."""
    shell = subprocess.Popen([BLISS, "--config", str(BEAMLINE), "-s", "test_session", "-c", code], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        yield shell
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.communicate()


def interrupt_when_published(shell: subprocess.Popen, number: int) -> None:
    """Ctrl-C once scan ``number`` has points in Redis."""
    wait_for(lambda: published_points(number) >= 200, f"scan {number} published no points", timeout=60)
    shell.send_signal(signal.SIGINT)


def output_of(shell: subprocess.Popen) -> tuple[str, str]:
    """What the script printed (stdout, stderr) once it exited; it fails the test if it does not exit."""
    try:
        return shell.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        shell.kill()
        out, err = shell.communicate()
        pytest.fail(f"bliss -c did not exit after Ctrl-C; it printed:\n{out}{err}")


def test_ctrl_c_during_a_scan_of_a_script_aborts_the_scan_as_at_the_prompt(redis_client, shell_env, tmp_path):
    with running_script(f"SCAN_SAVING.base_path = {str(tmp_path)!r}; loopscan(1_000_000, 0, {COUNTERS})", shell_env) as shell:
        interrupt_when_published(shell, 1)
        out, err = output_of(shell)
    assert re.search(r"^Scan 1 aborted\.$", out, re.MULTILINE), out + err
    assert "Scan failed" not in out + err
    assert err.rstrip().endswith("KeyboardInterrupt") and shell.returncode == 1  # an uncaught error: docs/shell.md
    scan = next(get_session_node("test_session").walk(include_filter="scan", wait=False))
    assert scan.end_state() == {"state": "aborted", "reason": INTERRUPTED}
    with h5py.File(tmp_path / "test_session" / "data.h5", "r") as file:
        assert file["1.1/writer/status"][()] == b"ABORTED" and file["1.1/writer/reason"][()].decode() == INTERRUPTED
        assert 200 <= len(file["1.1/measurement/diode"]) < 1_000_000


def test_every_scan_of_a_script_interrupted_scan_after_scan_ends_aborted(redis_client, shell_env, tmp_path):
    scans = 10
    code = f"""SCAN_SAVING.base_path = {str(tmp_path)!r}
SCAN_SAVING.writer = "null"  # Redis only: the publisher has the larger share of the work
for _ in range({scans}):
    try:
        loopscan(1_000_000, 0, {COUNTERS})
    except KeyboardInterrupt:  # the script's choice: go on with the next scan
        print("next")
"""
    ends = {}
    with running_script(code, shell_env) as shell:
        for number in range(1, scans + 1):  # scan n + 1 starts once scan n has ended
            interrupt_when_published(shell, number)
            if number > 1:  # read now: each scan holds about 90 MB, so the 1 GiB memory cap removes the oldest later
                ends[number - 1] = scan_node(number - 1).end_state()
        out, err = output_of(shell)
    ends[scans] = scan_node(scans).end_state()
    assert shell.returncode == 0 and "Scan failed" not in out + err, out + err
    assert re.findall(r"^Scan (\d+) aborted\.$", out, re.MULTILINE) == [str(n) for n in range(1, scans + 1)]
    assert ends == {n: {"state": "aborted", "reason": INTERRUPTED} for n in range(1, scans + 1)}
