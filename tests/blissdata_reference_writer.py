"""Publish a few scans with blissdata 2's own writer API: the reference tests/blissdata_follower.py is checked against.

Run in a process of its own on an empty Redis that has RedisJSON and RediSearch: it initialises the database as
blissdata does (``DataStore(url, init_db=True)``), then publishes, in this order:

0. ``ascan``: numeric streams (float64 and int32 scalars, a uint32 spectrum of 8) sent in blocks of several sizes,
   ended SUCCESS; after its first point it waits until the file ``--go`` exists (a test creates it once the follower
   has read that point, which shows that it reads live),
1. ``limatake``: a Lima stream whose 5 frames are in HDF5 files of 2 frames (written here), ended SUCCESS,
2. ``loopscan``: stopped after 3 points, ended USER_ABORT,
3. ``timescan``: closed while running (never STOPPED), ended FAILURE.

The values sent are the ones :func:`expected` returns, so a test compares what the follower read with them.

Example::

    python tests/blissdata_reference_writer.py --url "unix:///tmp/r.sock?protocol=2" --folder /tmp/ref --go /tmp/go
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import h5py
import numpy as np
from blissdata.redis_engine.store import DataStore
from blissdata.streams.default import Stream
from blissdata.streams.lima import LimaStream

SESSION = "refsession"
DATASET = "0001"
LIMA_SHAPE = (4, 5)
LIMA_DATA_PATH = "/entry_0000/measurement/data"


def expected() -> dict[str, dict[str, np.ndarray]]:
    """Every numeric stream's values, per scan name, as published.

    Example::

        >>> expected()["ascan"]["simu:diode"].dtype.name
        'int32'
    """
    points = 11
    return {
        "ascan": {
            "axis:robx": np.linspace(0.0, 1.0, points),
            "timer:epoch": 1.7e9 + np.arange(points) * 0.25,
            "simu:diode": np.arange(points, dtype=np.int32) * 7 - 20,
            "mca:spectrum": np.arange(points * 8, dtype=np.uint32).reshape(points, 8),
        },
        "limatake": {"lima:image": np.arange(5 * 20, dtype=np.uint16).reshape(5, *LIMA_SHAPE)},
        "loopscan": {"timer:elapsed_time": np.array([0.0, 0.1, 0.2])},
        "timescan": {"timer:elapsed_time": np.array([0.0, 0.5])},
    }


def identity(name: str, number: int, folder: Path) -> dict:
    return {
        "name": name,
        "number": number,
        "data_policy": "ESRF",
        "session": SESSION,
        "proposal": "ihch0000",
        "collection": "sample",
        "dataset": DATASET,
        "path": str(folder / "sample_0001.h5"),
    }


def publish(store: DataStore, name: str, number: int, folder: Path, definitions: list):
    """A scan through CREATED, PREPARED, STARTED; returns it with its streams, for the caller to send and end."""
    scan = store.create_scan(identity(name, number, folder), info={"title": f"{name} reference", "npoints": 11})
    streams = {definition.name: scan.create_stream(definition) for definition in definitions}
    scan.prepare()
    scan.start()
    return scan, streams


def finish(scan, end_reason: str, stop: bool = True) -> None:
    if stop:
        scan.stop()
    scan.info["end_reason"] = end_reason
    scan.close()


def wait_for_file(path: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} was not created within {seconds} s")
        time.sleep(0.01)


def step_scan(store: DataStore, folder: Path, go: Path) -> None:
    values = expected()["ascan"]
    definitions = [Stream.make_definition(name, data.dtype, data.shape[1:]) for name, data in values.items()]
    scan, streams = publish(store, "ascan", 1, folder, definitions)
    for start, stop in ((0, 1), (1, 4), (4, 5), (5, 11)):  # a single point, then blocks
        for name, stream in streams.items():
            block = values[name][start:stop]
            stream.send(block[0] if stop - start == 1 else block)
        if start == 0:
            for stream in streams.values():
                stream.join()  # the first point is in Redis
            wait_for_file(go)
    finish(scan, "SUCCESS")


def lima_scan(store: DataStore, folder: Path) -> None:
    frames = expected()["limatake"]["lima:image"]
    for file_number, first in enumerate(range(0, len(frames), 2)):
        with h5py.File(folder / f"lima_{file_number:04d}.h5", "w") as file:
            file[LIMA_DATA_PATH] = frames[first : first + 2]
    definition = LimaStream.make_definition(
        "lima:image",
        frames.dtype,
        LIMA_SHAPE,
        server_url="id00/limaccds/reference",
        buffer_max_number=2,
        frames_per_acquisition=len(frames),
        acquisition_offset=0,
        saving={
            "file_path": str(folder / "lima_%04d.h5"),
            "data_path": LIMA_DATA_PATH,
            "file_format": "HDF5",
            "file_offset": 0,
            "frames_per_file": 2,
        },
    )
    scan, streams = publish(store, "limatake", 2, folder, [definition])
    for index in range(len(frames)):
        streams["lima:image"].send({"last_index": index, "last_index_saved": index})
    finish(scan, "SUCCESS")


def ended_early(store: DataStore, folder: Path, name: str, number: int, end_reason: str, stop: bool) -> None:
    values = expected()[name]["timer:elapsed_time"]
    scan, streams = publish(store, name, number, folder, [Stream.make_definition("timer:elapsed_time", "float64")])
    for value in values:
        streams["timer:elapsed_time"].send(value)
    finish(scan, end_reason, stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--folder", type=Path, required=True, help="where the Lima files are written")
    parser.add_argument("--go", type=Path, required=True, help="the file awaited after the first point")
    args = parser.parse_args()
    store = DataStore(args.url, init_db=True)
    step_scan(store, args.folder, args.go)
    lima_scan(store, args.folder)
    ended_early(store, args.folder, "loopscan", 3, "USER_ABORT", stop=True)
    ended_early(store, args.folder, "timescan", 4, "FAILURE", stop=False)


if __name__ == "__main__":
    main()
