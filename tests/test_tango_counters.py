"""TangoCounter on any Tango attribute, proven on Debian's TangoTest (the C++ reference server) and on our SimCounter.

The client tests that apply to both run against our simulator's ``SimCounter.Value`` and TangoTest's ``double_scalar``
(the ``source`` fixture), so the simulator cannot drift from a server others wrote.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gevent
import h5py
import numpy as np
import pytest
from tango import AttrQuality
from tango.server import Device, attribute
from tango.test_context import DeviceTestContext

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.controllers.tango_client import SERVER_HINT, TangoDeviceError
from bliss_shell.data import get_node
from bliss_shell.shell.error_report import ErrorReport
from bliss_shell.shell.namespace import session_namespace, show_active_mg
from conftest import wait_for
from simulator_server import SimulatorServer
from tango_test_server import TangoTestServer

pytestmark = pytest.mark.slow  # every test starts device servers

SIM_COUNTER = "id00/counter/c"
BAD_FONT = "TypeError: .*devices.yml, line \\d+: "


@pytest.fixture(scope="module")
def tango_test() -> Iterator[TangoTestServer]:
    server = TangoTestServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer({"SimCounter": [SIM_COUNTER]}, instance="counters")
    yield server
    server.stop()


@dataclass
class Source:
    """A scalar double attribute of a real server: its URL, attribute and the device's usual state."""

    url: str
    attribute: str
    state: str


@pytest.fixture(params=["SimCounter.Value", "TangoTest.double_scalar"])
def source(request) -> Source:
    if request.param.startswith("SimCounter"):
        return Source(request.getfixturevalue("simulator").url(SIM_COUNTER), "Value", "ON")
    return Source(request.getfixturevalue("tango_test").url(), "double_scalar", "RUNNING")


def counter(name: str, url: str, attribute: str, **keys) -> str:
    """One TangoCounter of the config, in YAML."""
    lines = [f"- name: {name}", "  class: TangoCounter", f"  tango_url: {url}", f"  attribute: {attribute}"]
    lines += [f"  {key}: {value}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def load(tmp_path: Path, redis_client, *objects: str) -> tuple[dict, list[str]]:
    """Session ``counters`` of these objects, as the shell opens it: the errors of the objects that fail, one line each."""
    folder = tmp_path / "beamline"
    folder.mkdir(exist_ok=True)
    (folder / "devices.yml").write_text("".join(objects) + "- name: counters\n  class: Session\n")
    session = Config([ConfigRoot(folder)]).get("counters")
    namespace = session_namespace(session, redis_client, ErrorReport())
    errors: list[str] = []

    def report(error: BaseException) -> None:
        errors.append(f"{type(error).__name__}: {error}")

    session.setup(namespace, on_error=report, verbose=False)
    show_active_mg(namespace, report)
    namespace["SCAN_SAVING"].base_path = str(tmp_path / "scans")
    return namespace, errors


def measurement(scan) -> dict:
    """The scan's entry in its file: status, reason, scan_info and every dataset of measurement/ (with its attributes)."""
    with h5py.File(scan.path, "r") as file:
        entry = file[f"{scan.number}.1"]
        return {
            "status": entry["writer/status"][()].decode(), "reason": entry["writer/reason"][()].decode(),
            "scan_info": json.loads(entry["scan_info"][()].decode()),
            **{name: (dataset[()], dict(dataset.attrs)) for name, dataset in entry["measurement"].items()},
        }  # fmt: skip


def channel(scan, fullname: str):
    """The channel's node in Redis: ``tt_wave:tt_wave`` is under ``timer`` in a loopscan."""
    return get_node(f"{scan.node.db_name}:timer:{fullname}")


def warnings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("WARNING")]


# The same client on our simulator and on TangoTest


