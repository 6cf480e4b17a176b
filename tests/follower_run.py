"""The tests' side of tests/blissdata_follower.py: start it in another process, wait on it, read what it saw.

Kept apart from the follower script so that the test process (under gevent) never imports blissdata's readers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import numpy as np

FOLLOWER = Path(__file__).parent / "blissdata_follower.py"


@dataclass
class ScanSeen:
    """One scan as the follower saw it: its JSON result and its numeric streams' values.

    Example::

        seen = run.finish()[0]
        seen.values("timer:epoch"), seen.result["end_reason"]
    """

    result: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def streams(self) -> dict[str, dict[str, Any]]:
        return self.result["streams"]

    def values(self, name: str) -> np.ndarray:
        """The values the follower read from stream ``name`` (numeric streams and Lima frames when read)."""
        return self.arrays[self.streams[name]["npz"]]


class FollowerRun:
    """tests/blissdata_follower.py running in another process with this Python, following ``count`` scans.

    Example::

        run = FollowerRun(url, count=2, out=tmp_path / "seen")
        run.wait_ready()
        ...  # run two scans
        first, second = run.finish()
    """

    def __init__(self, url: str, count: int, out: Path, deadline: float = 90.0, lima_frames: bool = False) -> None:
        self.out = out
        self.deadline = deadline
        args = [sys.executable, str(FOLLOWER), "--url", url, "--count", str(count), "--out", str(out)]
        args += ["--deadline", str(deadline)] + (["--lima-frames"] if lima_frames else [])
        self.stdout = (out.parent / f"{out.name}.stdout").open("w")
        self.stderr_path = out.parent / f"{out.name}.stderr"
        self.stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(args, stdout=self.stdout, stderr=self.stderr)

    def _wait(self, condition, what: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None and not condition():
                raise AssertionError(f"the follower exited ({self.process.returncode}) {what}:\n{self.errors()}")
            assert time.monotonic() < end, f"{what} within {timeout} s:\n{self.errors()}"
            gevent.sleep(0.01)

    def errors(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the follower listens for new scans (its imports take a few seconds)."""
        self._wait(lambda: (self.out / "ready").exists(), "before it was ready", timeout)

    def progress(self) -> list[str]:
        path = self.out / "progress.log"
        return path.read_text().splitlines() if path.exists() else []

    def wait_points(self, scan: int, stream: str, points: int, timeout: float = 30.0) -> str:
        """Until the follower has read ``points`` points of ``stream`` in the scan of order ``scan``; its line."""

        def seen() -> str | None:
            for line in self.progress():
                which, count, state = line.rsplit(" ", 2)
                if which == f"{scan} {stream}" and int(count) >= points:
                    return state
            return None

        self._wait(lambda: seen() is not None, f"before reading {points} points of {stream} in scan {scan}", timeout)
        return seen() or ""

    def finish(self, timeout: float | None = None) -> list[ScanSeen]:
        """Wait for the follower to exit on its own; every scan it followed, in the order of their creation."""
        self._wait(lambda: self.process.poll() is not None, "did not exit", timeout or self.deadline + 10)
        self.close()
        assert self.process.returncode == 0, f"the follower failed ({self.process.returncode}):\n{self.errors()}"
        return self.scans()

    def scans(self) -> list[ScanSeen]:
        summary = self.summary()
        seen = []
        for index in range(len(summary["keys"])):
            result = json.loads((self.out / f"scan_{index}.json").read_text())
            with np.load(self.out / f"scan_{index}.npz") as arrays:
                seen.append(ScanSeen(result, {name: arrays[name] for name in arrays.files}))
        return seen

    def summary(self) -> dict[str, Any]:
        return json.loads((self.out / "summary.json").read_text())

    def stop(self) -> None:
        """End the follower if it is still running (a failed test); by its own process id."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.close()

    def close(self) -> None:
        self.stdout.close()
        self.stderr.close()
