"""Retention and the memory cap: finished scans expire or are removed whole; running scans never are."""

from __future__ import annotations

import re

import gevent
import numpy as np
import pytest

from bliss_shell.data import NodeExpired, get_node, get_session_node, keys
from bliss_shell.data.retention import Retention, parse_duration, parse_size, used_memory
from bliss_shell.scanning import current
from conftest import wait_for
from terminal import run_bliss


def keys_of(client, db_name: str) -> list[str]:
    """Every key of a node and its descendants (the kinds are prefixes: ``node|{session}:db``, ``esrf:stream:{session}:db:...``)."""
    return sorted(k.decode() for k in client.keys(f"*{keys.tagged(db_name)}*") if not k.startswith(b"lock|"))


def test_a_finished_scan_and_its_parents_expire_after_the_retention_time(session, redis_client):
    current().retention = Retention(seconds=300)
    scan = session["loopscan"](20, 0.02, session["diode"], run=False)
    running = gevent.spawn(scan.run)
    wait_for(
        lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:elapsed_time") or []) >= 3,
        "the scan did not publish 3 points",
    )
    folder = scan.node.db_name.rsplit(":", 1)[0]
    held = [key for key in keys_of(redis_client, scan.node.db_name) if not key.startswith("alive|")] + [
        keys.node_key(folder),
        keys.node_key("test_session"),
        keys.children_key(folder),
    ]
    assert {key: redis_client.ttl(key) for key in held if redis_client.ttl(key) != -1} == {}  # running: nothing expires
    running.get()
    scan_keys = keys_of(redis_client, scan.node.db_name)
    assert len(scan_keys) >= 10 and all(290 < redis_client.ttl(key) <= 300 for key in scan_keys)
    assert all(
        290 < redis_client.ttl(key) <= 300
        for key in (keys.node_key(folder), keys.node_key("test_session"), keys.children_key(folder))
    )
    assert redis_client.ttl("scan_saving|test_session") in (-1, -2)  # settings are not data: kept
    assert redis_client.zscore(keys.finished_key("test_session"), scan.node.db_name) is not None


def test_expired_scans_answer_expired_and_get_data_reads_the_file(session, redis_client):
    current().retention = Retention(seconds=1)
    scan = session["ascan"](session["roby"], 0, 4, 5, 0, session["diode"])
    before = scan.get_data()
    channel = get_node(f"{scan.node.db_name}:axis:timer:diode:diode")
    wait_for(
        lambda: get_node(scan.node.db_name) is None and keys_of(redis_client, scan.node.db_name) == [],
        "the scan's keys did not expire after its retention time",
    )
    with pytest.raises(NodeExpired, match=r"1_ascan:axis:timer:diode:diode has expired from Redis"):
        len(channel)
    after = scan.get_data()
    assert all(np.array_equal(after[key], before[key]) for key in before)
    current().retention = Retention()
    again = session["loopscan"](3, 0, session["diode"])  # the session and folder nodes come back
    assert [n.name for n in get_session_node("test_session").walk(wait=False)][:3] == [
        "test_session",
        again.node.parent.name,
        "2_loopscan",
    ]


def test_the_memory_cap_removes_whole_old_scans_never_a_running_one(session, redis_client, capsys):
    assert used_memory(redis_client, "test_session") < 4 << 20
    cap = 16 << 20
    current().retention = Retention(memory_cap=cap)
    scans = [session["loopscan"](100, 0, session["simu_big"]) for _ in range(8)]  # 3.3 MB each, 26 MB in all
    held = [scan for scan in scans if get_node(scan.node.db_name) is not None]
    removed = scans[: len(scans) - len(held)]
    assert removed and held == scans[len(removed) :]  # oldest first
    assert used_memory(redis_client, "test_session") < cap
    for scan in removed:  # whole: not one key left
        assert keys_of(redis_client, scan.node.db_name) == []
        assert scan.get_data()["simu_big"].shape == (100, 4096)  # from the file
    for scan in held:
        assert len(get_node(f"{scan.node.db_name}:timer:simu_big:simu_big")) == 100
    assert "WARNING" not in capsys.readouterr().err

    big = session["loopscan"](600, 0, session["simu_big"])  # 20 MB: more than the cap alone
    err = capsys.readouterr().err
    assert len(re.findall("WARNING", err)) == 1
    assert "this scan alone fills the Redis memory cap (16 MiB): the scan goes on and its file gets every point" in err
    assert all(get_node(scan.node.db_name) is None for scan in scans)  # everything finished made room first
    in_redis = len(get_node(f"{big.node.db_name}:timer:simu_big:simu_big"))
    assert 0 < in_redis < 600 and used_memory(redis_client, "test_session") < cap
    assert big.node.end_state() == {"state": "done", "reason": ""}
    assert big.get_data()["simu_big"].shape == (600, 4096)  # the file has every point

    unsaved = session["loopscan"](600, 0, session["simu_big"], save=False)
    err = capsys.readouterr().err
    assert "this scan alone fills the Redis memory cap (16 MiB): the scan goes on and it is not saved: the points " \
           "Redis misses are lost; Redis has the first" in err and "file" not in err  # fmt: skip
    assert unsaved.node.end_state() == {"state": "done", "reason": ""}


def test_bliss_data_status(session, shell_env):
    session["loopscan"](3, 0, session["diode"])
    result = run_bliss("--config", str(__import__("conftest").BEAMLINE), "data", "status", env=shell_env)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"test_session: memory used \d+\.\d MiB of the 1024 MiB cap \(\d+%\); finished scans held: 1, "
                        r"each kept 24 h after it ended; running: 0", lines[0])  # fmt: skip
    assert re.fullmatch(r"  oldest: test_session:\S+:1_loopscan, ended \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[1])


@pytest.mark.parametrize(("text", "seconds"), [(86400, 86400), ("12h", 43200), ("1d", 86400), ("90", 90), ("2m", 120)])
def test_retention_durations(text, seconds):
    assert parse_duration(text, "data_retention") == seconds


@pytest.mark.parametrize(("text", "size"), [("1gb", 1 << 30), ("512MB", 512 << 20), (4096, 4096), ("1.5g", 3 << 29)])
def test_memory_cap_sizes(text, size):
    assert parse_size(text, "redis_memory_cap") == size


@pytest.mark.parametrize("bad", ["", "soon", "-1d", 0, "1tb", True])
def test_bad_retention_settings_are_refused_clearly(bad, tmp_path, shell_env):
    with pytest.raises(ValueError, match="must be a"):
        parse_duration(bad, "data_retention") if not str(bad).endswith("tb") else parse_size(bad, "redis_memory_cap")


def test_a_bad_cap_in_the_config_stops_the_shell_with_one_line(tmp_path, shell_env):
    import shutil

    from conftest import BEAMLINE

    config = tmp_path / "beamline"
    shutil.copytree(BEAMLINE, config)
    (config / "__init__.yml").write_text("redis_memory_cap: lots\n")
    result = run_bliss("--config", str(config), "-s", "test_session", "-c", "pass", env=shell_env)
    assert result.returncode == 1
    assert result.stderr.strip() == ("bliss: the config's root __init__.yml: redis_memory_cap must be a size such as "
                                     "1gb, 512mb or a number of bytes, not 'lots'")  # fmt: skip
