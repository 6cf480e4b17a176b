"""The REST API's objects: BLISS's object types, registering, state, setting a property, calls, /object events.

In-process: the store and its routes on the real test_session (Redis, simulation motors, a Tango simulator for
the offline tests). Through a real shell and the unmodified blissclient 1.4.1: test_rest_objects_shell.py.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pydantic import ValidationError

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.rest import object_routes
from bliss_shell.rest.context import SessionContext
from bliss_shell.rest.object_events import Throttle
from bliss_shell.rest.object_typedef import serialize_object_type
from bliss_shell.rest.object_types import OBJECT_TYPES, MotorType
from bliss_shell.rest.objects import FRESH, ObjectStore
from bliss_shell.rest.responses import Refusal
from bliss_shell.shell.error_report import ErrorReport
from bliss_shell.shell.namespace import session_namespace, show_active_mg
from conftest import BEAMLINE, _fail, wait_for
from simulator_server import SimulatorServer, wait_until_answers

STATE_KEYS = ["name", "type", "online", "errors", "alias", "properties", "user_tags", "locked"]


class Events:
    """What the store emitted on /object, with the time each was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, str, dict]] = []

    def __call__(self, event: str, data: dict) -> None:
        json.dumps(data)  # what socket.io sends: JSON only
        self.sent.append((time.monotonic(), event, data))

    def changes(self, name: str, prop: str) -> list[tuple[float, Any]]:
        return [(t, d["data"][prop]) for t, e, d in self.sent if e == "change" and d["id"] == name and prop in d["data"]]

    def online(self, name: str) -> list[bool]:
        return [d["state"] for _, e, d in self.sent if e == "online" and d["id"] == name]


def open_context(roots: list[ConfigRoot], name: str, redis_client, saving: Path) -> SessionContext:
    session = Config(roots).get(name)
    namespace = session_namespace(session, redis_client, ErrorReport())
    session.setup(namespace, on_error=_fail, verbose=False)
    show_active_mg(namespace, _fail)
    namespace["SCAN_SAVING"].base_path = str(saving)
    return SessionContext(name, namespace, session.config, {}, [])


@pytest.fixture
def context(redis_client, tmp_path) -> SessionContext:
    return open_context([ConfigRoot(BEAMLINE)], "test_session", redis_client, tmp_path / "scans")


@pytest.fixture
def store(context) -> Iterator[tuple[ObjectStore, Events]]:
    events = Events()
    store = ObjectStore(context, events)
    store.start()
    yield store, events
    store.stop()


class Service:
    """What the routes use of H1's RestService."""

    def __init__(self, store: ObjectStore):
        self.ready = True
        self.objects = store


@pytest.fixture
def api(store):
    app = Flask(__name__)
    app.register_error_handler(Refusal, lambda refusal: refusal.response)  # as H1's service does
    service = Service(store[0])
    object_routes.install(app, None, service)
    return app.test_client(), service


# --- types ----------------------------------------------------------------------------------------


def test_types_are_served_with_bliss_names_and_schemas():
    served = {name: serialize_object_type(t) for name, t in OBJECT_TYPES.items()}
    assert set(served) == {"motor", "measurementgroup", "objectref", "scansaving", "lima", "tango_attr_as_counter",
                           "unknown", "counter", "countercard", "mca"}  # fmt: skip
    motor = served["motor"]
    assert motor["state_ok"] == ["READY", "MOVING"]
    assert list(motor["properties"]) == ["state", "position", "target", "tolerance", "acceleration", "velocity",
                                         "limits", "unit", "offset", "sign", "display_digits"]  # fmt: skip
    assert motor["properties"]["limits"]["length"] == 2
    assert motor["properties"]["state"]["readOnly"] is True
    assert list(motor["callables"]) == ["move", "rmove", "stop", "wait"]
    assert motor["callables"]["move"]["args"] == {
        "maxItems": 1, "minItems": 1, "prefixItems": [{"type": "number"}], "title": "Args", "type": "array",
    }  # fmt: skip
    assert served["objectref"]["properties"]["ref"]["blissType"] == "hardware_ref"
    assert list(served["scansaving"]["callables"]) == ["create_root_path", "add_dataset_techniques", "dataset_exists"]
    json.dumps(served)


# --- register and state --------------------------------------------------------------------------