def test_a_double_attribute_counts_the_same_on_our_simulator_and_on_tangotest(source, tmp_path, redis_client, capsys):
    session, errors = load(tmp_path, redis_client, counter("c", source.url, source.attribute),
                           counter("c_single", source.url, source.attribute, mode="SINGLE"))  # fmt: skip
    assert errors == []
    c, c_single = session["c"], session["c_single"]
    assert (c.mode.value, c.dtype, c.shape) == ("MEAN", "float64", ())  # BLISS's default mode
    assert (c_single.mode.value, c_single.dtype, c_single.shape) == ("SINGLE", "float64", ())
    scan = session["loopscan"](3, 0.02, c, c_single)
    assert scan.state == "done" and warnings(capsys.readouterr().out) == []
    data, saved = scan.get_data(), measurement(scan)
    for name in ("c", "c_single"):
        node = channel(scan, f"{name}:{name}")
        assert (node.dtype, node.shape) == (np.dtype("float64"), ())
        assert data[name].dtype == np.float64 and data[name].shape == (3,) and np.all(np.isfinite(data[name]))
        assert np.array_equal(saved[name][0], data[name])
    assert "device_states" not in scan.scan_info


def test_allowed_states_name_the_states_a_counter_counts_in_without_a_word(source, tmp_path, redis_client, capsys):
    session, errors = load(tmp_path, redis_client, counter("c", source.url, source.attribute, allowed_states="[OFF, STANDBY]"),
                           counter("c_ok", source.url, source.attribute, allowed_states=f"[{source.state}]"))  # fmt: skip
    assert errors == [] and session["c"].allowed_states == ("OFF", "STANDBY")
    scan = session["loopscan"](2, 0.01, session["c"], session["c_ok"])
    assert warnings(capsys.readouterr().out) == [
        f"WARNING: c: device {source.url} is in {source.state} (allowed_states: OFF, STANDBY); counted anyway"
    ]
    assert scan.state == "done" and len(scan.get_data()["c"]) == 2  # counted all the same
    assert scan.scan_info["device_states"] == {"c": source.state}


@pytest.mark.parametrize("kind", ["SimCounter", "TangoTest"])
def test_a_server_killed_mid_scan_fails_the_scan_in_one_line_and_keeps_the_points(kind, tmp_path, redis_client, capfd):
    server = SimulatorServer({"SimCounter": [SIM_COUNTER]}, instance="doomed") if kind == "SimCounter" else TangoTestServer()
    url, attribute = (server.url(SIM_COUNTER), "Value") if kind == "SimCounter" else (server.url(), "double_scalar")
    try:
        session, _ = load(tmp_path, redis_client, counter("c", url, attribute))  # MEAN: read in a greenlet of its own
        capfd.readouterr()

        def kill_after_five_points() -> None:
            wait_for(lambda: session["SCANS"] and session["SCANS"][-1].node is not None, "the scan did not start")
            wait_for(lambda: len(channel(session["SCANS"][-1], "c:c") or []) >= 5, "the scan took no 5 points")
            os.kill(server.process.pid, signal.SIGKILL)

        killer = gevent.spawn(kill_after_five_points)
        device = re.escape(f"c: Tango device {url}: ")
        with pytest.raises(TangoDeviceError, match=f"^{device}"):
            session["loopscan"](1000, 0.01, session["c"])
        killer.get(timeout=5)
        scan = session["SCANS"][-1]
        end = scan.node.end_state()
        assert end["state"] == "failed" and re.match(f"TangoDeviceError: {device}", end["reason"])
        assert end["reason"].endswith(f": {SERVER_HINT}")  # what to do: a dead server, not a refusal
        published = channel(scan, "c:c").get(0, -1)
        saved = measurement(scan)
        assert saved["status"] == "FAILED" and saved["reason"] == end["reason"]
        assert len(published) >= 5 and np.array_equal(saved["c"][0], published)
        assert "Traceback" not in capfd.readouterr().err  # no greenlet printed its death
    finally:
        server.process.kill()
        server.process.communicate()


# Every type of attribute, on TangoTest

