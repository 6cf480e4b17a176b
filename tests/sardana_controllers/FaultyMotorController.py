"""A Sardana motor controller for the tests: Sardana's DummyMotorController whose axes can be made to fail.

Loaded by the Pool that tests/sardana_pool.py starts (its ``PoolPath``), never imported by the tests themselves.
The axis attribute ``Fault`` (a motor device attribute, as the dummy's ``Power``) makes ``StateOne`` raise while it
is true: the Pool then shows the motor in FAULT, as it does when a real controller's hardware stops answering.
"""

from typing import ClassVar

from sardana.pool.controller import DefaultValue, Description, FGet, FSet, Type
from sardana.pool.poolcontrollers.DummyMotorController import DummyMotorController


class FaultyMotorController(DummyMotorController):
    """DummyMotorController plus an axis attribute ``Fault``."""

    axis_attributes: ClassVar[dict] = {
        **DummyMotorController.axis_attributes,
        "Fault": {Type: bool, Description: "the axis's hardware fails while true", FGet: "getFault", FSet: "setFault",
                  DefaultValue: False},
    }  # fmt: skip

    def __init__(self, inst, props, *args, **kwargs):
        DummyMotorController.__init__(self, inst, props, *args, **kwargs)
        self._failing: set[int] = set()

    def getFault(self, axis: int) -> bool:
        return axis in self._failing

    def setFault(self, axis: int, value: bool) -> None:
        if value:
            self._failing.add(axis)
        else:
            self._failing.discard(axis)

    def StateOne(self, axis: int):
        if axis in self._failing:
            raise RuntimeError("encoder error (simulated hardware fault)")
        return DummyMotorController.StateOne(self, axis)