def test_a_motor_state_is_bliss_object_schema(store, context):
    store, _ = store
    roby = context.env["roby"]
    store.register("roby")
    state = store.state("roby")
    assert list(state) == STATE_KEYS
    assert state["type"] == "motor" and state["online"] is True and state["errors"] == [] and state["locked"] is None
    props = state["properties"]
    assert props["state"] == ["READY"]
    assert props["position"] == roby.position and props["target"] == roby.position
    assert props["limits"] == [-100, 100] and props["velocity"] == roby.velocity
    assert props["sign"] == 1 and props["display_digits"] == 4 and props["unit"] == "mm"


def test_infinite_limits_and_sign_minus_one_are_bliss_limits(store, context):
    store, _ = store
    roby = context.env["roby"]
    roby.limits = (-math.inf, 5)
    store.register("roby")
    assert store.state("roby")["properties"]["limits"] == [-999999999, 5]
    roby.sign = -1
    low, high = store.state("roby")["properties"]["limits"]
    assert low <= high


def test_each_test_session_object_has_its_type(store, context):
    store, _ = store
    expected = {"roby": "motor", "MG1": "measurementgroup", "ACTIVE_MG": "objectref", "SCAN_SAVING": "scansaving",
                "simu1": "mca", "diode": "counter", "sim_ct_gauss": "counter", "ascan": "unknown"}  # fmt: skip
    for name, kind in expected.items():
        store.register(name)
        state = store.state(name)
        assert (state["type"], state["online"], state["errors"]) == (kind, True, []), name
    assert store.state("ACTIVE_MG")["properties"] == {"ref": f"hardware:{context.env['ACTIVE_MG'].name}"}
    assert store.state("MG1")["properties"] == {"available": ["diode", "diode2"], "disabled": []}
    saving = store.state("SCAN_SAVING")["properties"]
    assert saving["base_path"] == context.env["SCAN_SAVING"].base_path and saving["proposal_name"] is None
    with pytest.raises(ValueError, match="Data policy 'None' is not supported"):
        store.get_object("SCAN_SAVING").call("dataset_exists", collection_name="c", dataset_name="d")
    assert store.state("simu1")["properties"]["nbins"] == 16
    assert [o.name for o in store.get_objects(type="motor")] == ["roby"]


def test_an_unknown_name_is_refused_as_bliss(store):
    store, _ = store
    with pytest.raises(Exception, match="Object 'nothing' doesn't exist in config"):
        store.register("nothing")
    assert store.get_object("nothing") is None


def test_an_object_that_fails_to_load_is_unknown_and_offline(redis_client, tmp_path):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "broken.yml").write_text("- name: broken\n  class: SimulationMotor\n  tolerance: -1\n"
                                                 "- name: broken_session\n  class: Session\n  config-objects: []\n")  # fmt: skip
    context = open_context([ConfigRoot(tmp_path / "cfg")], "broken_session", redis_client, tmp_path / "scans")
    store = ObjectStore(context, Events())
    store.register("broken")
    state = store.state("broken")
    assert (state["type"], state["online"], state["properties"]) == ("unknown", False, {})


# --- set -----------------------------------------------------------------------------------------


def test_set_velocity_reaches_the_motor(store, context):
    store, _ = store
    store.register("slowy")
    store.set("slowy", "velocity", 2)
    assert context.env["slowy"].velocity == 2
    assert store.state("slowy")["properties"]["velocity"] == 2


@pytest.mark.parametrize(
    ("prop", "value", "error", "text"),
    [
        ("velocity", -1, ValueError, "velocity must be positive"),
        ("velocity", "fast", ValidationError, "valid number"),
        ("limits", [5, -5], ValueError, "low limit 5 above high limit -5"),
        ("limits", [1, 2, 3], TypeError, "limits are a \\(low, high\\) pair"),
        ("sign", 2, ValueError, "sign must be 1 or -1"),
        ("state", ["READY"], AttributeError, "Property `state` is read only"),
        ("colour", 1, KeyError, "Unknown property `colour`"),
        ("target", 3, AttributeError, "target is where a move goes"),
    ],
)
def test_a_refused_value_changes_nothing(store, context, prop, value, error, text):
    store, _ = store
    store.register("slowy")
    before = store.state("slowy")["properties"]
    with pytest.raises(error, match=text):
        store.set("slowy", prop, value)
    assert store.state("slowy")["properties"] == before


