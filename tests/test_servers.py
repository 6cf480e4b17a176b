"""`bliss` runs the Tango database and the device servers a session needs, and `bliss servers` manages them."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bliss_shell.comm import EmbeddedRedis
from bliss_shell.comm.processes import pid_runs
from conftest import BEAMLINE
from terminal import run_bliss
from test_plot import viewer_status

# The shell's own Tango database, whatever ~/.tangorc or /etc/tangorc of the machine name (docs/tango.md).
EMBEDDED = "tango_host: embedded\n"
CHOICE = "(tango_host: embedded in the config's root __init__.yml)"


def write_config(folder: Path, devices: str) -> Path:
    """A config folder holding ``devices`` (devices.yml) and a root __init__.yml choosing the embedded database."""
    folder.mkdir()
    (folder / "__init__.yml").write_text(EMBEDDED)
    (folder / "devices.yml").write_text(devices)
    return folder


CONFIG = """
- name: sims
  class: TangoServer
  instance: sims
  devices:
    SimMotor: [id00/motor/sm1]
    SimCounter: [id00/counter/sc1]
- name: sm1
  class: TangoMotor
  tango_url: id00/motor/sm1
  velocity: 100
  acceleration: 10000
  low_limit: -10
  high_limit: 10
- name: sc1
  class: TangoCounter
  tango_url: id00/counter/sc1
  distribution: FLAT
  height: 7
- name: tsess
  class: Session
"""


def test_a_session_starts_the_tango_servers_it_needs_and_servers_stops_them(tmp_path, shell_env):
    write_config(tmp_path / "beamline", CONFIG)
    env = dict(shell_env, XDG_RUNTIME_DIR=str(tmp_path / "run"))
    env.pop("TANGO_HOST", None)
    config = ("--config", str(tmp_path / "beamline"))
    try:
        first = run_bliss("-s", "tsess", *config, "-c", "sm1.move(2); print(sm1.position, sc1.read(0.1))", env=env)
        assert first.returncode == 0, first.stderr
        assert first.stdout.split()[-2:] == ["2.0", "7.0"]
        status = run_bliss("servers", "status", *config, env=env).stdout
        assert f"tango database: embedded {CHOICE}, running, pid" in status
        server_line = next(line for line in status.splitlines() if line.startswith("tango server BlissSimulators/sims"))
        assert "running, pid" in server_line and "id00/motor/sm1, id00/counter/sc1" in server_line
        again = run_bliss("-s", "tsess", *config, "-c", "print(sm1.position)", env=env)  # reuses the running server
        assert again.stdout.split()[-1] == "2.0"
        tango_lines = [line for line in status.splitlines() if line.startswith("tango")]
        later = run_bliss("servers", "status", *config, env=env).stdout
        assert [line for line in later.splitlines() if line.startswith("tango")] == tango_lines  # same pids
    finally:
        stopped = run_bliss("servers", "stop", *config, env=env)
    assert "tango server BlissSimulators/sims: (pid" in stopped.stdout and "tango database: embedded (pid" in stopped.stdout
    after = run_bliss("servers", "status", *config, env=env).stdout
    assert f"tango database: embedded {CHOICE}, not running" in after and "BlissSimulators/sims: not running" in after


BROKEN = """
- name: broken
  class: TangoServer
  module: bliss_shell.no_such_module
  devices:
    SimMotor: [id00/motor/bm1]
- name: bm1
  class: TangoMotor
  tango_url: id00/motor/bm1
- name: bsess
  class: Session
