"""The engine's points as a device's author meets them: blocks checked once per point, failures naming the device,
in-process counters read by their own ``read`` (no Redis, no file: the engine alone, with in-process devices)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.controllers import AcquisitionParameters, Block, ChannelInfo, Timing
from bliss_shell.controllers.acquisition import AcquisitionBase
from bliss_shell.controllers.sampling import SamplingController, SamplingMode
from bliss_shell.scanning.chain import AcquisitionChain, ChainNode
from bliss_shell.scanning.engine import AcquisitionError, Engine
from bliss_shell.scanning.masters import TimerMaster
from bliss_shell.scanning.records import ChannelMisfit
from conftest import BEAMLINE


class Points:
    """A consumer keeping every point handed on."""

    def __init__(self) -> None:
        self.points: list[dict[str, Any]] = []

    def add_points(self, points, count) -> None:
        self.points.extend({name: values[i] for name, values in points.items()} for i in range(count))


class Reading(AcquisitionBase):
    """An in-process device of two channels whose blocks are what a test says."""

    name = "dev"
    blocking = False

    def __init__(self, blocks: list[Block]):
        self._blocks = iter(blocks)

    @property
    def channels(self) -> list[ChannelInfo]:
        return [ChannelInfo("a"), ChannelInfo("b")]

    def prepare(self, parameters: AcquisitionParameters) -> None:
        pass

    def read(self) -> Block:
        return next(self._blocks)


def run(device: Any, npoints: int, count_time: float = 0.0) -> list[dict[str, Any]]:
    """``npoints`` points of a loopscan chain (the timer, then ``device``); the points handed on."""
    chain = AcquisitionChain(ChainNode(TimerMaster(count_time), [ChainNode(device)]))
    kept = Points()
    engine = Engine(chain, AcquisitionParameters(npoints, count_time, Timing.FREE), [kept])
    engine.prepare()
    try:
        engine.run()
    finally:
        engine.stop()
    return kept.points


def test_points_keep_their_values_under_each_channel():
    points = run(Reading([{"a": [1.0], "b": [2]}, {"b": [4], "a": [3.0]}]), 2)
    assert [(p["dev:a"], p["dev:b"]) for p in points] == [(1.0, 2), (3.0, 4)]
    assert points[1]["timer:elapsed_time"] >= points[0]["timer:elapsed_time"] == 0.0


def test_a_block_missing_a_channel_is_refused_naming_what_it_read_and_missed():
    with pytest.raises(ChannelMisfit, match=r"^dev: the controller read c and missed b; its channels are a, b$"):
        run(Reading([{"a": [1.0], "b": [2.0]}, {"a": [1.0], "c": [2.0]}]), 2)


def test_a_text_in_a_scalar_channel_is_refused_after_the_points_before_it():
    blocks: list[Block] = [{"a": [1.0], "b": [2.0]}, {"a": [1.0], "b": ["high"]}]
    kept = Points()
    chain = AcquisitionChain(ChainNode(TimerMaster(0.0), [ChainNode(Reading(blocks))]))
    engine = Engine(chain, AcquisitionParameters(2, 0.0, Timing.FREE), [kept])
    engine.prepare()
    with pytest.raises(
        ChannelMisfit, match=r"^b \(controller dev\): a value of type <U4 does not fit the channel's type float64$"
    ):
        engine.run()
    engine.stop()
    assert len(kept.points) == 1 and engine.points == 1  # nothing of the refused point was handed on


def test_a_block_that_is_not_lists_of_points_fails_the_scan_naming_the_device():
    with pytest.raises(AcquisitionError, match=r"^dev: TypeError: object of type 'float' has no len\(\)$"):
        run(Reading([{"a": 1.0, "b": 2.0}]), 1)


def test_in_process_counters_are_read_by_their_own_read_once_a_point_or_sampled():
    config = Config([ConfigRoot(BEAMLINE)])
    c1, c2 = config.get("c1"), config.get("c2")
    controller = SamplingController("sim", None, blocking=False)
    assert c1.mode is SamplingMode.MEAN
    once = run(controller.acquisition_object([c1, c2]), 3)  # count time 0: one reading each, kept as read
    assert len(once) == 3 and all(type(p["sim:c1"]) is float and -100 <= p["sim:c2"] < 100 for p in once)
    sampled = run(controller.acquisition_object([c1, c2]), 2, count_time=0.03)  # MEAN: readings every 10 ms, averaged
    assert len(sampled) == 2 and all(type(p["sim:c1"]) is float and -100 <= p["sim:c1"] < 100 for p in sampled)


def test_an_in_process_counter_that_fails_fails_the_point_naming_its_controller():
    config = Config([ConfigRoot(BEAMLINE)])
    c1 = config.get("c1")

    class Broken:
        name, mode, dtype, shape, unit = "c3", SamplingMode.SINGLE, np.dtype("float64"), (), None

        def read(self, count_time: float) -> float:
            raise OSError("no signal")

    acquisition = SamplingController("sim", None, blocking=False).acquisition_object([c1, Broken()])
    with pytest.raises(AcquisitionError, match=r"^sim: OSError: no signal$"):
        run(acquisition, 2)


def test_a_point_a_consumer_refuses_still_counts_as_taken_and_reaches_the_consumers_after_it():
    """Every consumer has the refused point (the file full: Redis still gets it); ``points`` (points_acquired) says
    so too, and the refusal is raised once all had it."""

    class Refusing:
        def add_points(self, points, count) -> None:
            if len(before.points) == 3:
                raise OSError("archive full")

    blocks: list[Block] = [{"a": [float(i)], "b": [float(i)]} for i in range(5)]
    before, after = Points(), Points()
    chain = AcquisitionChain(ChainNode(TimerMaster(0.0), [ChainNode(Reading(blocks))]))
    engine = Engine(chain, AcquisitionParameters(5, 0.0, Timing.FREE), [before, Refusing(), after])
    engine.prepare()
    with pytest.raises(OSError, match="^archive full$"):
        engine.run()
    engine.stop()
    assert len(before.points) == len(after.points) == engine.points == 3
    assert after.points[-1]["dev:a"] == 2.0
