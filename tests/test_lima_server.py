"""Lima as the real LimaCCDs server behaves: every pixel type, a camera fault, the overwrite policy, the layout
of saved files, a server URL a reader can use alone, the image geometry (binning, flip, rotation, roi) and the
RoiCounter plugin device. Our simulator server runs for real."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gevent
import h5py
import numpy as np
import pytest
import tango

from bliss_shell.comm import use_settings_folder
from bliss_shell.config import Config, ConfigRoot
from bliss_shell.controllers.lima_protocol import decode_data_array
from bliss_shell.controllers.tango_client import TangoDeviceError
from bliss_shell.data import EventType, get_node, keys
from bliss_shell.simulators.lima_image import Geometry
from conftest import interruptible, open_session, wait_for
from simulator_server import SimulatorServer, free_port, wait_until_answers

CAMERA, ROI_DEVICE = "id00/limaccds/cam", "id00/roicounter/cam"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"LimaCCDs": [CAMERA], "RoiCounterDeviceServer": [ROI_DEVICE]}, instance="lima")
    yield simulators
    simulators.stop()


@pytest.fixture
def camera(server) -> tango.DeviceProxy:
    """The camera device, as a fresh server has it: no instrument name, no fault, ABORT, the whole image."""
    device = tango.DeviceProxy(server.url(CAMERA))
    device.user_instrument_name = ""
    device.saving_overwrite_policy = "ABORT"
    device.saving_mode = "MANUAL"
    device.image_roi, device.image_rotation, device.image_flip, device.image_bin = [0, 0, 0, 0], "NONE", [False, False], [1, 1]
    device.prepareAcq()  # clears a fault a test left
    return device


@pytest.fixture
def beamline(server, camera, redis_client, tmp_path) -> Iterator:
    """``beamline("Bpp16S")``: a session whose Lima ``cam`` (32x24) has that pixel type."""

    def open_beamline(image_type: str = "Bpp32") -> dict:
        folder = tmp_path / f"config_{image_type}"
        folder.mkdir()
        (folder / "devices.yml").write_text(
            f"""
- name: cam
  class: Lima
  tango_url: {server.url(CAMERA)}
  sim_image_size: [32, 24]
  sim_image_type: {image_type}
- name: lima_session
  class: Session
"""
        )
        return open_session([ConfigRoot(folder)], "lima_session", redis_client, tmp_path / "scans")

    yield open_beamline
    camera.sim_image_type = "Bpp32"


def lima_node(scan):
    return get_node(f"{scan.node.db_name}:timer:cam:image")


def wait_frames(scan, count: int) -> None:
    """Until the running scan's lima node says ``count`` frames are ready (deadline 20 s)."""
    with gevent.Timeout(20):
        while scan.node is None or lima_node(scan) is None or len(lima_node(scan)) < count:
            gevent.sleep(0.01)


def end_of(scan) -> dict:
    events = get_node(scan.node.db_name).walk_events(wait=False)
    return next(e.data.data for e in events if e.type is EventType.END_SCAN)


# -- pixel types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image_type, dtype, data_type",
    [("Bpp8", "uint8", 0), ("Bpp8S", "int8", 4), ("Bpp12", "uint16", 1), ("Bpp16S", "int16", 5), ("Bpp32", "uint32", 2),
     ("Bpp32S", "int32", 6), ("Bpp32F", "float32", 8)],
)  # fmt: skip
def test_every_pixel_type_of_the_real_server_reads_back_from_memory_and_from_file(beamline, camera, image_type, dtype, data_type):
    session = beamline(image_type)
    scan = session["loopscan"](3, 0.01, session["cam"])
    assert lima_node(scan).info["dtype"] == dtype
    _, raw = camera.readImage(0)
    version, header_length, _, code = struct.unpack_from("<HHII", raw, 4)
    assert (version, header_length, code) == (4, 80, data_type)  # the real server's DATA_ARRAY v4 header
    images = scan.get_data()["cam:image"]
    from_server = [images.get_image(i) for i in range(3)]
    assert all(frame.dtype == np.dtype(dtype) and frame.shape == (24, 32) for frame in from_server)
    if dtype[0] in "if":
        assert min(frame.min() for frame in from_server) < 0  # negative pixels survive
    session["ct"](0.01, session["cam"])  # the server takes another acquisition: scan's frames come from its file
    from_file = [images.get_image(i) for i in range(3)]
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(from_server, from_file))
    with h5py.File(scan.path, "r") as master:
        assert master[f"{scan.number}.1/measurement/cam"].dtype == np.dtype(dtype)


