"""BLISS's REST API served by the shell: turning it on, /api/info, /api/beacon, errors, the web UI's page, the secret.

Real shells in terminals (``rest_shell``, ``run_bliss``), real HTTP (httpx, http.client for paths httpx would
normalise) and BLISS's own client, unmodified. Every refused request is also one line in the shell's output.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from blissclient import BlissClient
from flask import Flask
from ruamel.yaml import YAML

from bliss_shell import __version__
from bliss_shell.rest import access, beacon, call_routes
from bliss_shell.rest.context import SessionContext
from bliss_shell.rest.settings import RestSettings
from bliss_shell.rest.webui import webui_folder
from conftest import BEAMLINE, wait_in_transcript
from terminal import run_bliss

SECRET = "s3cret-of-the-beamline"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n'
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")  # a PNG's first bytes will do


def make_config(tmp_path: Path, rest: str | None = None, session_lines: str = "") -> Path:
    """tests/beamline copied, ``rest:`` (YAML text) and ``session_lines`` added to ``test_session``, with images and
    symbolic links."""
    config = tmp_path / "config"
    shutil.copytree(BEAMLINE, config)
    session = config / "sessions" / "test_session.yml"
    session.write_text(session.read_text() + session_lines + ("" if rest is None else f"rest: {rest}\n"))
    (config / "images").mkdir()
    (config / "images" / "logo.svg").write_bytes(SVG)
    (config / "images" / "pixel.png").write_bytes(PNG)
    (tmp_path / "outside.svg").write_bytes(b"<svg>a file of somebody else</svg>")
    (config / "escape.svg").symlink_to(tmp_path / "outside.svg")  # points out of the config folder
    (config / "inner.svg").symlink_to(config / "images" / "logo.svg")  # stays inside it
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.yml").write_text("content: of somebody else\n")
    (config / "outlink").symlink_to(tmp_path / "outside")  # a folder out of the config folder
    (config / "etclink").symlink_to("/etc")
    return config


def raw_get(url: str, path: str) -> tuple[int, dict]:
    """GET ``path`` sent exactly as written (no dot-segment removal, no slash merging); status and JSON body."""
    address = httpx.URL(url)
    connection = http.client.HTTPConnection(address.host, address.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, httpx.Response(response.status, content=response.read()).json()
    finally:
        connection.close()


def refusals(terminal, method: str, path: str, status: int, text: str) -> int:
    """How many times the shell printed the refusal line of ``method path`` (status, text)."""
    line = f"REST {method} {path} refused ({status}): {text}"
    return len(re.findall(re.escape(line.encode()), bytes(terminal.transcript)))


def wait_refusal(terminal, method: str, path: str, status: int, text: str, count: int = 1) -> None:
    """Wait until the shell printed the refusal line of ``method path`` ``count`` times."""
    line = re.escape(f"REST {method} {path} refused ({status}): {text}".encode())
    wait_in_transcript(terminal, re.compile(b"(?s)" + b".*".join([line] * count)), timeout=10)


def socketio_connect(url: str, namespace: str, headers: dict[str, str]) -> str:
    """Ask socket.io (over HTTP polling, as a browser starts) to connect to ``namespace``; the packet it answers:
    ``40<namespace>,{"sid": ...}`` connected, ``44<namespace>,{"message": ...}`` refused."""
    with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
        opened = http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        sid = json.loads(opened.text[1:])["sid"]  # "0{...}": engine.io's open packet
        polling = {"EIO": "4", "transport": "polling", "sid": sid}
        assert http.post("/socket.io/", params=polling, content=f"40{namespace},").text == "OK"
        answer = http.get("/socket.io/", params=polling).text
        http.post("/socket.io/", params=polling, content="1")  # engine.io's close packet
        return answer


JSON = {"Content-Type": "application/json"}


def call_output(url: str, readers: dict[str, dict], call_url: str, function: str, heard_by: list[str]) -> dict:
    """The ``stdout`` messages each socket.io client of ``/call`` at ``url`` got (connected with its ``readers``
    options: ``headers``, ``auth``) for a call of ``function`` with ``emit_stdout`` posted at ``call_url``, once
    those of ``heard_by`` got its line (30 s at most). The clients run in a process of their own (threads)."""
    code = f"""
