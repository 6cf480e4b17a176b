"""Our Lima client and simulator use only the real LimaCCDs server's interface (issue 27).

The tables below are the real server's, read from its public source: Lima-tango-python 1.12.2, commit
7a44684ca8062dfc0acf3696676887b59b1a6c38 (github.com/esrf-bliss/Lima-tango-python), ``lima/server/LimaCCDs.py``
(``LimaCCDsClass.attr_list`` and ``cmd_list``, the enumerations of ``init_device``, ``read_acq_status_fault_error``,
``_image_2_data_array``, ``_video_image_2_struct``), ``lima/server/plugins/RoiCounter.py`` and ``plugins/Utils.py``
(``RoiCounterDeviceServerClass``, ``BasePostProcess``); Lima core behaviours from esrf-bliss/Lima (commit
7a3cb37c, ``control/src/CtControl.cpp``, ``CtSaving.cpp``, ``common/src/VideoUtils.cpp``). They hold every name
our client uses and every name our simulator presents (its ``sim_*`` names aside): the simulator answers
Tango's own questions (attribute list, ``attribute_query``, ``command_list_query``) with exactly these, and
the client's source names nothing else. Our simulator server runs for real.
"""

from __future__ import annotations

import ast
import re
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tango
from tango import AttrDataFormat, AttrWriteType, CmdArgType

from bliss_shell.controllers.lima_protocol import decode_data_array
from conftest import wait_for
from simulator_server import SimulatorServer

CAMERA, ROI_DEVICE = "id00/limaccds/iface", "id00/roicounter/iface"
T = CmdArgType
S, SP = AttrDataFormat.SCALAR, AttrDataFormat.SPECTRUM
R, RW = AttrWriteType.READ, AttrWriteType.READ_WRITE

