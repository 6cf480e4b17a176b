"""The REST API's objects through a real shell: the unmodified blissclient 1.4.1 registers, reads, sets, moves.

Events are followed by a blissclient in a process of its own (``Watcher``); the shell's terminal output is read
while a test waits (rest_helpers). The store itself and its routes are tested in-process in test_rest_objects.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import wait_for
from rest_helpers import Refusal, reading, refusals, shell_value

WATCHER = """
import json, sys, threading, time
from blissclient import BlissClient
client = BlissClient(sys.argv[1])
lock = threading.Lock()  # socket.io's threads and this one write: one whole line at a time (print writes twice)
def out(kind, name, data):
    line = json.dumps({"t": time.monotonic(), "kind": kind, "name": name, "data": data}) + "\\n"
    with lock:
        sys.stdout.write(line)
        sys.stdout.flush()
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


@pytest.mark.slow
def test_blissclient_registers_reads_sets_and_moves_roby(rest_shell, tmp_path):
    from blissclient import BlissClient

    shell = rest_shell()
    client = BlissClient(shell.url)
    client.hardware.register("roby")
    roby = client.hardware.get("roby")
    assert roby.type == "motor" and roby.properties["unit"] == "mm"
    assert roby.position == pytest.approx(float(shell_value(shell.terminal, "roby.position")))
    roby.velocity = 2  # the Tango motor's velocity, as the shell reads it
    assert shell_value(shell.terminal, "roby.velocity") == "2.0"
    assert set(client.hardware.types) >= {"motor", "lima", "mca", "countercard", "counter", "scansaving"}
    model = client.hardware.get_type_as_pydantic("motor")
    assert set(model.model_fields) == set(roby.properties)

    start = float(shell_value(shell.terminal, "roby.position"))
    watcher = Watcher(shell.url, ["roby"], tmp_path)
    try:
        wait_for(
            reading(shell.terminal, lambda: any(e["kind"] == "connected" for e in watcher.events())),
            "the watcher did not connect",
            20,
        )
        target = round(start + 60 if start < 0 else start - 60, 3)  # 30 s at velocity 2: stopped once followed
        low, high = min(start, target), max(start, target)
        shell.terminal.enter(f"mv(roby, {target})")  # typed in the shell: the client follows it
        followed = lambda: (  # noqa: E731
            ["MOVING"] in [v for _, v in watcher.changes("roby", "state")]
            and any(low < v < high for _, v in watcher.changes("roby", "position"))
        )
        wait_for(reading(shell.terminal, followed), "no MOVING state and no position between start and target", 20)
        shell.terminal.interrupt()  # Ctrl-C: the motor stops where it is
        ready = lambda: [v for _, v in watcher.changes("roby", "state")][-1:] == [["READY"]]  # noqa: E731
        wait_for(reading(shell.terminal, ready), "no READY state event", 20)
        stopped = float(shell_value(shell.terminal, "roby.position"))
        final = lambda: [v for _, v in watcher.changes("roby", "position")][-1:] == [pytest.approx(stopped, abs=1e-3)]  # noqa: E731
        wait_for(reading(shell.terminal, final), "the last position event is not where the motor stopped", 20)
        positions = [v for _, v in watcher.changes("roby", "position")]
        assert all(low - 1e-3 <= v <= high + 1e-3 for v in positions), positions  # on the way, none elsewhere
    finally:
        watcher.close()

    future = roby.move(start)  # a call: H3's /api/call runs the object's move
    wait_for(reading(shell.terminal, lambda: future.state != "running"), "the move call did not end", 60)
    assert future.state == "terminated"
    assert float(shell_value(shell.terminal, "roby.position")) == pytest.approx(start)


