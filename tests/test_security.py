"""Who can reach the data: an external Redis with a password, an ACL user or TLS; names that could
escape their place (Redis keys, file paths) are refused before anything is written."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bliss_shell.comm.embedded_redis import redis_server_binary
from conftest import BEAMLINE
from terminal import run_bliss

PROXY = """
import socket, ssl, sys, threading
listen_port, target_port, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server = socket.create_server(("127.0.0.1", listen_port))
print("ready", flush=True)

def pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        target.close()

while True:
    client, _ = server.accept()
    try:
        wrapped = context.wrap_socket(client, server_side=True)
    except (ssl.SSLError, OSError):
        client.close()
        continue
    upstream = socket.create_connection(("127.0.0.1", target_port))
    threading.Thread(target=pump, args=(wrapped, upstream), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, wrapped), daemon=True).start()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def guarded_redis(tmp_path) -> Iterator[int]:
    """A Redis on loopback that wants a password (``s3cret``) or the ACL user ``alice`` (``pw``)."""
    port = free_port()
    server = subprocess.Popen([str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--dir", str(tmp_path), "--requirepass", "s3cret",
                               "--user", "alice", "on", ">pw", "~*", "&*", "+@all"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield port
    server.terminate()
    server.wait()


def scan_through(url: str, shell_env: dict[str, str], tmp_path: Path):
    env = dict(shell_env, BLISS_REDIS_URL=url)
    code = f"SCAN_SAVING.base_path = {str(tmp_path)!r}\ns = loopscan(3, 0, diode)\nprint(len(s.get_data()['diode']))"
    return run_bliss("--config", str(BEAMLINE), "-s", "test_session", "-c", code, env=env)


@pytest.mark.parametrize("credentials", [":s3cret", "alice:pw"])
def test_an_external_redis_with_a_password_or_an_acl_user(guarded_redis, credentials, shell_env, tmp_path):
    result = scan_through(f"redis://{credentials}@127.0.0.1:{guarded_redis}/0", shell_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("3")


def test_a_wrong_password_is_one_line_that_does_not_show_it(guarded_redis, shell_env, tmp_path):
    result = scan_through(f"redis://alice:wrong@127.0.0.1:{guarded_redis}/0", shell_env, tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"bliss: cannot reach Redis at redis://alice:***@127.0.0.1:{guarded_redis}/0 "
                                    "(from BLISS_REDIS_URL): ")  # fmt: skip
    assert "wrong" not in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_an_external_redis_over_tls(guarded_redis, shell_env, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    proxy = subprocess.Popen([sys.executable, "-c", PROXY, str(port), str(guarded_redis), str(cert), str(key)],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proxy.stdout.readline().strip() == "ready"
        url = f"rediss://alice:pw@127.0.0.1:{port}/0?ssl_ca_certs={cert}"
        result = scan_through(url, shell_env, tmp_path / "ok")
        assert result.returncode == 0, result.stderr
        refused = scan_through(f"rediss://alice:pw@127.0.0.1:{port}/0", shell_env, tmp_path / "no")  # an unknown CA
        assert refused.returncode == 1 and "certificate verify failed" in refused.stderr
        plain = scan_through(f"redis://alice:pw@127.0.0.1:{port}/0", shell_env, tmp_path / "plain")  # no TLS
        assert plain.returncode == 1 and plain.stderr.startswith("bliss: cannot reach Redis at redis://alice:***@")
    finally:
        proxy.kill()
        proxy.communicate()


@pytest.mark.parametrize("name", ["a:b", "../up", "x/y", "new\nline", "..", "tab\there", "pipe|d"])
def test_scan_names_that_could_escape_are_refused_before_anything_happens(session, redis_client, name):
    before = sorted(redis_client.keys("*"))
    with pytest.raises(ValueError, match=r"^ascan: scan name .* is not valid: use letters, digits"):
        session["ascan"](session["roby"], 0, 1, 2, 0, session["diode"], name=name)
    assert session["roby"].position == 0 and len(session["SCANS"]) == 0
    assert sorted(redis_client.keys("*")) == before