# LimaCCDs.py, LimaCCDsClass.attr_list: [type, format, access(, max_dim_x)] of the names used or presented here.
LIMACCDS_ATTRIBUTES = {
    "lima_version": (T.DevString, S, R),  # Lima core's version (blissdata's LimaClient reads it)
    "lima_type": (T.DevString, S, R),  # the camera plugin the server runs (BLISS's REST lima "static" reads these 4)
    "camera_type": (T.DevString, S, R),
    "camera_model": (T.DevString, S, R),
    "camera_pixelsize": (T.DevDouble, SP, R, 2),  # x, y; unit "meter", format "%f"
    "acq_mode": (T.DevString, S, RW),  # SINGLE, CONCATENATION, ACCUMULATION
    "acq_nb_frames": (T.DevLong, S, RW),  # 0: until stopAcq
    "acq_expo_time": (T.DevDouble, S, RW),  # seconds (CtAcquisition)
    "acq_trigger_mode": (T.DevString, S, RW),
    "latency_time": (T.DevDouble, S, RW),  # seconds
    "acq_status": (T.DevString, S, R),
    "acq_status_fault_error": (T.DevString, S, R),
    "image_width": (T.DevULong, S, R),
    "image_height": (T.DevULong, S, R),
    "image_max_dim": (T.DevULong, SP, R, 2),  # unit "pixel"
    "image_bin": (T.DevULong, SP, RW, 2),
    "image_flip": (T.DevBoolean, SP, RW, 2),
    "image_rotation": (T.DevString, S, RW),
    "image_roi": (T.DevLong, SP, RW, 4),
    "image_type": (T.DevString, S, R),
    "image_sizes": (T.DevULong, SP, R, 4),  # signed, bytes per pixel, width, height
    "last_image_acquired": (T.DevLong, S, R),
    "last_image_ready": (T.DevLong, S, R),
    "last_image_saved": (T.DevLong, S, R),
    "ready_for_next_image": (T.DevBoolean, S, R),
    "buffer_max_number": (T.DevLong, S, R),
    "saving_mode": (T.DevString, S, RW),
    "saving_directory": (T.DevString, S, RW),
    "saving_prefix": (T.DevString, S, RW),
    "saving_suffix": (T.DevString, S, RW),
    "saving_format": (T.DevString, S, RW),
    "saving_frame_per_file": (T.DevLong, S, RW),
    "saving_index_format": (T.DevString, S, RW),
    "saving_next_number": (T.DevLong, S, RW),
    "saving_overwrite_policy": (T.DevString, S, RW),
    "user_detector_name": (T.DevString, S, RW),
    "user_instrument_name": (T.DevString, S, RW),
    "video_active": (T.DevBoolean, S, RW),
    "video_last_image": (T.DevEncoded, S, R),
}
# LimaCCDs.py, LimaCCDsClass.cmd_list: (argument, answer).
LIMACCDS_COMMANDS = {
    "prepareAcq": (T.DevVoid, T.DevVoid),
    "startAcq": (T.DevVoid, T.DevVoid),
    "stopAcq": (T.DevVoid, T.DevVoid),
    "getAttrStringValueList": (T.DevString, T.DevVarStringArray),
    "getPluginDeviceNameFromType": (T.DevString, T.DevString),
    "readImage": (T.DevLong, T.DevEncoded),  # ("DATA_ARRAY", header v4 + pixels)
}
# The values of the enumerated attributes (LimaCCDs.py init_device: __AcqTriggerMode, __SavingMode,
# __SavingOverwritePolicy, __ImageRotation; saving_format: Lima core's format names, CtSaving.h), upper case.
ENUMERATIONS = {
    "acq_trigger_mode": {"INTERNAL_TRIGGER", "EXTERNAL_TRIGGER", "EXTERNAL_TRIGGER_MULTI", "EXTERNAL_GATE",
                         "EXTERNAL_START_STOP", "INTERNAL_TRIGGER_MULTI", "EXTERNAL_TRIGGER_READOUT"},
    "saving_mode": {"MANUAL", "AUTO_FRAME", "AUTO_HEADER"},
    "saving_format": {"EDF", "CBF", "NXS", "FITS", "EDFGZ", "TIFF", "HDF5", "EDFCONCAT", "EDFLZ4", "CBFMHEADER", "HDF5GZ",
                      "HDF5BS", "RAW"},
    "saving_overwrite_policy": {"ABORT", "OVERWRITE", "APPEND", "MULTISET"},
    "image_rotation": {"NONE", "90", "180", "270"},
}  # fmt: skip
ACQ_STATUS = {"Ready", "Running", "Fault", "Configuration"}  # _acqstate2string
FAULT_ERRORS = {"No error", "Saving: unknown error", "Saving: file open error", "Saving: file close error",
                "Saving: access error", "Saving: overwrite error", "Saving: disk full", "Saving: overun",
                "Processing: overun", "Camera: error"}  # read_acq_status_fault_error  # fmt: skip
# RoiCounter.py, RoiCounterDeviceServerClass: the whole interface.
ROICOUNTER_ATTRIBUTES = {
    "BufferSize": (T.DevLong, S, RW),
    "MaskFile": (T.DevString, S, RW),
    "OverflowThreshold": (T.DevLong, S, RW),
    "CounterStatus": (T.DevLong, S, R),
    "RunLevel": (T.DevLong, S, RW),  # written only while OFF (Utils.py, BasePostProcess)
}
ROICOUNTER_COMMANDS = {
    "addNames": (T.DevVarStringArray, T.DevVarLongArray),
    "removeRois": (T.DevVarStringArray, T.DevVoid),
    "setRois": (T.DevVarLongArray, T.DevVoid),
    "setArcRois": (T.DevVarDoubleArray, T.DevVoid),
    "getNames": (T.DevVoid, T.DevVarStringArray),
    "getRoiTypes": (T.DevVarStringArray, T.DevVarStringArray),
    "getRois": (T.DevVarStringArray, T.DevVarLongArray),
    "getArcRois": (T.DevVarStringArray, T.DevVarDoubleArray),
    "clearAllRois": (T.DevVoid, T.DevVoid),
    "setMaskFile": (T.DevString, T.DevVoid),
    "readCounters": (T.DevLong, T.DevVarDoubleArray),  # roi_id, frame, sum, average, std, min, max, ...
    "Start": (T.DevVoid, T.DevVoid),
    "Stop": (T.DevVoid, T.DevVoid),
}
TANGO_OWN = {"State", "Status", "Init"}  # every Tango device has them

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ["bliss_shell/controllers/lima.py", "bliss_shell/controllers/lima_settings.py", "bliss_shell/controllers/lima_roi.py",
          "bliss_shell/data/lima_view.py", "bliss_shell/controllers/lima_memory.py"]  # fmt: skip
