"""Calls through BLISS's REST API: a session function, a scan, its output, its kill, every refusal.

The first tests drive the calls store in-process on ``test_session`` (what the routes use); the
others drive a real shell serving the API with the unmodified blissclient 1.4.1 (``rest_shell``).
"""

from __future__ import annotations

import inspect
import io
import json
import math
import re
import subprocess
import sys

import gevent
import gevent.event
import httpx
import numpy as np
import pytest

from bliss_shell.rest.call_stdout import GreenletStdout
from bliss_shell.rest.call_tasks import FuncTask, ScanFactoryTask
from bliss_shell.rest.calls import KEPT, Calls, UnknownCall
from bliss_shell.rest.jsonready import NotDecodable, from_jsonready, to_jsonready
from bliss_shell.rest.names import ObjectNotFound
from bliss_shell.scanning import current
from bliss_shell.shell.scan_display import shell_display
from conftest import wait_for
from rest_helpers import Refusal, reading, refusals, shell_value


class Events:
    """What the calls sent on socket.io ``/call``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def __call__(self, event: str, data: dict) -> None:
        self.sent.append((event, data))

    def stdout(self, call_id: str) -> str:
        return "".join(data["message"] for event, data in self.sent if event == "stdout" and data["call_id"] == call_id)


@pytest.fixture
def calls():
    events = Events()
    store = Calls(context=None, emit=events)
    store.events = events
    yield store
    store.stop()


def ended(calls: Calls, call_id: str):
    calls.wait(call_id, timeout=30)
    return calls.state(call_id)


def test_a_function_call_returns_its_value_once_then_is_forgotten(calls):
    call_id = calls.spawn(FuncTask(max, "max(...)"), (3, 7), {})
    state = ended(calls, call_id)
    assert (state.state, state.result, state.error) == ("terminated", 7, None)
    with pytest.raises(UnknownCall, match="Could not find specified function call"):
        calls.state(call_id)


def test_a_function_that_raises_gives_its_error_at_its_state_and_one_line_as_it_fails(calls, capfd, caplog):
    def broken(where, strict=True):
        raise ValueError(f"roby is not {where}")

    call_id = calls.spawn(FuncTask(broken, "broken(...)"), ("there",), {"strict": False})
    calls.wait(call_id, timeout=30)
    lines = [record.getMessage() for record in caplog.records if record.name == "bliss_shell.rest"]
    assert lines == ["REST call broken('there', strict=False) failed: ValueError: roby is not there"]
    state = calls.state(call_id)
    assert state.state == "terminated"
    assert isinstance(state.error, ValueError) and "roby is not there" in str(state.error)
    assert "Traceback" not in capfd.readouterr().err  # the hub did not print it
    assert len([record for record in caplog.records if record.name == "bliss_shell.rest"]) == 1  # no more at its state


def test_a_scan_command_runs_and_its_progress_names_the_scan(calls, session):
    task = ScanFactoryTask(session["ascan"], "ascan(...)")
    assert task.progress() == {"scan": None}
    call_id = calls.spawn(task, (session["roby"], 0, 1, 3, 0, session["diode"]), {"save": False})
    state = ended(calls, call_id)
    scan = session["SCANS"][-1]
    assert state.result is scan and scan.state == "done"
    assert state.progress == {"scan": scan, "bliss_state": "DONE"}
    assert to_jsonready(state.progress) == {"scan": {"__type__": "scan", "key": scan.node.db_name},
                                             "bliss_state": "DONE"}  # fmt: skip


def test_the_output_of_a_call_goes_to_its_events_only(calls, session, capsys):
    calls.stop()  # the fixture's store wrapped pytest's stdout before capsys replaced it
    events = Events()
    store = Calls(context=None, emit=events)
    try:
        call_id = store.spawn(FuncTask(session["wa"], "wa(...)"), (), {}, emit_stdout=True)
        print("the user's own line")
        assert ended(store, call_id).state == "terminated"
        sent = events.stdout(call_id)
        assert "roby" in sent and "robz" in sent
        shown = capsys.readouterr().out
        assert "the user's own line" in shown and "roby" not in shown
    finally:
        store.stop()
    assert not isinstance(sys.stdout, GreenletStdout)


def test_without_emit_stdout_the_output_of_a_call_is_dropped(calls, session, capsys):
    calls.stop()
    events = Events()
    store = Calls(context=None, emit=events)
    try:
        call_id = store.spawn(FuncTask(session["wa"], "wa(...)"), (), {})
        assert ended(store, call_id).state == "terminated"
    finally:
        store.stop()
    assert events.sent == [] and "roby" not in capsys.readouterr().out


def test_the_scan_display_of_a_call_goes_to_its_events(session, redis_client, monkeypatch):
    monkeypatch.setattr(current(), "watch", shell_display(redis_client))  # the prompt's live scan display
    terminal = io.StringIO()
    events = Events()
    saved = sys.stdout
    sys.stdout = terminal
    try:
        store = Calls(context=None, emit=events)
        call_id = store.spawn(ScanFactoryTask(session["loopscan"], "loopscan(...)"), (3, 0, session["diode"]),
                              {"save": False}, emit_stdout=True)  # fmt: skip
        assert ended(store, call_id).state == "terminated"
        store.stop()
    finally:
        sys.stdout = saved
    assert "diode" in events.stdout(call_id) and "Took" in events.stdout(call_id)
    assert terminal.getvalue() == ""


def test_kill_is_ctrl_c_the_scan_ends_aborted(calls, session):
    task = ScanFactoryTask(session["loopscan"], "loopscan(...)")
    call_id = calls.spawn(task, (100000, 0.05, session["diode"]), {"save": False})
    wait_for(lambda: (task.progress() or {}).get("bliss_state") == "STARTING", "the scan did not start")
    assert calls.state(call_id).state == "running"
    calls.kill(call_id)
    state = ended(calls, call_id)
    assert state.state == "killed"
    assert task.scan.state == "aborted" and state.progress["bliss_state"] == "USER_ABORTED"
    with pytest.raises(UnknownCall):
        calls.kill(call_id)


def test_a_call_killed_before_it_started_never_runs(calls):
    ran = []
    call_id = calls.spawn(FuncTask(ran.append, "append(...)"), (1,), {})
    calls.kill(call_id)
    assert ended(calls, call_id).state == "killed" and ran == []


def test_a_greenlet_a_call_started_writes_to_the_terminal_once_the_call_ended():
    terminal = io.StringIO()
    events = Events()
    go_on = gevent.event.Event()

    def starts_a_poller():
        def poller():
            print("during the call")
            go_on.wait()
            print("after the call")

        worker = gevent.spawn(poller)
        gevent.sleep(0)  # it prints its first line while the call runs
        return worker

    saved = sys.stdout
    sys.stdout = terminal
    try:
        store = Calls(context=None, emit=events)
        call_id = store.spawn(FuncTask(starts_a_poller, "starts_a_poller(...)"), (), {}, emit_stdout=True)
        worker = ended(store, call_id).result
        go_on.set()
        worker.join(10)
        store.stop()
    finally:
        sys.stdout = saved
    assert events.stdout(call_id) == "during the call\n"
    assert terminal.getvalue() == "after the call\n"


def test_only_the_last_256_calls_are_kept(calls):
    ids = [calls.spawn(FuncTask(abs, "abs(...)"), (index,), {}) for index in range(KEPT + 1)]
    gevent.sleep(0)
    with pytest.raises(UnknownCall):
        calls.state(ids[0])
    assert ended(calls, ids[-1]).result == KEPT


def test_jsonready_values_both_ways(session):
    roby = session["roby"]
    assert to_jsonready({"pos": [math.nan, -math.inf, 1.0], "motor": roby}) == {
        "pos": [{"__type__": "nan"}, {"__type__": "neginf"}, 1.0],
        "motor": {"__type__": "object", "name": "roby"},
    }
    decoded = from_jsonready([{"__type__": "object", "name": "roby"}, {"__type__": "posinf"}], session, None)
    assert decoded[0] is roby and decoded[1] == math.inf
    with pytest.raises(ObjectNotFound, match="Object 'nowhere' doesn't exist in config"):
        from_jsonready({"__type__": "object", "name": "nowhere"}, session, None)
    with pytest.raises(NotDecodable, match="no units library"):
        from_jsonready({"__type__": "quantity", "scalar": 1, "unit": "mm"}, session, None)


# --- a shell serving the API, driven by the unmodified blissclient 1.4.1 -------------------------------------------


def client_of(shell, blissdata_url: str | None = None):
    from blissclient import BlissClient

    return BlissClient(shell.url, blissdata_url=blissdata_url)


def finished(future, timeout: float = 60.0):
    """Wait until the call is no longer running (blissclient polls its state); its value, decoded."""
    wait_for(lambda: future.state != "running", f"call {future.call_id} still running", timeout)
    return future.get(monitor_interval=0)


def final_state(url: str, http: httpx.Client | None = None) -> httpx.Response:
    """GET a call's state until it no longer runs: its final answer (read once: then the call is forgotten)."""
    answers: list[httpx.Response] = []

    def ended() -> bool:
        answers.append((http or httpx).get(url))
        return answers[-1].status_code != 200 or answers[-1].json()["state"] != "running"

    wait_for(ended, f"{url} still running", 60)
    return answers[-1]


