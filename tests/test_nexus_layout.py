"""Every scan type writes its entry in the layout of BLISS's NeXus writer (``/N.1``, ``instrument/<device>``,
``measurement/<name>`` links, positioners at start and end, user and dial), and the tools written for those
files read it: punx, silx, PyMca5 and blissdata's HDF5 reader. Files of the older layout still read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np
import pytest
import silx.io
import silx.io.nxdata

import test_chain_tango

PUNX = Path(sys.executable).with_name("punx")


def check_entry(path: str, number: int, motors: list[str], counters: list[str], spectra: tuple[str, ...] = (),
                stepped: bool = True) -> None:  # fmt: skip
    """The entry's layout, for the scanned ``motors`` and the ``counters`` (dataset names); a ``stepped`` motor
    ends where its last point was (a continuous one runs down beyond it)."""
    with h5py.File(path, "r", locking=False) as file:
        entry = file[f"{number}.1"]
        assert entry.attrs["NX_class"] == "NXentry" and file.attrs["NX_class"] == "NXroot"
        assert entry["title"][()] and entry["start_time"][()] < entry["end_time"][()]
        assert entry["writer/status"][()] == b"SUCCEEDED"
        npoints = len(entry["measurement/elapsed_time"])
        for name in motors:
            assert entry[f"instrument/{name}"].attrs["NX_class"] == "NXpositioner"
            assert entry.get(f"measurement/{name}", getlink=True).path == f"/{number}.1/instrument/{name}/value"
            assert entry.get(f"instrument/positioners/{name}", getlink=True).path == f"/{number}.1/instrument/{name}/value"
        for name in counters:
            group = name.replace(":", "_")
            assert entry[f"instrument/{group}"].attrs["NX_class"] == "NXdetector"
            assert {"data", "mode", "type"} <= set(entry[f"instrument/{group}"])
            assert entry.get(f"measurement/{name}", getlink=True).path == f"/{number}.1/instrument/{group}/data"
            assert len(entry[f"measurement/{name}"]) == npoints
        for name in spectra:
            assert entry[f"measurement/{name}"].attrs["interpretation"] == "spectrum"
            assert entry[f"measurement/{name}"].ndim == 2
        for timer in ("elapsed_time", "epoch"):
            assert entry.get(f"measurement/{timer}", getlink=True).path == f"/{number}.1/instrument/{timer}/data"
        epoch, elapsed = entry["measurement/epoch"][()], entry["measurement/elapsed_time"][()]
        assert epoch.dtype == np.float64 and np.allclose(epoch - epoch[0], elapsed - elapsed[0], rtol=0, atol=1e-5)
        instrument = entry["instrument"]
        session_motors = sorted(instrument["positioners_start"])
        for group in ("positioners", "positioners_end", "positioners_dial_start", "positioners_dial_end"):
            assert sorted(instrument[group]) == session_motors and instrument[group].attrs["NX_class"] == "NXcollection"
        for motor in motors if stepped else ():
            assert instrument[f"positioners_end/{motor}"][()] == pytest.approx(entry[f"measurement/{motor}"][-1])


def validate_with_punx(path: str) -> None:
    """punx with its cached NXDL (offline): no error but the entry names ``N.1`` (BLISS's own; NeXus would
    want identifiers) and, in frame files, Lima's ``entry_0000``-style names are fine."""
    result = subprocess.run([str(PUNX), "validate", path], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    errors = [line for line in result.stdout.splitlines() if " ERROR " in line]
    assert all(line.split()[0].count("/") == 1 and "validItemName" in line for line in errors), errors


def read_with_silx_pymca_blissdata(path: str, number: int, signal: str | None, axis: str) -> None:
    entry = f"{number}.1"
    with silx.io.open(path) as file:
        if signal is not None:
            plot = silx.io.nxdata.get_default(file[entry])
            assert plot is not None and plot.is_valid and plot.signal.name.endswith(f"/{signal}")
        assert silx.io.is_dataset(file[f"{entry}/measurement/{axis}"])
    from PyMca5.PyMcaCore.NexusDataSource import NexusDataSource

    source = NexusDataSource(path)
    selection = {"sourcename": path, "entry": f"/{entry}", "selectiontype": "SCAN", "cntlist": [f"/measurement/{axis}", "/measurement/epoch"],
                 "x": [0], "y": [1], "xselectiontype": ["full"], "yselectiontype": ["full"]}  # fmt: skip
    try:
        data = source.getDataObject(entry, selection=selection)
    finally:
        source.close()  # the file open twice in one process would keep blissdata's reader out
    assert len(data.x[0]) == len(data.y[0]) > 0
    assert data.info["MotorNames"]  # instrument/positioners, as PyMca shows them
    from blissdata.h5api import dynamic_hdf5, static_hdf5

    with static_hdf5.File(path) as file:
        assert entry in list(file)
    with dynamic_hdf5.File(path, retry_timeout=5) as file:  # (listing its root would wait for more scans)
        assert set(file[entry]["measurement"]) >= {axis, "elapsed_time", "epoch"}
        assert len(file[entry]["measurement"][axis][()]) == len(data.x[0])


def test_every_step_scan_type_writes_the_bliss_layout(session):
    roby, robz, diode, simu1 = (session[k] for k in ("roby", "robz", "diode", "simu1"))
    scans = [
        (session["ascan"](roby, 0, 1, 4, 0, diode, simu1), ["roby"], "roby"),
        (session["a2scan"](roby, 0, 1, robz, 1, 2, 3, 0, diode), ["roby", "robz"], "roby"),
        (session["amesh"](roby, 0, 1, 2, robz, 0, 1, 2, 0, diode), ["roby", "robz"], "roby"),
        (session["loopscan"](3, 0, diode, simu1), [], "elapsed_time"),
        (session["timescan"](0, diode, npoints=3), [], "elapsed_time"),
        (session["ct"](0.01, diode, save=True), [], "elapsed_time"),
    ]
    for number, (scan, motors, axis) in enumerate(scans, 1):
        assert scan.number == number
        spectra = ("simu1",) if scan.name in ("ascan", "loopscan") else ()
        check_entry(scan.path, number, motors, ["diode"] + list(spectra), spectra)
        read_with_silx_pymca_blissdata(scan.path, number, "diode", axis)
    with h5py.File(scans[0][0].path, "r", locking=False) as file:
        assert list(file) == [f"{n}.1" for n in range(1, 7)] and file.attrs["default"] == "6.1"
        ascan = file["1.1"]
        assert ascan["instrument/diode/type"][()] == b"point" and ascan["instrument/simu1/type"][()] == b"spectrum"
        assert ascan["plot"].attrs["signal"] == "diode" and ascan["plot"].attrs["axes"] == "roby"
        dial, user = ascan["instrument/positioners_dial_start"], ascan["instrument/positioners_start"]
        assert dial["roby"][()] - user["roby"][()] == pytest.approx(roby.dial - roby.position)  # the offset
    if PUNX.exists():
        validate_with_punx(scans[0][0].path)


def test_the_data_read_back_from_the_file_match_redis_with_the_epoch_channel(session, redis_client):
    scan = session["ascan"](session["roby"], 0, 2, 3, 0, session["diode"])
    served = scan.get_data()
    assert list(served) == ["roby", "elapsed_time", "epoch", "diode"]
    start = datetime.fromisoformat(scan.scan_info["start_time"]).timestamp()
    assert start <= served["timer:epoch"][0] < served["epoch"][-1] < start + 60  # seconds since 1970
    redis_client.flushall()
    from_file = scan.get_data()
    assert list(from_file) == list(served) and all(np.array_equal(from_file[k], served[k]) for k in served)


def write_old_layout(path: Path, number: int, name: str) -> None:
    """An entry as bliss_shell wrote them before the NeXus writer's layout: ``N_name``, datasets in measurement."""
    with h5py.File(path, "a", libver="latest") as file:  # as the writer opened it
        file.attrs.update(NX_class="NXroot", creator="bliss_shell", default=f"{number}_{name}")
        entry = file.create_group(f"{number}_{name}")
        entry.attrs.update(NX_class="NXentry", default="plot")
        entry["title"], entry["start_time"], entry["end_time"] = (
            f"{name} 5 0.1",
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T00:00:01+00:00",
        )
        measurement = entry.create_group("measurement")
        measurement.attrs["NX_class"] = "NXcollection"
        measurement["elapsed_time"] = np.arange(5) * 0.1
        measurement["diode"] = np.arange(5.0) * 10
        instrument = entry.create_group("instrument")
        for group in ("positioners", "positioners_end"):
            instrument.create_group(group)["roby"] = 0.0
        plot = entry.create_group("plot")
        plot.attrs.update(NX_class="NXdata", signal="diode")
        plot["diode"] = h5py.SoftLink(f"/{number}_{name}/measurement/diode")
        entry.create_group("writer")["status"] = "SUCCEEDED"


def test_a_file_of_the_old_layout_still_numbers_and_reads(session, redis_client):
    from bliss_shell.writer import highest_scan_number, read_measurement

    path = Path(session["SCAN_SAVING"].filename)
    path.parent.mkdir(parents=True)
    for number in (1, 2):
        write_old_layout(path, number, "loopscan")
    assert highest_scan_number(str(path)) == 2
    assert read_measurement(str(path), 2, "loopscan")["diode"].tolist() == [0, 10, 20, 30, 40]
    scan = session["loopscan"](4, 0, session["diode"])
    assert scan.number == 3  # the counter seeded from the old entries
    with h5py.File(path, "r", locking=False) as file:
        assert list(file) == ["1_loopscan", "2_loopscan", "3.1"]
    redis_client.flushall()
    assert len(scan.get_data()["diode"]) == 4  # read back from the new entry, beside old ones
    assert highest_scan_number(str(path)) == 3


# -- Tango devices: fscan over a counter card, an MCA, a Lima camera and its frame files ---------------------

server, beamline = test_chain_tango.server, test_chain_tango.beamline  # the chain tests' simulated Tango beamline


def test_fscan_mca_and_lima_scans_write_the_bliss_layout_and_the_frame_files_validate(beamline):
    fm1, ct1, mca, cam = (beamline[k] for k in ("fm1", "ct1", "mca", "cam"))
    fscan = beamline["fscan"](fm1, 1, 0.02, 20, 0.002, ct1, beamline["ct_timer"])
    check_entry(fscan.path, fscan.number, ["fm1"], ["ct1", "ct_timer"], stepped=False)
    read_with_silx_pymca_blissdata(fscan.path, fscan.number, "ct1", "fm1")
    spectra = beamline["loopscan"](3, 0.01, mca)
    mca_names = [name for name in spectra.get_data() if name not in ("elapsed_time", "epoch")]
    one_d = tuple(name for name in mca_names if spectra.get_data()[name].ndim == 2)
    assert one_d  # the spectrum
    check_entry(spectra.path, spectra.number, [], mca_names, one_d)
    with silx.io.open(spectra.path) as file:  # a scan of spectra alone opens on a plot of its first spectrum
        default = silx.io.nxdata.get_default(file[f"{spectra.number}.1"])
        assert default is not None and default.signal.name.split("/")[-1] == one_d[0]
        assert default.interpretation == "spectrum" or default.signal.attrs.get("interpretation") == "spectrum"
    images = beamline["loopscan"](3, 0.01, cam)
    check_entry(images.path, images.number, [], [])
    with h5py.File(images.path, "r", locking=False) as file:
        entry = file[f"{images.number}.1"]
        assert entry["instrument/cam"].attrs["NX_class"] == "NXdetector"
        assert entry["measurement/cam"].shape == (3, 24, 32) and entry["measurement/cam"].attrs["interpretation"] == "image"
        frame_files = sorted({source.file_name for source in entry["instrument/cam/data"].virtual_sources()})
    folder = Path(images.path).parent
    frame_files = [str((folder / name).resolve()) for name in frame_files]
    for frames in frame_files:
        with h5py.File(frames, "r", locking=False) as file:
            assert file.attrs["NX_class"] == "NXroot" and file["entry_0000"].attrs["NX_class"] == "NXentry"
            assert {file[f"entry_0000/{group}"].attrs["NX_class"] for group in file["entry_0000"]} >= {
                "NXinstrument",
                "NXcollection",
            }
        with silx.io.open(frames) as file:
            assert silx.io.is_dataset(file["entry_0000/measurement/data"])
    if PUNX.exists():
        for path in [fscan.path, *frame_files]:
            validate_with_punx(path)


@pytest.mark.skipif(shutil.which("h5ls") is None, reason="h5ls (hdf5-tools) is not installed")
def test_h5ls_lists_the_entry(session):
    scan = session["ascan"](session["roby"], 0, 1, 2, 0, session["diode"])
    listing = subprocess.run(["h5ls", "-r", scan.path], capture_output=True, text=True, check=True).stdout
    assert "/1.1/measurement/roby" in listing and "/1.1/instrument/roby/value" in listing
