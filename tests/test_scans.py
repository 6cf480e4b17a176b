"""Scan commands as a scientist types them in test_session (tests/beamline)."""

from __future__ import annotations

import os

import gevent
import numpy as np
import pytest

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.data import EventType, get_node, get_session_node
from bliss_shell.scanning import ScanSaving
from bliss_shell.shell.error_report import ErrorReport
from bliss_shell.shell.namespace import session_namespace
from conftest import BEAMLINE, interruptible, wait_for


def db_names(node) -> list[str]:
    return [n.db_name for n in node.walk(wait=False)]


def test_reference_walkthrough_two_samples_three_ascans(session, tmp_path):
    reference_walkthrough(session, tmp_path)


def reference_walkthrough(session: dict, tmp_path) -> None:
    """The reference's two samples and three ascans, the walk of the tree and get_data (also run on a cluster)."""
    SCAN_SAVING, ascan, roby, diode = (session[k] for k in ("SCAN_SAVING", "ascan", "roby", "diode"))
    SCAN_SAVING.add("s_name", "")
    SCAN_SAVING.template = "{session}/{s_name}/"
    SCAN_SAVING.s_name = "sample1"
    first = ascan(roby, 0, 9, 10, 0.01, diode)
    second = ascan(roby, 0, 9, 10, 0.01, diode)
    SCAN_SAVING.s_name = "sample2"
    third = ascan(roby, 0, 9, 10, 0.01, diode)

    base = "test_session:" + ":".join(str(tmp_path / "scans").strip("/").split("/"))
    scan_nodes = [
        "axis",
        "axis:roby",
        "axis:timer",
        "axis:timer:elapsed_time",
        "axis:timer:epoch",
        "axis:timer:diode",
        "axis:timer:diode:diode",
    ]
    expected = ["test_session", f"{base}:sample1"]
    for scan in (f"{base}:sample1:1_ascan", f"{base}:sample1:2_ascan"):
        expected += [scan] + [f"{scan}:{n}" for n in scan_nodes]
    expected += [f"{base}:sample2", f"{base}:sample2:1_ascan"] + [f"{base}:sample2:1_ascan:{n}" for n in scan_nodes]
    assert db_names(get_node("test_session")) == expected
    names = [(n.name, n.type) for n in get_session_node("test_session").walk(wait=False)][:10]
    assert names == [("test_session", "container"), ("sample1", "container"), ("1_ascan", "scan"), ("axis", "container"),
                     ("roby", "channel"), ("timer", "container"), ("elapsed_time", "channel"), ("epoch", "channel"), ("diode", "container"),
                     ("diode", "channel")]  # fmt: skip

    assert (first.number, second.number, third.number) == (1, 2, 1)
    assert repr(third) == f"Scan(number=1, name=ascan, path={tmp_path}/scans/test_session/sample2/data.h5)"
    assert list(session["SCANS"]) == [first, second, third]
    assert session["SCANS"] is session["current_session"].scans
    data = third.get_data()
    assert list(data) == ["roby", "elapsed_time", "epoch", "diode"]
    assert data["roby"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert data["elapsed_time"][0] == 0 and np.all(np.diff(data["elapsed_time"]) > 0)
    assert data["axis:roby"] is data["roby"] and data[roby] is data["roby"] and data[diode] is data["diode"]
    assert data["diode:diode"].shape == (10,)
    with pytest.raises(KeyError, match="'nope' is not a channel of this scan; keys: roby, elapsed_time, epoch, diode"):
        data["nope"]


def test_scan_info_and_channel_description(session):
    scan = session["ascan"](session["roby"], 0, 1, 3, 0, session["diode"], scan_info={"sample": "quartz"})
    info = scan.node.info
    assert info["title"] == "ascan roby 0 1 3 0" and info["sample"] == "quartz"
    assert info["npoints"] == 3 and info["start_time"] < info["end_time"]
    roby_node = get_node(f"{scan.node.db_name}:axis:roby")
    assert (roby_node.short_name, roby_node.fullname, roby_node.unit, roby_node.dtype, roby_node.shape) == (
        "roby", "axis:roby", "mm", np.dtype("float64"), ())  # fmt: skip
    assert scan.node.end_state() == {"state": "done", "reason": ""}


def test_loopscan_timescan_and_ct_have_timer_on_top(session, capsys):
    loop = session["loopscan"](5, 0, session["diode"])
    assert [n.name for n in loop.node.walk(wait=False)] == ["1_loopscan", "timer", "elapsed_time", "epoch", "diode", "diode"]
    times = session["timescan"](0, session["diode"], npoints=3)
    assert len(times.get_data()["diode"]) == 3
    count = session["ct"](0.05, session["diode"], session["c1"], session["c2"])
    assert [n.name for n in count.node.walk(wait=False)] == [
        "_1_ct",
        "timer",
        "elapsed_time",
        "epoch",
        "diode",
        "diode",
        "sim",
        "c1",
        "c2",
    ]
    assert repr(count) == "Scan(number=1, name=ct, path=<no saving>)"
    assert session["SCANS"][-1] is count
    lines = capsys.readouterr().out.splitlines()
    value = count.get_data()["diode"][0]
    assert lines[-3].split() == ["diode", "=", f"{value:.6g}", f"({value / 0.05:.6g}", "/s)", "diode"]
    assert lines[-3].index("=") == lines[-2].index("=") == lines[-1].index("=")  # one column of values
    assert session["sct"](0.01, session["diode"]).number == 3  # saved scans count on: loopscan 1, timescan 2


def test_scans_without_counters_use_active_mg(session):
    assert session["ACTIVE_MG"] is session["MG1"]
    data = session["loopscan"](2, 0).get_data()
    assert list(data) == ["elapsed_time", "epoch", "diode", "diode2"]


def test_dscan_returns_the_motor_and_lineup_goes_to_the_peak(session):
    roby = session["roby"]
    roby.move(2)
    scan = session["dscan"](roby, -1, 1, 5, 0, session["diode"])
    assert scan.get_data()["roby"].tolist() == [1, 1.5, 2, 2.5, 3]
    assert roby.position == 2
    session["lineup"](roby, -2, 2, 41, 0, session["sim_ct_gauss"])  # peak at 3.2
    assert roby.position == pytest.approx(3.2)


def test_multi_motor_and_mesh_positions(session):
    roby, robz, diode = session["roby"], session["robz"], session["diode"]
    two = session["a2scan"](roby, 0, 1, robz, 10, 20, 3, 0, diode).get_data()
    assert two["roby"].tolist() == [0, 0.5, 1] and two["robz"].tolist() == [10, 15, 20]
    mesh = session["amesh"](roby, 0, 2, 3, robz, 0, 1, 2, 0, diode, backnforth=True).get_data()
    assert mesh["roby"].tolist() == [0, 1, 2, 2, 1, 0] and mesh["robz"].tolist() == [0, 0, 0, 1, 1, 1]
    roby.move(5)
    session["dmesh"](roby, -1, 1, 2, robz, 0, 1, 2, 0, diode)
    assert roby.position == 5
    points = session["pointscan"](roby, [3, 1, 4], 0, diode).get_data()
    assert points["roby"].tolist() == [3, 1, 4]
    table = session["lookupscan"]([(roby, [1, 2]), (robz, [7, 8])], 0, diode).get_data()
    assert table["robz"].tolist() == [7, 8]
    anscan = session["anscan"]([(roby, 0, 2), (robz, 2, 0)], 3, 0, diode).get_data()
    assert anscan["robz"].tolist() == [2, 1, 0]


def test_one_dimensional_counter_gives_npoints_by_bins(session):
    scan = session["loopscan"](4, 0.001, session["simu1"])
    spectra = scan.get_data()["simu1"]
    assert spectra.shape == (4, 16)
    node = get_node(f"{scan.node.db_name}:timer:simu1:simu1")
    assert node.shape == (16,) and node.get(0).shape == (16,) and node.get(0, -1).shape == (4, 16)


def test_run_false_and_return_scan(session):
    scan = session["loopscan"](2, 0, session["diode"], run=False)
    assert scan.number is None and scan not in session["SCANS"]
    scan.run()
    assert scan.number == 1 and len(scan.get_data()["diode"]) == 2
    assert session["loopscan"](1, 0, session["diode"], return_scan=False) is None


def nothing_published(client) -> bool:
    return client.exists("node|{test_session}") and not any(
        key.startswith(b"node|{test_session}:") for key in client.keys("node|*")
    )


@pytest.mark.parametrize(
    "command, args, error, message",
    [
        ("ascan", ("diode", 0, 1, 2, 0.1, "diode"), TypeError, "ascan: SimulationDiode('diode') is not a motor"),
        ("ascan", ("roby", 0, 1, 2, 0.1, 3), TypeError, "ascan: 3 is not a counter"),
        ("ascan", ("roby", 0, 1, 0, 0.1, "diode"), ValueError, "ascan: the number of points must be a whole number >= 1, not 0"),
        ("loopscan", (-3, 0.1, "diode"), ValueError, "loopscan: the number of points must be a whole number >= 1, not -3"),
        (
            "ascan",
            ("roby", 0, 1, 2, -0.1, "diode"),
            ValueError,
            "ascan: count_time must be a finite number of seconds >= 0, not -0.1",
        ),
        (
            "ascan",
            ("roby", 0, 1, 5, float("nan"), "diode"),
            ValueError,
            "ascan: count_time must be a finite number of seconds >= 0, not nan",
        ),
        (
            "loopscan",
            (3, float("inf"), "diode"),
            ValueError,
            "loopscan: count_time must be a finite number of seconds >= 0, not inf",
        ),
        ("ascan", ("roby", 0, float("nan"), 5, 0.1, "diode"), ValueError, "ascan: roby: nan is not a finite position"),
        ("dscan", ("roby", float("-inf"), 1, 5, 0.1, "diode"), ValueError, "dscan: roby: -inf is not a finite position"),
        (
            "loopscan",
            (10**12, 0, "diode"),
            ValueError,
            "loopscan: 1000000000000 points is more than a scan can plan (1e+08); "
            "split it into several scans, or use timescan to count until Ctrl-C",
        ),
        (
            "amesh",
            ("roby", 0, 1, 10**6, "robz", 0, 1, 10**6, 0.1),
            ValueError,
            "amesh: 1000000000000 points is more than a scan "
            "can plan (1e+08); split it into several scans, or "
            "use timescan to count until Ctrl-C",
        ),
        (
            "a2scan",
            ("roby", 0, 1, "roby", 2, 3, 5, 0, "diode"),
            ValueError,
            "a2scan: roby is given twice; a motor moves once per command",
        ),
        (
            "d2scan",
            ("roby", 0, 1, "roby", 2, 3, 5, 0, "diode"),
            ValueError,
            "d2scan: roby is given twice; a motor moves once per command",
        ),
        ("ascan", ("roby", 0, 1, 5, 0, "diode", "diode"), ValueError, "ascan: diode is given twice; count it once"),
        ("ascan", ("roby", 0, 120, 5, 0.1, "diode"), ValueError, "ascan: roby: position 120 outside limits (-100, 100)"),
        ("a2scan", ("roby", 0, 1, "robz", 0, -101, 5, 0.1), ValueError, "a2scan: robz: position -101 outside limits (-100, 100)"),
        ("ct", (0.1, "roby"), TypeError, "ct: SimulationMotor('roby', position=0) is not a counter"),
    ],
)
def test_bad_arguments_are_refused_before_anything_moves_or_is_published(session, redis_client, command, args, error, message):
    args = tuple(session[a] if isinstance(a, str) and a in session else a for a in args)
    before = (session["roby"].position, session["robz"].position)
    with pytest.raises(error) as caught:
        session[command](*args)
    assert str(caught.value) == message
    assert (session["roby"].position, session["robz"].position) == before
    assert nothing_published(redis_client)  # nothing numbered either: numbering creates the folder's node
    assert len(session["SCANS"]) == 0
    assert not os.path.exists(session["SCAN_SAVING"].filename)


def test_ctrl_c_during_a_scan_aborts_it_and_keeps_the_points(session):
    roby, slowy = session["roby"], session["slowy"]
    scan = session["ascan"](slowy, 0, 5, 6, 0, session["diode"], run=False)
    events = []
    reader = gevent.spawn(lambda: events.extend(get_session_node("test_session").walk_events(include_filter="scan")))
    command = interruptible(scan.run)
    wait_for(  # slowy needs about 1.3 s per point
        lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:axis:slowy") or []) >= 1 and slowy.position > 0,
        "the scan took no point, or slowy did not leave it",
    )
    command.kill(KeyboardInterrupt, block=True)
    assert isinstance(command.value, KeyboardInterrupt)
    assert slowy.state == "READY" and 0 < slowy.position < 5  # stopped where it was
    wait_for(lambda: any(e.type is EventType.END_SCAN for e in events), "the reader got no END")
    reader.kill()
    ends = [e for e in events if e.type is EventType.END_SCAN]
    assert len(ends) == 1 and ends[0].data.data == {"state": "aborted", "reason": "interrupted by user (Ctrl-C)"}
    taken = scan.get_data()["slowy"]
    assert 1 <= len(taken) < 6 and taken.tolist() == list(range(len(taken)))
    assert roby.position == 0


def test_dscan_returns_the_motor_after_ctrl_c(session):
    slowy = session["slowy"]
    slowy.move(1)
    command = interruptible(session["dscan"], slowy, 0, 3, 4, 0, session["diode"])
    wait_for(lambda: slowy.position > 1, "slowy did not leave its first point")
    command.kill(KeyboardInterrupt, block=True)
    assert isinstance(command.value, KeyboardInterrupt)
    assert slowy.position == 1


def test_scan_saving_refuses_unknown_keys_and_bad_values(session):
    SCAN_SAVING = session["SCAN_SAVING"]
    with pytest.raises(
        ValueError, match=r"SCAN_SAVING.template: unknown key 'sample' .* add it first with SCAN_SAVING.add\('sample', value\)"
    ):
        SCAN_SAVING.template = "{session}/{sample}/"
    assert SCAN_SAVING.template == "{session}/"
    with pytest.raises(AttributeError, match="SCAN_SAVING has no parameter 'nope'"):
        SCAN_SAVING.nope
    SCAN_SAVING.add("s_name", "")
    with pytest.raises(ValueError, match=r"SCAN_SAVING.s_name = '../../etc': a value may not be"):
        SCAN_SAVING.s_name = "../../etc"
    with pytest.raises(ValueError, match="must be an absolute path"):
        SCAN_SAVING.base_path = "relative"


def test_scan_saving_persists_in_redis(session, redis_client):
    session["SCAN_SAVING"].add("s_name", "x")
    session["SCAN_SAVING"].template = "{session}/{s_name}"
    again = ScanSaving(redis_client, "test_session")  # as the next shell sees it
    assert again.template == "{session}/{s_name}" and again.s_name == "x"
    assert again.filename.endswith("/test_session/x/data.h5")
    assert "does not exist  directory" in repr(again)


def test_a_setup_file_can_scan_with_the_active_measurement_group(redis_client, tmp_path):
    (tmp_path / "s.yml").write_text(
        "name: setup_scans\nclass: Session\nsetup-file: ./s_setup.py\nconfig-objects: [MG1, diode, diode2]\n"
    )
    (tmp_path / "s_setup.py").write_text(f"SCAN_SAVING.base_path = '{tmp_path}'\nfirst = ct(0.01)\n")
    config = Config([ConfigRoot(BEAMLINE), ConfigRoot(tmp_path, "extra")])
    session = config.get("setup_scans")
    namespace = session_namespace(session, redis_client, ErrorReport())
    session.setup(namespace, on_error=pytest.fail, verbose=False)
    assert list(namespace["first"].get_data()) == ["elapsed_time", "epoch", "diode", "diode2"]


def test_a_scan_prepared_earlier_saves_where_scan_saving_points_when_it_runs(session, tmp_path):
    scan = session["loopscan"](2, 0, session["diode"], run=False)
    session["SCAN_SAVING"].data_filename = "later"
    scan.run()
    assert scan.path == f"{tmp_path}/scans/test_session/later.h5" and os.path.exists(scan.path)
    assert scan.node.db_name.endswith(":scans:1_loopscan")


def test_scan_info_and_scan_number_as_bliss_scripts_read_them(session):
    planned = session["ascan"](session["roby"], 0, 1, 3, 0, session["diode"], run=False, scan_info={"sample": "quartz"})
    assert planned.scan_number is None and planned.scan_info["title"] == "ascan roby 0 1 3 0"
    scan = session["ascan"](session["roby"], 0, 1, 3, 0, session["diode"], scan_info={"sample": "quartz"})
    assert scan.scan_number == scan.number == 1
    assert scan.scan_info["title"] == "ascan roby 0 1 3 0" and scan.scan_info["sample"] == "quartz"
    assert scan.scan_info["npoints"] == 3 and "end_time" in scan.scan_info
