"""A scan's consumers plug in from outside: every point and the end reach a new one; an observer's error is a
warning that names it and the scan goes on; a data consumer's error fails the scan and names it, in every record;
the scan's record keepers stay; the session's motors snapshot follows the namespace. Real Redis, real files."""

from __future__ import annotations

import re
from typing import ClassVar

import h5py
import numpy as np
import pytest

from bliss_shell.data import get_node
from bliss_shell.scanning import current
from bliss_shell.scanning.consumers import Ending, ScanConsumer, ScanStart
from bliss_shell.scanning.logbook import LogbookConsumer, session_logbook
from bliss_shell.scanning.records import Points
from bliss_shell.scanning.subscriptions import ConsumerError, Subscription


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


def test_consumers_given_to_one_scan_are_added_to_the_sessions_and_the_scan_keeps_its_record(session, consumers):
    before = consumers.names()
    scan = session["loopscan"](3, 0, session["diode"], run=False)
    scan.run(consumers=[Subscription("collect", Collect)])
    (collect,) = Collect.made
    assert len(collect.points["diode:diode"]) == 3 and scan.state == "done"
    assert len(get_node(f"{scan.node.db_name}:timer:diode:diode")) == 3  # Redis has its points, and its file
    with h5py.File(scan.path, "r") as file:
        assert np.array_equal(file[f"{scan.number}.1/measurement/diode"][()], collect.points["diode:diode"])
    assert np.array_equal(scan.get_data()["diode"], collect.points["diode:diode"])
    assert consumers.names() == before
    session["loopscan"](1, 0, session["diode"])
    assert Collect.made == [collect]  # for that scan only


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
    assert "WARNING: logbook consumer failed: ValueError: logbook broken; the scan ended done" in capsys.readouterr().out
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


class EndFails(ScanConsumer):
    """Raises at the scan's end."""

    def __init__(self, start: ScanStart):
        pass

    def end(self, ending: Ending) -> None:
        raise OSError("archive disk gone")


def test_a_data_consumer_whose_end_fails_fails_the_scan_and_every_record_says_so(session, consumers):
    consumers.subscribe(Collect, name="collect")  # after it: still ended, told the failure
    consumers.subscribe(EndFails, name="archive", data=True)
    with pytest.raises(ConsumerError, match=r"^archive consumer: OSError: archive disk gone$"):
        session["loopscan"](2, 0, session["diode"])
    scan = session["SCANS"][-1]
    reason = "ConsumerError: archive consumer: OSError: archive disk gone"
    assert scan.state == "failed" and scan.node.end_state() == {"state": "failed", "reason": reason}
    with h5py.File(scan.path, "r") as file:  # the file ends after the other data consumers: it knows
        assert file[f"{scan.number}.1/writer/status"][()] == b"FAILED"
        assert file[f"{scan.number}.1/writer/reason"][()].decode() == reason
        assert len(file[f"{scan.number}.1/measurement/diode"]) == 2
    assert session_logbook(current()).read_text().splitlines()[-1].endswith(f"failed: {reason}; file {scan.path}")
    assert Collect.made[0].ending is not None and Collect.made[0].ending.state.value == "failed"


def test_an_observer_whose_end_fails_says_how_the_scan_ended(session, consumers, capsys):
    class Unwell(ScanConsumer):
        def __init__(self, start):
            pass

        def end(self, ending):
            raise ValueError("no plot window")

    consumers.subscribe(Unwell, name="plot")
    consumers.subscribe(EndFails, name="archive", data=True)
    with pytest.raises(ConsumerError):
        session["loopscan"](2, 0, session["diode"])
    out = capsys.readouterr().out
    assert "WARNING: plot consumer failed: ValueError: no plot window; the scan ended failed\n" in out
    assert "goes on" not in out


@pytest.mark.parametrize("name", ["lima frames", "file", "redis"])
def test_the_scans_record_keepers_cannot_be_unsubscribed(session, consumers, name):
    before = consumers.names()
    message = (f"consumers.unsubscribe: {name!r} keeps the scans' record (lima frames, file, redis) and cannot be "
               "unsubscribed; to save nothing, set SCAN_SAVING.writer = 'null' or give save=False")  # fmt: skip
    (token,) = [subscription for subscription in consumers if subscription.name == name]
    for given in (name, token):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            consumers.unsubscribe(given)
    assert consumers.names() == before
    scan = session["loopscan"](2, 0, session["diode"])
    assert len(get_node(f"{scan.node.db_name}:timer:diode:diode")) == 2
    with h5py.File(scan.path, "r") as file:
        assert len(file[f"{scan.number}.1/measurement/diode"]) == 2


