"""The REST API's objects: BLISS's object types, registering, state, setting a property, calls, /object events.

In-process: the store and its routes on the real test_session (Redis, simulation motors, a Tango simulator for
the offline test). Through a real shell: the unmodified blissclient 1.4.1 (see the second half).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
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
from bliss_shell.rest.object_types import OBJECT_TYPES, MotorType, serialize_object_type
from bliss_shell.rest.objects import ObjectStore
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


def test_position_events_during_a_move_are_throttled_and_end_on_the_last_value(store, context):
    store, events = store
    slowy = context.env["slowy"]
    slowy.velocity, slowy.acceleration = 2, 100
    store.register("slowy")
    store.client_connected()
    slowy.move(3)
    wait_for(lambda: any(v == pytest.approx(3) for _, v in events.changes("slowy", "position")), "no final position")
    positions = events.changes("slowy", "position")
    assert len(positions) >= 5
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(positions)]
    assert min(gaps) >= 0.19, gaps  # BLISS's throttle: one emit of a property per 0.2 s
    states = [v for _, v in events.changes("slowy", "state")]
    assert ["MOVING"] in states and states[-1] == ["READY"]
    wait_for(lambda: events.changes("slowy", "target")[-1][1] == pytest.approx(3), "no target event")


def test_a_put_sends_the_new_value_at_once(store, context):
    store, events = store
    store.register("roby")
    store.client_connected()
    store.set("roby", "velocity", 1234)
    wait_for(lambda: [v for _, v in events.changes("roby", "velocity")] == [1234], "no velocity event")


def _restart(server: SimulatorServer) -> subprocess.Popen:
    dlist = ",".join(f"{cls}::{name}" for cls, names in server.devices.items() for name in names)
    process = subprocess.Popen(
        [sys.executable, "-m", "bliss_shell.simulators", "restobj", "-nodb",
         "-ORBendPoint", f"giop:tcp:127.0.0.1:{server.port}", "-dlist", dlist],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    wait_until_answers(server.url("id00/motor/rest1"), process, 20, "the restarted simulator")
    return process


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
        store.stop()
    finally:
        server.stop()


# --- through a real shell: the unmodified blissclient 1.4.1 ------------------------------------------

WATCHER = """
import json, sys, time
from blissclient import BlissClient
client = BlissClient(sys.argv[1])
def out(kind, name, data):
    print(json.dumps({"t": time.monotonic(), "kind": kind, "name": name, "data": data}), flush=True)
for name in sys.argv[2:]:
    obj = client.hardware.get(name)
    obj.subscribe("property", lambda data, name=name: out("change", name, data))
    obj.subscribe("online", lambda state, name=name: out("online", name, state))
client.create_connect(wait=False)()
out("connected", "", None)
sys.stdin.read()  # until the test is done
client._events.socketio.disconnect()
"""


class Watcher:
    """A blissclient in a process of its own, connected to /object, writing the events it gets (JSON lines)."""

    def __init__(self, url: str, names: list[str], folder: Path):
        self.path = folder / "events.jsonl"
        self._file = self.path.open("w")
        self.process = subprocess.Popen([sys.executable, "-c", WATCHER, url, *names], stdin=subprocess.PIPE,
                                        stdout=self._file, stderr=subprocess.STDOUT, text=True)  # fmt: skip

    def events(self) -> list[dict]:
        lines = self.path.read_text().split("\n")[:-1]  # the last one may be half written
        return [json.loads(line) for line in lines if line.startswith("{")]

    def changes(self, name: str, prop: str) -> list[tuple[float, Any]]:
        return [(e["t"], e["data"][prop]) for e in self.events() if e["kind"] == "change" and e["name"] == name
                and prop in e["data"]]  # fmt: skip

    def online(self, name: str) -> list[bool]:
        return [e["data"] for e in self.events() if e["kind"] == "online" and e["name"] == name]

    def close(self) -> str:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._file.close()
        return self.path.read_text()


def pumping(shell, condition, what: str, timeout: float = 20.0) -> None:
    """Wait for ``condition()`` while the shell's terminal output is read (a full pty would stop the shell)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout} s:\n{shell.terminal.text()}")
        shell.terminal._pump(0.05)


