"""An MCA gated by the counter card in continuous scans (fscan, ftimescan): one spectrum per card point, in Redis and
the file; what it cannot take refused in one line; its server killed mid-scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tango

import test_chain_tango
from bliss_shell.config import ConfigRoot
from bliss_shell.data import get_node
from conftest import interruptible, open_session
from simulator_server import SimulatorServer
from test_card_mca import MCA, card_config, mca_config
from test_chain_tango import RATE, end_of, file_entry, wait_points

server, beamline = test_chain_tango.server, test_chain_tango.beamline  # the chain tests' simulated Tango beamline
NBINS = 32  # of the beamline's MCA, ``mca``


def in_redis(scan, channel: str) -> np.ndarray:
    return np.asarray(get_node(f"{scan.node.db_name}:{channel}").get(0, -1))


def test_ftimescan_gives_the_mca_spectrum_of_every_card_point_in_redis_and_the_file(beamline):
    scan = beamline["ftimescan"](0.001, 2000, beamline["ct1"], beamline["ct_timer"], beamline["mca"])
    entry = file_entry(scan)
    assert entry["status"] == "SUCCEEDED" and get_node(scan.node.db_name).info["points_acquired"] == 2000
    spectra = in_redis(scan, "timer:mca:mca")
    assert spectra.shape == entry["mca"].shape == (2000, NBINS) and spectra.dtype == entry["mca"].dtype == np.int32
    assert np.array_equal(spectra, entry["mca"]) and np.array_equal(spectra, scan.get_data()["mca"])
    # point i: the card's period i and the MCA's gate i (1 ms each)
    assert entry["ct1"].tolist() == [RATE * 0.001] * 2000 and entry["ct_timer"] == pytest.approx(np.full(2000, 0.001))
    assert entry["elapsed_time"] == pytest.approx([i * 0.001 for i in range(2000)])
    one_ms = beamline["mca"].read(0.5).sum() / 500  # counts per ms of the MCA counting on its own
    assert spectra.sum(axis=1).mean() == pytest.approx(one_ms, rel=0.1)  # each spectrum counted one 1 ms gate


def test_fscan_gives_a_spectrum_at_every_position(beamline):
    fm1 = beamline["fm1"]
    scan = beamline["fscan"](fm1, 1, 0.02, 300, 0.005, beamline["ct1"], beamline["mca"])
    entry = file_entry(scan)
    assert entry["status"] == "SUCCEEDED"
    assert entry["fm1"] == pytest.approx(1 + 0.02 * np.arange(300), abs=0.02)
    assert entry["mca"].shape == (300, NBINS) and in_redis(scan, "axis:timer:mca:mca").shape == (300, NBINS)
    assert entry["ct1"].tolist() == [RATE * 0.005] * 300
    assert beamline["mca"].device.read("trigger_mode") == "GATE" and fm1.velocity == 40


@pytest.mark.parametrize(
    "npoints, acq_time, refusal",
    [
        (10, 0.0002, "PresetTime (id00/mca/mca: a gate of 0.0002 s (PresetTime) is shorter than the shortest it takes "
                     "(0.0005 s); use a longer count time)"),
        (100001, 0.001, "hardware_points (id00/mca/mca: hardware_points 100001 is not 1 to 100000 (the spectra its buffer "
                        "holds); take fewer points per scan)"),
    ],
)  # fmt: skip
def test_what_the_mca_cannot_take_fails_the_scan_in_one_line_and_nothing_is_lost(beamline, server, npoints, acq_time, refusal):
    before = beamline["ftimescan"](0.001, 20, beamline["ct1"], beamline["mca"])
    with pytest.raises(Exception) as caught:
        beamline["ftimescan"](acq_time, npoints, beamline["ct1"], beamline["mca"])
    message = (f"mca: Tango device {server.url('id00/mca/mca')}: Failed to write_attribute on device id00/mca/mca, "
               f"attribute {refusal}")  # fmt: skip
    assert str(caught.value) == message
    failed = beamline["SCANS"][-1]
    assert failed.state == "failed" and file_entry(failed)["status"] == "FAILED" and end_of(failed)["reason"].endswith(message)
    assert file_entry(before)["mca"].shape == (20, NBINS) and in_redis(before, "timer:mca:mca").shape == (20, NBINS)
    assert beamline["p201"].device.read("acq_status") == "Ready"
    again = beamline["ftimescan"](0.001, 20, beamline["ct1"], beamline["mca"])
    assert again.state == "done" and again.get_data()["mca"].shape == (20, NBINS)


def test_the_mca_server_killed_mid_scan_ends_it_in_one_line_naming_mca1_and_the_points_until_then_are_saved(
    server, redis_client, tmp_path: Path
):
    doomed = SimulatorServer({"SimMCA": [MCA]}, instance="doomed_mca")
    try:
        card = card_config(server.url("id00/ct2/card"))
        (tmp_path / "devices.yml").write_text(card + mca_config(doomed.url(MCA)) + "- name: mca_session\n  class: Session\n")
        shell = open_session([ConfigRoot(tmp_path)], "mca_session", redis_client, tmp_path / "scans")
        scan = shell["ftimescan"](0.005, 2000, shell["ct1"], shell["ct_timer"], shell["mca1"], run=False)
        command = interruptible(scan.run)
        wait_points(scan, "timer:mca1:mca1", 50)
        doomed.process.kill()
        doomed.process.wait()
        command.join(timeout=20)
    finally:
        doomed.stop()
    message = str(command.exception)
    assert message.startswith(f"mca1: Tango device {doomed.url(MCA)}: ") and "\n" not in message
    assert scan.state == "failed" and end_of(scan)["reason"].endswith(message)
    entry = file_entry(scan)
    taken = len(entry["ct1"])
    assert entry["status"] == "FAILED" and 50 <= taken < 2000
    assert entry["mca1"].shape == (taken, 256) and np.all(entry["mca1"].sum(axis=1) > 0)
    assert in_redis(scan, "timer:mca1:mca1").shape == (taken, 256) and len(in_redis(scan, "timer:p201:ct1")) == taken
    assert tango.DeviceProxy(server.url("id00/ct2/card")).acq_status == "Ready"  # the card was stopped