# A LimaCCDs attribute name in the client's source (its prefixes in LimaCCDs.py), and a command name (camelCase).
ATTRIBUTE_NAME = re.compile(r"(acq|acc|image|saving|last|user|video|buffer|latency|ready|camera|shutter|valid|plugin)_[a-z0-9_]+")
COMMAND_NAME = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)+|Start|Stop")


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"LimaCCDs": [CAMERA], "RoiCounterDeviceServer": [ROI_DEVICE]}, instance="limainterface")
    yield simulators
    simulators.stop()


@pytest.fixture
def camera(server) -> tango.DeviceProxy:
    device = tango.DeviceProxy(server.url(CAMERA))
    device.saving_overwrite_policy, device.saving_mode, device.sim_image_type = "ABORT", "MANUAL", "Bpp32"
    device.sim_image_size = [6, 4]
    device.prepareAcq()
    return device


def client_names() -> tuple[set[str], set[str]]:
    """The LimaCCDs attribute names and the command names the client's source holds (docstrings aside)."""
    attributes, commands = set(), set()
    for path in CLIENT:
        tree = ast.parse((ROOT / path).read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node, clean=False)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if ATTRIBUTE_NAME.fullmatch(node.value):
                    attributes.add(node.value)
                elif COMMAND_NAME.fullmatch(node.value):
                    commands.add(node.value)
            elif isinstance(node, ast.Attribute) and COMMAND_NAME.fullmatch(node.attr):  # proxy.readImage(i)
                commands.add(node.attr)
    return attributes, commands


def presented(device: tango.DeviceProxy) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """What the device says it has: attributes (type, format, access(, max_dim_x)) and commands (in, out), ``sim_*`` aside."""
    attributes = {}
    for name in device.get_attribute_list():
        if name in TANGO_OWN or name.startswith("sim_"):
            continue
        info = device.attribute_query(name)
        kind = (CmdArgType(info.data_type), info.data_format, info.writable)
        attributes[name] = (*kind, info.max_dim_x) if info.data_format == SP else kind
    commands = {
        info.cmd_name: (info.in_type, info.out_type)
        for info in device.command_list_query()
        if info.cmd_name not in TANGO_OWN and not info.cmd_name.startswith("sim_")
    }
    return attributes, commands


# -- names, types, formats, access ----------------------------------------------------------------------


def test_the_simulated_camera_presents_only_real_names_with_their_real_types(camera):
    attributes, commands = presented(camera)
    assert attributes == LIMACCDS_ATTRIBUTES
    assert commands == LIMACCDS_COMMANDS
    assert camera.attribute_query("image_max_dim").unit == "pixel"
    pixelsize = camera.attribute_query("camera_pixelsize")
    assert (pixelsize.label, pixelsize.unit, pixelsize.standard_unit, pixelsize.display_unit, pixelsize.format) == (
        "Pixel size:x_size, y_size", "meter", "meter", "meter", "%f")  # fmt: skip
    assert pixelsize.description == "Size of the pixel in meter"


def test_the_simulated_camera_says_what_a_lima_simulator_camera_says(camera):
    # Lima-camera-simulator: DetInfoCtrlObj's detector type, the frame builder's model, 1 micron pixels.
    assert (camera.lima_type, camera.camera_type, camera.camera_model) == ("Simulator", "Simulator", "Generator")
    assert list(camera.camera_pixelsize) == [1e-6, 1e-6]


def test_the_simulated_roicounter_device_presents_the_whole_real_interface(server):
    attributes, commands = presented(tango.DeviceProxy(server.url(ROI_DEVICE)))
    assert attributes == ROICOUNTER_ATTRIBUTES
    assert commands == ROICOUNTER_COMMANDS


def test_the_client_names_only_real_attributes_and_commands():
    attributes, commands = client_names()
    assert attributes and attributes <= set(LIMACCDS_ATTRIBUTES), attributes - set(LIMACCDS_ATTRIBUTES)
    assert commands and commands <= set(LIMACCDS_COMMANDS) | set(ROICOUNTER_COMMANDS), commands - set(LIMACCDS_COMMANDS)
    assert {"acq_expo_time", "last_image_ready", "saving_directory", "image_roi"} <= attributes  # the scan found them
    assert {"prepareAcq", "readImage", "setRois", "readCounters", "getPluginDeviceNameFromType"} <= commands