def refused_once(shell, method: str, path: str, status: int, text: str) -> None:
    """The shell printed exactly one refusal line ``REST <method> <path> refused (<status>): <text>``."""
    line = Refusal(method, path, status, text)
    wait_for(reading(shell.terminal, lambda: line in refusals(shell.terminal)), f"no line {line}", 15)
    assert refusals(shell.terminal).count(line) == 1, refusals(shell.terminal)


@pytest.mark.slow
def test_a_scan_called_through_the_api_is_read_by_blissdata_to_its_end(rest_shell, blissdata_shell_env,
                                                                         blissdata_server):  # fmt: skip
    from blissclient import get_object
    from blissdata.redis_engine.store import DataStore

    shell = rest_shell(env=blissdata_shell_env)
    client = client_of(shell, blissdata_server.url)
    future = client.session.call("ascan", get_object("roby"), 0, 1, 5, 0.01, get_object("diode"), has_scan_factory=True)
    finished(future)
    progress = future.progress
    assert progress["bliss_state"] == "DONE" and progress["scan"]["__type__"] == "scan"
    key = progress["scan"]["key"]
    assert key.startswith("esrf:scan:")
    scan = DataStore(blissdata_server.url).load_scan(key)
    assert scan.name == "ascan" and scan.info["end_reason"] == "SUCCESS"
    roby = scan.streams["axis:roby"][:]
    diode = scan.streams["diode:diode"][:]
    np.testing.assert_allclose(roby, np.linspace(0, 1, 5))
    shell.terminal.enter("print('DIODE', *[round(float(v), 3) for v in SCANS[-1].get_data()['diode']], 'END')")
    shown = shell.terminal.wait_for(r"DIODE ([-\d. e]+) END").group(1)
    np.testing.assert_allclose(diode, [float(value) for value in shown.split()], atol=0.001)