def test_image_sizes_and_image_type_say_the_sign_as_the_real_server_does(camera):
    expected = {"Bpp8": [0, 1], "Bpp8S": [1, 1], "Bpp16": [0, 2], "Bpp16S": [1, 2], "Bpp32S": [1, 4], "Bpp32F": [1, 4]}
    for image_type, sign_and_depth in expected.items():
        camera.sim_image_type = image_type
        assert camera.image_type == image_type and list(camera.image_sizes)[:2] == sign_and_depth
    with pytest.raises(tango.DevFailed, match="Wrong value sim_image_type: Bpp64"):
        camera.sim_image_type = "Bpp64"


def test_a_big_endian_data_array_decodes():
    frame = np.array([[-2, 300], [7, -40000]], dtype=">i4")
    header = struct.pack("<IHHIIHH6H6IQQII", struct.unpack(">I", b"DTAY")[0], 4, 80, 2, 6, 1, 2, 2, 2, 0, 0, 0, 0,
                         4, 8, 0, 0, 0, 0, 0, 0, 0, 0)  # fmt: skip
    assert decode_data_array(header + frame.tobytes()).tolist() == [[-2, 300], [7, -40000]]


# -- a camera fault ---------------------------------------------------------------------------


def test_a_camera_fault_fails_the_scan_at_once_naming_the_device_and_keeps_the_frames_taken(beamline, server, camera):
    session = beamline()
    scan = session["loopscan"](500, 0.01, session["cam"], run=False)
    command = interruptible(scan.run)
    wait_frames(scan, 3)
    camera.sim_fault("Processing: overun")  # one of the real server's acq_status_fault_error values
    command.join(timeout=20)
    message = (f"cam: Tango device {server.url(CAMERA)}: camera fault: Processing: overun "
               "(acq_status Fault; the next scan's prepareAcq resets it)")  # fmt: skip
    assert isinstance(command.exception, TangoDeviceError) and str(command.exception) == message
    assert scan.state == "failed" and end_of(scan) == {"state": "failed", "reason": f"TangoDeviceError: {message}"}
    taken = len(lima_node(scan))
    assert 3 <= taken < 500 and len(scan.get_data()["elapsed_time"]) >= 3
    assert scan.get_data()["cam:image"].get_image(taken - 1).shape == (24, 32)
    with h5py.File(scan.path, "r") as master:
        entry = master[f"{scan.number}.1"]
        assert entry["writer/status"][()] == b"FAILED" and entry["measurement/cam"].shape[0] >= 3
    assert camera.acq_status == "Fault" and camera.acq_status_fault_error == "Processing: overun"
    assert session["ct"](0.01, session["cam"]).state == "done"  # prepareAcq resets the camera


def test_a_faulty_camera_refuses_to_start_until_prepared(camera):
    camera.sim_fault("")
    assert camera.acq_status == "Fault" and camera.acq_status_fault_error == "Camera: error"
    with pytest.raises(tango.DevFailed, match="Can't process startAcq: Acquisition is in fault"):  # Lima core's words
        camera.startAcq()
    camera.prepareAcq()
    assert camera.acq_status == "Ready" and camera.acq_status_fault_error == "No error"
    with pytest.raises(tango.DevFailed, match="Wrong value sim_fault: 'detector overheated': one of the real "):
        camera.sim_fault("detector overheated")  # the real server never says that


# -- overwrite policy and the saved files' layout ----------------------------------------------


def prepare_saving(camera, folder: Path, frames: int = 2) -> None:
    camera.acq_trigger_mode, camera.acq_nb_frames, camera.acq_expo_time = "INTERNAL_TRIGGER", frames, 0.001
    camera.saving_mode, camera.saving_directory, camera.saving_prefix = "AUTO_FRAME", str(folder), "cam_"
    camera.saving_suffix, camera.saving_next_number, camera.saving_frame_per_file = ".h5", 0, 1


def test_abort_refuses_to_prepare_over_an_existing_file_and_overwrite_replaces_it(camera, tmp_path):
    (tmp_path / "cam_0001.h5").write_bytes(b"frames of an earlier acquisition")
    prepare_saving(camera, tmp_path)
    with pytest.raises(tango.DevFailed, match="File : cam_0001.h5 already exist"):
        camera.prepareAcq()
    camera.saving_overwrite_policy = "overwrite"
    camera.prepareAcq()
    camera.startAcq()
    wait_for(lambda: camera.acq_status == "Ready", "the acquisition did not end")  # its files are closed then
    assert camera.last_image_saved == 1
    with h5py.File(tmp_path / "cam_0001.h5", "r", locking=False) as saved:
        assert saved[f"entry_0000/instrument/{camera.user_detector_name}/data"].shape[0] == 1
    with pytest.raises(tango.DevFailed, match="Wrong value saving_overwrite_policy: APPEND"):
        camera.saving_overwrite_policy = "append"