# -- enumerations and status words --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENUMERATIONS))
def test_an_enumeration_takes_any_case_and_reads_the_real_upper_case_values(camera, name):
    offered = list(camera.getAttrStringValueList(name))
    assert offered and set(offered) <= ENUMERATIONS[name]  # a camera offers some of the real values
    before = camera.read_attribute(name).value
    try:
        for value in offered:
            camera.write_attribute(name, value.lower())
            assert camera.read_attribute(name).value == value
        with pytest.raises(tango.DevFailed, match=f"Wrong value {name}: NO_SUCH_VALUE"):  # the real server's words
            camera.write_attribute(name, "no_such_value")
        for value in ENUMERATIONS[name] - set(offered):  # real, not simulated: refused, saying so
            with pytest.raises(tango.DevFailed, match=f"Wrong value {name}: {value} \\(a real LimaCCDs value"):
                camera.write_attribute(name, value)
    finally:
        camera.write_attribute(name, before)
    assert list(camera.getAttrStringValueList("image_type")) == []  # not an enumeration


def test_acq_status_and_its_fault_error_say_only_what_the_real_server_says(camera):
    assert camera.acq_status in ACQ_STATUS and camera.acq_status_fault_error == "No error"
    for error in sorted(FAULT_ERRORS - {"No error"}):
        camera.sim_fault(error)
        assert (camera.acq_status, camera.acq_status_fault_error) == ("Fault", error)
    with pytest.raises(tango.DevFailed, match="Wrong value sim_fault: 'overheated'"):
        camera.sim_fault("overheated")
    camera.prepareAcq()
    assert (camera.acq_status, camera.acq_status_fault_error) == ("Ready", "No error")


# -- what readImage and video_last_image send ---------------------------------------------------------------


def take(camera, frames: int, expo_time: float = 0.001, mode: str = "INTERNAL_TRIGGER") -> None:
    """Prepare and start ``frames`` frames; wait until they are all ready."""
    camera.acq_trigger_mode, camera.acq_nb_frames, camera.acq_expo_time = mode, frames, expo_time
    camera.prepareAcq()
    camera.startAcq()
    wait_for(lambda: camera.acq_status == "Ready" and camera.last_image_ready == frames - 1, "the frames were not taken")


def test_read_image_sends_the_real_data_array_version_4(camera):
    camera.sim_image_type = "Bpp16S"
    take(camera, 2)
    kind, raw = camera.readImage(1)
    fields = struct.unpack_from("<IHHIIHH6H6IQQII", raw)
    magic, version, length, category, data_type, big_endian, dims = fields[:7]
    assert (kind, raw[:4], version, length, category, data_type, big_endian, dims) == ("DATA_ARRAY", b"YATD", 4, 80, 2, 5, 0, 2)
    assert fields[7:13] == (6, 4, 0, 0, 0, 0) and fields[13:19] == (2, 12, 0, 0, 0, 0)  # width, height; steps in bytes
    assert fields[19:] == (1, 0xFFFFFFFF, 0, 0)  # image number, acquisition tag (none written), padding
    assert len(raw) == 80 + 6 * 4 * 2 and decode_data_array(raw).dtype == np.int16
    assert np.array_equal(decode_data_array(camera.readImage(-3)[1]), decode_data_array(raw))  # negative: the last


def test_video_last_image_sends_the_real_header_and_the_frames_own_pixels(camera):
    assert not camera.video_active  # as Lima core starts: frames taken meanwhile make no video image
    kind, raw = camera.video_last_image
    assert struct.unpack("!IHHqiiHHHH", raw) == (0x5644454F, 1, 0, -1, -1, -1, 0, 32, 0, 0)  # frame -1, -1 x -1, Y8
    camera.video_active = True
    try:
        camera.sim_image_type = "Bpp16"
        take(camera, 1)
        kind, raw = camera.video_last_image
        magic, version, mode, number, width, height, endian, length, *padding = struct.unpack_from("!IHHqiiHHHH", raw)
        assert (kind, raw[:4], version, mode, number, width, height, endian, length) == (
            "VIDEO_IMAGE",
            b"VDEO",
            1,
            1,
            0,
            6,
            4,
            0,
            32,
        )
        pixels = np.frombuffer(raw, "<u2", offset=32)  # Y16: the frame's own little-endian pixels
        assert np.array_equal(pixels.reshape(4, 6), decode_data_array(camera.readImage(0)[1]))
    finally:
        camera.video_active = False


