"""A scan's info follows BLISS's schema, as blissdata 2.4.5 declares it (``blissdata.schemas.scan_info.ScanInfoDict``),
in Redis and in the file, at the start and at the end: what blissoda-style processors and blissdata's readers read
(``acquisition_chain``, ``channels``, ``devices``, ``scan_nb``, ``save``, ``filename``, ``end_reason``, ...); and the
identity blissdata indexes a scan by. Real scans of the test session, a real Redis, real files."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import h5py
import pydantic
import pytest
from blissdata.schemas.scan_info import ScanInfoDict

from bliss_shell.data import get_node
from bliss_shell.data.blissdata import END_REASONS as DOCUMENT_END_REASONS
from bliss_shell.scanning import scan_info
from bliss_shell.scanning.consumers import ScanConsumer
from bliss_shell.scanning.scan_identity import scan_identity
from bliss_shell.scanning.scan_info import describe, end_reason, positioners_at, saving_facts
from bliss_shell.scanning.subscriptions import Subscription
from conftest import interruptible, wait_for
from test_chain_tango import beamline, server  # noqa: F401  (a session on Tango simulators: card, MCA, camera)


class _Described(pydantic.BaseModel):
    """blissdata's schema of a scan's info, checked strictly (no str made int, no int made bool)."""

    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True, strict=True)
    scan_info: ScanInfoDict


def fits_schema(info: dict[str, Any]) -> dict[str, Any]:
    """The info as a reader gets it (JSON), checked against blissdata's schema; raises naming what does not fit."""
    as_read = json.loads(json.dumps(info, allow_nan=False))
    _Described.model_validate({"scan_info": as_read})
    return as_read


def file_info(scan) -> dict[str, Any]:
    with h5py.File(scan.path, "r", locking=False) as file:
        return json.loads(file[f"{scan.number}.1/scan_info"][()].decode())


SCANS = {  # kind: (the session it runs in, the scan)
    "ascan": ("session", lambda s: s["ascan"](s["roby"], 0, 1, 3, 0, s["diode"])),
    "loopscan": ("session", lambda s: s["loopscan"](3, 0, s["diode"], s["c1"])),
    "ct": ("session", lambda s: s["ct"](0.01, s["diode"])),
    "amesh": ("session", lambda s: s["amesh"](s["roby"], 0, 1, 2, s["robz"], 0, 1, 3, 0, s["diode"])),
    "mca": ("session", lambda s: s["loopscan"](2, 0, s["simu1"], s["diode"])),
    "fscan": ("beamline", lambda s: s["fscan"](s["fm1"], 1, 0.02, 20, 0.002, s["ct1"], s["ct_timer"])),
    "ftimescan_mca": ("beamline", lambda s: s["ftimescan"](0.001, 20, s["ct1"], s["ct_timer"], s["mca"])),
    "lima": ("beamline", lambda s: s["loopscan"](2, 0.01, s["cam"], s["a"])),
}


def run(request, kind: str):
    """The scan of ``kind`` in its session, done; and that session."""
    fixture, command = SCANS[kind]
    namespace = request.getfixturevalue(fixture)
    return command(namespace), namespace


@pytest.mark.parametrize("kind", list(SCANS))
def test_the_info_of_each_kind_of_scan_fits_blissdatas_schema_at_its_start_and_its_end(request, kind):
    scan, session = run(request, kind)
    name = session["SCAN_SAVING"].session
    start, end = datetime.now().astimezone(), datetime.now().astimezone()
    parts = {"chain": scan.chain, "number": scan.number, "saving": saving_facts(session["SCAN_SAVING"])}
    positions = positioners_at("start", {"roby": 1.0}, {"roby": 1.0}, {"roby": "mm"})
    at_start = fits_schema(describe(scan.plan, name, scan.path, start, None, 0, **parts, positioners=positions))
    assert "end_time" not in at_start and "end_reason" not in at_start
    positions |= positioners_at("end", {"roby": 2.0}, {"roby": 2.0})
    at_end = fits_schema(describe(scan.plan, name, scan.path, start, end, scan.plan.npoints, **parts,
                                  end_state="done", positioners=positions))  # fmt: skip
    assert at_end["end_reason"] == "SUCCESS" and at_end["end_time"] == end.isoformat()
    positioners = at_end["positioners"]
    assert positioners["positioners_start"] == {"roby": 1.0} and positioners["positioners_end"] == {"roby": 2.0}
    assert at_end["scan_nb"] == scan.number and at_end["type"] == scan.name and at_end["title"] == scan.plan.title
    assert at_end["name"] == scan.node.db_name.rsplit(":", 1)[1]  # 3_ascan, or _1_ct unsaved: the node's name
    assert at_end["save"] is (scan.path is not None) and at_end["filename"] == scan.path
    assert at_end["session_name"] == name and at_end["data_policy"] == "None"
    assert at_end["publisher"] == "bliss_shell" and at_end["data_writer"] == "nexus"
    published = {node.fullname for node in scan.node.walk(wait=False) if node.type in ("channel", "lima")}
    assert set(at_end["channels"]) == published  # every channel, by its fullname
    chain = at_end["acquisition_chain"]
    (top,) = chain
    devices = at_end["devices"]
    assert chain[top]["devices"][0] == chain[top]["top_master"] and set(chain[top]["devices"]) == set(devices)
    for key, device in devices.items():
        assert key.rsplit(":", 1)[-1] == device["name"]  # a reader takes a device's name after the last ':'
        assert all(at_end["channels"][channel]["device"] == key for channel in device["channels"])