"""


def test_a_server_that_is_down_leaves_the_session_open_and_its_objects_say_why(tmp_path, shell_env, open_terminal):
    write_config(tmp_path / "beamline", BROKEN)
    env = dict(shell_env, XDG_RUNTIME_DIR=str(tmp_path / "run"))
    config = ("--config", str(tmp_path / "beamline"))
    try:
        shell = open_terminal("-s", "bsess", *config, env=env)
        shell.prompt(1, label="BSESS", timeout=40)
        screen = "".join(shell.text().split())  # long lines wrap, at a space or not: compare without blanks
        for shown in ("!!! === TangoUnavailable: Tango server BlissSimulators/broken did not start: ",
                      "No module named bliss_shell.no_such_module",
                      "!!! === ConnectionError: bm1: Tango device id00/motor/bm1 is not reachable: "):  # fmt: skip
            assert "".join(shown.split()) in screen
        assert "OK:1/2objectssuccessfullyinitialized." in screen
        shell.enter("bm1.position")
        shell.wait_for(
            r"^!!! === ObjectUnavailable: bm1 is unavailable: Tango device id00/motor/bm1 is not reachable: Device id00/motor/bm1 is not exported"
        )
        shell.prompt(2, label="BSESS")
        shell.enter("ascan(bm1, 0, 1, 2, 0.1)")
        shell.wait_for(r"^!!! === ObjectUnavailable: ascan: bm1 is unavailable: Tango device id00/motor/bm1 ")
        shell.prompt(3, label="BSESS")
        shell.enter("len(SCANS), bm1")
        shell.wait_for(r"Out \[3\]: \(0, <bm1: unavailable: Tango device id00/motor/bm1 is not reachable: ")
    finally:
        run_bliss("servers", "stop", *config, env=env)


def listening_addresses(pid: int) -> set[str]:
    """The local addresses of the TCP sockets process ``pid`` listens on, from /proc (IPv4 and IPv6)."""
    import ipaddress

    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                raw = bytes.fromhex(fields[1].split(":")[0])
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # little-endian 32-bit words
                found.add(str(ipaddress.ip_address(words)))
    return found


def test_servers_listen_on_loopback_never_serve_a_device_twice_and_stop_only_their_own_processes(tmp_path, shell_env):
    import subprocess
    import sys

    import tango

    write_config(tmp_path / "beamline", CONFIG)
    run = tmp_path / "run"
    env = dict(shell_env, XDG_RUNTIME_DIR=str(run))
    env.pop("TANGO_HOST", None)
    config = ("--config", str(tmp_path / "beamline"))
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # someone else's process
    try:
        first = run_bliss("-s", "tsess", *config, "-c", "import os; print(os.environ['TANGO_HOST'])", env=env)
        assert first.returncode == 0, first.stderr
        tango_host = first.stdout.split()[-1]
        pid = int((run / "bliss_shell" / "tango-BlissSimulators-sims.pid").read_text())
        assert listening_addresses(pid) == {"127.0.0.1"}  # the ORB and the event ports: loopback only

        # A second config (another host sharing TANGO_HOST) declares a server for the same devices.
        write_config(tmp_path / "other", CONFIG.replace("instance: sims", "instance: copy"))
        other = dict(env, XDG_RUNTIME_DIR=str(tmp_path / "run2"), TANGO_HOST=tango_host)
        second = run_bliss("-s", "tsess", "--config", str(tmp_path / "other"), "-c", "print(sm1.position)", env=other)
        assert second.returncode == 0, second.stderr
        proxy = tango.DeviceProxy(f"tango://{tango_host}/id00/motor/sm1")
        assert proxy.state() is not None and proxy.info().server_id == "BlissSimulators/sims"  # still served, once

        pidfile = run / "bliss_shell" / "tango-BlissSimulators-sims.pid"
        run_bliss("servers", "stop", *config, env=env)
        pidfile.write_text(str(stranger.pid))  # a stale pid file, its pid reused by another program
        run_bliss("servers", "stop", *config, env=env)
        assert stranger.poll() is None  # not signalled
    finally:
        run_bliss("servers", "stop", *config, env=env)
        stranger.kill()
        stranger.wait()


def test_a_running_server_the_config_gave_a_device_since_is_named_with_what_to_do(tmp_path, shell_env):
    devices = write_config(tmp_path / "beamline", CONFIG) / "devices.yml"
    env = dict(shell_env, XDG_RUNTIME_DIR=str(tmp_path / "run"))
    env.pop("TANGO_HOST", None)
    config = ("--config", str(tmp_path / "beamline"))
    try:
        assert run_bliss("-s", "tsess", *config, "-c", "print(sm1.position)", env=env).returncode == 0
        devices.write_text(CONFIG.replace("SimCounter: [id00/counter/sc1]", "SimCounter: [id00/counter/sc1, id00/counter/sc2]"))
        again = run_bliss("-s", "tsess", *config, "-c", "print(sm1.position)", env=env)
        assert (
            "TangoUnavailable: sims: BlissSimulators/sims runs without id00/counter/sc2, which the config now adds: "
            "restart it with `bliss servers stop`, then open the session again"
        ) in again.stdout + again.stderr
        assert again.stdout.splitlines()[-1] == "0.0"  # the session opened all the same
        run_bliss("servers", "stop", *config, env=env)
        assert "sc2" not in run_bliss("-s", "tsess", *config, "-c", "print(sm1.position)", env=env).stderr
    finally:
        run_bliss("servers", "stop", *config, env=env)


@contextmanager
def embedded_setup(shell_env: dict[str, str]) -> Iterator[tuple[dict[str, str], EmbeddedRedis]]:
    """A user's environment whose Redis is the embedded one, in a runtime folder of its own (short: the socket's path
    holds 107 bytes); what was started there is stopped at the end."""
    run = Path(tempfile.mkdtemp(prefix="bst-pv-"))
    env = dict(shell_env, XDG_RUNTIME_DIR=str(run))
    env.pop("BLISS_REDIS_URL")
    try:
        yield env, EmbeddedRedis(run / "bliss_shell")
    finally:
        run_bliss("servers", "stop", "--config", str(BEAMLINE), env=env)
        shutil.rmtree(run, ignore_errors=True)


def start_plots(env: dict[str, str]) -> tuple[str, int]:
    """``bliss plot test_session``: the viewer's URL and pid."""
    started = run_bliss("--config", str(BEAMLINE), "plot", "test_session", env=env)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    return url, viewer_status(url)["pid"]