def shell_value(shell, expression: str) -> str:
    """What ``expression`` is in the shell, printed at its prompt."""
    token = f"V{next(_TOKENS)}"
    shell.terminal.enter(f"print('{token}' + '=<' + repr({expression}) + '>')")
    return shell.terminal.wait_for(rf"{token}=<(.*)>").group(1)


_TOKENS = itertools.count()


def refusal_lines(shell, method: str, path: str, status: int) -> list[str]:
    pattern = rf"REST {method} {re.escape(path)} refused \({status}\): [^\r\n]*"
    return re.findall(pattern, bytes(shell.terminal.transcript).decode(errors="replace"))


@pytest.mark.slow
def test_blissclient_registers_reads_sets_and_moves_roby(rest_shell, tmp_path):
    from blissclient import BlissClient

    shell = rest_shell()
    client = BlissClient(shell.url)
    client.hardware.register("roby")
    roby = client.hardware.get("roby")
    assert roby.type == "motor" and roby.properties["unit"] == "mm"
    assert roby.position == pytest.approx(float(shell_value(shell, "roby.position")))
    roby.velocity = 2  # the Tango motor's velocity, as the shell reads it
    assert shell_value(shell, "roby.velocity") == "2.0"
    roby.velocity = 50  # a move of 60 below: a few position events
    assert set(client.hardware.types) >= {"motor", "lima", "mca", "countercard", "counter", "scansaving"}
    model = client.hardware.get_type_as_pydantic("motor")
    assert set(model.model_fields) == set(roby.properties)

    start = float(shell_value(shell, "roby.position"))
    watcher = Watcher(shell.url, ["roby"], tmp_path)
    try:
        pumping(shell, lambda: any(e["kind"] == "connected" for e in watcher.events()), "the watcher did not connect")
        target = round(start + 60 if start < 0 else start - 60, 3)
        shell.terminal.enter(f"mv(roby, {target})")  # typed in the shell: the client follows it
        final = lambda: any(v == pytest.approx(target, abs=1e-3) for _, v in watcher.changes("roby", "position"))  # noqa: E731
        pumping(shell, final, "no event of the final position")
        positions = watcher.changes("roby", "position")
        assert len(positions) >= 4, positions
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(positions)]
        assert min(gaps) >= 0.15, gaps  # one emit per property per 0.2 s (received times: a little jitter)
        ready = lambda: [v for _, v in watcher.changes("roby", "state")][-1:] == [["READY"]]  # noqa: E731
        pumping(shell, ready, "no READY state event")
        assert ["MOVING"] in [v for _, v in watcher.changes("roby", "state")]
    finally:
        watcher.close()

    future = roby.move(start)  # a call: H3's /api/call runs the object's move
    pumping(shell, lambda: future.state != "running", "the move call did not end", 60)
    assert future.state == "terminated"
    assert float(shell_value(shell, "roby.position")) == pytest.approx(start)


