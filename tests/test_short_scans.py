"""A run of short scans (an alignment macro) skips the checks whose answer it already has, and never one it has not.

Each saved scan checks its file (a dead writer's entries finished) and reads its highest scan number; each
scan's publisher looks at Redis's used memory for the cap. A file this shell left finished and nobody changed
since, and a memory look a moment old, need not be done again; a file changed by anyone must be.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import h5py

from bliss_shell.data import retention
from bliss_shell.data.retention import memory_gauge, used_memory
from bliss_shell.writer.known_files import known
from bliss_shell.writer.recovery import INTERRUPTED, marked_open

DEAD_WRITER = """
import os, sys, h5py
file = h5py.File(sys.argv[1], "a", libver="latest", locking=False)
entry = file.create_group("99.1")
entry.create_dataset("writer/status", data="RUNNING", dtype=h5py.string_dtype(length=16))
entry.create_dataset("writer/reason", data="", dtype=h5py.string_dtype(length=1024))
file.swmr_mode = True
file.flush()
os._exit(9)  # killed: the file stays marked open for write, its entry RUNNING
"""


def test_a_file_this_shell_left_finished_is_known_until_anyone_changes_it(session):
    scan = session["loopscan"](2, 0, session["diode"])
    seen = known(scan.path)
    assert seen is not None and seen.finished
    with h5py.File(scan.path, "a", locking=False) as file:  # another program adds to it
        file.attrs["note"] = "changed"
    assert known(scan.path) is None
    again = session["loopscan"](2, 0, session["diode"])
    assert again.number == scan.number + 1 and known(again.path).highest == again.number


def test_a_dead_writers_entry_is_finished_even_in_a_file_this_shell_wrote_last(session):
    scan = session["loopscan"](2, 0, session["diode"])
    subprocess.run([sys.executable, "-c", textwrap.dedent(DEAD_WRITER), scan.path], check=False)
    assert marked_open(scan.path)
    again = session["loopscan"](2, 0, session["diode"])
    assert again.number == 100  # above the dead writer's entry
    with h5py.File(again.path, "r") as file:
        assert file["99.1/writer/status"].asstr()[()] == "FAILED"
        assert file["99.1/writer/reason"].asstr()[()] == INTERRUPTED
        assert file[f"{again.number}.1/writer/status"].asstr()[()] == "SUCCEEDED"


def test_a_scan_right_after_a_look_at_redis_memory_does_not_look_again(session, redis_client, monkeypatch):
    monkeypatch.setattr(retention, "MEMORY_CHECK", 3600.0)  # a look stays fresh as long as the test runs
    session["ct"](0, session["diode"])  # the session's first look
    redis_client.config_resetstat()
    for _ in range(3):
        session["ct"](0, session["diode"])
    assert "cmdstat_info" not in redis_client.info("commandstats")
    gauge = memory_gauge(redis_client, "test_session")
    assert gauge.unchecked > 0  # what they sent is counted on top of the last look
    assert gauge.used <= used_memory(redis_client, "test_session")