def test_servers_status_lists_the_plot_viewer_and_servers_stop_stops_it(shell_env):
    config = ("--config", str(BEAMLINE))
    with embedded_setup(shell_env) as (env, redis_server):
        url, pid = start_plots(env)
        status = run_bliss("servers", "status", *config, env=env).stdout.splitlines()
        assert f"plot viewer of test_session: running, pid {pid}, {url}" in status
        stopped = run_bliss("servers", "stop", *config, env=env).stdout.splitlines()
        assert f"plot viewer of test_session: (pid {pid}, {url}) stopped" in stopped
        assert not pid_runs(pid, "bliss_shell.plot")  # ended before the command returned
        assert "plot viewers: none running" in run_bliss("servers", "status", *config, env=env).stdout.splitlines()
        again = run_bliss(*config, "plot", "test_session", "--stop", env=env)
        assert again.stdout.strip() == "no viewer of test_session runs"
        assert not redis_server.answers()  # looking for a viewer to stop started no Redis


def test_plot_stop_stops_the_viewer_whose_redis_is_gone_without_starting_redis(shell_env):
    with embedded_setup(shell_env) as (env, redis_server):
        url, pid = start_plots(env)
        os.kill(redis_server.pid(), signal.SIGKILL)  # the embedded Redis dies; its viewer still answers
        assert viewer_status(url)["pid"] == pid
        stopped = run_bliss("--config", str(BEAMLINE), "plot", "test_session", "--stop", env=env)
        assert stopped.stdout.strip() == "stopped the viewer of test_session", stopped.stderr
        assert not pid_runs(pid, "bliss_shell.plot")
        assert not redis_server.answers()