@pytest.mark.slow
def test_every_bad_input_is_bliss_code_one_log_line_and_nothing_moves(rest_shell):
    import httpx

    shell = rest_shell()
    url = f"{shell.url}/api/object"
    before = shell_value(shell, "(roby.position, roby.velocity, roby.limits)")
    assert httpx.get(f"{url}/roby").json() == {"error": "No such object"}
    answer = httpx.post(url, json={"names": ["roby", "nothing"]})
    assert answer.status_code == 400 and answer.json()["objects"][0]["name"] == "nothing"
    cases = [
        ({"property": "colour", "value": 1}, 400, "'Unknown property `colour`'"),
        ({"property": "unit", "value": "m"}, 400, "Property `unit` is read only"),
        ({"property": "velocity", "value": "fast"}, 422, None),
        ({"property": "velocity", "value": -5}, 400, "roby: velocity must be positive and finite, not -5"),
        ({"property": "limits", "value": [10, -10]}, 400, "roby: low limit 10 above high limit -10"),
        ({"property": "limits", "value": [1]}, 400, "roby: limits are a (low, high) pair, not [1.0]"),
    ]
    for body, status, text in cases:
        answer = httpx.put(f"{url}/roby", json=body)
        assert answer.status_code == status, (body, answer.text)
        if text is not None:
            assert answer.json() == {"error": text}
        else:
            assert [error["type"] for error in answer.json()] == ["float_parsing"]
    pumping(shell, lambda: len(refusal_lines(shell, "PUT", "/api/object/roby", 400)) == 5, "not 5 PUT 400 lines")
    assert len(refusal_lines(shell, "PUT", "/api/object/roby", 422)) == 1
    assert len(refusal_lines(shell, "GET", "/api/object/roby", 404)) == 1
    assert len(refusal_lines(shell, "POST", "/api/object", 400)) == 1
    assert shell_value(shell, "(roby.position, roby.velocity, roby.limits)") == before


DEMO_TYPES = {"roby": "motor", "robz": "motor", "MG1": "measurementgroup", "ACTIVE_MG": "objectref",
              "SCAN_SAVING": "scansaving", "lima_simulator": "lima", "mca1": "mca", "simu1": "mca",
              "p201": "countercard", "ct1": "counter", "ct2": "counter", "ct_timer": "counter",
              "diode": "tango_attr_as_counter", "diode2": "tango_attr_as_counter",
              "sim_ct_gauss": "tango_attr_as_counter"}  # fmt: skip


@pytest.mark.slow
def test_every_demo_object_has_its_type_and_is_online(rest_shell):
    from blissclient import BlissClient

    shell = rest_shell()
    client = BlissClient(shell.url)
    client.hardware.register(*DEMO_TYPES)
    for name, kind in DEMO_TYPES.items():
        obj = client.hardware.get(name)
        assert (obj.type, obj._state.online, obj.errors) == (kind, True, []), name
    assert client.hardware.get("p201").properties["timer"] == "hardware:ct_timer"
    assert client.hardware.get("lima_simulator").properties["state"] == "READY"
    active = client.hardware.get("ACTIVE_MG")
    assert active.ref.name == shell_value(shell, "ACTIVE_MG.name").strip("'")  # blissclient follows the reference


def _demo_pid(shell) -> int:
    folder = Path(shell.env["XDG_RUNTIME_DIR"]) / "bliss_shell"
    return int((folder / "tango-BlissSimulators-demo.pid").read_text())


@pytest.mark.slow
def test_roby_goes_offline_when_its_server_is_killed_and_online_when_back(rest_shell, tmp_path):
    from terminal import run_bliss

    shell = rest_shell()
    import httpx

    httpx.post(f"{shell.url}/api/object", json={"names": ["roby"]}).raise_for_status()
    watcher = Watcher(shell.url, ["roby"], tmp_path)
    try:
        pumping(shell, lambda: any(e["kind"] == "connected" for e in watcher.events()), "the watcher did not connect")
        os.kill(_demo_pid(shell), signal.SIGKILL)
        pumping(shell, lambda: watcher.online("roby") == [False], "no offline event", 30)
        state = httpx.get(f"{shell.url}/api/object/roby").json()
        assert state["online"] is False and state["errors"]
    finally:
        started = run_bliss("servers", "start", env=shell.env)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        pumping(shell, lambda: watcher.online("roby") == [False, True], "no online event", 60)
        assert httpx.get(f"{shell.url}/api/object/roby").json()["online"] is True
        for line in (b"REST object roby offline", b"REST object roby online again"):  # the shell says so too
            pumping(shell, lambda line=line: line in shell.terminal.transcript, f"{line!r} not printed by the shell")
    finally:
        watcher.close()


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