def test_the_chain_an_mca_and_a_mesh_are_described_as_bliss_describes_them(session):
    scan = session["amesh"](session["roby"], 0, 1, 2, session["robz"], 0, 2, 3, 0, session["diode"], session["simu1"])
    info = describe(scan.plan, "test_session", scan.path, None, None, 0, chain=scan.chain, number=scan.number)
    chain = info["acquisition_chain"]["axis"]
    assert chain["master"] == {"scalars": ["axis:roby", "axis:robz"], "spectra": [], "images": []}
    assert chain["scalars"][:2] == ["timer:elapsed_time", "timer:epoch"] and chain["spectra"] == ["simu1:simu1"]
    assert info["devices"]["axis:timer:simu1"]["type"] == "mca" and "type" not in info["devices"]["axis:timer"]
    simu1 = session["simu1"]
    assert info["channels"]["simu1:simu1"] == {"display_name": "simu1", "dim": 1, "device": "axis:timer:simu1",
                                               **({"unit": simu1.unit} if simu1.unit else {})}  # fmt: skip
    assert info["channels"]["axis:roby"] == {"display_name": "roby", "dim": 0, "unit": "mm", "device": "axis",
                                             "start": 0.0, "stop": 1.0, "points": 6, "axis_id": 0, "axis_points": 2,
                                             "axis_kind": "forth", "group": "scatter"}  # fmt: skip
    assert (info["channels"]["axis:robz"]["axis_id"], info["channels"]["axis:robz"]["axis_points"]) == (1, 3)


def test_what_scan_info_gives_is_merged_but_never_says_which_scan_it_is_or_how_it_ended(session):
    given = {"sample": "quartz", "scan_nb": 99, "end_reason": "x", "title": "my title", "instrument": {"x": 1},
             "channels": {"diode:diode": {"decimals": 2, "dim": 5}}}  # fmt: skip
    scan = session["loopscan"](1, 0, session["diode"], scan_info=given)
    info = describe(scan.plan, "test_session", scan.path, None, None, 1, chain=scan.chain, number=scan.number,
                    end_state="aborted")  # fmt: skip
    assert (info["sample"], info["title"], info["instrument"]) == ("quartz", "my title", {"x": 1})
    assert (info["channels"]["diode:diode"]["decimals"], info["channels"]["diode:diode"]["dim"]) == (2, 0)
    assert (info["scan_nb"], info["end_reason"]) == (scan.number, "USER_ABORT")