def test_a_file_that_appears_during_the_acquisition_faults_it_under_abort(camera, tmp_path):
    prepare_saving(camera, tmp_path)
    camera.acq_trigger_mode = "INTERNAL_TRIGGER_MULTI"  # one frame per startAcq: the file appears in between
    camera.prepareAcq()
    camera.startAcq()
    wait_for(lambda: camera.last_image_saved == 0, "frame 0 was not saved")
    (tmp_path / "cam_0001.h5").write_bytes(b"written by another program")
    camera.startAcq()
    wait_for(lambda: camera.acq_status == "Fault", "the acquisition did not fault")
    assert camera.acq_status_fault_error == "Saving: overwrite error" and camera.last_image_saved == 0
    assert (tmp_path / "cam_0001.h5").read_bytes() == b"written by another program"


def test_a_scan_never_overwrites_frames_saved_before(beamline, camera):
    session = beamline()
    first = session["loopscan"](2, 0.01, session["cam"])
    assert camera.saving_overwrite_policy == "ABORT" and lima_node(first).info["saving_overwrite_policy"] == "ABORT"
    folder = Path(first.path).parent / f"scan{first.number + 1:04d}"  # where the next scan's frames go
    folder.mkdir()
    (folder / "cam_0000.h5").write_bytes(b"someone else's frames")
    with pytest.raises(TangoDeviceError) as refused:
        session["loopscan"](2, 0.01, session["cam"])
    assert str(refused.value).startswith(f"cam: Tango device {session['cam'].url}: ")
    assert str(refused.value).endswith(f"(File : cam_0000.h5 already exist): a scan never overwrites saved frames "
                                       f"(saving_overwrite_policy ABORT); move that file out of {folder}")  # fmt: skip
    assert session["SCANS"][-1].state == "failed" and (folder / "cam_0000.h5").read_bytes() == b"someone else's frames"


def test_frames_are_found_where_the_server_says_it_saves_them(beamline, camera):
    camera.user_instrument_name = "id00"
    session = beamline()
    scan = session["loopscan"](2, 0.01, session["cam"])
    info = lima_node(scan).info
    assert info["frame_path"] == "entry_0000/id00/cam/data"
    with h5py.File(Path(info["saving_directory"]) / "cam_0000.h5", "r", locking=False) as saved:
        assert saved["entry_0000/id00/cam/data"].shape == (2, 24, 32)
        assert saved["entry_0000/measurement/data"].shape == (2, 24, 32)  # the real files' soft link
    images = scan.get_data()["cam:image"]
    from_server = images.get_image(1)
    session["ct"](0.01, session["cam"])
    assert np.array_equal(images.get_image(1), from_server)  # read from the file, at the server's path
    with h5py.File(scan.path, "r") as master:
        assert np.array_equal(master[f"{scan.number}.1/measurement/cam"][1], from_server)


# -- the server URL a reader gets -----------------------------------------------------------------


def test_a_reader_reaches_the_server_with_the_published_url_alone(beamline, server):
    session = beamline()
    scan = session["ct"](0.01, session["cam"])
    info = lima_node(scan).info
    assert info["server_url"] == server.url(CAMERA)  # tango://127.0.0.1:<port>/id00/limaccds/cam#dbase=no
    _, raw = tango.DeviceProxy(info["server_url"]).readImage(0)
    assert decode_data_array(raw).shape == (info["height"], info["width"])


@pytest.fixture
def database_camera(tmp_path) -> Iterator[str]:
    """A LimaCCDs device registered in a Tango database of its own (PyTango's, sqlite); yields its TANGO_HOST."""
    host = f"127.0.0.1:{free_port()}"
    processes = [subprocess.Popen(
        [sys.executable, "-m", "tango.databaseds.database", "--host", "127.0.0.1", "--port", host.split(":")[1], "2"],
        env=dict(os.environ, PYTANGO_DATABASE_NAME=str(tmp_path / "tango.db")), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )]  # fmt: skip
    try:
        wait_until_answers(f"tango://{host}/sys/database/2", processes[0], 30, "the Tango database")
        info = tango.DbDevInfo()
        info.name, info._class, info.server = "id00/limaccds/dbcam", "LimaCCDs", "BlissSimulators/limadb"
        tango.Database(*host.split(":")).add_device(info)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "bliss_shell.simulators", "limadb", "-ORBendPoint", "giop:tcp:127.0.0.1:"],
            env=dict(os.environ, TANGO_HOST=host), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        wait_until_answers(f"tango://{host}/id00/limaccds/dbcam", processes[1], 30, "the simulator serving id00/limaccds/dbcam")
        yield host
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=10)