def holds_lines(text: str, patterns: list[str]) -> bool:
    """Whether ``text``'s lines are, in any order, one for each of ``patterns`` (regular expressions, whole lines).

    python-socketio's client runs each event's handler in a thread of its own: a call's ``stdout`` events can be
    handled out of the order they were sent in. Each event is whole lines; within one, the order holds.
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if len(lines) != len(patterns):
        return False
    for pattern in patterns:
        found = next((line for line in lines if re.fullmatch(pattern, line)), None)
        if found is None:
            return False
        lines.remove(found)
    return True


def stdout_events(shell, function: str, lines: list[str], **options) -> dict:
    """Call ``function`` with ``emit_stdout`` from blissclient in a process of its own (its socket.io client
    runs threads); its final state and the text of the call's ``stdout`` events, once it has ``lines`` (see
    ``holds_lines``; 30 s at most).

    The events are read as they come on ``/call``, not from the blissclient's future alone: the future subscribes
    to its call's output once ``POST /api/call`` answered (a fast call's first lines may come before), and
    unsubscribes when it reads the call's end (its last lines may come after: they cross the websocket, the state
    an HTTP answer). ``future_stdout`` is what the future got."""
    code = f"""
import json, re, time
from blissclient import BlissClient
client = BlissClient({shell.url!r})
client.create_connect(wait=False)  # blissclient's socket.io client, connected as its connect() does, with more patience
client._events.socketio.connect({shell.url!r}, namespaces=["/call", "/object"], wait_timeout=30)
client._socket_connected()
sent = []  # every stdout event on /call, handed on to blissclient's own handler
blissclients = client.session._on_stdout_event
def received(data):
    sent.append(data)
    blissclients(data)
client.session._on("stdout", received)
future = client.session.call({function!r}, emit_stdout=True, **{options!r})
deadline = time.monotonic() + 60
while future.state == "running" and time.monotonic() < deadline:
    time.sleep(0.05)