NUMBERS = {  # counter: (attribute, mode or None, its default or given mode, channel type)
    "tt_double": ("double_scalar", None, "MEAN", "float64"),
    "tt_float": ("float_scalar", None, "MEAN", "float64"),
    "tt_float_single": ("float_scalar", "SINGLE", "SINGLE", "float32"),
    "tt_long": ("long_scalar", None, "SINGLE", "int32"),
    "tt_long_mean": ("long_scalar", "MEAN", "MEAN", "float64"),
    "tt_long_integrate": ("long_scalar", "INTEGRATE", "INTEGRATE", "float64"),
    "tt_short": ("short_scalar", None, "SINGLE", "int16"),
    "tt_ushort": ("ushort_scalar", None, "SINGLE", "uint16"),
    "tt_ulong": ("ulong_scalar", None, "SINGLE", "uint32"),
    "tt_long64": ("long64_scalar", None, "SINGLE", "int64"),
    "tt_ulong64": ("ulong64_scalar", None, "SINGLE", "uint64"),
    "tt_uchar": ("uchar_scalar", None, "SINGLE", "uint8"),
}


def test_every_number_scalar_keeps_its_type_in_redis_and_in_the_file(tango_test, tmp_path, redis_client):
    url = tango_test.url()
    session, errors = load(tmp_path, redis_client, *(counter(name, url, attribute, **({"mode": mode} if mode else {}))
                                                     for name, (attribute, mode, _, _) in NUMBERS.items()))  # fmt: skip
    assert errors == []
    scan = session["loopscan"](3, 0.02, *(session[name] for name in NUMBERS))
    data, saved = scan.get_data(), measurement(scan)
    assert scan.state == "done" and saved["status"] == "SUCCEEDED"
    for name, (_, _, mode, dtype) in NUMBERS.items():
        assert (session[name].mode.value, session[name].dtype, session[name].shape) == (mode, dtype, ()), name
        assert channel(scan, f"{name}:{name}").dtype == np.dtype(dtype), name
        assert data[name].dtype == np.dtype(dtype) and data[name].shape == (3,), name
        assert saved[name][0].dtype == np.dtype(dtype) and np.array_equal(saved[name][0], data[name]), name


def test_a_spectrum_is_published_and_saved_as_an_mca_and_an_image_as_a_2d_channel(tango_test, tmp_path, redis_client, capsys):
    url = tango_test.url()
    session, errors = load(tmp_path, redis_client, counter("tt_wave", url, "wave"), counter("tt_longs", url, "long_spectrum_ro"),
                           counter("tt_wave_mean", url, "wave", mode="MEAN"), counter("tt_image", url, "long_image_ro"),
                           counter("tt_image_f", url, "double_image_ro"), "- name: simu1\n  class: SimulationMCA\n  nbins: 16\n")  # fmt: skip
    assert errors == []
    shapes = {name: (session[name].mode.value, session[name].dtype, session[name].shape) for name in
              ("tt_wave", "tt_longs", "tt_wave_mean", "tt_image", "tt_image_f")}  # fmt: skip
    assert shapes == {"tt_wave": ("SINGLE", "float64", (256,)), "tt_longs": ("SINGLE", "int32", (256,)),
                      "tt_wave_mean": ("MEAN", "float64", (256,)), "tt_image": ("SINGLE", "int32", (251, 251)),
                      "tt_image_f": ("SINGLE", "float64", (251, 251))}  # fmt: skip
    session["lscnt"]()
    listed = capsys.readouterr().out
    assert re.search(r"tt_wave +1D \(256,\) +tt_wave", listed) and re.search(r"tt_image +2D \(251, 251\) +tt_image", listed)

    session["ct"](0.01, session["tt_wave"], session["tt_image"])
    counted = capsys.readouterr().out
    assert re.search(r"^ +tt_wave = +\(256,\) spectrum, sum [-+.\de]+ +tt_wave$", counted, re.MULTILINE)
    assert re.search(r"^tt_image = +\(251, 251\) image, sum [-+.\de]+ +tt_image$", counted, re.MULTILINE)

    names = ["simu1", *shapes]
    scan = session["loopscan"](2, 0.02, *(session[name] for name in names))
    data, saved = scan.get_data(), measurement(scan)
    assert scan.state == "done" and saved["status"] == "SUCCEEDED"
    mca = channel(scan, "simu1:simu1")
    for name, (_, dtype, shape) in shapes.items():
        node = channel(scan, f"{name}:{name}")
        assert (node.type, node.dtype, node.shape) == (mca.type, np.dtype(dtype), shape), name
        assert data[name].shape == (2, *shape) and data[name].dtype == np.dtype(dtype), name
        values, attributes = saved[name]
        assert np.array_equal(values, data[name]), name
        assert attributes["interpretation"] == ("spectrum" if len(shape) == 1 else "image"), name
    assert saved["tt_wave"][1] == saved["simu1"][1]  # the same dataset attributes as an MCA's