@pytest.mark.parametrize(
    ("command", "given", "message"),
    [
        ("loopscan", {"positioners": None}, "loopscan: scan_info['positioners'] must be a dict, not None: the scan adds "
                                            "positioners_start, positioners_end, ... to it"),
        ("loopscan", {"channels": {"diode:diode": "x"}}, "loopscan: scan_info['channels']['diode:diode'] must be a dict "
                                                         "of its metadata ({'unit': 'mm'}), not 'x': the scan adds its "
                                                         "own to it"),
        ("loopscan", {"devices": ["timer"]}, "loopscan: scan_info['devices'] must be a dict, not ['timer']: the scan "
                                             "adds each device's name, channels, ... to it"),
        ("loopscan", "quartz", "loopscan: scan_info must be a dict ({'sample': 'quartz'}), not 'quartz'"),
        ("amesh", {"channels": 3}, "amesh: scan_info['channels'] must be a dict, not 3: the scan adds each channel's "
                                   "dim, device, ... to it"),
        ("amesh", {"plots": {"kind": "scatter-plot"}}, "amesh: scan_info['plots'] must be a list of plots ([{'kind': "
                                                        "'curve-plot', 'items': []}]), not {'kind': 'scatter-plot'}: "
                                                        "the scan adds its default plot to it"),
    ],
)  # fmt: skip
def test_a_scan_info_the_scan_cannot_add_to_is_refused_before_anything_is_numbered(session, redis_client, tmp_path,
                                                                                 command, given, message):  # fmt: skip
    roby, robz, diode = session["roby"], session["robz"], session["diode"]
    run = {"loopscan": lambda: session["loopscan"](1, 0, diode, scan_info=given),
           "amesh": lambda: session["amesh"](roby, 1, 2, 2, robz, 1, 2, 2, 0, diode, scan_info=given)}  # fmt: skip
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        run[command]()
    assert len(session["SCANS"]) == 0 and (roby.position, robz.position) == (0, 0)  # nothing numbered, nothing moved
    assert not [key for key in redis_client.keys("node|*") if b"scan" in key.rsplit(b":", 1)[-1]]  # nothing published
    assert not list(tmp_path.rglob("*.h5"))  # nothing saved
    assert session["loopscan"](1, 0, diode, scan_info={"positioners": {}, "channels": {}}).number == 1


def test_end_reasons_and_positioners_as_bliss_names_them():
    assert [end_reason(state) for state in ("done", "aborted", "failed")] == ["SUCCESS", "USER_ABORT", "FAILURE"]
    assert scan_info.END_REASONS is DOCUMENT_END_REASONS  # the scan's info and its blissdata document agree
    with pytest.raises(ValueError, match="^end_reason: a scan ends 'done', 'aborted', 'failed', not 'idle'$"):
        end_reason("idle")
    assert positioners_at("end", {"roby": float("nan")}) == {"positioners_end": {"roby": None}}  # JSON has no NaN


def test_the_identity_says_the_data_policy_and_the_file_of_a_saved_scan_only(session):
    saving = session["SCAN_SAVING"]
    saved = session["loopscan"](1, 0, session["diode"])
    unsaved = session["ct"](0.01, session["diode"])
    assert scan_identity(saving, "test_session", saved.name, saved.number, saved.path) == {
        "name": "loopscan", "number": saved.number, "data_policy": "None", "session": "test_session",
        "proposal": None, "collection": None, "dataset": None, "path": saved.path}  # fmt: skip
    assert scan_identity(saving, "test_session", "ct", unsaved.number, unsaved.path)["path"] is None


def test_under_the_esrf_data_policy_the_identity_names_proposal_collection_and_dataset(session, redis_client, tmp_path):
    from bliss_shell.scanning import current
    from bliss_shell.scanning.esrf_saving import ESRFScanSaving, newdataset, newproposal

    root = tmp_path / "data"
    current().scan_saving = saving = ESRFScanSaving(redis_client, "test_session", {
        "beamline": "id00", "visitor_data_root": f"{root}/visitor", "inhouse_data_root": f"{root}/inhouse",
        "tmp_data_root": f"{root}/tmp"})  # fmt: skip
    newproposal("hg123")
    newdataset("area1")
    scan = session["loopscan"](1, 0, session["diode"])
    identity = scan_identity(saving, "test_session", scan.name, scan.number, scan.path)
    assert (identity["data_policy"], identity["proposal"], identity["collection"]) == ("ESRF", "hg123", "sample")
    assert identity["dataset"] == "0001" or identity["dataset"].endswith("area1")
    assert identity["path"] == scan.path and scan.path.endswith(".h5")
    info = fits_schema(describe(scan.plan, "test_session", scan.path, datetime.now().astimezone(), None, 1,
                                saving=saving_facts(saving), number=scan.number, chain=scan.chain))  # fmt: skip
    assert info["data_policy"] == "ESRF"


# What a reader gets: these need the scan to pass its chain, number, SCAN_SAVING, positions and end to ``describe``
# (scan.py, ending.py: /tmp/i30/requests_H3.md).


