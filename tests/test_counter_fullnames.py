"""Every kind of counter has BLISS's ``fullname`` (``controller:name``), the name its channel has in the scan's data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bliss_shell.config import ConfigRoot
from conftest import open_session
from simulator_server import SimulatorServer

CARD, MCA, COUNTER, CAMERA, ROIS = "id00/ct2/fn", "id00/mca/fn", "id00/counter/fn", "id00/limaccds/fn", "id00/roicounter/fn"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer(
        {"CT2": [CARD], "SimMCA": [MCA], "SimCounter": [COUNTER], "LimaCCDs": [CAMERA], "RoiCounterDeviceServer": [ROIS]},
        instance="fullnames",
    )
    yield simulators
    simulators.stop()


def config_text(server: SimulatorServer) -> str:
    return f"""
- name: p201
  class: CounterCard
  tango_url: {server.url(CARD)}
- name: ct1
  class: CardCounter
  card: p201
  channel: 1
- name: mca1
  class: TangoMCA
  tango_url: {server.url(MCA)}
  nbins: 16
- name: tdiode
  class: TangoCounter
  tango_url: {server.url(COUNTER)}
  controller: tango_counters
- name: cam
  class: Lima
  tango_url: {server.url(CAMERA)}
  sim_image_size: [32, 24]
- name: diode
  class: SimulationDiode
- name: c1
  class: SimulationDiode
  controller: sim
- name: simu1
  class: SimulationMCA
  nbins: 16
- name: fullnames_session
  class: Session
"""


def test_each_kind_of_counter_has_its_fullname_and_the_scan_data_use_it(server, redis_client, tmp_path):
    (tmp_path / "devices.yml").write_text(config_text(server))
    shell = open_session([ConfigRoot(tmp_path)], "fullnames_session", redis_client, tmp_path / "scans")
    shell["cam"].roi_counters["r1"] = (0, 0, 8, 8)
    r1_sum = shell["cam"].roi_counters.counters.r1_sum
    counters = [shell[name] for name in ("ct1", "mca1", "tdiode", "cam", "diode", "c1", "simu1")] + [r1_sum]
    assert [counter.fullname for counter in counters] == [
        "p201:ct1", "mca1:mca1", "tango_counters:tdiode", "cam:image", "diode:diode", "sim:c1", "simu1:simu1",
        "cam:roi_counters:r1_sum",
    ]  # fmt: skip
    scan = shell["loopscan"](2, 0.01, *counters, save=False)
    channels = {node.fullname for node in scan.node.walk(include_filter=["channel", "lima"], wait=False)}  # Redis
    assert {counter.fullname for counter in counters} <= channels
    assert all(counter.fullname in scan.get_data() for counter in counters)