def test_a_spectrum_the_device_lengthened_since_the_load_is_counted_at_its_new_length(tango_test, tmp_path, redis_client):
    device = tango_test.proxy()  # TangoTest's double_spectrum reads as last written
    before = device.read_attribute("double_spectrum").value
    try:
        device.write_attribute("double_spectrum", np.arange(4.0))
        session, errors = load(tmp_path, redis_client, counter("tt_spectrum", tango_test.url(), "double_spectrum"))
        assert errors == [] and session["tt_spectrum"].shape == (4,)
        device.write_attribute("double_spectrum", np.arange(6.0))
        scan = session["loopscan"](2, 0.01, session["tt_spectrum"])
        assert channel(scan, "tt_spectrum:tt_spectrum").shape == (6,) and scan.get_data()["tt_spectrum"].shape == (2, 6)
        assert session["tt_spectrum"].shape == (4,)  # as loaded (lscnt's): a scan keeps its shape to its channel
    finally:
        device.write_attribute("double_spectrum", before)


def test_attributes_that_are_not_numbers_are_refused_at_load_in_one_line_and_the_rest_loads(tango_test, tmp_path, redis_client):
    url = tango_test.url()
    session, errors = load(
        tmp_path, redis_client,
        counter("tt_string", url, "string_scalar"), counter("tt_bool", url, "boolean_scalar"), counter("tt_state", url, "State"),
        counter("tt_strings", url, "string_spectrum_ro"), counter("tt_bools", url, "boolean_image_ro"),
        counter("tt_nope", url, "no_such_attribute"), counter("tt_states", url, "double_scalar", allowed_states="[ON, FAUL]"),
        counter("tt_mode", url, "double_scalar", mode="SOMETIMES"), counter("tt_ok", url, "double_scalar"),
    )  # fmt: skip
    link = re.escape(url)
    numbers = "; a counter counts numbers: integer or floating-point scalars, spectra and images$"
    expected = [
        f"^{BAD_FONT}tt_string: attribute string_scalar of Tango device {link} is a string \\(DevString scalar\\){numbers}",
        f"^{BAD_FONT}tt_bool: attribute boolean_scalar of Tango device {link} is a boolean \\(DevBoolean scalar\\){numbers}",
        f"^{BAD_FONT}tt_state: attribute State of Tango device {link} is a device state \\(DevState scalar\\){numbers}",
        f"^{BAD_FONT}tt_strings: attribute string_spectrum_ro of Tango device {link} is a string \\(DevString spectrum\\)",
        f"^{BAD_FONT}tt_bools: attribute boolean_image_ro of Tango device {link} is a boolean \\(DevBoolean image\\)",
        f"^TangoDeviceError: tt_nope: Tango device {link}: .*no_such_attribute",
        "^ValueError: .*devices.yml, line \\d+: tt_states: allowed_states must be a list of Tango states "
        "\\(ON, OFF, .*, UNKNOWN\\), not \\['ON', 'FAUL'\\]$",
        "^ValueError: .*devices.yml, line \\d+: tt_mode: mode must be one of SINGLE, MEAN, INTEGRATE, not 'SOMETIMES'$",
    ]  # fmt: skip
    assert len(errors) == len(expected) and all("\n" not in error for error in errors)
    for pattern, error in zip(expected, errors):
        assert re.search(pattern, error), error
    assert repr(session["tt_string"]).startswith("<tt_string: unavailable: ")
    scan = session["loopscan"](2, 0.01, session["tt_ok"])  # the session is usable: nothing else was lost
    assert scan.state == "done" and len(scan.get_data()["tt_ok"]) == 2


