"""Measurement groups as a BLISS user types them: enable, disable, set_active, lsmg, and scans given no counter."""

from __future__ import annotations

import pytest

from bliss_shell.config import Config, ConfigRoot
from conftest import BEAMLINE, open_session

TIMERS = {"elapsed_time", "epoch"}


def counted(scan) -> list[str]:
    """The counters a scan counted, as its data names them."""
    return sorted(set(scan.get_data()) - TIMERS)


def test_disabled_counters_are_left_out_of_scans_given_no_counter(session, capsys):
    mg1 = session["MG1"]
    mg1.disable("diode2")
    assert (mg1.enabled, mg1.disabled, mg1.available) == (["diode"], ["diode2"], ["diode", "diode2"])
    assert counted(session["ct"](0.01)) == ["diode"]
    mg1.enable(session["diode2"])
    assert mg1.enabled == ["diode", "diode2"] and mg1.disabled == []
    assert counted(session["loopscan"](2, 0, save=False)) == ["diode", "diode2"]
    capsys.readouterr()
    print(mg1)
    assert capsys.readouterr().out.splitlines()[2].split() == ["Enabled", "Disabled"]


def test_patterns_enable_all_and_lsmg_marks(session, capsys):
    mg2 = session["MG2"]
    mg2.disable("c*")
    assert mg2.enabled == ["diode"]
    mg2.set_active()
    session["lsmg"]()
    assert capsys.readouterr().out.splitlines() == ["   MG1: diode, diode2", " * MG2: diode (disabled: c1, c2)"]
    mg2.disable_all()
    session["lsmg"]()
    assert capsys.readouterr().out.splitlines()[-1] == " * MG2: (none enabled) (disabled: c1, c2, diode)"
    mg2.enable_all()
    assert mg2.enabled == ["c1", "c2", "diode"]


def test_set_active_switches_what_scans_count_and_the_next_shell_keeps_it(session, redis_client, tmp_path):
    session["MG2"].set_active()
    assert session["ACTIVE_MG"] is session["MG2"]
    assert counted(session["ct"](0.01)) == ["c1", "c2", "diode"]
    session["MG2"].disable("c2")
    again = open_session([ConfigRoot(BEAMLINE)], "test_session", redis_client, tmp_path / "scans")
    assert again["ACTIVE_MG"] is again["MG2"] and again["MG2"].enabled == ["c1", "diode"]
    again["ACTIVE_MG"] = again["MG1"]  # assigning it switches too, as set_active does
    assert counted(again["ct"](0.01)) == ["diode", "diode2"]
    third = open_session([ConfigRoot(BEAMLINE)], "test_session", redis_client, tmp_path / "scans")
    assert third["ACTIVE_MG"] is third["MG1"]


def test_bad_names_are_refused_and_change_nothing(session):
    mg1 = session["MG1"]
    mg1.disable("diode2")
    for bad, error, message in (
        (("nothing",), ValueError, r"^MG1.enable: no counter 'nothing' in MG1 \(its counters: diode, diode2\)$"),
        ((session["c1"],), ValueError, r"^MG1.enable: no counter 'c1' in MG1"),
        (
            (3,),
            TypeError,
            r"^MG1.enable: 3 is neither a counter nor a counter name: give counters, names or patterns, "
            r"e.g. MG1.enable\('diode\*'\)$",
        ),
        ((session["SCAN_SAVING"],), TypeError, r"^MG1.enable: a ScanSaving object is neither a counter nor a counter name"),
        ((), TypeError, r"MG1.enable\('diode2'\), or use MG1.enable_all\(\)$"),
        (("diode", "nothing"), ValueError, "no counter 'nothing'"),
    ):
        with pytest.raises(error, match=message):
            mg1.enable(*bad)
        assert mg1.disabled == ["diode2"]


def test_a_scan_given_no_counter_when_none_is_enabled_says_what_to_do(session):
    session["MG1"].disable_all()
    with pytest.raises(ValueError, match=r"^ct: no counter given, and the active measurement group MG1 has none enabled: "
                                         r"give counters, or MG1.enable\(...\)$"):  # fmt: skip
        session["ct"](0.01)
    assert len(session["SCANS"]) == 0
    assert counted(session["ct"](0.01, session["diode"])) == ["diode"]