import json, time
import httpx, socketio
heard, clients = {{name: [] for name in {list(readers)!r}}}, []
for name, options in {readers!r}.items():
    client = socketio.Client()
    client.on("stdout", lambda data, name=name: heard[name].append(data["message"]), namespace="/call")
    client.connect({url!r}, namespaces=["/call"], wait_timeout=30, **options)
    clients.append(client)
answer = httpx.post({call_url!r}, json={{"function": {function!r}, "emit_stdout": True}})
assert answer.status_code == 200, answer.text
deadline = time.monotonic() + 30
while not all(heard[name] for name in {heard_by!r}) and time.monotonic() < deadline:
    time.sleep(0.05)
for client in clients:
    client.disconnect()
print(json.dumps(heard))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def chunks(body: bytes, size: int = 65536):
    """``body`` in parts: httpx sends a generator chunked (``Transfer-Encoding: chunked``, no ``Content-Length``)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def own_address() -> str:
    """An address of this machine that is not a loopback one (the tests' "other machine" connects from it)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: the system only picks the interface it would use
        address = probe.getsockname()[0]
    except OSError:
        address = socket.gethostbyname(socket.gethostname())
    finally:
        probe.close()
    if ipaddress.ip_address(address).is_loopback:
        pytest.skip("this machine has no address other than a loopback one")
    return address


def port_is_free(port: int) -> bool:
    """Whether a new server can listen on 127.0.0.1:``port`` now (as servers bind, SO_REUSEADDR: a closed
    connection's TIME_WAIT does not hold a port)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("127.0.0.1", port))
        server.listen()
        return True
    except OSError:
        return False
    finally:
        server.close()


def test_blissclient_reads_the_info_of_the_session(rest_shell):
    shell = rest_shell()
    client = BlissClient(shell.url)
    info = client.info
    assert (info.session, info.beamline, info.instrument) == ("demo", "demo", "bliss_shell demo beamline")
    assert info.bliss_version == __version__
    assert info.blisswebui_version == "2026.9.2"
    assert info.synchrotron == info.flint_version == info.fscan_version == ""


def test_unknown_paths_wrong_methods_and_huge_bodies_are_refused_in_json_and_logged(rest_shell):
    shell = rest_shell()
    shell.terminal.enter("print(f'roby at {roby.position:g}.')")
    before = shell.terminal.wait_for(r"^roby at (\S+)\.$").group(1)
    answer = httpx.get(f"{shell.url}/api/no/such/thing")
    assert (answer.status_code, answer.json()) == (404, {"error": "Not found: /api/no/such/thing"})
    answer = httpx.post(f"{shell.url}/api/info")
    assert answer.status_code == 405
    assert answer.json() == {"error": "Method POST not allowed on /api/info (allowed: GET, HEAD, OPTIONS)"}
    target = float(before) + 3.5
    huge = {"function": "mv", "args": [{"__type__": "object", "name": "roby"}, target], "padding": "x" * 5 * 2**20}
    answer = httpx.post(f"{shell.url}/api/call", json=huge, timeout=30)
    assert (answer.status_code, answer.json()) == (413, {"error": "Request body too large (limit 4 MiB)"})
    chunked = json.dumps(huge).encode()
    answer = httpx.post(f"{shell.url}/api/call", content=chunks(chunked), headers=JSON, timeout=30)  # no Content-Length
    assert (answer.status_code, answer.json()) == (413, {"error": "Request body too large (limit 4 MiB)"})
    answer = httpx.post(f"{shell.url}/api/object", content=chunks(b'{"names": ["roby"]}'), headers=JSON)
    assert (answer.status_code, answer.json()) == (200, {"names": ["roby"]})  # a small chunked body is read
    wait_refusal(shell.terminal, "POST", "/api/call", 413, "Request body too large (limit 4 MiB)", count=2)
    assert refusals(shell.terminal, "POST", "/api/call", 413, "Request body too large (limit 4 MiB)") == 2
    assert refusals(shell.terminal, "GET", "/api/no/such/thing", 404, "Not found: /api/no/such/thing") == 1
    assert refusals(shell.terminal, "POST", "/api/info", 405, "Method POST not allowed on /api/info") == 1
    shell.terminal.enter("print(f'roby still at {roby.position:g}.')")
    shell.terminal.wait_for(rf"^roby still at {re.escape(before)}\.$")  # the call was never made


def test_the_web_ui_page_is_served_uncached_for_any_page_and_its_files_as_they_are(rest_shell):
    shell = rest_shell()
    static = webui_folder()
    index = (static / "index.html").read_bytes()
    for page in ("/", "/some/page"):
        answer = httpx.get(f"{shell.url}{page}")
        assert (answer.status_code, answer.content) == (200, index)
        assert answer.headers["Cache-Control"] == "no-store, no-cache, must-revalidate, post-check=0, pre-check=0, max-age=0"
        assert (answer.headers["Pragma"], answer.headers["Expires"]) == ("no-cache", "-1")
    asset = re.search(rb'src="/?(assets/[^"]+\.js)"', index).group(1).decode()
    answer = httpx.get(f"{shell.url}/{asset}")
    assert (answer.status_code, answer.content) == (200, (static / asset).read_bytes())
    assert "javascript" in answer.headers["Content-Type"]
    assert httpx.get(f"{shell.url}/favicon.ico").content == (static / "favicon.ico").read_bytes()
    assert httpx.get(f"{shell.url}/api/page").json() == {"error": "Not found: /api/page"}  # /api is never the page


def test_beacon_serves_the_config_yaml_as_json_through_the_mount_of_its_folder(rest_shell):
    shell = rest_shell()
    answer = httpx.get(f"{shell.url}/api/beacon/sessions/demo.yml")
    repository = Path(__file__).resolve().parents[1]
    expected = YAML(typ="safe").load((repository / "sessions" / "demo.yml").read_text())
    assert answer.json() == {"content": expected, "mimetype": "application/yaml"}


BAD_PATHS = {
    "//etc/hosts.yml": (400, "Wrong path syntax /etc/hosts.yml"),
    "/../sessions/test_session.yml": (400, "Wrong path syntax ../sessions/test_session.yml"),
    "/sessions/../devices/motors.yml": (400, "Wrong path syntax sessions/../devices/motors.yml"),
    "/~root/config.yml": (400, "Wrong path syntax ~root/config.yml"),
    "/sessions/test_session.py": (400, "Wrong file kind sessions/test_session.py"),
    "/escape.svg": (400, "Wrong path syntax escape.svg"),
    "/%2e%2e/devices/motors.yml": (400, "Wrong path syntax ../devices/motors.yml"),  # encoded: decoded, then refused
    "/sessions/%2E%2E/sessions/test_session.yml": (400, "Wrong path syntax sessions/../sessions/test_session.yml"),
    "/%2fetc/passwd.yml": (400, "Wrong path syntax /etc/passwd.yml"),
    "/outlink/x.yml": (400, "Wrong path syntax outlink/x.yml"),  # through a linked folder
    "/etclink/nothing.yml": (400, "Wrong path syntax etclink/nothing.yml"),  # outside: not even "not found"
    "/images/nothing.svg": (404, "File not found"),
}


def test_beacon_serves_yaml_as_json_images_in_base64_and_refuses_each_bad_path_as_bliss(rest_shell, tmp_path):
    config = make_config(tmp_path)
    shell = rest_shell(session="test_session", extra_args=("--config", str(config)))
    answer = httpx.get(f"{shell.url}/api/beacon/devices/motors.yml")
    expected = YAML(typ="safe").load((config / "devices" / "motors.yml").read_text())
    assert answer.json() == {"content": expected, "mimetype": "application/yaml"}
    for path, content, mimetype in [("images/logo.svg", SVG, "image/svg+xml"), ("inner.svg", SVG, "image/svg+xml"),
                                    ("images/pixel.png", PNG, "image/png")]:  # fmt: skip
        answer = httpx.get(f"{shell.url}/api/beacon/{path}")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"content": base64.b64encode(content).decode(), "mimetype": mimetype}
    for path, (status, text) in BAD_PATHS.items():
        assert raw_get(shell.url, f"/api/beacon{path}") == (status, {"error": text}), path
    last_path, (last_status, last_text) = list(BAD_PATHS.items())[-1]
    wait_refusal(shell.terminal, "GET", f"/api/beacon{last_path}", last_status, last_text)
    for path, (status, text) in BAD_PATHS.items():  # the line names the path as decoded
        assert refusals(shell.terminal, "GET", f"/api/beacon{unquote(path)}", status, text) == 1, path
    assert b"of somebody else" not in bytes(shell.terminal.transcript)


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        ("{host: 0.0.0.0}", r"rest: host '0\.0\.0\.0' lets other machines in: add iosecret: <a secret of yours>"),
        ("{port: eighty}", r"rest: port must be 'auto' \(or 0\) or a port number from 1 to 65535, not 'eighty'"),
        ("{cors: maybe}", r"rest: cors must be true or false, not 'maybe'"),
        ("{prot: 9000}", r"rest: unknown key 'prot' \(keys: port, host, cors, iosecret, debug\)"),
    ],
)
def test_a_rest_config_that_cannot_serve_is_one_line_and_the_session_opens(rest, message, shell_env, tmp_path):
    config = make_config(tmp_path, rest=rest)
    result = run_bliss("--config", str(config), "-s", "test_session", "-c", "print('opened')", env=shell_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "opened"
    assert "REST API" not in result.stdout
    refused = [line for line in result.stderr.splitlines() if "REST API" in line]
    assert len(refused) == 1, result.stderr
    assert re.fullmatch(rf"bliss: no REST API: .*test_session\.yml, line \d+: {message}.*", refused[0]), refused[0]


def test_a_port_in_use_is_one_line_and_the_session_opens(shell_env):
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = run_bliss("--config", str(BEAMLINE), "-s", "test_session", "--rest", str(port), "-c", "print('opened')",
                           env=shell_env)  # fmt: skip
    finally:
        taken.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "opened"
    assert result.stderr.splitlines() == [f"bliss: the REST API cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_the_rest_option_serves_a_session_without_cors_and_the_port_is_free_once_the_shell_exits(rest_shell, shell_env):
    shell = rest_shell(session="test_session", extra_args=("--config", str(BEAMLINE)))
    redis_url = shell_env.get("BLISS_REDIS_URL")
    banner = wait_in_transcript(shell.terminal, re.compile(rb"(REST API: [^\r\n]*)\r?\n([^\r\n]*)"), 10)
    first = banner[1].decode()
    assert first.startswith(f'REST API: BlissClient("{shell.url}", blissdata_url="'), first
    assert first.rstrip().endswith(f"  web UI: {shell.url}/"), first
    if redis_url is not None:
        assert f'blissdata_url="{redis_url}")' in first
    assert banner[2].decode().strip() == (  # the tests' Redis lacks the modules
        "blissclient cannot open the scans of this Redis: blissdata 2 needs RedisJSON and RediSearch (docs/blissdata.md)"
    )
    answer = httpx.get(f"{shell.url}/api/info", headers={"Origin": "http://elsewhere.example"})
    assert answer.json()["session"] == "test_session"
    assert "Access-Control-Allow-Origin" not in answer.headers  # another site's page cannot read it
    for seconds in (60, 61):  # still running at exit: named, then killed
        assert httpx.post(f"{shell.url}/api/call", json={"function": "sleep", "args": [seconds]}).status_code == 200
    shell.terminal.enter("exit()")
    assert shell.terminal.wait_exit() == 0
    assert b"REST: killing 2 running calls at exit: sleep(60), sleep(61)" in bytes(shell.terminal.transcript)
    assert port_is_free(shell.port)


def test_with_an_open_host_another_machine_needs_the_secret_to_change_anything(rest_shell, shell_env, tmp_path):
    address = own_address()
    config = make_config(tmp_path, rest="{host: 0.0.0.0, iosecret: the-yaml-secret}", session_lines="exclude-objects: [slowy]\n")
    (config / ".drafts").mkdir()  # the shell reads no hidden folder: /api/beacon serves it
    broken = {  # files of another session, half edited: what ruamel says of them quotes them
        ".drafts/other.yml": "rest: {iosecret: the-other-secret, iosecret: its-new-secret}\n",
        ".drafts/half.yml": f"rest: {{iosecret: {SECRET}\n",
    }
    for path, text in broken.items():
        (config / path).write_text(text)
    (config / "images" / "token.svg").write_text(f'<svg><a href="http://x/?token={SECRET}"/></svg>')
    environment = {**shell_env, "BLISS_REST_IOSECRET": SECRET}  # wins over the YAML's
    shell = rest_shell(session="test_session", env=environment, extra_args=("--config", str(config)), rest=None)
    remote = f"http://{address}:{shell.port}"
    register = {"names": ["roby"]}
    velocity = {"property": "velocity", "value": 2.5}
    assert httpx.get(f"{remote}/api/info").json()["session"] == "test_session"  # reading stays open
    answer = httpx.post(f"{remote}/api/object", json=register)  # registering what the session has: open (web UI)
    assert (answer.status_code, answer.json()) == (200, {"names": ["roby"]})
    answer = httpx.post(f"{remote}/api/object", json={"names": ["SCAN_SAVING", "ACTIVE_MG", "robz"]})
    assert answer.status_code == 200, answer.text
    answer = httpx.post(f"{remote}/api/object", json={"names": ["roby", "slowy"]})  # slowy: not loaded, would be built
    assert answer.status_code == 401
    assert answer.json()["error"].startswith("Unauthorized: from another machine")
    assert answer.json()["error"].endswith("(registering slowy, which the session has not loaded, would build it)")
    shell.terminal.enter("print('slowy built:', 'slowy' in config._objects)")
    shell.terminal.wait_for(r"^slowy built: False$")
    assert "slowy" not in [state["name"] for state in httpx.get(f"{remote}/api/object").json()["results"]]
    answer = httpx.put(f"{remote}/api/object/roby", json=velocity)
    assert answer.status_code == 401
    assert answer.json()["error"].startswith("Unauthorized: from another machine")
    for headers in ({"Authorization": "Bearer wrong"}, {"Authorization": "Bearer the-yaml-secret"},
                    {"X-Forwarded-For": "127.0.0.1", "Host": f"127.0.0.1:{shell.port}"}):  # fmt: skip
        assert httpx.put(f"{remote}/api/object/roby", json=velocity, headers=headers).status_code == 401, headers
    answer = httpx.put(f"{remote}/api/object/roby", json=velocity, headers={"Authorization": f"Bearer {SECRET}"})
    assert answer.status_code == 200, answer.text
    assert httpx.put(f"{shell.url}/api/object/roby", json=velocity).status_code == 200  # this machine needs none

    for headers in ({}, {"Authorization": f"Bearer {SECRET}"}):  # the config never gives the secret away
        answer = httpx.get(f"{remote}/api/beacon/sessions/test_session.yml", headers=headers)
        assert answer.json()["content"]["rest"] == {"host": "0.0.0.0", "iosecret": "<hidden>"}
        assert "the-yaml-secret" not in answer.text and SECRET not in answer.text
    answer = httpx.get(f"{remote}/api/beacon/.drafts/other.yml")  # a duplicate key: named, not its values
    assert (answer.status_code, answer.json()) == (400, {"type": "YAMLError", "error": (
        'while constructing a mapping: found duplicate key "iosecret" (line 1, column 36)')})  # fmt: skip
    answer = httpx.get(f"{remote}/api/beacon/.drafts/half.yml")  # the line at fault: not quoted
    assert (answer.status_code, answer.json()) == (400, {"type": "YAMLError", "error": (
        "while parsing a flow mapping: expected ',' or '}', but got '<stream end>' (line 2, column 1)")})  # fmt: skip
    answer = httpx.get(f"{remote}/api/beacon/images/token.svg")
    assert base64.b64decode(answer.json()["content"]) == b'<svg><a href="http://x/?token=<hidden>"/></svg>'
    assert SECRET.encode() not in bytes(shell.terminal.transcript)

    client = BlissClient(remote)  # BLISS's client, as a user gives it the secret
    client.hardware.register("robz")  # seeing needs none
    with pytest.raises(Exception, match="401"):
        client.session.call("wa")
    client._api_config.set_access_token(SECRET)
    client.session.call("wa")
    assert httpx.post(f"{remote}/api/object", json={"names": ["slowy"]},
                      headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200  # fmt: skip
    unauthorized = f"from {address}: Unauthorized: from another machine"  # the line names who was refused
    wait_refusal(shell.terminal, "PUT", "/api/object/roby", 401, unauthorized, count=4)
    wait_refusal(shell.terminal, "POST", "/api/call", 401, unauthorized)  # printed after those: maybe not read yet
    assert refusals(shell.terminal, "PUT", "/api/object/roby", 401, unauthorized) == 4
    assert refusals(shell.terminal, "POST", "/api/call", 401, unauthorized) == 1
    assert refusals(shell.terminal, "POST", "/api/object", 401, unauthorized) == 1  # slowy's, once

    assert socketio_connect(remote, "/object", {}).startswith('40/object,{"sid":')  # events stay open
    assert b"REST SOCKET /object" not in bytes(shell.terminal.transcript)
    shell.terminal.enter("say = lambda: print('said through REST')")
    readers = {"stranger": {}, "header": {"headers": {"Authorization": f"Bearer {SECRET}"}},
               "token": {"auth": {"token": SECRET}}, "wrong token": {"auth": {"token": "wrong"}}}  # fmt: skip
    heard = call_output(remote, readers, f"{shell.url}/api/call", "say", ["header", "token"])
    assert all("said through REST" in "".join(heard[name]) for name in ("header", "token")), heard
    assert heard["stranger"] == heard["wrong token"] == []  # no secret: no call's output
    no_output = f"from {address}: {call_routes.NO_OUTPUT}"
    wait_refusal(shell.terminal, "SOCKET", "/call", 401, no_output, count=2)
    assert refusals(shell.terminal, "SOCKET", "/call", 401, no_output) == 2


def test_from_this_machine_a_change_must_name_this_machine_and_come_as_json(rest_shell):
    shell = rest_shell()
    shell.terminal.enter("print(f'roby at {roby.position:g}.')")
    before = shell.terminal.wait_for(r"^roby at (\S+)\.$").group(1)
    move = {"function": "mv", "args": [{"__type__": "object", "name": "roby"}, float(before) + 2.5]}
    evil = {"Host": f"evil.example:{shell.port}"}  # a page whose name its owner points at 127.0.0.1 (DNS rebinding)
    forbidden = f"from 127.0.0.1: Forbidden: the request names the host 'evil.example:{shell.port}', not this machine"
    answer = httpx.post(f"{shell.url}/api/call", json=move, headers=evil)
    assert answer.status_code == 403
    assert answer.json()["error"].startswith(forbidden.removeprefix("from 127.0.0.1: "))  # the peer: in the line only
    assert "must be sent to 127.0.0.1, localhost or [::1]" in answer.json()["error"]
    assert httpx.put(f"{shell.url}/api/object/roby", json={"property": "velocity", "value": 3},
                     headers=evil).status_code == 403  # fmt: skip
    assert httpx.post(f"{shell.url}/api/object", json={"names": ["roby"]}, headers=evil).status_code == 200  # seeing
    assert httpx.get(f"{shell.url}/api/info", headers=evil).status_code == 200  # reads stay open
    text = json.dumps(move)  # a form or fetch() of another site without a preflight: text/plain
    answer = httpx.post(f"{shell.url}/api/call", content=text, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422
    assert [(error["type"], error["loc"], error["msg"]) for error in answer.json()] == [
        ("model_type", [], "Input should be a valid dictionary or instance of CallFunction")
    ]
    for host in (f"localhost:{shell.port}", f"[::1]:{shell.port}", "127.0.0.1"):
        answer = httpx.post(f"{shell.url}/api/object", json={"names": ["roby"]}, headers={"Host": host})
        assert (answer.status_code, answer.json()) == (200, {"names": ["roby"]}), host
    # no Host at all (HTTP/1.0) from this machine: let through; browsers always send one, a page cannot remove it
    with socket.create_connection(("127.0.0.1", shell.port), timeout=10) as raw:
        body = b'{"function": "wa"}'
        raw.sendall(b"POST /api/call HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(body), body))  # fmt: skip
        reply = b""
        while chunk := raw.recv(65536):
            reply += chunk
    assert reply.split(b"\r\n", 1)[0].endswith(b" 200 OK"), reply
    assert b'"call_id"' in reply
    invalid = "Input should be a valid dictionary or instance of CallFunction"
    wait_refusal(shell.terminal, "POST", "/api/call", 422, invalid)
    assert refusals(shell.terminal, "POST", "/api/call", 403, forbidden) == 1
    assert refusals(shell.terminal, "PUT", "/api/object/roby", 403, forbidden) == 1
    assert refusals(shell.terminal, "POST", "/api/call", 422, invalid) == 1
    shell.terminal.enter("print(f'roby still at {roby.position:g}.')")
    shell.terminal.wait_for(rf"^roby still at {re.escape(before)}\.$")  # no call was made


def test_a_peer_on_the_ipv6_loopback_is_this_machine(rest_shell, tmp_path):
    probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    finally:
        probe.close()
    config = make_config(tmp_path, rest='{host: "::1"}')
    shell = rest_shell(session="test_session", extra_args=("--config", str(config)), rest=None)
    url = f"http://[::1]:{shell.port}"
    answer = httpx.post(f"{url}/api/object", json={"names": ["roby"]})  # Host: [::1]:PORT
    assert (answer.status_code, answer.json()) == (200, {"names": ["roby"]})
    answer = httpx.post(f"{url}/api/call", json={"function": "wa"}, headers={"Host": "evil.example"})
    assert answer.status_code == 403


def test_cors_true_lets_pages_of_any_origin_call_the_api(rest_shell, tmp_path):
    config = make_config(tmp_path, rest="{cors: true}")
    shell = rest_shell(session="test_session", extra_args=("--config", str(config)), rest=None)
    page = {"Origin": "http://elsewhere.example"}
    assert httpx.get(f"{shell.url}/api/info", headers=page).headers["Access-Control-Allow-Origin"] == "*"
    preflight = httpx.options(f"{shell.url}/api/object", headers={**page, "Access-Control-Request-Method": "POST",
                                                                  "Access-Control-Request-Headers": "content-type"})  # fmt: skip
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"
    call = {"function": "wa"}
    answer = httpx.post(f"{shell.url}/api/call", json=call, headers=page)  # another site's page: whatever cors says
    assert answer.status_code == 403
    text = "Forbidden: the request comes from a page of 'http://elsewhere.example', not of this machine"
    assert answer.json()["error"].startswith(text)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"  # the page reads why
    assert httpx.post(f"{shell.url}/api/object", json={"names": ["roby"]}, headers=page).status_code == 200  # seeing
    for origin in (f"http://127.0.0.1:{shell.port}", f"http://localhost:{shell.port}", "http://localhost:5173"):
        answer = httpx.post(f"{shell.url}/api/call", json=call, headers={"Origin": origin})
        assert answer.status_code == 200, (origin, answer.text)
    wait_refusal(shell.terminal, "POST", "/api/call", 403, f"from 127.0.0.1: {text}")
    assert refusals(shell.terminal, "POST", "/api/call", 403, f"from 127.0.0.1: {text}") == 1


# -- in-process checks: the rules of access and of /api/beacon, each case -------------------------------------------


@pytest.mark.parametrize(
    ("environ", "status"),
    [
        ({"REMOTE_ADDR": "127.0.0.1"}, None),  # no Host (HTTP/1.0): browsers always send one
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost:1", "HTTP_ORIGIN": "http://127.0.0.1:1"}, None),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": "http://[::1]:9030"}, None),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": "http://beamline-pc:9030"}, None),  # the rest: host
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": "http://evil.example"}, 403),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": "http://127.0.0.1.evil.example"}, 403),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": "null"}, 403),  # a sandboxed frame, a file:// page
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": "http://evil.example", "HTTP_AUTHORIZATION": f"Bearer {SECRET}"}, None),
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_ORIGIN": "http://localhost"}, 401),
    ],
)
def test_a_change_from_a_page_of_another_site_needs_the_secret(environ, status):
    settings = RestSettings(port=0, host="beamline-pc", iosecret=SECRET)
    refused = access.refusal(settings, environ)
    assert (None if refused is None else refused[0]) == status


class RecordingSocketio:
    """What ``call_routes.install`` asks of a socket.io server: its handlers, and who entered which room."""

    def __init__(self):
        self.handlers, self.rooms = {}, []

    def on(self, event, handler, namespace):
        self.handlers[(event, namespace)] = handler

    def enter_room(self, sid, room, namespace):
        self.rooms.append((sid, room, namespace))


@pytest.mark.parametrize(
    ("environ", "auth", "heard"),
    [
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost:9030"}, None, True),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost:9030", "HTTP_ORIGIN": "http://evil.example"}, None, False),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "evil.example:9030"}, None, False),
        ({"REMOTE_ADDR": "10.1.2.3"}, None, False),
        ({"REMOTE_ADDR": "10.1.2.3"}, {"token": "wrong"}, False),
        ({"REMOTE_ADDR": "10.1.2.3"}, {"token": SECRET}, True),
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": f"Bearer {SECRET}"}, None, True),
    ],
)
def test_call_output_goes_to_the_trusted_call_clients_only(environ, auth, heard):
    sio, lines = RecordingSocketio(), []
    service = type("Service", (), {"settings": RestSettings(port=0, host="0.0.0.0", iosecret=SECRET),
                                   "refused": lambda self, *args, **kwargs: lines.append((args, kwargs))})()  # fmt: skip
    call_routes.install(Flask("calls"), sio, service)
    assert sio.handlers[("connect", "/call")]("sid1", environ, auth) is True  # connected, whatever the peer
    assert sio.rooms == ([("sid1", call_routes.STDOUT_ROOM, "/call")] if heard else [])
    expected = [] if heard else [((401, f"from {environ['REMOTE_ADDR']}: {call_routes.NO_OUTPUT}"),
                                  {"method": "SOCKET", "path": "/call"})]  # fmt: skip
    assert lines == expected


def beacon_client(folder: Path, secret: str):
    """A Flask test client of ``/api/beacon`` over ``folder``, for a service of secret ``secret``."""
    app = Flask("beacon")
    context = SessionContext("test_session", {}, None, {}, [folder])
    beacon.install(app, None, type("Service", (), {"context": context, "settings": RestSettings(port=0, iosecret=secret)})())
    return app.test_client()


def test_beacon_hides_the_secret_inside_values_images_and_yaml_errors(tmp_path):
    files = {
        "url.yml": f"url: http://x/?token={SECRET}\n{SECRET}: a key\nlist: [a {SECRET} b]\n",
        "dup.yml": "rest:\n  iosecret: the-old-one\n  iosecret: the-new-one\n",
        "half.yml": f"rest: {{iosecret: {SECRET}, port: 9030\n",
        "tab.yml": f"rest:\n  note: {SECRET}\n\tport: 1\n",
        "logo.svg": f"<svg><title>{SECRET}</title></svg>",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    client = beacon_client(tmp_path, SECRET)
    answer = client.get("/api/beacon/url.yml")
    assert answer.get_json()["content"] == {"url": "http://x/?token=<hidden>", "<hidden>": "a key", "list": ["a <hidden> b"]}
    answers = {name: client.get(f"/api/beacon/{name}") for name in ("dup.yml", "half.yml", "tab.yml")}
    assert {name: (answer.status_code, answer.get_json()) for name, answer in answers.items()} == {
        "dup.yml": (400, {"type": "YAMLError", "error": 'while constructing a mapping: found duplicate key "iosecret" (line 3, column 3)'}),
        "half.yml": (400, {"type": "YAMLError", "error": "while parsing a flow mapping: expected ',' or '}', but got '<stream end>' (line 2, column 1)"}),
        "tab.yml": (400, {"type": "YAMLError", "error": "while scanning for the next token: found character '\\t' that cannot start any token (line 3, column 1)"}),
    }  # fmt: skip
    for answer in answers.values():
        assert not {"the-old-one", "the-new-one", SECRET} & set(re.findall(r"[\w-]+", answer.get_data(as_text=True)))
    svg = client.get("/api/beacon/logo.svg").get_json()
    assert base64.b64decode(svg["content"]) == b"<svg><title><hidden></title></svg>"
    (tmp_path / "pin.yml").write_text("pin: 12345\nfloat: 12345.0\nother: 123456\n")
    answer = beacon_client(tmp_path, "12345").get("/api/beacon/pin.yml")  # a number that is the secret
    assert answer.get_json()["content"] == {"pin": "<hidden>", "float": 12345.0, "other": 123456}