# -- behaviours a client relies on ------------------------------------------------------------------------


def test_acq_expo_time_is_in_seconds(camera):
    camera.acq_trigger_mode, camera.acq_nb_frames, camera.acq_expo_time = "INTERNAL_TRIGGER", 4, 0.05
    camera.prepareAcq()
    started = time.monotonic()
    camera.startAcq()
    wait_for(lambda: camera.acq_status == "Ready", "the acquisition did not end")
    assert time.monotonic() - started >= 4 * 0.05 and camera.last_image_ready == 3


def test_start_acq_needs_prepare_acq_as_lima_core_does(camera):
    take(camera, 1)
    with pytest.raises(tango.DevFailed, match="Run prepareAcq before starting acquisition"):
        camera.startAcq()  # one start per prepareAcq
    camera.acq_trigger_mode, camera.acq_nb_frames = "INTERNAL_TRIGGER_MULTI", 2
    camera.prepareAcq()
    for frame in range(2):  # one start per frame
        camera.startAcq()
        wait_for(lambda: camera.last_image_ready == frame, f"frame {frame} was not taken")  # noqa: B023
    with pytest.raises(tango.DevFailed, match="Run prepareAcq before starting acquisition"):
        camera.startAcq()
    camera.stopAcq()


def test_saving_directory_prefix_and_format_behave_as_on_the_real_server(camera, tmp_path):
    with pytest.raises(tango.DevFailed, match="Directory : doesn't exist"):
        camera.saving_directory = ""  # no folder: a client writes one only when it saves
    with pytest.raises(tango.DevFailed, match=f"Directory :{tmp_path}/missing doesn't exist"):
        camera.saving_directory = str(tmp_path / "missing" / "frames")
    camera.saving_directory = str(tmp_path / "frames")  # its parent exists: prepareAcq makes it
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "cam_0003.h5").write_bytes(b"")
    camera.saving_prefix = "cam_"  # under ABORT: after the files there
    assert camera.saving_next_number == 4
    camera.saving_suffix = ".hdf"
    camera.saving_format = "hdf5"  # sets the format's own suffix
    assert (camera.saving_format, camera.saving_suffix) == ("HDF5", ".h5")
    camera.saving_overwrite_policy = "OVERWRITE"
    camera.saving_prefix = "cam_"  # else: 0
    assert camera.saving_next_number == 0
    (tmp_path / "frames" / "cam_0003.h5").unlink()
    (tmp_path / "frames").rmdir()
    camera.saving_mode, camera.acq_nb_frames = "AUTO_FRAME", 1
    camera.prepareAcq()  # makes the missing last folder
    assert (tmp_path / "frames").is_dir()


def test_the_roicounter_device_keeps_lima_cores_counter_status_and_run_level_rules(server, camera):
    rois = tango.DeviceProxy(server.url(ROI_DEVICE))
    rois.clearAllRois()
    rois.Stop()
    with pytest.raises(tango.DevFailed, match="should start the device first"):
        rois.CounterStatus  # no counter task while OFF
    rois.RunLevel = 1
    rois.Start()
    assert rois.CounterStatus == -2  # started, no acquisition yet
    with pytest.raises(tango.DevFailed, match="RunLevel"):
        rois.RunLevel = 0  # written only while OFF
    camera.prepareAcq()
    assert rois.CounterStatus == -1  # the acquisition is prepared
    with pytest.raises(tango.DevFailed, match="Roi arc not defined yet"):
        rois.getArcRois(["arc"])
    with pytest.raises(tango.DevFailed, match="arc ROIs are not simulated"):
        rois.setArcRois([float(rois.addNames(["arc"])[0]), 10, 10, 2, 5, 0, 90])
    rois.Stop()
    rois.RunLevel = 0