def stdout():
    return "".join(data["message"] for data in list(sent) if data["call_id"] == future.call_id)
{inspect.getsource(holds_lines)}
deadline = time.monotonic() + 30
while not holds_lines(stdout(), {lines!r}) and time.monotonic() < deadline:
    time.sleep(0.05)
print(json.dumps({{"state": future._state, "stdout": stdout(), "future_stdout": future.stdout}}))
client._events.socketio.disconnect()
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# wa(): its title, a blank line, the names, the dashes, the user then the dial positions
WA_LINES = ["Current Positions: user", " +dial", "", r"roby\[mm\] +robz\[mm\]", "-+ +-+", r" +-?[\d.]+ +-?[\d.]+",
            r" +-?[\d.]+ +-?[\d.]+"]  # fmt: skip


@pytest.mark.slow
def test_wa_with_emit_stdout_sends_the_motor_table_as_events(rest_shell):
    shell = rest_shell()
    seen = stdout_events(shell, "wa", WA_LINES)
    assert seen["state"] == "terminated"
    assert holds_lines(seen["stdout"], WA_LINES), seen
    assert "Current Positions" not in shell.terminal.text()  # not at the prompt
    seen = stdout_events(shell, "wa", WA_LINES, in_terminal=True)  # at the prompt: shown there, and sent
    assert seen["state"] == "terminated" and holds_lines(seen["stdout"], WA_LINES), seen
    shell.terminal.wait_for("Current Positions")


FUTURE_STDOUT = """
import json, os, sys, time
from blissclient import BlissClient
url, go = sys.argv[1], sys.argv[2]
client = BlissClient(url)
client.create_connect(wait=False)  # blissclient's socket.io client, connected as its connect() does, with more patience
client._events.socketio.connect(url, namespaces=["/call", "/object"], wait_timeout=30)
client._socket_connected()
future = client.session.call("printed_when", go, emit_stdout=True)  # the future listens to its call's stdout now
open(go, "w").close()  # only then does the call print
deadline = time.monotonic() + 30
while "roby at" not in future.stdout and time.monotonic() < deadline:
    time.sleep(0.05)  # its end is read after its output came: blissclient stops listening at the end it reads
while future.state == "running" and time.monotonic() < deadline:
    time.sleep(0.05)
print(json.dumps({"state": future.state, "stdout": future.stdout, "value": future.get(monitor_interval=0)}))
client._events.socketio.disconnect()
"""


@pytest.mark.slow
def test_blissclients_own_future_stdout_holds_what_the_call_printed(rest_shell, tmp_path):
    started, ended, go = tmp_path / "started", tmp_path / "end", tmp_path / "go"
    code = (  # the session function the client calls: it prints once the client listens (blissclient's race: docs)
        "import os\n"
        "def printed_when(path):\n"
        "    while not os.path.exists(path):\n"
        "        sleep(0.02)\n"
        "    print('roby at', 42)\n"
        "    print('done')\n"
        "    return 6 * 7\n"
        f"open({str(started)!r}, 'w').close()\n"
        f"while not os.path.exists({str(ended)!r}):\n"
        "    sleep(0.05)\n"
    )
    shell = rest_shell(extra_args=("-c", code))
    wait_for(started.exists, "the code did not start", 60)
    try:
        done = subprocess.run([sys.executable, "-c", FUTURE_STDOUT, shell.url, str(go)], capture_output=True, text=True,
                              timeout=120)  # fmt: skip
    finally:
        ended.touch()
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["state"] == "terminated" and seen["value"] == 42, seen
    assert "roby at 42" in seen["stdout"], seen  # what a user of blissclient reads: future.stdout


@pytest.mark.slow
def test_kill_of_a_running_loopscan_ends_it_user_abort(rest_shell, blissdata_shell_env, blissdata_server):
    from blissclient import get_object
    from blissdata.redis_engine.store import DataStore

    shell = rest_shell(env=blissdata_shell_env)
    pasted = re.search(rb'BlissClient\("([^"]+)", blissdata_url="([^"]+)"\)', bytes(shell.terminal.transcript))
    assert pasted is not None and (pasted[1].decode(), pasted[2].decode()) == (shell.url, blissdata_server.url)
    assert b"blissclient cannot open the scans" not in bytes(shell.terminal.transcript)  # the Redis has the modules
    client = client_of(shell, pasted[2].decode())  # the line the shell printed, as a user pastes it
    future = client.session.call("loopscan", 1_000_000, 0.01, get_object("diode"), has_scan_factory=True)
    wait_for(lambda: (future.progress or {}).get("bliss_state") == "STARTING", "the scan did not start", 60)
    key = future.progress["scan"]["key"]
    future.kill()
    wait_for(lambda: future.state != "running", "the call was not killed", 60)
    assert future.state == "killed"
    scan = DataStore(blissdata_server.url).load_scan(key)
    wait_for(lambda: scan.update(timeout=0.1) or scan.info.get("end_reason") is not None, "no end", 30)
    assert scan.info["end_reason"] == "USER_ABORT"
    shell.terminal.enter("print('still', 6 * 7)")
    shell.terminal.wait_for("still 42")


