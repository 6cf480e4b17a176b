"""BLISS's data and saving API as its users' scripts use it (issue 28): ``get(None)``, a template with
``{scan_name}`` and ``{scan_number}``, the null writer, and a scan without any counter.

Real scans, a real Redis, real files; a Lima camera is a real simulator device server.
"""

from __future__ import annotations

import numpy as np
import pytest

from bliss_shell.config import ConfigRoot
from bliss_shell.data import get_node, get_session_node, keys
from conftest import BEAMLINE, open_session
from test_data_policy import only_entry
from test_readback import lima_scan  # noqa: F401  (a finished five-frame Lima scan)
from test_tango import simulator  # noqa: F401  (the module's simulator server)

# -- node.get(None): the first item, as BLISS's get says ---------------------------------------------------------


def test_get_none_is_the_first_point_as_blisss_get_says(session):
    scan = session["loopscan"](5, 0, session["diode"])
    diode = get_node(f"{scan.node.db_name}:timer:diode:diode")
    every = diode.get(0, -1)
    assert diode.get(None) == every[0]
    assert diode.get(None, -1).tolist() == every.tolist() and diode.get(None, 2).tolist() == every[:3].tolist()
    assert diode.get_as_array(None, 1).tolist() == every[:2].tolist() and diode.get_as_array(None) == every[0]
    with pytest.raises(TypeError, match=r"^diode:diode.get: indexes are whole numbers, not '1': get\(0\) is the first"):
        diode.get("1")


def test_get_none_of_a_lima_node_is_its_first_frame(lima_scan):  # noqa: F811
    _, lima_node = lima_scan
    first = lima_node.get(None)
    assert (first.from_index, first.to_index) == (0, 0)
    assert np.array_equal(first.as_array(), lima_node.get(0).as_array())
    assert len(lima_node.get(None, -1)) == 5


# -- SCAN_SAVING.template with {scan_name} and {scan_number}: a folder per scan, as BLISS's test_scan_saving_path ----


def test_a_template_with_scan_name_and_scan_number_gives_each_scan_its_own_file(session, tmp_path, redis_client):
    SCAN_SAVING, roby, diode = session["SCAN_SAVING"], session["roby"], session["diode"]
    common = SCAN_SAVING.directory_db_name()
    SCAN_SAVING.template = "{session}/{scan_name}/{scan_number}"
    SCAN_SAVING.data_filename = "{session}_{scan_name}_data"
    base = tmp_path / "scans" / "test_session"
    root = f"{base}/{{scan_name}}/{{scan_number}}"  # before a scan, the keys show as they are (BLISS)
    assert SCAN_SAVING.template == "{session}/{scan_name}/{scan_number}"
    assert SCAN_SAVING.get_path() == SCAN_SAVING.root_path == root
    assert SCAN_SAVING.filename == f"{root}/test_session_{{scan_name}}_data.h5"
    assert SCAN_SAVING.images_path(3, "ascan") == f"{base}/ascan/0003/scan0003/{{img_acq_device}}_"
    assert f"does not exist  directory  {root}" in repr(SCAN_SAVING)

    scans = [
        session["ascan"](roby, 0, 1, 2, 0, diode),
        session["loopscan"](2, 0, diode),
        session["ascan"](roby, 0, 1, 3, 0, diode),
    ]
    assert [scan.number for scan in scans] == [1, 2, 3]  # one counter: the scans' common folder's, as in BLISS
    expected = [f"{base}/ascan/0001/test_session_ascan_data.h5", f"{base}/loopscan/0002/test_session_loopscan_data.h5",
                f"{base}/ascan/0003/test_session_ascan_data.h5"]  # fmt: skip
    assert [scan.path for scan in scans] == expected
    assert sorted(str(path) for path in base.rglob("*.h5")) == sorted(expected)
    assert not [path for path in (tmp_path / "scans").rglob("*") if "{" in path.name]  # no folder named by a key
    for scan, points in zip(scans, (2, 2, 3)):
        assert only_entry(scan.path) == f"{scan.number}.1" and len(scan.get_data()["diode"]) == points
        assert scan.node.db_name == f"{common[0]}:{scan.number}_{scan.name}"  # in the tree, under the common folder

    redis_client.hdel(keys.node_key(common[0]), "last_scan_number")  # the counter expired from Redis
    again = session["loopscan"](2, 0, diode)  # goes on above every scan name's files, as BLISS's kept counter would
    assert again.number == 4 and again.path == f"{base}/loopscan/0004/test_session_loopscan_data.h5"
    assert [only_entry(path) for path in expected] == ["1.1", "2.1", "3.1"]  # the scans of those files are left as they were


# -- the null writer: no file, as BLISS says -------------------------------------------------------------------------