def test_active_mg_ref_chooses_the_active_group(store, context):
    store, _ = store
    store.register("ACTIVE_MG")
    store.set("ACTIVE_MG", "ref", "hardware:MG2")
    assert context.env["ACTIVE_MG"].name == "MG2"
    with pytest.raises(ValueError, match="'roby' is not a measurement group"):
        store.set("ACTIVE_MG", "ref", "hardware:roby")
    assert context.env["ACTIVE_MG"].name == "MG2"


# --- calls (what H3's /api/call uses) --------------------------------------------------------------


def test_motor_callables_validate_then_run(store, context):
    store, _ = store
    store.register("roby")
    roby = store.get_object("roby")
    assert roby.has_function("move") and not roby.has_function("explode")
    with pytest.raises(ValidationError):
        roby.validate_call("move", "far")
    with pytest.raises(ValidationError):
        roby.validate_call("move")
    roby.validate_call("move", 3)
    roby.call("move", 3)
    assert context.env["roby"].position == pytest.approx(3)
    roby.call("rmove", -1)
    assert context.env["roby"].position == pytest.approx(2)
    mg = (store.register("MG1"), store.get_object("MG1"))[1]
    mg.call("disable", "diode2")
    assert store.state("MG1")["properties"]["disabled"] == ["diode2"]
    mg.call("enable", "diode2")


# --- events --------------------------------------------------------------------------------------


def test_no_poll_without_a_client(store):
    store, events = store
    store.register("roby")
    assert not store.polling
    store.client_connected()
    assert store.polling
    store.client_disconnected()
    wait_for(lambda: not store.polling, "the poller still runs without a client", timeout=5)


def test_position_events_follow_a_move_and_end_on_the_position_it_stopped_at(store, context):
    store, events = store
    slowy = context.env["slowy"]
    slowy.velocity, slowy.acceleration = 1, 100
    start = slowy.position
    target = start + 50 if start < 0 else start - 50  # 50 s of move: it is stopped once followed, however slow
    low, high = min(start, target), max(start, target)
    store.register("slowy")
    store.client_connected()
    slowy.move(target, wait=False)
    try:
        followed = lambda: (  # noqa: E731
            ["MOVING"] in [v for _, v in events.changes("slowy", "state")]
            and any(low < v < high for _, v in events.changes("slowy", "position"))
        )
        wait_for(followed, "no MOVING state event and no position event between start and target", timeout=20)
    finally:
        slowy.stop()
    final = slowy.position
    last = lambda: [v for _, v in events.changes("slowy", "position")][-1:] == [pytest.approx(final)]  # noqa: E731
    wait_for(last, "the last position event is not the position the motor stopped at", timeout=10)
    wait_for(lambda: events.changes("slowy", "state")[-1][1] == ["READY"], "no READY state event", timeout=10)
    positions = [v for _, v in events.changes("slowy", "position")]
    assert all(low - 1e-6 <= v <= high + 1e-6 for v in positions), positions  # on the way, none elsewhere
    at_rest = lambda: [v for _, v in events.changes("slowy", "target")][-1:] == [pytest.approx(final)]  # noqa: E731
    wait_for(at_rest, "the last target event is not the position it stopped at (a motor at rest)", timeout=10)


def test_a_burst_of_values_gives_one_event_at_once_and_one_trailing_event_with_the_last_value():
    now = [100.0]  # the throttle's clock: only the test moves it
    sent: list[tuple[tuple[str, str], Any]] = []
    throttle = Throttle(lambda key, value: sent.append((key, value)), period=0.2, clock=lambda: now[0])
    position, state = ("roby", "position"), ("roby", "state")
    throttle.push(position, 1.0)
    assert sent == [(position, 1.0)]  # the first value of a quiet property: at once
    for value in (2.0, 3.0, 4.0):  # a burst inside the period: held, each replacing the one before
        now[0] += 0.01
        throttle.push(position, value)
    throttle.push(state, ["MOVING"])  # another property has its own period: at once
    assert sent == [(position, 1.0), (state, ["MOVING"])] and throttle.pending == 1
    wait_for(lambda: throttle.pending == 0, "the trailing event was not sent", timeout=5)
    assert sent == [(position, 1.0), (state, ["MOVING"]), (position, 4.0)]  # one trailing event: the last value
    now[0] += 1.0  # a period after the last send: at once again
    throttle.push(position, 5.0)
    assert sent[-1] == (position, 5.0) and throttle.pending == 0
    throttle.push(position, 6.0)  # inside the period again; forgetting the object drops it
    throttle.forget("roby")
    assert throttle.pending == 0 and sent[-1] == (position, 5.0)


