"""Many readers at once, and two sessions scanning into one Redis."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bliss_shell.data import get_session_node
from conftest import BEAMLINE
from terminal import BLISS

FOLLOWER = str(Path(__file__).parent / "follow_points.py")


def test_ten_reader_processes_each_see_every_point_exactly_once(session, shell_env):
    npoints = 20_000
    readers = [subprocess.Popen([sys.executable, FOLLOWER, "test_session", "1_loopscan"], env=shell_env,
                                stdout=subprocess.PIPE, text=True) for _ in range(10)]  # fmt: skip
    for reader in readers:
        assert reader.stdout.readline().strip() == "ready"
    session["loopscan"](npoints, 0, session["diode"], session["c1"])
    results = [json.loads(reader.communicate(timeout=120)[0]) for reader in readers]
    for result in results:
        assert result == {"counts": {"timer:elapsed_time": npoints, "timer:epoch": npoints, "diode:diode": npoints, "sim:c1": npoints},
                          "in_order": True, "state": "done", "reason": ""}  # fmt: skip


def test_two_sessions_scanning_at_once_do_not_see_each_other(redis_client, shell_env, tmp_path):
    code = "SCAN_SAVING.base_path = {base!r}\nfor _ in range(3): loopscan(200, 0.002, diode)"
    shells = [subprocess.Popen([BLISS, "--config", str(BEAMLINE), "-s", name, "-c", code.format(base=str(tmp_path / name))],
                               env=shell_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for name in ("test_session", "other_session")]  # fmt: skip
    for shell in shells:
        _, err = shell.communicate(timeout=120)
        assert shell.returncode == 0, err
    for name in ("test_session", "other_session"):
        scans = list(get_session_node(name).walk(include_filter="scan", wait=False))
        assert [scan.name for scan in scans] == ["1_loopscan", "2_loopscan", "3_loopscan"]
        assert all(scan.db_name.startswith(f"{name}:") and scan.info["session_name"] == name for scan in scans)
        channels = [n for n in get_session_node(name).walk(include_filter="channel", wait=False)]
        assert len(channels) == 9 and all(len(channel) == 200 for channel in channels)  # 3 scans: elapsed_time, epoch, diode
        assert all(channel.db_name.startswith(f"{name}:") for channel in channels)
