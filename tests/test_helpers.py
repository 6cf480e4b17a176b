"""The shell helpers as plain functions (no terminal): motors, listings, peak tools."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bliss_shell.config import ObjectUnavailable, Unavailable


def wm_rows(text: str) -> dict[str, list[str]]:
    """``wm``'s output as {"User High": [...], "Offset": [...], "Dial Current": [...], ...}."""
    rows, section = {}, ""
    for line in text.splitlines()[2:]:
        label, *cells = line.split()
        if not cells:
            section = label
        else:
            rows[label if label == "Offset" else f"{section} {label}"] = cells
    return rows


def test_wa_shows_user_over_dial_for_every_motor(session, capsys):
    session["roby"].move(2)
    session["wa"]()
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Current Positions: user", "                   dial"]
    assert lines[3].split() == ["roby[mm]", "robz[mm]", "slowy[mm]"]
    assert lines[5].split() == lines[6].split() == ["2.00000", "0.00000", "0.00000"]


def test_setting_a_position_changes_the_offset_and_wm_shows_user_and_dial(session, capsys):
    roby = session["roby"]
    roby.move(2)
    roby.position = 5  # redefine: roby reads 5 where it stands, nothing moves
    assert (roby.position, roby.dial, roby.offset, roby.limits) == (5, 2, 3, (-97, 103))
    session["wm"](roby)
    rows = wm_rows("\n".join(line for line in capsys.readouterr().out.splitlines() if line.strip()))
    assert rows == {
        "User High": ["103.00000"], "User Current": ["5.00000"], "User Low": ["-97.00000"], "Offset": ["3.00000"],
        "Dial High": ["100.00000"], "Dial Current": ["2.00000"], "Dial Low": ["-100.00000"],
    }  # fmt: skip
    with pytest.raises(ValueError, match=r"^roby: position 104 outside limits \(-97, 103\)$"):
        roby.move(104)
    roby.move(103)
    assert roby.dial == 100


def test_mv_mvr_and_umv_move_together_and_say_so(session, capsys):
    roby, robz = session["roby"], session["robz"]
    session["mv"](roby, 1, robz, 2)
    session["mvr"](roby, 0.5)
    session["umv"](robz, -1)
    session["umvr"](robz, -1)
    assert (roby.position, robz.position) == (1.5, -2)
    out = capsys.readouterr().out
    assert "Moving roby from 0.00000 to 1.00000\nMoving robz from 0.00000 to 2.00000\n" in out
    assert "Moving roby from 1.00000 to 1.50000" in out and "Moving robz from -1.00000 to -2.00000" in out
    assert out.rstrip().splitlines()[-1].split() == ["-2.00000"]  # umvr ends with robz's user/dial table


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((), TypeError, r"^mv: give motor, position pairs: mv\(roby, 1\) or mv\(roby, 1, robz, 2\)$"),
        (("roby", 1), TypeError, r"^mv: 'roby' is not a motor$"),
        (("ROBY", "1"), TypeError, r"^mv: '1' is not a position$"),
        (("ROBY", 1, "ROBY", 2), ValueError, r"^mv: roby is given twice; a motor moves once per command$"),
        (("ROBY", 1, "ROBZ", 500), ValueError, r"^mv: robz: position 500 outside limits \(-100, 100\)$"),
    ],
)
def test_mv_refuses_bad_arguments_before_anything_moves(session, arguments, error, message):
    resolved = [session[a.lower()] if isinstance(a, str) and a.isupper() else a for a in arguments]
    with pytest.raises(error, match=message):
        session["mv"](*resolved)
    assert (session["roby"].position, session["robz"].position) == (0, 0)


def test_ctrl_c_during_mv_stops_the_motor_and_shows_where(session, capsys):
    from conftest import interruptible, wait_for

    slowy = session["slowy"]
    command = interruptible(session["mv"], slowy, 50)
    wait_for(lambda: slowy.position > 0, "slowy did not start moving")
    command.kill(KeyboardInterrupt, block=True)
    assert isinstance(command.value, KeyboardInterrupt)
    assert slowy.state == "READY" and 0 < slowy.position < 50
    out = capsys.readouterr().out
    assert "mv interrupted: motors stopped" in out and f"{slowy.position:.5f}" in out


def test_an_unavailable_motor_is_refused_by_every_helper(session):
    session["ghost"] = Unavailable("ghost", ConnectionError("ghost: Tango device tango://x:1/a/b/c is not reachable"))
    for helper, args in (("wm", ()), ("mv", (1,)), ("sync", ()), ("plotselect", ())):
        with pytest.raises(ObjectUnavailable, match=rf"^{helper}: ghost is unavailable: Tango device"):
            session[helper](session["ghost"], *args)


def test_sync_and_listings(session, capsys):
    session["sync"](session["roby"])
    session["lsmot"]()
    session["lscnt"]()
    session["lsmg"]()
    session["lsobj"]("rob*")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "roby: 0.00000 (dial 0.00000), READY"
    assert lines[3] == "roby  robz  slowy"
    assert lines[4].split() == ["Name", "Shape", "Controller", "Unit"]
    assert lines[8].split() == ["c1", "0D", "sim", "mm"] and lines[11].split() == ["simu1", "1D", "(16,)", "simu1", "mm"]
    assert lines[-3:] == [" * MG1: diode, diode2", "   MG2: c1, c2, diode", "roby  robz"]
    with pytest.raises(TypeError, match="lsobj: the pattern is a string such as 'rob\\*', not 3"):
        session["lsobj"](3)