def test_the_null_writer_has_no_filename_and_its_table_says_no_saving(session, tmp_path):
    SCAN_SAVING = session["SCAN_SAVING"]
    SCAN_SAVING.writer = "null"
    assert SCAN_SAVING.filename == "" and SCAN_SAVING.scan_filename(True) is None
    assert SCAN_SAVING.get_path() == SCAN_SAVING.root_path == str(tmp_path / "scans" / "test_session")
    assert repr(SCAN_SAVING).splitlines()[-3:] == ["---------", "NO SAVING", "---------"]
    assert session["loopscan"](2, 0, session["diode"]).path is None and not list(tmp_path.rglob("*.h5"))


# -- a scan without any counter is refused, as BLISS does, before anything happens ----------------------------------

BARE_SESSION = "name: bare_session\nclass: Session\nconfig-objects: [roby, robz, diode]\n"


@pytest.fixture
def bare_session(redis_client, tmp_path) -> dict:
    """A session without a measurement group: roby, robz and diode only."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "bare_session.yml").write_text(BARE_SESSION)
    return open_session([ConfigRoot(BEAMLINE), ConfigRoot(tmp_path / "config", "extra")], "bare_session", redis_client,
                        tmp_path / "scans")  # fmt: skip


def every_scan_command(s: dict, *counters) -> dict:
    """Each scan command, called with ``counters``: name -> call."""
    roby, robz = s["roby"], s["robz"]
    return {
        "ct": lambda: s["ct"](0.01, *counters),
        "sct": lambda: s["sct"](0.01, *counters),
        "loopscan": lambda: s["loopscan"](3, 0.01, *counters),
        "timescan": lambda: s["timescan"](0.01, *counters, npoints=3),
        "ascan": lambda: s["ascan"](roby, 0, 1, 3, 0.05, *counters),
        "dscan": lambda: s["dscan"](roby, -1, 1, 3, 0.01, *counters),
        "a2scan": lambda: s["a2scan"](roby, 0, 1, robz, 0, 1, 3, 0.01, *counters),
        "d2scan": lambda: s["d2scan"](roby, 0, 1, robz, 0, 1, 3, 0.01, *counters),
        "anscan": lambda: s["anscan"]([(roby, 0, 1)], 3, 0.01, *counters),
        "dnscan": lambda: s["dnscan"]([(roby, 0, 1)], 3, 0.01, *counters),
        "amesh": lambda: s["amesh"](roby, 0, 1, 2, robz, 0, 1, 2, 0.01, *counters),
        "dmesh": lambda: s["dmesh"](roby, 0, 1, 2, robz, 0, 1, 2, 0.01, *counters),
        "lookupscan": lambda: s["lookupscan"]([(roby, [0, 1, 2])], 0.01, *counters),
        "pointscan": lambda: s["pointscan"](roby, [0, 1, 2], 0.01, *counters),
        "fscan": lambda: s["fscan"](roby, 0, 0.01, 10, 0.01, *counters),
        "ftimescan": lambda: s["ftimescan"](0.01, 10, *counters),
    }


def nothing_happened(s: dict, redis_client, tmp_path, roby_at: float) -> None:
    assert len(s["SCANS"]) == 0 and not list(tmp_path.rglob("*.h5")) and s["roby"].position == roby_at
    assert not list(get_session_node(s["SCAN_SAVING"].session).walk(include_filter="scan", wait=False))
    assert redis_client.hget(keys.node_key(s["SCAN_SAVING"].directory_db_name()[0]), "last_scan_number") is None


def test_a_scan_with_no_counter_at_all_is_refused_before_anything_happens(bare_session, redis_client, tmp_path):
    s = bare_session
    s["roby"].move(0.5)
    for command, call in every_scan_command(s).items():
        with pytest.raises(ValueError, match=rf"^{command}: No counters for scan: none given, and the session has no "
                                             rf"measurement group; give counters, like {command}\(\.\.\., diode\)$"):  # fmt: skip
            call()
    nothing_happened(s, redis_client, tmp_path, 0.5)
    assert s["loopscan"](2, 0, s["diode"]).number == 1  # no number was spent, as in BLISS


def test_a_scan_of_a_group_with_every_counter_disabled_is_refused(session, redis_client, tmp_path):
    session["MG2"].disable_all()
    session["roby"].move(0.5)
    for command, call in every_scan_command(session, session["MG2"]).items():
        with pytest.raises(ValueError, match=rf"^{command}: No counters for scan. Hint: are all counters disabled \? "
                                             r"\(MG2: none enabled; MG2.enable\(...\), or give counters\)$"):  # fmt: skip
            call()
    nothing_happened(session, redis_client, tmp_path, 0.5)
