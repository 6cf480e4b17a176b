"""The Lima object as a BLISS user types it: ``cam.proxy``, ``cam.image``, ``cam.acquisition``, ``cam.saving`` and
``cam.roi_counters``, whose statistics the server computes; what the user sets outlives the shell and the server.
Our simulator server runs for real (a LimaCCDs device and its RoiCounter device)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest
import tango

from bliss_shell.config import ConfigRoot
from bliss_shell.controllers.tango_client import TangoDeviceError
from bliss_shell.data import get_node
from bliss_shell.shell.scan_display import ScanTable
from conftest import open_session
from simulator_server import SimulatorServer

CAMERA, ROI_DEVICE = "id00/limaccds/cam", "id00/roicounter/cam"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"LimaCCDs": [CAMERA], "RoiCounterDeviceServer": [ROI_DEVICE]}, instance="limaobject")
    yield simulators
    simulators.stop()


@pytest.fixture
def devices(server) -> tuple[tango.DeviceProxy, tango.DeviceProxy]:
    """The camera and its RoiCounter device as a fresh server has them: whole image, no ROI."""
    camera, rois = tango.DeviceProxy(server.url(CAMERA)), tango.DeviceProxy(server.url(ROI_DEVICE))
    camera.image_roi, camera.image_rotation, camera.image_flip, camera.image_bin = [0, 0, 0, 0], "NONE", [False, False], [1, 1]
    camera.saving_mode = "MANUAL"
    rois.clearAllRois()
    return camera, rois


def config_text(url: str) -> str:
    return f"""
- name: cam
  class: Lima
  tango_url: {url}
  sim_image_size: [32, 24]
- name: roby
  class: SimulationMotor
  velocity: 10000
  acceleration: 1000000
- name: diode
  class: SimulationDiode
- name: MG_cam
  class: MeasurementGroup
  counters: [cam]
- name: lima_session
  class: Session