@pytest.mark.parametrize("mode", ["SINGLE", "MEAN"])
def test_an_attribute_that_throws_fails_the_scan_at_its_first_point_in_one_line(mode, tango_test, tmp_path, redis_client, capfd):
    url = tango_test.url()
    session, errors = load(tmp_path, redis_client, counter("tt_throw", url, "throw_exception", mode=mode),
                           counter("tt_double", url, "double_scalar"))  # fmt: skip
    assert errors == []  # its config is a number: it loads; its reading fails
    before = session["loopscan"](2, 0.01, session["tt_double"])
    capfd.readouterr()
    message = (
        f"tt_throw: Tango device {url}: Failed to read_attributes on device sys/tg_test/1, attribute throw_exception "
        "(here is the exception you requested)"
    )
    with pytest.raises(TangoDeviceError, match=f"^{re.escape(message)}$"):
        session["loopscan"](3, 0.01, session["tt_double"], session["tt_throw"])
    scan = session["SCANS"][-1]
    assert scan.state == "failed" and scan.node.end_state() == {"state": "failed", "reason": f"TangoDeviceError: {message}"}
    saved = measurement(scan)
    assert (saved["status"], saved["reason"]) == ("FAILED", f"TangoDeviceError: {message}")
    assert len(saved["tt_double"][0]) == 0 and "Traceback" not in capfd.readouterr().err
    assert measurement(before)["status"] == "SUCCEEDED" and len(measurement(before)["tt_double"][0]) == 2
    after = session["loopscan"](2, 0.01, session["tt_double"])
    assert after.state == "done" and after.number == scan.number + 1


class SensorOff(Device):
    """A device that cannot read its sensor now: its attributes come with quality ATTR_INVALID and no value, as a PyTango
    server sends them when its hardware does not answer (``return value, time.time(), AttrQuality.ATTR_INVALID``)."""

    @attribute(dtype=float)
    def Value(self):
        return 0.0, time.time(), AttrQuality.ATTR_INVALID

    @attribute(dtype=(float,), max_dim_x=16)
    def Spectrum(self):
        return [0.0], time.time(), AttrQuality.ATTR_INVALID


def test_an_attribute_the_device_cannot_read_now_is_one_line_saying_so_never_a_none(tmp_path, redis_client):
    server = DeviceTestContext(SensorOff, host="127.0.0.1", process=True)
    with server:
        url = server.get_device_access()
        session, errors = load(tmp_path, redis_client, counter("off", url, "Value"), counter("off_spectrum", url, "Spectrum"))
        no_value = "has no value: the device could not read it now (quality ATTR_INVALID); its state and status may say why"
        assert errors == [f"TangoDeviceError: off_spectrum: Tango device {url}: Spectrum {no_value}"]  # its shape is unknown
        with pytest.raises(TangoDeviceError, match=f"^{re.escape(f'off: Tango device {url}: Value {no_value}')}$"):
            session["off"].read(0.1)
        with pytest.raises(TangoDeviceError, match=re.escape(no_value)):
            session["loopscan"](2, 0.01, session["off"])
        assert session["SCANS"][-1].state == "failed"


@pytest.fixture
def in_fault(tango_test) -> Iterator:
    """TangoTest put in FAULT (``SwitchStates`` toggles RUNNING and FAULT); back to RUNNING after the test."""
    device = tango_test.proxy()
    yield device
    if str(device.state()) == "FAULT":
        device.SwitchStates()


