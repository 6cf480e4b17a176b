"""Tango and Lima speed: the simulator server run by our own code, a Redis and a runtime folder of its own.

Prints, each as the median of several runs, beside its limit measured in the same run:
- ``get_image`` of 1024x1024 uint32 frames from the server's memory, against a plain ``readImage`` of the
  same frames with a PyTango proxy (target: at least half of its rate);
- the per-point time of ``loopscan(2000, 0, tcounter)`` on a Tango counter (publishing on, saving off),
  against a bare loop reading that counter (green mode, as the scan does, and a plain proxy);
- frames per second that ``loopscan(1000, 0, lima_simulator)`` sustains with saving on (256x256 uint32
  frames, as in the demo, and 1024x1024).

Usage: .venv/bin/python bench/tango_lima.py [runs]
"""

from gevent import monkey

monkey.patch_all(thread=False, queue=False, os=False, signal=False, subprocess=False)

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import tango  # noqa: E402

from bliss_shell.controllers.lima_protocol import decode_data_array  # noqa: E402
from chain import tango_session  # noqa: E402
from scan_publishing import own_redis  # noqa: E402

CONFIG = """
- name: bench_simulators
  class: TangoServer
  instance: bench
  devices:
    SimCounter: [id00/counter/tcounter]
    LimaCCDs: [id00/limaccds/bench]
- name: tcounter
  class: TangoCounter
  tango_url: id00/counter/tcounter
  distribution: FLAT
  height: 10
- name: lima_simulator
  class: Lima
  tango_url: id00/limaccds/bench
- name: bench
  class: Session
"""
FRAMES = 16  # within the simulator's ring buffer
COUNTER_POINTS = 2000
LIMA_POINTS = 1000


def get_image_rates(namespace: dict, proxy: tango.DeviceProxy) -> tuple[float, float]:
    """Frames per second: our ``get_image`` (Redis lookups + readImage + decode), and readImage + decode alone."""
    images = namespace["loopscan"](FRAMES, 0, namespace["lima_simulator"], save=False, return_scan=True)
    view = images.get_data()["lima_simulator:image"]
    start = time.perf_counter()
    frames = [view.get_image(i) for i in range(FRAMES)]
    ours = FRAMES / (time.perf_counter() - start)
    assert all(frame.shape == (1024, 1024) for frame in frames)
    start = time.perf_counter()
    plain = [decode_data_array(proxy.readImage(i)[1]) for i in range(FRAMES)]
    bare = FRAMES / (time.perf_counter() - start)
    assert all((a == b).all() for a, b in zip(frames, plain))
    return ours, bare


def counter_costs(namespace: dict, url: str) -> tuple[float, float, float]:
    """Seconds per point: loopscan on the Tango counter, a green-mode read loop, a plain-proxy read loop."""
    counter = namespace["tcounter"]
    start = time.perf_counter()
    namespace["loopscan"](COUNTER_POINTS, 0, counter, save=False)
    scan = (time.perf_counter() - start) / COUNTER_POINTS
    start = time.perf_counter()
    for _ in range(COUNTER_POINTS):
        counter.read(0)
    green = (time.perf_counter() - start) / COUNTER_POINTS
    plain_proxy = tango.DeviceProxy(url)
    start = time.perf_counter()
    for _ in range(COUNTER_POINTS):
        plain_proxy.read_attribute("Value")
    plain = (time.perf_counter() - start) / COUNTER_POINTS
    return scan, green, plain


def lima_fps(namespace: dict) -> float:
    start = time.perf_counter()
    namespace["loopscan"](LIMA_POINTS, 0, namespace["lima_simulator"])
    return LIMA_POINTS / (time.perf_counter() - start)


def measure(runs: int) -> dict[str, list[float]]:
    """The figure of each run: get_image and plain readImage frames/s, ms per point or read, Lima fps.

    Everything started (Redis, the Tango database, the simulator server) is stopped afterwards and the folder
    removed, whatever happened: what did not answer its stop is killed (``machine.private_folder``).
    """
    with own_redis("bsb-") as (folder, _, client), tango_session(folder, CONFIG, client) as namespace:
        lima = tango.DeviceProxy("id00/limaccds/bench")
        lima.sim_image_size = [1024, 1024]
        image_rates = [get_image_rates(namespace, lima) for _ in range(runs)]
        counter_times = [counter_costs(namespace, "id00/counter/tcounter") for _ in range(runs)]
        fps_big = [lima_fps(namespace) for _ in range(max(1, runs // 2))]
        lima.sim_image_size = [256, 256]
        fps_small = [lima_fps(namespace) for _ in range(runs)]
    return {
        "get_image_fps": [r[0] for r in image_rates],
        "read_image_fps": [r[1] for r in image_rates],
        "get_image_ratio": [r[0] / r[1] for r in image_rates],
        "counter_scan_ms": [t[0] * 1e3 for t in counter_times],
        "counter_green_ms": [t[1] * 1e3 for t in counter_times],
        "counter_plain_ms": [t[2] * 1e3 for t in counter_times],
        "lima_fps_256": fps_small,
        "lima_fps_1024": fps_big,
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    m = {key: statistics.median(values) for key, values in measure(runs).items()}
    ours = m["get_image_fps"]
    print(f"get_image, 1024x1024 uint32 from server memory: {ours:7.0f} frames/s ({ours * 4.194:.0f} MB/s; median of {runs})")
    print(
        f"plain readImage + decode of the same frames:    {m['read_image_fps']:7.0f} frames/s (ratio {m['get_image_ratio']:.2f}; target >= 0.5)"
    )
    print(
        f"loopscan({COUNTER_POINTS}, 0, tcounter), Tango counter:   {m['counter_scan_ms']:.3f} ms per point (publishing on, saving off)"
    )
    print(
        f"bare read loop of that counter, green mode:   {m['counter_green_ms']:.3f} ms per read (scan / bare {m['counter_scan_ms'] / m['counter_green_ms']:.2f})"
    )
    print(f"bare read loop, plain (blocking) proxy:       {m['counter_plain_ms']:.3f} ms per read")
    print(f"loopscan({LIMA_POINTS}, 0, lima_simulator), saving on: {m['lima_fps_256']:.0f} frames/s at 256x256, "
          f"{m['lima_fps_1024']:.0f} frames/s at 1024x1024 (uint32)")  # fmt: skip


if __name__ == "__main__":
    main()
