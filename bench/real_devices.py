"""Dead time per point of a step scan on Tango servers that others wrote, beside our simulators and a bare PyTango loop.

Three setups, each a 100-point ``ascan(motor, 0, 10, 100, 0, counter, save=False)`` (count time 0: all of a point
is dead time: the move, the wait for it, the read, the publishing):

- ``real``: a motor of Sardana's Pool (``DummyMotorController``, on PyTango's database) and Debian's TangoTest
  ``double_scalar`` as the counter;
- ``ours``: our ``SimMotor`` (BLISS's axis interface) and ``SimCounter``;
- beside each, in the same run, a bare PyTango loop on the same devices doing the same calls a point needs: write
  ``Position``, poll ``State`` until it leaves MOVING (the same poll schedule as the shell's), read the attribute.

The motors are set fast (1000 units/s, ramps of about 1 ms), so a step of 0.1 is mostly the calls. Prints each
figure as median (min-max) of the runs, the ratio scan/bare of each run's pair, and the machine's load per block.

Usage: .venv/bin/python bench/real_devices.py [runs]
"""

from gevent import monkey

monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import tango  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the tests' server starters

from bliss_shell.config import Config, ConfigRoot  # noqa: E402
from bliss_shell.shell.error_report import ErrorReport  # noqa: E402
from bliss_shell.shell.namespace import session_namespace  # noqa: E402
from machine import LoadWatch, spread  # noqa: E402
from sardana_pool import SardanaPool  # noqa: E402
from scan_publishing import own_redis  # noqa: E402
from simulator_server import SimulatorServer  # noqa: E402
from tango_test_server import TangoTestServer  # noqa: E402

POINTS = 100
STEP = 10 / (POINTS - 1)
_FIRST_POLL, _POLL = 0.0005, 0.005  # the shell's poll schedule (controllers/tango_motor.py)


def config(motor_url: str, counter_url: str, attribute: str) -> str:
    return f"""
- name: m
  class: TangoMotor
  tango_url: {motor_url}
  velocity: 1000
- name: c
  class: TangoCounter
  tango_url: {counter_url}
  attribute: {attribute}
- name: bench
  class: Session
"""


def open_bench(folder: Path, text: str, client) -> dict:
    (folder / "beamline").mkdir(parents=True)
    (folder / "beamline" / "bench.yml").write_text(text)
    session = Config([ConfigRoot(folder / "beamline")]).get("bench")
    namespace = session_namespace(session, client, ErrorReport())
    session.setup(namespace, on_error=print, verbose=False)
    return namespace


def scan_per_point(namespace: dict) -> float:
    motor, counter = namespace["m"], namespace["c"]
    motor.move(0)
    start = time.perf_counter()
    namespace["ascan"](motor, 0, 10, POINTS, 0, counter, save=False)
    return (time.perf_counter() - start) / POINTS


def bare_per_point(motor_url: str, counter_url: str, attribute: str) -> float:
    motor, counter = tango.DeviceProxy(motor_url), tango.DeviceProxy(counter_url)
    motor.Position = 0
    while motor.state() == tango.DevState.MOVING:
        time.sleep(_POLL)
    start = time.perf_counter()
    for i in range(POINTS):
        motor.write_attribute("Position", i * STEP)
        poll = _FIRST_POLL
        while motor.state() == tango.DevState.MOVING:
            time.sleep(poll)
            poll = min(2 * poll, _POLL)
        counter.read_attribute(attribute)
    return (time.perf_counter() - start) / POINTS


def main(runs: int) -> None:
    simulators = SimulatorServer({"SimMotor": ["id00/motor/bm"], "SimCounter": ["id00/counter/bc"]}, instance="benchreal")
    tango_test = TangoTestServer()
    pool = SardanaPool(motors=1)
    try:
        sardana_motor = tango.DeviceProxy(pool.url("mot01"))
        sardana_motor.Acceleration, sardana_motor.Deceleration = 0.001, 0.001  # Sardana's are times (s)
        tango.DeviceProxy(simulators.url("id00/motor/bm")).Acceleration = 1e6
        setups = {
            "real (Sardana motor, TangoTest counter)": (pool.url("mot01"), tango_test.url(), "double_scalar"),
            "ours (SimMotor, SimCounter)": (simulators.url("id00/motor/bm"), simulators.url("id00/counter/bc"), "Value"),
        }
        figures: dict[str, dict[str, list[float]]] = {name: {"scan": [], "bare": []} for name in setups}
        with own_redis("bsr-") as (folder, _, client), LoadWatch() as watch:
            sessions = {}
            for index, (name, urls) in enumerate(setups.items()):
                sessions[name] = open_bench(folder / str(index), config(*urls), client)
            for name, urls in setups.items():
                with watch.block(name):
                    for _ in range(runs):  # interleaved: a load change hits both figures of a run alike
                        figures[name]["scan"].append(scan_per_point(sessions[name]))
                        figures[name]["bare"].append(bare_per_point(*urls))
        print(f"\nascan of {POINTS} points, count time 0, save=False: ms per point, median (min-max) of {runs} runs")
        for name, measured in figures.items():
            scan, bare = (spread([1000 * v for v in measured[key]]) for key in ("scan", "bare"))
            ratios = spread([s / b for s, b in zip(measured["scan"], measured["bare"])])
            print(f"  {name}:")
            print(f"    ascan     {scan[0]:.3f} ({scan[1]:.3f}-{scan[2]:.3f})")
            print(f"    bare loop {bare[0]:.3f} ({bare[1]:.3f}-{bare[2]:.3f})")
            print(f"    ascan / bare, per run: {ratios[0]:.2f} ({ratios[1]:.2f}-{ratios[2]:.2f})")
    finally:
        pool.stop()
        tango_test.kill()
        simulators.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