def test_a_running_scan_s_info_in_redis_fits_the_schema_and_its_end_says_user_abort(session):
    scans = session["SCANS"]
    scan = session["loopscan"](200, 0.01, session["diode"], run=False)
    command = interruptible(scan.run)
    wait_for(lambda: scan.node is not None and len(get_node(f"{scan.node.db_name}:timer:diode:diode") or []) >= 2,
             "the scan took no point")  # fmt: skip
    running = fits_schema(get_node(scan.node.db_name).info)
    assert "end_time" not in running and "end_reason" not in running and running["scan_nb"] == scan.number
    assert "roby" in running["positioners"]["positioners_start"] and "timer" in running["acquisition_chain"]
    command.kill(KeyboardInterrupt, block=True)
    assert scan.state == "aborted" and scans[-1] is scan
    for info in (scan.scan_info, file_info(scan)):
        assert fits_schema(info)["end_reason"] == "USER_ABORT"


class EndFails(ScanConsumer):
    """A data consumer whose end fails: the scan took every point, yet it failed."""

    def __init__(self, start):
        pass

    def end(self, ending):
        raise OSError("archive disk gone")


@pytest.mark.parametrize("kind", ["ascan", "ct", "mca", "fscan", "lima"])
def test_an_ended_scan_s_info_in_redis_and_in_its_file_fits_the_schema(request, kind):
    scan, _ = run(request, kind)
    info = fits_schema(get_node(scan.node.db_name).info)
    assert info["end_reason"] == "SUCCESS" and info["scan_nb"] == scan.number
    positioners = info["positioners"]
    motors = set(positioners["positioners_start"])
    assert motors != set() and all(set(positioners[key]) == motors for key in (
        "positioners_end", "positioners_dial_start", "positioners_dial_end", "positioners_units"))  # fmt: skip
    if scan.path is not None:
        assert fits_schema(file_info(scan)) == info


def test_a_scan_that_failed_at_its_end_says_failure_in_redis(session):
    scan = session["loopscan"](2, 0, session["diode"], run=False)
    with pytest.raises(Exception, match="archive disk gone"):  # a data consumer: its failure fails the scan
        scan.run(consumers=[Subscription("archive", EndFails, data=True)])
    assert scan.state == "failed" and fits_schema(scan.scan_info)["end_reason"] == "FAILURE"


def test_a_lima_scan_and_a_tango_mca_are_typed_as_bliss_types_them(request):
    scan, _ = run(request, "lima")
    info = describe(scan.plan, "chain_session", scan.path, None, None, 2, chain=scan.chain, number=scan.number)
    assert info["devices"]["timer:cam"]["type"] == "lima" and info["channels"]["cam:image"]["dim"] == 2
    assert info["acquisition_chain"]["timer"]["images"] == ["cam:image"]
    scan, _ = run(request, "ftimescan_mca")
    info = describe(scan.plan, "chain_session", scan.path, None, None, 2, chain=scan.chain, number=scan.number)
    (mca,) = [key for key, device in info["devices"].items() if device["name"] == "mca"]
    assert info["devices"][mca]["type"] == "mca" and info["channels"]["mca:mca"]["dim"] == 1


# What BLISS 2.4.0's commands put in the scan's info for the same command (read in its wheel, bliss==2.4.0):
# bliss/common/scans/step_by_step.py: anscan (ascan, dscan, a2scan) sets scan_info["start"]/["stop"] (one per motor,
# absolute: dscan adds the motor's position) and, unless the user gave an unnamed curve plot, add_curve_plot(x=the
# first motor's channel); timescan (loopscan, ct) adds add_curve_plot(x=chain.timer.channels[0]) only when npoints != 1
# (so ct has no plot); neither sets data_dim. meshes.py: anmesh (amesh, dmesh: start/stop made absolute) sets
# data_dim, npoints1, npoints2, start, stop, add_scatter_plot(x=fast, y=slow) (no value), set_channel_meta(motor,
# start, stop, points=all, axis_id, axis_points, axis_kind forth/backnforth, group "scatter"), and group "scatter" on
# each dim-0 channel of the devices that trigger nothing. bliss/scanning/scan_info.py: add_curve_plot makes
# {"kind": "curve-plot", "items": [{"kind": "curve", "x": x}]}, add_scatter_plot {"kind": "scatter-plot", "items":
# [{"kind": "scatter", "x": x, "y": y}]}, no "name" (Flint shows them as its "default-curve"/"default-scatter").
def curve(x):
    return [{"kind": "curve-plot", "items": [{"kind": "curve", "x": x}]}]


