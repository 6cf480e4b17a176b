"""The acquisition chain as a user sees it: values under the right channel, the tree of the chain,
sampling modes, exact point counts, and the one ending every failure gets (in-process devices)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.data import get_node
from conftest import BEAMLINE, open_session


def channel_values(scan) -> dict[str, list]:
    """Every channel of a finished scan as Redis has it, by fullname."""
    return {
        node.fullname: node.get(0, -1).tolist() for node in get_node(scan.node.db_name).walk(include_filter="channel", wait=False)
    }


def file_values(scan) -> dict[str, list]:
    with h5py.File(scan.path, "r") as file:
        return {name: dataset[()].tolist() for name, dataset in file[f"{scan.number}.1"]["measurement"].items()}


def test_values_stay_with_their_counter_whatever_order_they_are_typed_in(session):
    c1, sim_ct_gauss, c2 = session["c1"], session["sim_ct_gauss"], session["c2"]
    scan = session["loopscan"](3, 0, c1, sim_ct_gauss, c2)
    gauss = pytest.approx([100 * np.exp(-(3.2**2) / 2)] * 3)  # roby at 0, the peak at 3.2
    in_redis, in_file = channel_values(scan), file_values(scan)
    assert in_redis["sim_ct_gauss:sim_ct_gauss"] == gauss and in_file["sim_ct_gauss"] == gauss
    for name in ("c1", "c2"):  # the diodes read whole numbers in [-100, 100)
        for values in (in_redis[f"sim:{name}"], in_file[name]):
            assert len(values) == 3 and all(v == int(v) and -100 <= v < 100 for v in values)
    assert scan.get_data()["sim_ct_gauss"].tolist() == gauss


def test_a_spectrum_counter_between_two_scalar_counters(session):
    scan = session["loopscan"](2, 0, session["c1"], session["simu1"], session["c2"])
    data = scan.get_data()
    assert scan.state == "done"
    assert data["simu1"].shape == (2, 16) and data["c1"].shape == (2,) and data["c2"].shape == (2,)
    assert np.asarray(file_values(scan)["simu1"]).shape == (2, 16)


def test_the_tree_follows_the_chain(session):
    scan = session["ascan"](session["roby"], 0, 1, 2, 0, session["c1"], session["c2"], session["diode"], save=False)
    below = [node.db_name[len(scan.node.db_name) + 1 :] for node in get_node(scan.node.db_name).walk(wait=False)][1:]
    assert below == ["axis", "axis:roby", "axis:timer", "axis:timer:elapsed_time", "axis:timer:epoch", "axis:timer:sim", "axis:timer:sim:c1",
                     "axis:timer:sim:c2", "axis:timer:diode", "axis:timer:diode:diode"]  # fmt: skip


@pytest.mark.parametrize("npoints", [1, 2, 7])
def test_points_acquired_is_exact_in_redis_and_in_the_file(session, npoints):
    for _ in range(5):
        scan = session["loopscan"](npoints, 0, session["diode"], session["simu1"])
        assert get_node(scan.node.db_name).info["points_acquired"] == npoints
        with h5py.File(scan.path, "r") as file:
            assert json.loads(file[f"{scan.number}.1"]["scan_info"][()])["points_acquired"] == npoints


def test_ct_given_a_counter_counts_one_second_as_in_bliss(session, capsys):
    scan = session["ct"](session["diode"])
    assert scan.plan.count_time == 1.0 and get_node(scan.node.db_name).info["count_time"] == 1.0
    assert scan.get_data()["elapsed_time"].tolist() == [0.0]
    assert "diode = " in capsys.readouterr().out


def mode_session(redis_client, tmp_path: Path, mode: str) -> dict:
    """test_session with a noiseless gaussian counter in the given sampling mode, at its peak."""
    (tmp_path / "modes").mkdir()
    (tmp_path / "modes" / "counters.yml").write_text(
        f"- name: flat\n  class: SimulationCounter\n  distribution: FLAT\n  height: 50\n  mode: {mode}\n"
        "- name: mode_session\n  class: Session\n  config-objects: [flat]\n"
    )
    return open_session([ConfigRoot(BEAMLINE), ConfigRoot(tmp_path / "modes", "modes")], "mode_session", redis_client,
                        tmp_path / "scans")  # fmt: skip


@pytest.mark.parametrize("mode, value", [("SINGLE", 50.0), ("MEAN", 50.0), ("INTEGRATE", 50.0 * 0.05)])
def test_sampling_modes(redis_client, tmp_path, mode, value):
    namespace = mode_session(redis_client, tmp_path, mode)
    scan = namespace["loopscan"](3, 0.05, namespace["flat"], save=False)
    assert scan.get_data()["flat"].tolist() == pytest.approx([value] * 3)


def test_an_unknown_sampling_mode_is_a_config_error(tmp_path):
    (tmp_path / "counters.yml").write_text("- name: flat\n  class: SimulationCounter\n  mode: AVERAGE\n")
    with pytest.raises(ValueError, match=r"flat: mode must be one of SINGLE, MEAN, INTEGRATE, not 'AVERAGE'$"):
        Config([ConfigRoot(tmp_path)]).get("flat")


def test_anscan_and_lookupscan_refuse_a_motor_given_twice(session):
    roby, diode = session["roby"], session["diode"]
    with pytest.raises(ValueError, match="^anscan: roby is given twice; a motor moves once per command$"):
        session["anscan"]([(roby, 0, 1), (roby, 2, 3)], 3, 0, diode)
    with pytest.raises(ValueError, match="^lookupscan: roby is given twice; a motor moves once per command$"):
        session["lookupscan"]([(roby, [0, 1]), (roby, [2, 3])], 0, diode)
    with pytest.raises(ValueError, match="^lookupscan: roby: every position must be a finite number$"):
        session["lookupscan"]([(roby, [0, float("nan")])], 0, diode)
    assert roby.position == 0 and len(session["SCANS"]) == 0


@pytest.mark.parametrize("command", ["loopscan", "ascan"])
def test_no_point_starts_before_its_count_time_plus_sleep_time(session, command):
    args = (4, 0.01) if command == "loopscan" else (session["roby"], 0, 1, 4, 0.01)
    scan = session[command](*args, session["diode"], sleep_time=0.03, save=False)
    elapsed = scan.get_data()["elapsed_time"]
    assert np.all(elapsed >= np.arange(4) * 0.04 - 1e-6)  # point i starts i * (count_time + sleep_time) or later