def test_a_put_sends_the_new_value_at_once(store, context):
    store, events = store
    store.register("roby")
    store.client_connected()
    store.set("roby", "velocity", 1234)
    wait_for(lambda: [v for _, v in events.changes("roby", "velocity")] == [1234], "no velocity event")


def test_the_object_list_answers_from_the_poller_and_skips_an_object_unregistered_meanwhile(context):
    now = [100.0]  # the store's clock for its fresh reads: only the test moves it
    store = ObjectStore(context, Events(), clock=lambda: now[0])
    store.start()
    try:
        _object_list_answers(store, context, now)
    finally:
        store.stop()


def _object_list_answers(store: ObjectStore, context: SessionContext, now: list[float]) -> None:
    store.register("roby")
    store.register("slowy")
    roby = store.get_object("roby")
    reads = []
    read = roby.read

    def counted_read(*args, **kwargs):
        values = read(*args, **kwargs)
        reads.append(args)
        return values

    roby.read = counted_read
    assert [state["name"] for state in store.states()] == ["roby", "slowy"]  # nobody polls: read now
    assert len(reads) == 1
    store.client_connected()
    wait_for(lambda: len(reads) >= 2, "the poller did not read roby", timeout=5)
    before = len(reads)
    now[0] += FRESH  # still fresh at FRESH s (the clock only moves here): no read
    states = store.states()
    assert len(reads) == before and states[0]["properties"]["position"] == context.env["roby"].position
    now[0] += 0.001  # no longer fresh: read now (the choice is made before any other greenlet runs)
    store.states()
    assert len(reads) > before
    store.client_disconnected()
    wait_for(lambda: not store.polling, "the poller still runs", timeout=5)

    def unregistering_read(*args, **kwargs):  # slowy is unregistered while roby is read (a DELETE meanwhile)
        store.unregister("slowy")
        return read(*args, **kwargs)

    roby.read = unregistering_read
    assert [state["name"] for state in store.states()] == ["roby"]