SCATTER = [{"kind": "scatter-plot", "items": [{"kind": "scatter", "x": "axis:roby", "y": "axis:robz"}]}]
LAYOUTS = {  # command: (what it runs, the layout keys BLISS 2.4.0 gives it)
    "ascan": (lambda s: s["ascan"](s["roby"], 0, 1, 3, 0, s["diode"]),
              {"plots": curve("axis:roby"), "start": [0.0], "stop": [1.0]}),
    "dscan": (lambda s: s["dscan"](s["roby"], -1, 1, 3, 0, s["diode"]),  # roby at 1: absolute ends
              {"plots": curve("axis:roby"), "start": [0.0], "stop": [2.0]}),
    "a2scan": (lambda s: s["a2scan"](s["roby"], 0, 1, s["robz"], 2, 4, 3, 0, s["diode"]),
               {"plots": curve("axis:roby"), "start": [0.0, 2.0], "stop": [1.0, 4.0]}),
    "loopscan": (lambda s: s["loopscan"](3, 0, s["diode"]), {"plots": curve("timer:elapsed_time")}),
    "timescan": (lambda s: s["timescan"](0, s["diode"], npoints=3), {"plots": curve("timer:elapsed_time")}),
    "ct": (lambda s: s["ct"](0.01, s["diode"]), {}),
    "amesh": (lambda s: s["amesh"](s["roby"], 0, 1, 2, s["robz"], 0, 2, 3, 0, s["diode"]),
              {"plots": SCATTER, "data_dim": 2, "npoints1": 2, "npoints2": 3, "start": [0.0, 0.0], "stop": [1.0, 2.0]}),
    "dmesh": (lambda s: s["dmesh"](s["roby"], -1, 1, 3, s["robz"], 0, 1, 2, 0, s["diode"], backnforth=True),
              {"plots": SCATTER, "data_dim": 2, "npoints1": 3, "npoints2": 2, "start": [0.0, 1.0], "stop": [2.0, 2.0]}),
}  # fmt: skip


@pytest.mark.parametrize("command", list(LAYOUTS))
def test_each_command_gives_the_plots_and_the_shape_bliss_gives_it(session, command):
    if command.startswith("d"):
        session["mv"](session["roby"], 1, session["robz"], 1)
    run, expected = LAYOUTS[command]
    scan = run(session)
    keys = ("plots", "start", "stop", "data_dim", "npoints1", "npoints2")
    for info in (fits_schema(get_node(scan.node.db_name).info), fits_schema(scan.scan_info)):
        assert {key: info[key] for key in keys if key in info} == expected
    roby = info["channels"].get("axis:roby", {})
    if command in ("ascan", "dscan", "a2scan"):  # set_channel_meta(motor, start, stop, points) too
        assert (roby["start"], roby["stop"], roby["points"]) == (expected["start"][0], expected["stop"][0], 3)
    grouped = [name for name, channel in info["channels"].items() if "group" in channel]
    assert grouped == (["axis:roby", "axis:robz", "diode:diode"] if "mesh" in command else [])


def test_a_mesh_s_motors_and_counters_are_its_scatter_as_in_bliss(session):
    session["mv"](session["roby"], 1, session["robz"], 1)
    scan = LAYOUTS["dmesh"][0](session)
    channels = fits_schema(get_node(scan.node.db_name).info)["channels"]
    axes = {key: channels["axis:roby"][key] for key in ("start", "stop", "points", "axis_id", "axis_points",
                                                         "axis_kind", "group")}  # fmt: skip
    assert axes == {"start": 0.0, "stop": 2.0, "points": 6, "axis_id": 0, "axis_points": 3, "axis_kind": "backnforth",
                    "group": "scatter"}  # fmt: skip
    assert (channels["axis:robz"]["axis_id"], channels["axis:robz"]["axis_points"]) == (1, 2)
    assert (channels["axis:robz"]["start"], channels["axis:robz"]["stop"]) == (1.0, 2.0)
    assert channels["diode:diode"]["group"] == "scatter"  # a counter: a device that triggers nothing
    assert "group" not in channels["timer:elapsed_time"]  # the timer triggers the counters: BLISS leaves it out


def test_a_default_curve_plot_of_scan_info_replaces_the_scan_s_and_named_ones_are_kept(session):
    mine = {"kind": "curve-plot", "items": [{"kind": "curve", "x": "axis:roby", "y": "diode:diode"}]}
    named = {"kind": "curve-plot", "name": "mine", "items": []}
    replaced = session["ascan"](session["roby"], 0, 1, 2, 0, session["diode"], scan_info={"plots": [mine]})
    assert fits_schema(replaced.scan_info)["plots"] == [mine]
    kept = session["ascan"](session["roby"], 0, 1, 2, 0, session["diode"], scan_info={"plots": [named]})
    assert fits_schema(kept.scan_info)["plots"] == [named, *curve("axis:roby")]
