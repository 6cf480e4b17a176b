"""A scan's consumers plug in from outside: every point and the end reach a new one; an observer's error is a
warning that names it and the scan goes on; a data consumer's error fails the scan and names it; the session's
motors snapshot follows the namespace. Real Redis, real files."""

from __future__ import annotations

import re
from typing import ClassVar

import h5py
import numpy as np
import pytest

from bliss_shell.data import get_node
from bliss_shell.scanning import current
from bliss_shell.scanning.consumers import Ending, ScanConsumer, ScanStart
from bliss_shell.scanning.logbook import LogbookConsumer
from bliss_shell.scanning.records import Points


class Collect(ScanConsumer):
    """Keeps every point it is given and the end."""

    made: ClassVar[list[Collect]] = []

    def __init__(self, start: ScanStart):
        self.start_info = start
        self.points: dict[str, list] = {}
        self.ending: Ending | None = None
        Collect.made.append(self)

    def add_points(self, points: Points, count: int) -> None:
        for name, values in points.items():
            self.points.setdefault(name, []).extend(values)

    def end(self, ending: Ending) -> None:
        self.ending = ending


class Broken(ScanConsumer):
    """Raises at its second batch of points."""

    def __init__(self, start: ScanStart):
        self.batches = 0

    def add_points(self, points: Points, count: int) -> None:
        self.batches += 1
        if self.batches >= 2:
            raise ValueError("no room for point 2")


@pytest.fixture
def consumers(session):
    """The session's consumers; what a test subscribes is taken away after it."""
    subscriptions = current().consumers
    before = subscriptions.names()
    Collect.made.clear()
    yield subscriptions
    for name in subscriptions.names():
        if name not in before:
            subscriptions.unsubscribe(name)


def test_a_consumer_subscribed_from_outside_gets_every_point_and_the_end(session, consumers):
    consumers.subscribe(Collect, name="collect")
    scan = session["ascan"](session["roby"], 0, 4, 5, 0, session["diode"])
    (collect,) = Collect.made
    assert collect.start_info.number == scan.number and collect.start_info.path == scan.path
    assert collect.points["axis:roby"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert np.array_equal(collect.points["diode:diode"], scan.get_data()["diode"])
    assert collect.ending is not None and collect.ending.state.value == "done"
    session["loopscan"](2, 0, session["diode"], run=True)  # every scan makes its own
    assert len(Collect.made) == 2 and len(Collect.made[1].points["diode:diode"]) == 2
    consumers.unsubscribe("collect")
    session["loopscan"](2, 0, session["diode"])
    assert len(Collect.made) == 2  # unsubscribed: no more


def test_a_scan_given_its_consumers_uses_those_only(session, consumers):
    collect = consumers.subscribe(Collect, name="collect")
    scan = session["loopscan"](3, 0, session["diode"], run=False)
    scan.run(consumers=[collect])
    assert len(Collect.made[0].points["diode:diode"]) == 3 and scan.state == "done"
    assert scan.node.end_state() == {"state": "done", "reason": ""}  # its node in Redis ends with it...
    assert len(get_node(f"{scan.node.db_name}:timer:diode:diode")) == 0  # ...without the points: no redis consumer


def test_an_observer_that_raises_is_one_warning_naming_it_and_the_scan_goes_on(session, consumers, capsys):
    consumers.subscribe(Broken, name="broken")
    scan = session["dscan"](session["roby"], 0, 4, 5, 0, session["diode"])
    out = capsys.readouterr().out
    assert out.count("WARNING") == 1
    assert "WARNING: broken consumer failed: ValueError: no room for point 2; the scan goes on" in out
    assert scan.state == "done" and scan.node.end_state() == {"state": "done", "reason": ""}
    assert len(get_node(f"{scan.node.db_name}:axis:roby")) == 5
    with h5py.File(scan.path, "r") as file:
        assert file[f"{scan.number}.1/writer/status"][()] == b"SUCCEEDED"
        assert len(file[f"{scan.number}.1/measurement/diode"]) == 5


def test_a_logbook_that_raises_does_not_fail_a_dscan(session, monkeypatch, capsys):
    def broken_end(self, ending):
        raise ValueError("logbook broken")

    monkeypatch.setattr(LogbookConsumer, "end", broken_end)
    roby = session["roby"]
    roby.move(1)
    scan = session["dscan"](roby, 0, 2, 3, 0, session["diode"])
    assert "WARNING: logbook consumer failed: ValueError: logbook broken; the scan goes on" in capsys.readouterr().out
    assert scan.state == "done" and scan.node.end_state()["state"] == "done"
    assert len(scan.get_data()["roby"]) == 3 and roby.position == 1


def test_a_data_consumer_that_raises_fails_the_scan_naming_it_and_the_motor_goes_back(session, consumers):
    consumers.subscribe(Broken, name="archive", data=True)
    roby = session["roby"]
    roby.move(1)
    with pytest.raises(Exception, match="archive consumer: ValueError: no room for point 2"):
        session["dscan"](roby, 0, 4, 5, 0, session["diode"])
    scan = session["SCANS"][-1]
    assert scan.state == "failed" and roby.position == 1
    end = scan.node.end_state()
    assert end["state"] == "failed" and "archive consumer: ValueError: no room for point 2" in end["reason"]
    with h5py.File(scan.path, "r") as file:
        assert file[f"{scan.number}.1/writer/status"][()] == b"FAILED"
        assert "archive consumer" in file[f"{scan.number}.1/writer/reason"][()].decode()


def test_a_data_consumer_whose_end_fails_fails_the_scan_and_the_others_still_end(session, consumers):
    class EndFails(ScanConsumer):
        def __init__(self, start):
            pass

        def end(self, ending):
            raise OSError("archive disk gone")

    consumers.subscribe(Collect, name="collect")  # after it: still ended, told the failure
    consumers.subscribe(EndFails, name="archive", data=True)
    with pytest.raises(RuntimeError, match="archive consumer: OSError: archive disk gone"):
        session["loopscan"](2, 0, session["diode"])
    scan = session["SCANS"][-1]
    assert scan.state == "failed" and Collect.made[0].ending is not None


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: c.subscribe(42), TypeError, "consumers.subscribe: 42 is not callable: give a function or ScanConsumer class"),
        (lambda c: c.subscribe(Collect, name="file"), ValueError, "consumers.subscribe: a consumer 'file' is subscribed already"),
        (lambda c: c.unsubscribe("nothing"), ValueError, "no consumer 'nothing' is subscribed: lima frames, file, redis"),
    ],
)
def test_bad_subscriptions_are_refused_and_the_list_stays(session, consumers, call, error, message):
    before = consumers.names()
    with pytest.raises(error, match=re.escape(message)):
        call(consumers)
    assert consumers.names() == before
    assert session["loopscan"](1, 0, session["diode"]).state == "done"


def test_the_motors_snapshot_follows_the_namespace(session):
    context = current()
    first = context.positioners()
    assert first["roby"] == session["roby"].position and "diode" not in first
    assert context.positioners() == first
    roby = session.pop("roby")
    assert "roby" not in context.positioners()
    session["other"] = roby  # the same motor under another name: listed by its own name
    session["roby"] = 3  # a name bound again to something that is not a motor
    assert "roby" in context.positioners() and context.positioners(dial=True)["roby"] == roby.dial
    session["roby"] = roby
    del session["other"]
    assert context.positioners() == first