def test_a_device_found_through_the_database_is_published_with_the_database_host(database_camera, redis_client, tmp_path):
    use_settings_folder(tmp_path / "settings")  # the object reads its settings (lima:dbcam) when built
    (tmp_path / "cam.yml").write_text(f"name: dbcam\nclass: Lima\ntango_url: tango://{database_camera}/id00/limaccds/dbcam\n")
    assert Config([ConfigRoot(tmp_path)]).get("dbcam").server_url == f"tango://{database_camera}/id00/limaccds/dbcam"


def test_a_reader_written_from_the_redis_layout_follows_a_lima_scan_to_its_end(beamline, redis_client):
    """Only Redis commands and the documented fields (docs/redis-layout.md, "Lima nodes"), then Tango and HDF5."""
    session = beamline("Bpp16S")
    scan = session["loopscan"](3, 0.01, session["cam"])
    scan_db = scan.node.db_name
    parent = f"{scan_db}:timer:cam"
    children = [fields for _, fields in redis_client.xrange(keys.children_key(parent))]
    assert children == [{b"db": f"{parent}:image".encode(), b"name": b"image", b"type": b"lima"}]
    lima_db = f"{parent}:image"
    assert redis_client.hget(keys.node_key(lima_db), "type") == b"lima"
    info = json.loads(redis_client.get(keys.info_key(lima_db)))
    assert set(info) == {"server_url", "lima_acq_nb", "width", "height", "dtype", "frame_path", "saving_mode",
                         "saving_directory", "saving_prefix", "saving_suffix", "saving_format", "saving_frame_per_file",
                         "saving_index_format", "saving_next_number", "saving_overwrite_policy", "buffer_max_number"}  # fmt: skip
    assert info["buffer_max_number"] == 64  # the simulator's ring buffer, as the real server reports it
    events = [fields for _, fields in redis_client.xrange(keys.events_key(scan_db))]
    assert [e[b"event"] for e in events] == [b"prepared", b"end"] and events[-1][b"state"] == b"done"
    entries = redis_client.xrange(keys.data_key(lima_db))
    assert all(re.fullmatch(rb"\d+-\d+", entry_id) for entry_id, _ in entries)
    last = {key.decode(): int(value) for key, value in entries[-1][1].items()}
    assert set(last) == {"last_image_acquired", "last_image_ready", "last_image_saved"} and last["last_image_ready"] == 2
    assert int(redis_client.get(info["server_url"])) == info["lima_acq_nb"]  # the server holds them (blissdata's key)
    _, raw = tango.DeviceProxy(info["server_url"]).readImage(2)
    magic, _, header_length, _, data_type, big_endian, nb_dims, width, height = struct.unpack_from("<IHHIIHHHH", raw)
    assert (raw[:4], data_type, big_endian, nb_dims, width, height) == (b"YATD", 5, 0, 2, info["width"], info["height"])
    from_memory = np.frombuffer(raw, "<i2", offset=header_length).reshape(height, width)
    number = info["saving_next_number"] + 2 // info["saving_frame_per_file"]
    path = f"{info['saving_directory']}/{info['saving_prefix']}{info['saving_index_format'] % number}{info['saving_suffix']}"
    with h5py.File(path, "r", locking=False) as saved:
        from_file = saved[info["frame_path"]][2 % info["saving_frame_per_file"]]
    assert from_file.dtype == np.dtype(info["dtype"]) and np.array_equal(from_file, from_memory) and from_file.min() < 0


# -- image geometry and the RoiCounter plugin device, as Lima core and Lima-tango-python have them ------------------


def test_binning_flip_rotation_and_roi_apply_in_lima_cores_order():
    """Binning (sums), flip, clockwise rotation, then the roi in the coordinates of the image so made."""
    frame = np.arange(24 * 32, dtype=np.uint32).reshape(24, 32)
    geometry = Geometry((32, 24), binning=(2, 2), flip=(True, False), rotation=90).with_roi((1, 2, 8, 10))
    binned = frame.reshape(12, 2, 16, 2).sum(axis=(1, 3))
    assert np.array_equal(geometry.process(frame), np.rot90(binned[:, ::-1], -1)[2:12, 1:9])
    assert geometry.roi == (1, 2, 8, 10) and geometry.size == (8, 10)