def _restart(server: SimulatorServer) -> subprocess.Popen:
    dlist = ",".join(f"{cls}::{name}" for cls, names in server.devices.items() for name in names)
    process = subprocess.Popen(
        [sys.executable, "-m", "bliss_shell.simulators", "restobj", "-nodb",
         "-ORBendPoint", f"giop:tcp:127.0.0.1:{server.port}", "-dlist", dlist],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    wait_until_answers(server.url("id00/motor/rest1"), process, 20, "the restarted simulator")
    return process


def test_a_motor_registered_while_its_server_is_down_sends_its_position_once_the_server_is_back(redis_client, tmp_path):
    server = SimulatorServer({"SimMotor": ["id00/motor/rest1"]}, instance="restobj")
    restarted = None
    try:
        (tmp_path / "cfg").mkdir()
        (tmp_path / "cfg" / "m.yml").write_text(
            f"- name: m1\n  class: TangoMotor\n  tango_url: {server.url('id00/motor/rest1')}\n  velocity: 100\n"
            "- name: m_session\n  class: Session\n"
        )
        context = open_context([ConfigRoot(tmp_path / "cfg")], "m_session", redis_client, tmp_path / "scans")
        server.process.send_signal(signal.SIGKILL)
        server.process.communicate(timeout=10)
        events = Events()
        store = ObjectStore(context, events)
        store.start()
        store.register("m1")  # its server is down: offline, no value known
        assert store.state("m1")["online"] is False
        store.client_connected()
        restarted = _restart(server)
        wait_for(lambda: events.changes("m1", "position"), "no position event after the server came back", timeout=30)
        position = events.changes("m1", "position")[-1][1]
        assert position == pytest.approx(context.env["m1"].position)
        assert [v for _, v in events.changes("m1", "state")][-1:] == [["READY"]]
        store.stop()
    finally:
        for process in (server.process, restarted):
            if process is not None and process.poll() is None:
                process.terminate()
                process.communicate(timeout=10)


def test_a_killed_motor_server_makes_it_offline_then_online_again(redis_client, tmp_path):
    server = SimulatorServer({"SimMotor": ["id00/motor/rest1"]}, instance="restobj")
    restarted = None
    try:
        (tmp_path / "cfg").mkdir()
        (tmp_path / "cfg" / "m.yml").write_text(
            f"- name: m1\n  class: TangoMotor\n  tango_url: {server.url('id00/motor/rest1')}\n  velocity: 100\n"
            "- name: m_session\n  class: Session\n"
        )
        context = open_context([ConfigRoot(tmp_path / "cfg")], "m_session", redis_client, tmp_path / "scans")
        events = Events()
        store = ObjectStore(context, events)
        store.start()
        store.register("m1")
        store.client_connected()
        server.process.send_signal(signal.SIGKILL)
        server.process.communicate(timeout=10)
        wait_for(lambda: events.online("m1") == [False], "no offline event", timeout=30)
        state = store.state("m1")
        assert state["online"] is False and state["errors"] and state["errors"][0]["property"]
        restarted = _restart(server)
        wait_for(lambda: events.online("m1") == [False, True], "no online event", timeout=30)
        assert store.state("m1")["online"] is True
        store.stop()
    finally:
        for process in (server.process, restarted):
            if process is not None and process.poll() is None:
                process.terminate()
                process.communicate(timeout=10)


# --- routes (in-process Flask client) --------------------------------------------------------------


def test_routes_codes_and_texts_are_bliss(api, context):
    client, service = api
    service.ready = False
    assert client.get("/api/object").status_code == 503
    answer = client.post("/api/object", json={"names": ["roby"]})
    assert (answer.status_code, answer.get_json()) == (503, {"error": "Not yet fully initialized"})
    answer = client.post("/api/object", json={"nam": []})  # the body is checked first, as BLISS's flask-openapi3 does
    assert answer.status_code == 422 and answer.get_json()[0]["loc"] == ["names"]
    service.ready = True
    answer = client.post("/api/object", json={"names": ["roby", "nothing"]})
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == "Could not register hardware objects"
    assert [(o["name"], o["error"]) for o in body["objects"]] == [("nothing", "Object 'nothing' doesn't exist in config")]
    assert client.post("/api/object", json={"names": ["MG1"]}).get_json() == {"names": ["MG1"]}
    assert client.post("/api/object", json={"nam": []}).status_code == 422
    listing = client.get("/api/object?type=motor").get_json()
    assert listing["total"] == 1 and listing["results"][0]["name"] == "roby"
    assert client.get("/api/object").get_json()["total"] == 2
    assert client.get("/api/object/nothing").get_json() == {"error": "No such object"}
    assert client.get("/api/object/roby").get_json()["properties"]["limits"] == [-100, 100]

    put = client.put("/api/object/roby", json={"property": "velocity", "value": 20})
    assert (put.status_code, put.get_json()) == (200, {"property": "velocity", "value": 20})
    assert context.env["roby"].velocity == 20
    put = client.put("/api/object/roby", json={"property": "velocity", "value": "x"})
    assert put.status_code == 422 and put.get_json()[0]["type"] == "float_parsing"
    put = client.put("/api/object/roby", json={"property": "velocity", "value": 0})
    assert put.status_code == 400 and "velocity must be positive" in put.get_json()["error"]
    put = client.put("/api/object/roby", json={"property": "unit", "value": "mm"})
    assert (put.status_code, put.get_json()) == (400, {"error": "Property `unit` is read only"})
    put = client.put("/api/object/roby", json={"property": "colour", "value": 1})
    assert (put.status_code, put.get_json()) == (400, {"error": "'Unknown property `colour`'"})  # str(KeyError), as BLISS
    assert client.put("/api/object/nothing", json={"property": "x", "value": 1}).status_code == 404
    assert context.env["roby"].velocity == 20
    put = client.put("/api/object/MG1", json={"property": "available", "value": ["diode"]})  # writable in BLISS's type
    text = "Property `available` of MG1 can't be set: MeasurementGroup has no setter for it"
    assert (put.status_code, put.get_json()) == (400, {"error": text})
    assert context.env["MG1"].available == ["diode", "diode2"] and "available" not in vars(context.env["MG1"])

    assert client.delete("/api/object/MG1").status_code == 204
    assert client.delete("/api/object/MG1").get_json() == {"error": "No such object"}
    types = client.get("/api/object_type").get_json()
    assert types["total"] == len(OBJECT_TYPES)
    assert client.get("/api/object_type/motor").get_json() == serialize_object_type(MotorType)
    assert client.get("/api/object_type/robot").get_json() == {"error": "No such abstract object"}


DEVICES_YML = """\
- name: card
  class: CounterCard
  tango_url: {card}
- name: t_timer
  class: CardCounter
  card: card
  channel: 11
- name: t1
  class: CardCounter
  card: card
  channel: 1
- name: mca
  class: TangoMCA
  tango_url: {mca}
  nbins: 64
- name: cam
  class: Lima
  tango_url: {cam}
- name: tdiode
  class: TangoCounter
  tango_url: {counter}
- name: dev_session
  class: Session
"""


def test_tango_devices_have_their_types(redis_client, tmp_path):
    devices = {"CT2": ["id00/ct2/rest"], "SimMCA": ["id00/mca/rest"], "LimaCCDs": ["id00/limaccds/rest"],
               "SimCounter": ["id00/counter/rest"]}  # fmt: skip
    server = SimulatorServer(devices, instance="restdevices")
    try:
        (tmp_path / "cfg").mkdir()
        (tmp_path / "cfg" / "d.yml").write_text(DEVICES_YML.format(
            card=server.url("id00/ct2/rest"), mca=server.url("id00/mca/rest"), cam=server.url("id00/limaccds/rest"),
            counter=server.url("id00/counter/rest"),
        ))  # fmt: skip
        context = open_context([ConfigRoot(tmp_path / "cfg")], "dev_session", redis_client, tmp_path / "scans")
        store = ObjectStore(context, Events())
        for name in ("card", "mca", "cam", "tdiode"):
            store.register(name, register_sub_objects=True)
        types = {obj.name: obj.type for obj in store.get_objects()}
        assert types == {"card": "countercard", "t_timer": "counter", "t1": "counter", "mca": "mca", "cam": "lima",
                         "tdiode": "tango_attr_as_counter"}  # fmt: skip
        states = {name: store.state(name) for name in types}
        assert all(state["online"] and not state["errors"] for state in states.values()), states
        card = states["card"]["properties"]
        assert card["counters"] == ["hardware:t1", "hardware:t_timer"] and card["timer"] == "hardware:t_timer"
        assert states["t_timer"]["properties"]["unit"] == "s"
        assert states["mca"]["properties"]["nbins"] == 64
        cam = states["cam"]["properties"]
        assert cam["state"] == "READY"
        assert cam["static"] == {"lima_version": "1.10.2", "lima_type": "Simulator", "camera_type": "Simulator",
                                 "camera_model": "Generator", "camera_pixelsize": [1.0, 1.0],
                                 "image_max_dim": [256, 256]}  # fmt: skip  # the pixel size in micron, as BLISS's
        assert cam["rotation"] == 0 and cam["binning"] == [1, 1] and cam["size"] == cam["static"]["image_max_dim"]
        assert isinstance(states["tdiode"]["properties"]["value"], float)
        store.set("cam", "binning", [2, 2])
        assert context.env["cam"].image.binning == [2, 2]
        with pytest.raises(Exception, match="cam"):
            store.set("cam", "rotation", 45)
        assert store.get_object("tdiode").call("get_metadata")["url"] == server.url("id00/counter/rest")
        with pytest.raises(AttributeError, match="Property `value` of tdiode can't be set: TangoCounter has no setter"):
            store.set("tdiode", "value", 3)  # BLISS's type has it writable: our counter has no setter, nothing is added
        assert "value" not in vars(context.env["tdiode"])
        store.stop()
    finally:
        server.stop()


def test_scan_saving_of_the_esrf_policy_has_its_proposal_collection_and_dataset(policy_session):
    context = SessionContext("esrf_session", policy_session, None, {}, [])
    store = ObjectStore(context, Events())
    store.register("SCAN_SAVING")
    state = store.state("SCAN_SAVING")
    assert state["online"] and not state["errors"], state["errors"]
    saving, props = policy_session["SCAN_SAVING"], state["properties"]
    assert (props["proposal_name"], props["collection_name"], props["dataset_name"]) == (
        saving.proposal_name, saving.collection_name, saving.dataset_name,
    )  # fmt: skip
    assert props["data_path"] == saving.get_path() and props["filename"] == saving.filename
    scan_saving = store.get_object("SCAN_SAVING")
    assert scan_saving.call("dataset_exists", collection_name=saving.collection_name, dataset_name="nowhere") is False
    scan_saving.call("create_root_path")
    assert Path(saving.root_path).is_dir()