"""


@pytest.fixture
def open_shell(redis_client, tmp_path) -> Iterator:
    """``open_shell(url)``: the namespace of a new shell of the same beamline (settings in ``tmp_path/settings``)."""
    opened = 0

    def open_one(url: str) -> dict:
        nonlocal opened
        opened += 1
        folder = tmp_path / f"config{opened}"
        folder.mkdir()
        (folder / "devices.yml").write_text(config_text(url))
        return open_session([ConfigRoot(folder)], "lima_session", redis_client, tmp_path / "scans")

    yield open_one


@pytest.fixture
def shell(server, devices, open_shell) -> dict:
    return open_shell(server.url(CAMERA))


def frames(scan) -> list[np.ndarray]:
    images = scan.get_data()["cam:image"]
    return [images.get_image(i) for i in range(len(images))]


# -- the device, the image, the acquisition, the saving ------------------------------------------------


def test_proxy_is_the_cameras_tango_device(shell, devices):
    cam = shell["cam"]
    assert isinstance(cam.proxy, tango.DeviceProxy) and cam.proxy.dev_name() == CAMERA
    assert cam.proxy.acq_status == "Ready"


def test_binning_flip_rotation_and_roi_shape_the_frames_of_later_scans(shell, devices):
    cam, camera = shell["cam"], devices[0]
    assert (cam.image.width, cam.image.height, cam.image.type) == (32, 24, "Bpp32")
    cam.image.binning = [2, 2]
    cam.image.flip = [True, False]
    cam.image.rotation = 90
    assert (cam.image.width, cam.image.height) == (12, 16)  # 16 x 12 binned, turned
    cam.image.roi = (1, 2, 8, 10)
    assert (cam.image.binning, cam.image.flip, cam.image.rotation, cam.image.roi) == ([2, 2], [True, False], 90, [1, 2, 8, 10])
    assert (camera.image_width, camera.image_height, camera.image_rotation) == (8, 10, "90")
    scan = shell["loopscan"](2, 0.01, cam)
    assert all(frame.shape == (10, 8) for frame in frames(scan))
    info = get_node(f"{scan.node.db_name}:timer:cam:image").info
    assert (info["width"], info["height"]) == (8, 10)
    cam.image.rotation = 0  # Lima core keeps the roi on the same pixels of the sensor
    assert cam.image.roi == [2, 3, 10, 8]  # (x, y) = (y', 12 - x' - width')
    cam.image.roi = None
    assert cam.image.roi == [0, 0, 16, 12] and shell["loopscan"](1, 0.01, cam).get_data()["cam:image"].get_image(0).shape == (
        12,
        16,
    )


def test_an_image_roi_outside_the_image_is_refused_and_nothing_changes(shell, devices):
    cam = shell["cam"]
    cam.image.roi = (0, 0, 10, 10)
    saved = cam.settings.get_all()
    with pytest.raises(
        ValueError, match=r"^cam: image.roi \(30, 0, 10, 10\) goes outside the 32 x 24 image: x \+ width must be <= 32 "
    ):
        cam.image.roi = (30, 0, 10, 10)
    with pytest.raises(ValueError, match=r"cam: image.roi \(0, 0, 5\) refused: give \(x, y, width, height\), four whole numbers"):
        cam.image.roi = (0, 0, 5)
    with pytest.raises(ValueError, match=r"cam: image.roi \(-1, 0, 5, 5\) refused: x and y must be >= 0, width and height >= 1"):
        cam.image.roi = (-1, 0, 5, 5)
    assert cam.image.roi == [0, 0, 10, 10] and list(devices[0].image_roi) == [0, 0, 10, 10] and cam.settings.get_all() == saved


def test_bad_binning_flip_and_rotation_are_refused_and_nothing_changes(shell, devices):
    cam = shell["cam"]
    cam.image.binning = [2, 1]
    saved = cam.settings.get_all()
    with pytest.raises(
        ValueError, match=r"cam: image.binning \[-1, 2\] refused: each must be >= 1 and leave a pixel of the 32 x 24 sensor"
    ):
        cam.image.binning = [-1, 2]
    with pytest.raises(ValueError, match=r"cam: image.binning \[64, 1\] refused: each must be >= 1"):
        cam.image.binning = [64, 1]
    with pytest.raises(
        ValueError, match=r"cam: image.binning '2x2' refused: give \[x, y\], two whole numbers >= 1, e.g. \[2, 2\]"
    ):
        cam.image.binning = "2x2"
    with pytest.raises(ValueError, match=r"cam: image.flip 'x' refused: give \[left-right, up-down\], two booleans"):
        cam.image.flip = "x"
    with pytest.raises(ValueError, match=r"cam: image.rotation 45 refused: one of 0, 90, 180, 270 \(degrees, clockwise\)"):
        cam.image.rotation = 45
    with pytest.raises(
        AttributeError, match="cam: image.width is read only: it follows image.roi, image.binning and image.rotation"
    ):
        cam.image.width = 3
    with pytest.raises(AttributeError):
        cam.image.binnig = [4, 4]  # a typo is not a new attribute
    assert (cam.image.binning, cam.image.flip, cam.image.rotation) == ([2, 1], [False, False], 0)
    assert cam.settings.get_all() == saved


def test_acquisition_settings_are_the_devices_and_bad_values_are_refused(shell, devices):
    cam, camera = shell["cam"], devices[0]
    cam.acquisition.expo_time = 0.25
    cam.acquisition.nb_frames = 3
    cam.acquisition.trigger_mode = "internal_trigger_multi"
    assert (camera.acq_expo_time, camera.acq_nb_frames, camera.acq_trigger_mode) == (0.25, 3, "INTERNAL_TRIGGER_MULTI")
    with pytest.raises(ValueError, match="cam: acquisition.trigger_mode 'EXTERNAL_GATE' refused: the device offers "
                                         "INTERNAL_TRIGGER, INTERNAL_TRIGGER_MULTI"):  # fmt: skip
        cam.acquisition.trigger_mode = "EXTERNAL_GATE"
    with pytest.raises(ValueError, match=r"cam: acquisition.expo_time -1 refused: give a number of seconds >= 0"):
        cam.acquisition.expo_time = -1
    with pytest.raises(ValueError, match=r"cam: acquisition.nb_frames 1.5 refused: give a whole number >= 0"):
        cam.acquisition.nb_frames = 1.5
    assert (cam.acquisition.expo_time, cam.acquisition.nb_frames, cam.acquisition.trigger_mode) == (
        0.25,
        3,
        "INTERNAL_TRIGGER_MULTI",
    )
    assert "expo_time      0.25" in repr(cam.acquisition) and "each scan sets these" in repr(cam.acquisition)


def test_scans_use_frames_per_file_and_set_the_saving_mode_and_format_they_need(shell, devices):
    cam, camera = shell["cam"], devices[0]
    cam.saving.frames_per_file = 2
    cam.saving.mode = "auto_frame"
    with pytest.raises(ValueError, match="cam: saving.file_format 'EDF' refused: the device offers HDF5"):
        cam.saving.file_format = "EDF"
    with pytest.raises(ValueError, match=r"cam: saving.frames_per_file 0 refused: give a whole number >= 1"):
        cam.saving.frames_per_file = 0
    scan = shell["loopscan"](5, 0.01, cam)
    info = get_node(f"{scan.node.db_name}:timer:cam:image").info
    files = sorted(path.name for path in (Path(scan.path).parent / f"scan{scan.number:04d}").iterdir())
    assert info["saving_frame_per_file"] == 2 and files == ["cam_0000.h5", "cam_0001.h5", "cam_0002.h5"]
    shell["ct"](0.01, cam)  # not saved: the scan sets MANUAL
    assert camera.saving_mode == "MANUAL" and cam.saving.frames_per_file == 2


# -- ROI counters ------------------------------------------------------------------------------------


def test_roi_counters_count_in_scans_and_equal_the_sums_of_the_frames(shell, devices):
    cam = shell["cam"]
    cam.roi_counters["r1"] = (2, 3, 10, 8)
    cam.roi_counters["r2"] = (16, 0, 16, 24)  # the spot's half
    scan = shell["loopscan"](3, 0.01, cam)
    data = scan.get_data()
    for frame, i in zip(frames(scan), range(3)):
        for name, (x, y, w, h) in (("r1", (2, 3, 10, 8)), ("r2", (16, 0, 16, 24))):
            pixels = frame[y : y + h, x : x + w].astype(float)
            assert data[f"{name}_sum"][i] == pixels.sum() and np.isclose(data[f"{name}_avg"][i], pixels.mean())
            assert np.isclose(data[f"{name}_std"][i], pixels.std())
            assert (data[f"{name}_min"][i], data[f"{name}_max"][i]) == (pixels.min(), pixels.max())
    node = get_node(f"{scan.node.db_name}:timer:cam:roi_counters:r1_sum")
    assert node.fullname == "cam:roi_counters:r1_sum" and node.name == "r1_sum"
    assert data["cam:roi_counters:r2_max"] is data["r2_max"] and data[cam.roi_counters.counters.r2_max] is data["r2_max"]
    with h5py.File(scan.path, "r") as saved:
        measurement = saved[f"{scan.number}.1/measurement"]
        assert np.array_equal(measurement["r1_sum"][()], data["r1_sum"]) and "r2_std" in measurement


def test_ct_and_a_step_scan_show_the_roi_counters(shell, devices, capsys):
    cam = shell["cam"]
    cam.roi_counters["r1"] = (0, 0, 4, 4)
    capsys.readouterr()
    counted = shell["ct"](0.01, cam)
    assert {"r1_sum", "r1_avg", "r1_std", "r1_min", "r1_max"} <= set(counted.get_data())
    printed = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [words[0] for words in printed] == ["r1_sum", "r1_avg", "r1_std", "r1_min", "r1_max"]
    assert printed[0][2] == f"{counted.get_data()['r1_sum'][0]:.6g}" and printed[0][-1] == "cam:roi_counters"
    shell["ct"](0.01, cam.roi_counters.counters.r1_max)
    assert capsys.readouterr().out.split()[0] == "r1_max"
    step = shell["ascan"](shell["roby"], 0, 1, 3, 0.01, cam)
    sums = step.get_data()["r1_sum"]
    assert len(sums) == 3 and all(s == f[:4, :4].astype(float).sum() for s, f in zip(sums, frames(step)))
    assert get_node(f"{step.node.db_name}:axis:timer:cam:roi_counters:r1_avg") is not None


def test_the_scan_table_shows_the_counters_named_before_the_roi_statistics(shell, devices):
    cam = shell["cam"]
    cam.roi_counters["r1"] = (0, 0, 4, 4)
    cam.roi_counters["r2"] = (4, 4, 4, 4)
    scan = shell["ascan"](shell["roby"], 0, 1, 2, 0.01, cam, shell["diode"])
    out = io.StringIO()
    ScanTable(scan.node, out, width=100).follow()
    names = out.getvalue().splitlines()[7].split()
    assert names[:4] == ["#", "roby", "dt[s]", "diode"] and names[4] == "r1_sum"
    assert re.search(r"^   not in the table: cam, .*r2_max$", out.getvalue(), re.M)


def test_a_measurement_group_with_the_detector_counts_its_roi_counters(shell, devices):
    shell["cam"].roi_counters["r1"] = (0, 0, 4, 4)
    shell["MG_cam"].set_active()
    data = shell["loopscan"](2, 0.01).get_data()
    assert len(data["r1_sum"]) == 2 and "cam:image" in data


def test_one_roi_counter_counts_alone(shell, devices):
    cam = shell["cam"]
    cam.roi_counters["r1"] = (0, 0, 4, 4)
    cam.roi_counters["r2"] = (4, 4, 4, 4)
    average = cam.roi_counters.counters.r2_avg
    data = shell["ct"](0.01, average).get_data()
    assert (
        set(data) == {"elapsed_time", "epoch", "r2_avg", "cam:image"}
        and data[average][0] == data["cam:image"].get_image(0)[4:8, 4:8].mean()
    )


def test_rois_are_listed_copied_and_removed(shell, devices):
    rois = shell["cam"].roi_counters
    rois["r1"] = (1, 2, 3, 4)
    rois["r2"] = rois["r1"]
    assert rois["r2"] == (1, 2, 3, 4, "r2") and rois.keys() == ["r1", "r2"] and "r1" in rois and len(rois) == 2
    assert [roi.name for roi in rois.get_rois()] == ["r1", "r2"]
    assert repr(rois).splitlines() == [
        "cam ROI counters (sum, avg, std, min, max of each; the image is 32 x 24):",
        "  name  x  y  width  height",
        "  r1    1  2  3      4",
        "  r2    1  2  3      4",
    ]
    assert [c.name for c in rois.counters][:5] == ["r1_sum", "r1_avg", "r1_std", "r1_min", "r1_max"] and len(rois.counters) == 10
    del rois["r1"]
    assert rois.keys() == ["r2"]
    rois.clear()
    assert len(rois) == 0 and repr(rois) == "cam: no ROI counters; add one with cam.roi_counters['r1'] = (x, y, width, height)"


@pytest.mark.parametrize(
    "name, value, message",
    [("1r", (0, 0, 4, 4), r"cam: ROI name '1r' refused: use a Python name \(letters, digits and '_', not starting with a digit\)"),
     ("r 1", (0, 0, 4, 4), "cam: ROI name 'r 1' refused"),
     (5, (0, 0, 4, 4), "cam: ROI name 5 refused"),
     ("r3", (0, 0, 4), r"cam: ROI r3 \(0, 0, 4\) refused: give \(x, y, width, height\), four whole numbers"),
     ("r3", (0, 0, 1.5, 4), r"cam: ROI r3 \(0, 0, 1.5, 4\) refused: give \(x, y, width, height\)"),
     ("r3", "0 0 4 4", r"cam: ROI r3 '0 0 4 4' refused"),
     ("r3", (0, 0, 0, 4), r"cam: ROI r3 \(0, 0, 0, 4\) refused: x and y must be >= 0, width and height >= 1"),
     ("r3", (-2, 0, 4, 4), r"cam: ROI r3 \(-2, 0, 4, 4\) refused: x and y must be >= 0"),
     ("r3", (30, 0, 4, 4), r"cam: ROI r3 \(30, 0, 4, 4\) goes outside the 32 x 24 image: x \+ width must be <= 32 and y \+ height <= 24")],
)  # fmt: skip
def test_a_bad_roi_is_refused_and_the_rois_stay(shell, devices, name, value, message):
    rois = shell["cam"].roi_counters
    rois["r1"] = (0, 0, 4, 4)
    rois["r2"] = (8, 8, 4, 4)
    with pytest.raises(ValueError, match=message):
        rois[name] = value
    assert rois.keys() == ["r1", "r2"] and rois["r1"] == (0, 0, 4, 4, "r1")


def test_a_roi_that_no_longer_fits_refuses_the_scan_and_stays(shell, devices):
    cam = shell["cam"]
    cam.roi_counters["r1"] = (20, 0, 10, 10)
    cam.image.binning = [2, 2]  # 16 x 12 now
    scans = len(shell["SCANS"])
    with pytest.raises(ValueError, match=r"cam: ROI r1 \(20, 0, 10, 10\) goes outside the 16 x 12 image \(image.roi, binning "
                                         r"or rotation changed since it was set\): move it with cam.roi_counters\['r1'\] = "
                                         r"\(x, y, width, height\), or remove it with del cam.roi_counters\['r1'\]$"):  # fmt: skip
        shell["loopscan"](2, 0.01, cam)
    assert len(shell["SCANS"]) == scans  # refused before it started
    with pytest.raises(KeyError, match=r"cam: no ROI 'nope' \(ROIs: r1\)"):
        del cam.roi_counters["nope"]
    assert cam.roi_counters["r1"] == (20, 0, 10, 10, "r1")


def test_a_scan_without_rois_leaves_the_roi_device_alone(shell, devices):
    scan = shell["loopscan"](2, 0.01, shell["cam"])
    assert devices[1].state() == tango.DevState.OFF and set(scan.get_data()) == {"elapsed_time", "epoch", "cam:image"}
    assert get_node(f"{scan.node.db_name}:timer:cam:roi_counters") is None


def test_rois_given_to_the_server_before_are_cleared_by_a_scan_without_them(shell, devices):
    cam = shell["cam"]
    cam.roi_counters["r1"] = (0, 0, 4, 4)
    shell["ct"](0.01, cam)
    assert list(devices[1].getNames()) == ["r1"]
    cam.roi_counters.clear()
    shell["ct"](0.01, cam)
    assert devices[1].state() == tango.DevState.OFF


# -- settings outlive the shell, Redis and the server ---------------------------------------------------


def test_what_the_user_set_comes_back_in_a_new_shell_and_on_a_restarted_server(devices, open_shell, redis_client):
    first = SimulatorServer({"LimaCCDs": [CAMERA], "RoiCounterDeviceServer": [ROI_DEVICE]}, instance="limarestart")
    try:
        cam = open_shell(first.url(CAMERA))["cam"]
        cam.image.binning = [2, 2]
        cam.image.roi = (1, 1, 8, 6)
        cam.image.flip = [False, True]  # the roi stays on its pixels: [1, 5, 8, 6] now
        image = (cam.image.binning, cam.image.roi, cam.image.flip)
        cam.acquisition.expo_time = 0.05
        cam.saving.frames_per_file = 7
        cam.roi_counters["r1"] = (0, 0, 4, 4)
        cam.roi_counters["r2"] = (2, 2, 3, 3)
    finally:
        first.stop()
    redis_client.flushall()  # Redis lost them too: they come back from the settings files
    restarted = SimulatorServer({"LimaCCDs": [CAMERA], "RoiCounterDeviceServer": [ROI_DEVICE]}, instance="limarestart")
    try:
        shell = open_shell(restarted.url(CAMERA))
        cam = shell["cam"]
        camera = tango.DeviceProxy(restarted.url(CAMERA))
        assert image == ([2, 2], [1, 5, 8, 6], [False, True]) == (cam.image.binning, cam.image.roi, cam.image.flip)
        assert (list(camera.image_bin), list(camera.image_roi)) == ([2, 2], [1, 5, 8, 6])
        assert (camera.acq_expo_time, cam.saving.frames_per_file) == (0.05, 7)
        assert cam.roi_counters.keys() == ["r1", "r2"]
        assert list(tango.DeviceProxy(restarted.url(ROI_DEVICE)).getNames()) == ["r1", "r2"]  # given back at once
        data = shell["ct"](0.01, cam).get_data()
        assert data["r2_sum"][0] == data["cam:image"].get_image(0)[2:5, 2:5].astype(float).sum()
    finally:
        restarted.stop()


def test_roi_counters_need_a_roicounter_device_and_say_so(open_shell, redis_client):
    plain = SimulatorServer({"LimaCCDs": ["id00/limaccds/plain"]}, instance="limaplain")
    try:
        shell = open_shell(plain.url("id00/limaccds/plain"))
        cam = shell["cam"]
        assert shell["ct"](0.01, cam).get_data()["cam:image"].get_image(0).shape == (24, 32)  # no ROI: no plugin needed
        cam.roi_counters["r1"] = (0, 0, 4, 4)
        with pytest.raises(TangoDeviceError, match=r"cam: Tango device .*/id00/limaccds/plain#dbase=no has no RoiCounter plugin "
                                                   r"device .* or remove the ROIs: cam.roi_counters.clear\(\)"):  # fmt: skip
            shell["ct"](0.01, cam)
    finally:
        plain.stop()