def test_observers_subscribed_again_go_after_the_record_keepers_and_the_logbook_says_the_end(session, consumers):
    display, logbook = (next(s for s in consumers if s.name == name) for name in ("display", "logbook"))
    consumers.unsubscribe("display")
    consumers.unsubscribe(logbook)
    consumers.subscribe(EndFails, name="archive", data=True)
    consumers.subscribe(logbook.make, name="logbook", always_ends=True)
    consumers.subscribe(display.make, name="display")
    assert consumers.names() == ["lima frames", "file", "redis", "archive", "logbook", "display"]
    with pytest.raises(ConsumerError, match="^archive consumer: OSError: archive disk gone$"):
        session["loopscan"](2, 0, session["diode"])
    scan = session["SCANS"][-1]
    last = session_logbook(current()).read_text().splitlines()[-1]
    assert last.endswith(f"scan {scan.number} (loopscan 2 0): failed: ConsumerError: archive consumer: OSError: archive "
                         f"disk gone; file {scan.path}")  # fmt: skip


def test_a_data_consumer_that_cannot_be_made_still_leaves_the_observers_after_it_and_the_logbook_has_its_line(session, consumers):
    logbook = next(s for s in consumers if s.name == "logbook")
    consumers.unsubscribe(logbook)
    consumers.subscribe(lambda start: 1 / 0, name="archive", data=True)  # before the logbook, as a record keeper is
    consumers.subscribe(Collect, name="second archive", data=True)  # no point will come: not made
    consumers.subscribe(logbook.make, name="logbook", always_ends=True)
    consumers.subscribe(Collect, name="collect")
    with pytest.raises(ConsumerError, match=r"^archive consumer: ZeroDivisionError: division by zero$"):
        session["loopscan"](2, 0, session["diode"])
    scan = session["SCANS"][-1]
    reason = "ConsumerError: archive consumer: ZeroDivisionError: division by zero"
    assert scan.state == "failed" and scan.node.end_state() == {"state": "failed", "reason": reason}
    last = session_logbook(current()).read_text().splitlines()[-1]
    assert last.endswith(f"scan {scan.number} (loopscan 2 0): failed: {reason}; file {scan.path}")
    (collect,) = Collect.made
    assert collect.ending is not None and (collect.ending.state.value, collect.ending.reason) == ("failed", reason)


def test_a_token_unsubscribes_its_own_subscription_only(session, consumers):
    first = consumers.subscribe(Collect, name="mine")
    consumers.unsubscribe(first)
    second = consumers.subscribe(Collect, name="mine")
    message = ("consumers.unsubscribe: that 'mine' subscription is not subscribed (unsubscribed already?); subscribed: "
               "lima frames, file, redis, display, logbook, mine")  # fmt: skip
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        consumers.unsubscribe(first)
    assert consumers.names()[-1] == "mine"
    session["loopscan"](1, 0, session["diode"])
    assert len(Collect.made) == 1
    consumers.unsubscribe(second)
    assert "mine" not in consumers.names()


@pytest.mark.parametrize("data", [False, True])
def test_a_factory_that_gives_no_consumer_is_an_observers_warning_or_a_data_consumers_failure(session, consumers, capsys,
                                                                                              data):  # fmt: skip
    consumers.subscribe(lambda start: 42, name="answer", data=data)
    said = "answer consumer: TypeError: its factory gave 42, not a ScanConsumer (or None)"
    if data:
        with pytest.raises(ConsumerError, match=f"^{re.escape(said)}$"):
            session["loopscan"](2, 0, session["diode"])
    else:
        session["loopscan"](2, 0, session["diode"])
        assert capsys.readouterr().out.count(f"WARNING: {said.replace(':', ' failed:', 1)}; the scan goes on\n") == 1
    scan = session["SCANS"][-1]
    assert scan.state == ("failed" if data else "done") and scan.node.end_state()["state"] == scan.state
    assert len(scan.get_data()["diode"]) == (0 if data else 2)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: c.subscribe(42), TypeError, "consumers.subscribe: 42 is not callable: give a function or ScanConsumer class"),
        (lambda c: c.subscribe(Collect, name="file"), ValueError, "consumers.subscribe: a consumer 'file' is subscribed already"),
        (
            lambda c: c.subscribe(Exception),
            TypeError,
            "consumers.subscribe: <class 'Exception'> is a class but not a "
            "ScanConsumer: subclass ScanConsumer, or give a function that takes the ScanStart and returns one",
        ),
        (
            lambda c: c.unsubscribe("nothing"),
            ValueError,
            "consumers.unsubscribe: no consumer 'nothing' is subscribed: lima frames, file, redis",
        ),
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