def test_active_mg_set_to_something_else_is_refused_at_the_next_scan(session):
    session["ACTIVE_MG"] = session["diode"]
    with pytest.raises(TypeError, match=r"^ACTIVE_MG is 'diode', not a measurement group: choose one with "
                                        r"MG1.set_active\(\) \(lsmg\(\) lists them\)$"):  # fmt: skip
        session["ct"](0.01)
    assert len(session["SCANS"]) == 0
    session["MG2"].set_active()
    assert counted(session["ct"](0.01)) == ["c1", "c2", "diode"]


def test_counters_are_chosen_by_fullname_controller_and_patterns_as_in_bliss(session):
    mg1, mg2 = session["MG1"], session["MG2"]  # MG2: c1 and c2 of controller sim, and diode
    mg1.disable("diode:diode")
    assert mg1.disabled == ["diode"]
    mg1.enable("*:diode")
    mg2.disable("sim")  # a controller's name stands for its counters
    assert mg1.disabled == [] and mg2.disabled == ["c1", "c2"]
    mg2.enable("sim:c2")
    assert mg2.disabled == ["c1"]
    with pytest.raises(ValueError, match=r"^MG2.enable: no counter 'sim:c9' in MG2 \(its counters: c1, c2, diode\)$"):
        mg2.enable("sim:c9")
    assert mg2.disabled == ["c1"]


def test_a_wrong_object_is_refused_in_one_line_saying_what_is_accepted(session):
    mg1 = session["MG1"]
    mg1.disable("diode2")
    for action in (mg1.disable, mg1.enable):
        with pytest.raises(TypeError) as refused:
            action(session["SCAN_SAVING"])
        assert len(str(refused.value).splitlines()) == 1 and "give counters, names or patterns" in str(refused.value)
    assert mg1.disabled == ["diode2"]


def test_add_and_remove_counter_objects_for_this_shell(session, redis_client, tmp_path):
    mg1, c1 = session["MG1"], session["c1"]
    mg1.disable("diode2")
    mg1.add(c1, session["diode"])  # diode is in MG1 already: it stays as it is
    assert (mg1.available, mg1.enabled) == (["diode", "diode2", "c1"], ["diode", "c1"])
    assert counted(session["ct"](0.01)) == ["c1", "diode"]
    mg1.disable("c1")
    mg1.add(c1)  # already in: still disabled
    assert mg1.disabled == ["diode2", "c1"]
    again = open_session([ConfigRoot(BEAMLINE)], "test_session", redis_client, tmp_path / "scans")
    assert again["MG1"].available == ["diode", "diode2"]  # the config's counters are the lasting list, as in BLISS
    mg1.remove(c1)
    assert mg1.available == ["diode", "diode2"] and mg1.disabled == ["diode2"]
    mg1.add(c1)  # added again: enabled, as BLISS's add does
    assert mg1.enabled == ["diode", "c1"]


def test_add_and_remove_refuse_what_is_not_theirs_in_one_line_and_change_nothing(session):
    mg1 = session["MG1"]
    mg1.add(session["c1"])
    for call, bad, error, message in (
        (mg1.add, (session["roby"],), TypeError, r"^MG1.add: .*roby.* is not a counter: give counters, e.g. MG1.add\(diode2\)$"),
        (mg1.add, (session["SCAN_SAVING"],), TypeError, r"^MG1.add: a ScanSaving object is not a counter"),
        (mg1.add, ("c2",), TypeError, r"^MG1.add: 'c2' is a name: give the counter itself, e.g. MG1.add\(c2\)$"),
        (mg1.add, (session["c2"], 3), TypeError, r"^MG1.add: 3 is not a counter"),
        (mg1.add, (), TypeError, r"^MG1.add: give counters, e.g. MG1.add\(diode2\)$"),
        (
            mg1.remove,
            (session["diode"],),
            ValueError,
            r"^MG1.remove: diode is in MG1's config \(.*counters.yml, line \d+\): disable it instead, MG1.disable\('diode'\)$",
        ),
        (mg1.remove, (session["c2"],), ValueError, r"^MG1.remove: c2 is not in MG1 \(its counters: diode, diode2, c1\)$"),
        (mg1.remove, (session["c1"], "diode"), TypeError, r"^MG1.remove: 'diode' is a name"),
        (
            mg1.add,
            (session["c2"], Config([ConfigRoot(BEAMLINE)]).get("diode")),
            ValueError,
            r"^MG1.add: diode:diode: MG1 has a counter of that name already \(diode:diode\); add one of them only$",
        ),
    ):
        with pytest.raises(error, match=message):
            call(*bad)
        assert (mg1.available, mg1.disabled) == (["diode", "diode2", "c1"], [])
