"""Measurement groups as a BLISS user types them: enable, disable, set_active, lsmg, and scans given no counter."""

from __future__ import annotations

import pytest

from bliss_shell.config import ConfigRoot
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
        ((3,), TypeError, r"^MG1.enable: 3 is neither a counter nor a counter name$"),
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