@pytest.mark.slow
def test_in_terminal_shows_the_box_runs_at_the_prompt_and_a_second_is_refused(rest_shell):
    from blissclient import get_object
    from blissclient.exceptions import BlissRESTTerminalBusy

    shell = rest_shell()
    shell.terminal.type("wa")  # half typed: back at the next prompt
    client = client_of(shell)
    future = client.session.call("loopscan", 1_000_000, 0.01, get_object("diode"), in_terminal=True)
    shell.terminal.wait_for("EXECUTE A FUNCTION TRIGGERED REMOTELY")
    shell.terminal.wait_for(r"run_call_from_remote\(\)")
    shell.terminal.wait_for(r"pts/s", 30)  # the scan's live bar, at the prompt
    with pytest.raises(BlissRESTTerminalBusy, match="Terminal already in use"):
        client.session.call("wa", in_terminal=True)
    future.kill()
    wait_for(lambda: future.state != "running", "the call was not killed", 60)
    assert future.state == "killed"
    shell.terminal.wait_for(r"DEMO \[2\]: wa$")  # the interrupted command, then the half-typed input back
    refused_once(shell, "POST", "/api/call", 429, "Terminal already in use")


@pytest.mark.slow
def test_a_kill_right_after_an_in_terminal_call_leaves_the_prompt_usable(rest_shell):
    shell = rest_shell()
    api = f"{shell.url}/api/call"
    with httpx.Client() as http:  # one connection: the DELETE follows the POST as closely as a client can
        # Where the kill lands (before, while or after the line reaches the prompt) is the shell's scheduling,
        # which a client cannot choose: 5 tries cover what they can.
        for _ in range(5):
            call_id = http.post(api, json={"function": "sleep", "args": [60], "in_terminal": True}).json()["call_id"]
            assert http.delete(f"{api}/{call_id}").status_code == 204
            assert final_state(f"{api}/{call_id}", http).json() == {"state": "killed"}
            assert shell_value(shell.terminal, "6 * 7") == "42"  # the prompt takes the user's next command
    assert "NameError" not in shell.terminal.text()
    assert shell_value(shell.terminal, "'run_call_from_remote' in dir()") == "False"


@pytest.mark.slow
def test_bliss_c_has_no_terminal_for_in_terminal(rest_shell, tmp_path):
    started, flag = tmp_path / "started", tmp_path / "go"  # the code runs once the setup ran: the API is ready
    code = f"import os\nopen({str(started)!r}, 'w').close()\nwhile not os.path.exists({str(flag)!r}):\n    sleep(0.05)"
    shell = rest_shell(extra_args=("-c", code))
    wait_for(started.exists, "the code did not start", 60)
    answer = httpx.post(f"{shell.url}/api/call", json={"function": "wa", "in_terminal": True})
    flag.touch()
    assert (answer.status_code, answer.json()) == (404, {"error": "Terminal not available"})