def test_a_device_in_fault_is_one_line_of_the_scan_and_goes_into_its_info(in_fault, tango_test, tmp_path, redis_client, capsys):
    url = tango_test.url()
    session, _ = load(tmp_path, redis_client, counter("tt_double", url, "double_scalar"), counter("tt_long", url, "long_scalar"))
    in_fault.SwitchStates()
    assert str(in_fault.state()) == "FAULT"
    capsys.readouterr()
    scan = session["loopscan"](3, 0.01, session["tt_double"], session["tt_long"])
    assert warnings(capsys.readouterr().out) == [  # one line for the device, not one per counter or point
        f"WARNING: tt_double, tt_long: device {url} is in FAULT (allowed_states: all but FAULT, ALARM); counted anyway"
    ]
    assert scan.state == "done" and len(scan.get_data()["tt_long"]) == 3
    assert scan.scan_info["device_states"] == {"tt_double": "FAULT", "tt_long": "FAULT"}
    assert measurement(scan)["scan_info"]["device_states"] == {"tt_double": "FAULT", "tt_long": "FAULT"}
    in_fault.SwitchStates()  # RUNNING again: nothing to say
    again = session["loopscan"](2, 0.01, session["tt_double"])
    assert warnings(capsys.readouterr().out) == [] and "device_states" not in again.scan_info


def test_a_device_that_goes_to_fault_during_the_scan_is_one_line_at_its_end(in_fault, tango_test, tmp_path, redis_client, capsys):
    url = tango_test.url()
    session, _ = load(tmp_path, redis_client, counter("tt_double", url, "double_scalar"))

    def fault_after_three_points() -> None:
        wait_for(lambda: session["SCANS"] and session["SCANS"][-1].node is not None, "the scan did not start")
        wait_for(lambda: len(channel(session["SCANS"][-1], "tt_double:tt_double") or []) >= 3, "the scan took no 3 points")
        in_fault.SwitchStates()

    switch = gevent.spawn(fault_after_three_points)
    capsys.readouterr()
    scan = session["loopscan"](100, 0.01, session["tt_double"])
    switch.get(timeout=5)
    assert warnings(capsys.readouterr().out) == [
        f"WARNING: tt_double: device {url} was in FAULT at the scan's end (allowed_states: all but FAULT, ALARM)"
    ]
    assert scan.state == "done" and scan.scan_info["device_states"] == {"tt_double": "FAULT"}


def test_in_the_shell_a_server_killed_mid_scan_ends_the_scan_without_a_greenlet_traceback(open_terminal, shell_env, tmp_path):
    server = TangoTestServer()
    try:
        (tmp_path / "beamline").mkdir()
        (tmp_path / "beamline" / "devices.yml").write_text(counter("tt", server.url(), "double_scalar")
                                                           + "- name: ttsess\n  class: Session\n")  # fmt: skip
        shell = open_terminal("-s", "ttsess", "--config", str(tmp_path / "beamline"))
        shell.prompt(1, label="TTSESS", timeout=40)
        shell.enter(f"SCAN_SAVING.base_path = '{tmp_path / 'scans'}'")
        shell.prompt(2, label="TTSESS")
        shell.enter("s = loopscan(100000, 0.01, tt)")  # MEAN: sampled in a greenlet of its own
        shell.wait_for(r"\] +[1-9]\d+/100000 ")  # the progress bar counted 10 points
        os.kill(server.process.pid, signal.SIGKILL)
        shell.prompt(3, label="TTSESS")
        screen = shell.text()
        device = re.escape(f"tt: Tango device {server.url()}: ")
        assert re.search(f"^Scan failed: TangoDeviceError: {device}", screen, re.MULTILINE), screen
        shown = shell.transcript.decode(errors="replace")
        assert "Traceback" not in shown and "Greenlet" not in shown, screen
    finally:
        server.process.kill()
        server.process.communicate()