def test_peak_tools_find_the_gaussian_within_one_step(session):
    roby, gauss = session["roby"], session["sim_ct_gauss"]  # mu 3.2, sigma 1
    scan = session["ascan"](roby, 0, 6, 13, 0, gauss, session["diode"])
    step = 0.5
    assert abs(session["cen"]() - 3.2) < step  # the first counter of the scan, along roby
    assert abs(session["peak"](gauss) - 3.2) < step
    assert abs(session["com"](gauss) - 3.2) < step
    assert abs(session["fwhm"](gauss) - 2.3548) < step  # 2 sqrt(2 ln 2) sigma
    assert scan.cen(gauss) == session["cen"](gauss, roby, scan)
    assert session["goto_cen"]() == scan.cen() and roby.position == pytest.approx(scan.cen())
    assert scan.goto_peak(gauss) == roby.position == session["peak"]()
    assert scan.trough(gauss) == session["trough"](gauss) in (0, 6)  # the gaussian's lowest: an end of the scan
    assert scan.goto_min(gauss) == roby.position == scan.trough(gauss)


def test_plotselect_chooses_the_default_counter(session):
    session["ascan"](session["roby"], 0, 6, 13, 0, session["diode"], session["sim_ct_gauss"])
    assert session["plotselect"]() == []
    data = session["SCANS"][-1].get_data()
    assert session["peak"]() == data["roby"][int(np.argmax(data["diode"]))]  # no choice: the first counter
    assert session["plotselect"](session["sim_ct_gauss"]) == ["sim_ct_gauss"]
    assert abs(session["peak"]() - 3.2) < 0.5


def test_peak_tools_say_what_is_missing(session, capsys):
    with pytest.raises(RuntimeError, match="^cen: no scan yet in this session; run one first$"):
        session["cen"]()
    session["loopscan"](3, 0, session["diode"])
    with pytest.raises(
        RuntimeError, match=r"^goto_peak: no scan of this session moved a motor; give one: goto_peak\(scan=SCANS\[-1\]\)$"
    ):
        session["goto_peak"]()
    with pytest.raises(ValueError, match="^goto_peak: scan 1 moved no motor$"):
        session["goto_peak"](scan=session["SCANS"][-1])
    with pytest.raises(ValueError, match=r"^peak: 'c1' is not a counter of scan 1; it has diode$"):
        session["peak"](session["c1"], scan=session["SCANS"][-1])
    session["where"](session["SCANS"][-1])
    assert capsys.readouterr().out == "scan 1 moved no motor\n"
    session["ascan"](session["roby"], 0, 1, 2, 0, session["sim_ct_gauss"])
    with pytest.raises(ValueError, match="^fwhm: 'robz' was not scanned in scan 2$"):
        session["fwhm"](axis=session["robz"])
    session["where"]()
    assert capsys.readouterr().out == "roby = 1.00000  (scan 2: 0 to 1)\n"
    with pytest.raises(TypeError, match="is not a counter"):
        session["plotselect"](session["roby"])


def test_peak_tools_use_the_last_scan_that_moved_a_motor(session):
    roby, gauss = session["roby"], session["sim_ct_gauss"]  # mu 3.2
    session["ascan"](roby, 0, 6, 13, 0, gauss)
    session["ct"](0.01, gauss)  # a count after the scan, as a user checks the signal
    session["loopscan"](2, 0, session["diode"])
    assert abs(session["goto_peak"]() - 3.2) < 0.5 and abs(roby.position - 3.2) < 0.5


def test_a_chosen_counter_missing_from_the_scan_is_an_error_and_nothing_moves(session):
    roby = session["roby"]
    session["plotselect"](session["sim_ct_gauss"])
    session["ascan"](roby, 0, 6, 13, 0, session["diode"])
    at = roby.position
    with pytest.raises(ValueError, match=r"^goto_peak: sim_ct_gauss \(chosen with plotselect\) not in scan 1, which has "
                                         r"diode; name one: goto_peak\(diode\)$"):  # fmt: skip
        session["goto_peak"]()
    assert roby.position == at
    assert session["peak"](session["diode"]) in session["SCANS"][-1].get_data()["roby"]


def test_titles_round_positions_to_the_motor_and_print_numbers_as_typed(session):
    roby, diode = session["roby"], session["diode"]
    assert session["ascan"](roby, 0, 0.123456789, 2, 0, diode, run=False).plan.title == "ascan roby 0 0.1235 2 0"
    assert session["timescan"](0.1, diode, npoints=3, run=False).plan.title == "timescan 0.1 3"
    assert session["loopscan"](10000000, 0, diode, run=False).plan.title == "loopscan 10000000 0"
    fine = session["slowy"]  # tolerance 1e-6 in the test beamline
    assert session["dscan"](fine, -0.0123456789, 1, 2, 0.5, diode, run=False).plan.title == "dscan slowy -0.012346 1 2 0.5"


def test_a_flat_counter_has_no_peak(session):
    from bliss_shell.scanning.peaks import cen_fwhm, com

    x = np.arange(5.0)
    with pytest.raises(ValueError, match="flat"):
        cen_fwhm(x, np.ones(5))
    with pytest.raises(ValueError, match="flat"):
        com(x, np.ones(5))
    assert cen_fwhm(x, np.array([0, 0, 2, 0, 0.0])) == (2.0, 1.0)
    assert cen_fwhm(x, np.array([4, 2, 0, 0, 0.0])) == (0.5, 1.0)  # the peak at the edge: the edge stands in


def test_ct_prints_value_rate_and_controller(session, capsys):
    scan = session["ct"](0.1, session["diode"], session["c1"])
    data = scan.get_data()
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf" *diode = +{data['diode'][0]:.6g} +\({data['diode'][0] / 0.1:.6g} /s\) diode", lines[0])
    assert lines[1].split()[-1] == "sim"