@pytest.mark.slow
def test_every_bad_call_is_refused_as_bliss_with_one_log_line_and_nothing_moved(rest_shell):
    from blissclient import get_object
    from blissclient.exceptions import BlissRESTException, BlissRESTNotFound, BlissRESTValidationError

    shell = rest_shell()
    client = client_of(shell)
    api = f"{shell.url}/api/call"
    cases = [
        ({"function": "no_such_function"}, 404, {"error": "Function 'no_such_function' not found in the session"}),
        ({"function": "move", "env_object": "nowhere"}, 404,
         {"error": "Function 'move' from object 'nowhere' not found in the session"}),
        ({"function": "mv", "args": [{"__type__": "object", "name": "nowhere"}, 1]}, 404,
         {"error": "Object 'nowhere' doesn't exist in config"}),
        ({"function": "move", "object": "roby", "env_object": "roby"}, 400,
         {"error": "'env_object' and 'object' arguments are mutual exclusive"}),
        ({"function": "move", "object": "not_registered"}, 404, {"error": "No such object"}),
    ]  # fmt: skip
    for body, status, expected in cases:
        answer = httpx.post(api, json=body)
        assert (answer.status_code, answer.json()) == (status, expected), body
    quantity = httpx.post(api, json={"function": "mv", "args": [{"__type__": "quantity", "scalar": 1, "unit": "mm"}]})
    assert quantity.status_code == 500 and "no units library" in quantity.json()["exception"]
    start = client.hardware.get("roby").position
    with pytest.raises(BlissRESTValidationError):
        client.session.call("move", "far", object_name="roby")
    wrong = httpx.post(api, json={"function": "move", "object": "roby", "args": ["far"]})
    assert wrong.status_code == 422 and isinstance(wrong.json(), list) and wrong.json()[0]["loc"]
    with pytest.raises(BlissRESTNotFound):
        client.session.call("no_such_function")
    raising = client.session.call("mv", get_object("roby"), "far")
    with pytest.raises(BlissRESTException, match="TypeError|ValueError"):
        finished(raising)
    assert httpx.get(f"{api}/{raising.call_id}").status_code == 404  # forgotten once its error was read
    odd = httpx.post(api, json={"env_object": "gevent.event", "function": "Event"}).json()["call_id"]  # no JSON for it
    answer = final_state(f"{api}/{odd}")
    assert (answer.status_code, answer.json()["error"][:28]) == (503, "Couldnt serialise function: ")
    unknown = httpx.get(f"{api}/no-such-call")
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Could not find specified function call"})
    assert httpx.delete(f"{api}/no-such-call").status_code == 404
    # beyond roby's limits, as the web UI sends a move: the call runs and fails with the motor's own words
    far = httpx.post(api, json={"object": "roby", "function": "move", "args": [1e6]}).json()["call_id"]
    answer = final_state(f"{api}/{far}")
    limits = "roby: position 1e+06 outside limits (-1000, 1000)"
    assert (answer.status_code, answer.json()["exception"]) == (500, f"ValueError: {limits}")
    assert client.hardware.get("roby").position == start
    assert float(shell_value(shell.terminal, "roby.position")) == pytest.approx(start)
    expected = [
        ("POST", "/api/call", 404, "Function 'no_such_function' not found in the session"),
        ("POST", "/api/call", 404, "Function 'move' from object 'nowhere' not found in the session"),
        ("POST", "/api/call", 404, "Object 'nowhere' doesn't exist in config"),
        ("POST", "/api/call", 400, "'env_object' and 'object' arguments are mutual exclusive"),
        ("POST", "/api/call", 404, "No such object"),
        ("POST", "/api/call", 500, quantity.json()["exception"]),
        ("POST", "/api/call", 422, None),
        ("POST", "/api/call", 422, None),
        ("POST", "/api/call", 404, "Function 'no_such_function' not found in the session"),
        ("GET", f"/api/call/{raising.call_id}", 404, "Could not find specified function call"),
        ("GET", f"/api/call/{odd}", 503, None),
        ("GET", "/api/call/no-such-call", 404, "Could not find specified function call"),
        ("DELETE", "/api/call/no-such-call", 404, "Could not find specified function call"),
    ]  # the 500s of the failed calls' states are not logged: each call's one line was written as it failed
    wait_for(reading(shell.terminal, lambda: len(refusals(shell.terminal)) >= len(expected)), "refusals missing", 15)
    seen = refusals(shell.terminal)
    assert [line[:3] for line in seen] == [line[:3] for line in expected], seen  # one line each, nothing more
    assert all(text is None or line.text == text for line, (*_, text) in zip(seen, expected, strict=True)), seen
    assert seen[10].text.startswith(f"Couldnt serialise function: `{odd}` response: <gevent")
    failed = re.findall(rb"REST call ([^\r\n]*) failed: ([^\r\n]*)", bytes(shell.terminal.transcript))
    assert [call.decode() for call, _error in failed] == ["mv(roby, 'far')", "roby.move(1000000.0)"], failed
    assert re.match(rb"(TypeError|ValueError): ", failed[0][1]) and b"far" in failed[0][1], failed
    assert failed[1][1].decode().rstrip() == f"ValueError: {limits}"
    moved = client.session.call("move", start + 0.5, object_name="roby")  # the same callable, well given, runs
    finished(moved)
    wait_for(lambda: client.hardware.get("roby").position == pytest.approx(start + 0.5), "roby did not move", 30)
