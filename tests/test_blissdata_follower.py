"""The blissdata 2 follower (tests/blissdata_follower.py) against blissdata's OWN writer: it checks the harness.

tests/test_blissdata.py trusts the follower to tell what a BLISS 2 tool sees of our scans; here it follows scans that
blissdata 2.4.5 itself published (tests/blissdata_reference_writer.py, in a third process) on the module server, and
must give back every value sent, the states, the end reasons, Lima through blissdata's plugin, and the searches.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import redis

from bliss_shell.comm import EmbeddedRedis
from blissdata_reference_writer import DATASET, SESSION, expected
from follower_run import FollowerRun

WRITER = Path(__file__).parent / "blissdata_reference_writer.py"

pytestmark = pytest.mark.slow  # three processes


@pytest.fixture
def follower_and_writer(blissdata_server: EmbeddedRedis, blissdata_client: redis.Redis, tmp_path: Path):
    """The follower started on an empty (uninitialised) database, then blissdata's writer once it listens."""
    url = blissdata_server.url + "?protocol=2"
    run = FollowerRun(url, count=4, out=tmp_path / "seen", deadline=60, lima_frames=True)
    writer = None
    try:
        run.wait_ready()
        folder = tmp_path / "files"
        folder.mkdir()
        go = tmp_path / "go"
        writer_args = ["--url", url, "--folder", str(folder), "--go", str(go)]
        writer = subprocess.Popen([sys.executable, str(WRITER), *writer_args], stderr=subprocess.PIPE, text=True)
        yield run, writer, go
    finally:
        run.stop()
        if writer is not None:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
            if writer.stderr:
                writer.stderr.close()


def test_the_follower_reads_blissdatas_own_scans_live_and_whole(follower_and_writer) -> None:
    run, writer, go = follower_and_writer
    # the writer holds its step scan after one point until the follower has read that point: it reads live
    assert run.wait_points(0, "axis:robx", 1) == "STARTED"
    go.touch()
    step, lima, aborted, failed = run.finish()
    assert writer.wait(timeout=30) == 0, writer.stderr.read() if writer.stderr else ""

    sent = expected()
    for seen, name in ((step, "ascan"), (aborted, "loopscan"), (failed, "timescan")):
        assert seen.result["identity"]["name"] == name
        assert set(seen.streams) == set(sent[name])
        for stream, values in sent[name].items():
            described = seen.streams[stream]
            assert (described["dtype"], described["shape"]) == (values.dtype.str, list(values.shape[1:]))
            assert described["len"] == described["read"] == len(values) and described["sealed"]
            np.testing.assert_array_equal(seen.values(stream), values)
            assert seen.values(stream).dtype == values.dtype

    assert step.result["identity"] | {"path": None} == {
        "name": "ascan",
        "number": 1,
        "data_policy": "ESRF",
        "session": SESSION,
        "proposal": "ihch0000",
        "collection": "sample",
        "dataset": DATASET,
        "path": None,
    }
    assert step.result["info"]["title"] == "ascan reference"
    assert [seen.result["end_reason"] for seen in (step, lima, aborted, failed)] == [
        "SUCCESS",
        "SUCCESS",
        "USER_ABORT",
        "FAILURE",
    ]
    for seen in (step, lima, aborted, failed):
        states = seen.result["states"]
        assert states[-1] == "CLOSED" and states == sorted(states, key=ORDER.index), states
    assert "STARTED" in step.result["states"]  # seen while the writer waited

    image = lima.streams["lima:image"]
    assert (image["plugin"], image["dtype"], image["shape"], image["len"]) == ("lima", "<u2", [4, 5], 5)
    assert [(Path(ref["file_path"]).name, ref["index"]) for ref in image["references"]] == [
        ("lima_0000.h5", 0),
        ("lima_0000.h5", 1),
        ("lima_0001.h5", 0),
        ("lima_0001.h5", 1),
        ("lima_0002.h5", 0),
    ]
    np.testing.assert_array_equal(lima.values("lima:image"), sent["limatake"]["lima:image"])

    keys = [seen.result["key"] for seen in (step, lima, aborted, failed)]
    searches = run.summary()["searches"]
    assert sorted(searches[f"session={SESSION}"]) == sorted(keys)
    assert sorted(searches[f"dataset={DATASET}"]) == sorted(keys)
    assert sorted(searches[f"session={SESSION},dataset={DATASET}"]) == sorted(keys)


ORDER = ["CREATED", "PREPARED", "STARTED", "STOPPED", "CLOSED"]


def test_the_follower_says_what_went_wrong_and_stops_at_its_deadline(
    blissdata_server: EmbeddedRedis, blissdata_client: redis.Redis, tmp_path: Path
) -> None:
    # nobody initialises the database: the follower waits for it, then gives up on its own, saying why
    run = FollowerRun(blissdata_server.url, count=1, out=tmp_path / "seen", deadline=1)
    try:
        run._wait(lambda: run.process.poll() is not None, "did not exit", 30)
        assert run.process.returncode == 1
        assert "blissdata error: RuntimeError: No blissdata protocol version found" in run.errors()
    finally:
        run.stop()