@pytest.mark.slow
def test_every_bad_input_is_bliss_code_one_log_line_and_nothing_moves(rest_shell):
    import httpx

    shell = rest_shell()
    url = f"{shell.url}/api/object"
    before = shell_value(shell.terminal, "(roby.position, roby.velocity, roby.limits)")
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
    httpx.post(url, json={"names": ["diode"]}).raise_for_status()
    answer = httpx.put(f"{url}/diode", json={"property": "value", "value": 3})  # BLISS's type has it writable
    no_setter = "Property `value` of diode can't be set: TangoCounter has no setter for it"
    assert (answer.status_code, answer.json()) == (400, {"error": no_setter})

    def count(method: str, path: str, status: int) -> int:
        return len([r for r in refusals(shell.terminal) if (r.method, r.path, r.status) == (method, path, status)])

    wait_for(reading(shell.terminal, lambda: count("PUT", "/api/object/diode", 400) == 1), "no PUT diode 400 line", 20)
    assert count("PUT", "/api/object/roby", 400) == 5
    assert count("PUT", "/api/object/roby", 422) == 1
    assert count("GET", "/api/object/roby", 404) == 1
    assert count("POST", "/api/object", 400) == 1
    assert Refusal("PUT", "/api/object/diode", 400, no_setter) in refusals(shell.terminal)
    assert shell_value(shell.terminal, "(roby.position, roby.velocity, roby.limits)") == before
    assert shell_value(shell.terminal, "'value' in vars(diode)") == "False"  # no stray attribute on the counter


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
    assert active.ref.name == shell_value(shell.terminal, "ACTIVE_MG.name").strip("'")  # blissclient follows the reference


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
        wait_for(
            reading(shell.terminal, lambda: any(e["kind"] == "connected" for e in watcher.events())),
            "the watcher did not connect",
            20,
        )
        os.kill(_demo_pid(shell), signal.SIGKILL)
        wait_for(reading(shell.terminal, lambda: watcher.online("roby") == [False]), "no offline event", 30)
        state = httpx.get(f"{shell.url}/api/object/roby").json()
        assert state["online"] is False and state["errors"]
    finally:
        started = run_bliss("servers", "start", env=shell.env)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        wait_for(reading(shell.terminal, lambda: watcher.online("roby") == [False, True]), "no online event", 60)
        assert httpx.get(f"{shell.url}/api/object/roby").json()["online"] is True
        for line in (b"REST object roby offline", b"REST object roby online again"):  # the shell says so too
            wait_for(
                reading(shell.terminal, lambda line=line: line in shell.terminal.transcript),
                f"{line!r} not printed by the shell",
                20,
            )
    finally:
        watcher.close()


@pytest.mark.slow
def test_a_remote_move_of_a_motor_the_running_scan_moves_is_refused_and_the_scan_ends_done(rest_shell):
    import httpx

    shell = rest_shell()
    api = shell.url + "/api"
    httpx.post(f"{api}/object", json={"names": ["roby", "robz"]}).raise_for_status()
    shell.terminal.enter("s = ascan(roby, 0, 2, 20, 0.2, diode, save=False)")
    shell.terminal.wait_for(r"^ +# +roby\[mm\] +dt\[s\] +diode$", 30)  # its table: the scan runs
    call_id = httpx.post(f"{api}/call", json={"object": "roby", "function": "move", "args": [1]}).json()["call_id"]
    answers: list[httpx.Response] = []

    def ended() -> bool:
        answers.append(httpx.get(f"{api}/call/{call_id}"))
        return answers[-1].status_code != 200 or answers[-1].json()["state"] != "running"

    wait_for(ended, "the move did not end", 30)
    refused = answers[-1]
    assert refused.status_code == 500, refused.text
    words = refused.json()["exception"]
    assert re.fullmatch(r"MotorInScan: roby is moved by the running scan -?\d+ \(ascan roby 0 2 20 0\.2\): "
                        r"wait for its end or kill it", words), words  # fmt: skip
    other = httpx.post(f"{api}/call", json={"object": "robz", "function": "rmove", "args": [0]}).json()["call_id"]
    wait_for(lambda: httpx.get(f"{api}/call/{other}").json().get("state") == "terminated", "robz did not move", 30)
    shell.terminal.wait_for(r"^Took ", 60)
    assert shell_value(shell.terminal, "s.state") == "'done'"  # the scan was not disturbed
    assert f"REST call roby.move(1) failed: {words}".encode() in bytes(shell.terminal.transcript)
