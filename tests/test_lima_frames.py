"""A camera states its own frames: once prepared, its image channel holds typed, immutable frame references,
which its scan's Lima consumer publishes as they are and the file links. Our simulator server runs for real."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import h5py
import pytest

from bliss_shell.config import ConfigRoot
from bliss_shell.controllers import ChannelInfo
from bliss_shell.controllers.lima_protocol import FrameReferences
from bliss_shell.data import get_node
from conftest import open_session
from simulator_server import SimulatorServer

CAMERA = "id00/limaccds/frames"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"LimaCCDs": [CAMERA]}, instance="limaframes")
    yield simulators
    simulators.stop()


@pytest.fixture
def shell(server, redis_client, tmp_path) -> dict:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "devices.yml").write_text(f"""
- name: cam
  class: Lima
  tango_url: {server.url(CAMERA)}
  sim_image_size: [32, 24]
- name: frames_session
  class: Session
""")
    return open_session([ConfigRoot(tmp_path / "config")], "frames_session", redis_client, tmp_path / "scans")


def test_a_channel_description_holds_no_mutable_dict():
    assert "info" not in {field.name for field in dataclasses.fields(ChannelInfo)}


def test_a_prepared_camera_states_its_frames_and_the_scan_publishes_and_links_them(shell):
    scan = shell["loopscan"](3, 0, shell["cam"])
    (camera,) = [device for level in scan.chain.levels() for device in level if device.name == "cam"]
    references = camera.channels[0].references
    assert isinstance(references, FrameReferences) and references.saved
    assert (references.width, references.height) == (32, 24)
    with pytest.raises(dataclasses.FrozenInstanceError):
        references.saving_directory = "/elsewhere"  # type: ignore[misc]
    published = get_node(f"{scan.node.db_name}:timer:cam:image").info
    assert {key: value for key, value in published.items() if key != "lima_acq_nb"} == references.as_info()
    assert isinstance(published["lima_acq_nb"], int)
    with h5py.File(scan.path, "r") as file:
        assert file[f"{scan.number}.1/measurement/cam"].shape == (3, 24, 32)
    assert scan.get_data()["cam:image"].get_image(-1).shape == (24, 32)