def test_the_image_attributes_shape_the_frames_from_the_next_prepare_and_keep_the_roi_on_its_pixels(camera):
    camera.sim_image_size = [32, 24]
    camera.image_bin = [2, 2]
    camera.image_roi = [1, 2, 8, 6]
    camera.image_rotation = "90"  # Lima core's getRotated: (height - y - h, x, h, w) of the 16 x 12 image
    assert list(camera.image_roi) == [12 - 2 - 6, 1, 6, 8] and (camera.image_width, camera.image_height) == (6, 8)
    assert list(camera.image_sizes) == [0, 4, 6, 8] and list(camera.image_max_dim) == [32, 24]
    with pytest.raises(tango.DevFailed, match="Software roi out of limits"):
        camera.image_roi = [0, 0, 13, 4]
    with pytest.raises(tango.DevFailed, match="Wrong value image_rotation: 45"):
        camera.image_rotation = "45"
    with pytest.raises(tango.DevFailed, match="Wrong value acq_trigger_mode: EXTERNAL_GATE"):
        camera.acq_trigger_mode = "external_gate"
    assert list(camera.getAttrStringValueList("acq_trigger_mode")) == ["INTERNAL_TRIGGER", "INTERNAL_TRIGGER_MULTI"]
    camera.acq_trigger_mode, camera.acq_nb_frames, camera.acq_expo_time = "INTERNAL_TRIGGER", 1, 0.001
    camera.prepareAcq()
    camera.startAcq()
    wait_for(lambda: camera.last_image_ready == 0, "frame 0 was not ready")
    assert decode_data_array(camera.readImage(0)[1]).shape == (8, 6)


def test_the_roicounter_device_computes_what_a_client_of_the_real_one_reads(camera, server):
    rois = tango.DeviceProxy(server.url(ROI_DEVICE))
    assert camera.getPluginDeviceNameFromType("RoiCounter") == ROI_DEVICE and camera.getPluginDeviceNameFromType("bpm") == ""
    rois.clearAllRois()
    ids = list(rois.addNames(["a", "b"]))
    assert list(rois.addNames(["b"])) == ids[1:]  # a name keeps its id
    with pytest.raises(tango.DevFailed, match="should start the device first"):
        rois.setRois([ids[0], 0, 0, 4, 4])
    rois.Start()
    with pytest.raises(tango.DevFailed, match="should call add method before setRoi"):
        rois.setRois([99, 0, 0, 4, 4])
    with pytest.raises(tango.DevFailed, match=r"should be a vector as follow \[roi_id0,x0,y0,width0,height0"):
        rois.setRois([ids[0], 0, 0, 4])
    rois.setRois([ids[0], 0, 0, 4, 4, ids[1], 3, 5, 7, 2])
    assert list(rois.getNames()) == ["a", "b"] and list(rois.getRois(["b"])) == [ids[1], 3, 5, 7, 2]
    assert list(rois.getRoiTypes(["a"])) == ["SQUARE"] and rois.state() == tango.DevState.ON
    camera.sim_image_size = [32, 24]
    camera.acq_trigger_mode, camera.acq_nb_frames, camera.acq_expo_time = "INTERNAL_TRIGGER", 3, 0.001
    camera.prepareAcq()
    camera.startAcq()
    wait_for(lambda: camera.acq_status == "Ready" and camera.last_image_ready == 2, "the acquisition did not end")
    rows = rois.readCounters(1).reshape(-1, 7)  # roi_id, frame, sum, average, std, min, max: ROI after ROI
    assert [(int(r[0]), int(r[1])) for r in rows] == [(ids[0], 1), (ids[0], 2), (ids[1], 1), (ids[1], 2)]
    for roi_id, number, *stats in rows:
        x, y, w, h = (0, 0, 4, 4) if roi_id == ids[0] else (3, 5, 7, 2)
        pixels = decode_data_array(camera.readImage(int(number))[1])[y : y + h, x : x + w].astype(float)
        assert np.allclose(stats, [pixels.sum(), pixels.mean(), pixels.std(), pixels.min(), pixels.max()])
    assert rois.CounterStatus == 2
    rois.removeRois(["a"])
    assert list(rois.getNames()) == ["b"]
    rois.clearAllRois()
    assert rois.state() == tango.DevState.OFF
