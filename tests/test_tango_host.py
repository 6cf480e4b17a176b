"""Which Tango database the shell uses: `$TANGO_HOST`, the config's `tango_host`, `~/.tangorc`, `/etc/tangorc`
(read as cppTango reads them), then its own; and a device reached in every form a `tango_url` takes."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tango

from bliss_shell.comm.tango_host import SYSTEM_TANGORC, choose_tango_host, read_tangorc
from bliss_shell.config import ConfigError
from simulator_server import SimulatorServer, free_port, refusing_port, wait_until_answers
from terminal import run_bliss

COUNTER, ALIAS = "id00/counter/hostc1", "hostc1_alias"


class Database:
    """PyTango's database server (sqlite, a folder of its own) on a loopback port, serving one SimCounter device
    (alias ``hostc1_alias``) from our simulator server: a facility's database, as far as the shell can tell."""

    def __init__(self, folder: Path):
        self.host = f"127.0.0.1:{free_port()}"
        self.processes = [subprocess.Popen(
            [sys.executable, "-m", "tango.databaseds.database", "--host", "127.0.0.1", "--port", self.host.split(":")[1], "2"],
            env=dict(os.environ, PYTANGO_DATABASE_NAME=str(folder / "tango.db")), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )]  # fmt: skip
        try:
            wait_until_answers(f"tango://{self.host}/sys/database/2", self.processes[0], 30, "the Tango database")
            database = tango.Database(*self.host.split(":"))
            info = tango.DbDevInfo()
            info.name, info._class, info.server = COUNTER, "SimCounter", "BlissSimulators/hostforms"
            database.add_device(info)
            database.put_device_alias(COUNTER, ALIAS)
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "bliss_shell.simulators", "hostforms", "-ORBendPoint", "giop:tcp:127.0.0.1:"],
                env=dict(os.environ, TANGO_HOST=self.host), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
            wait_until_answers(f"tango://{self.host}/{COUNTER}", self.processes[1], 30, f"the simulator serving {COUNTER}")
        except BaseException:
            self.stop()
            raise

    def devices(self) -> list[str]:
        """The devices registered in it, the database's own aside."""
        names = tango.Database(*self.host.split(":")).get_device_exported("*").value_string
        return sorted(name for name in names if not name.startswith(("sys/", "dserver/")))

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Iterator[Database]:
    started = Database(tmp_path_factory.mktemp("facility_db"))
    yield started
    started.stop()


@pytest.fixture
def dead_host() -> Iterator[str]:
    """``127.0.0.1:<port>`` where no Tango database answers, for the whole test: the port is held (bound, not
    listening), so a server another test starts meanwhile cannot take it."""
    with refusing_port() as port:
        yield f"127.0.0.1:{port}"


def beamline(folder: Path, tango_url: str, root: str | None = None) -> tuple[str, str]:
    """A config holding counter ``hc`` (``class: TangoCounter`` at ``tango_url``, a flat 7) and session ``hsess``,
    with ``root`` as its root __init__.yml; the ``--config`` arguments for it."""
    folder.mkdir()
    if root is not None:
        (folder / "__init__.yml").write_text(root)
    (folder / "devices.yml").write_text(f"""
- name: hc
  class: TangoCounter
  tango_url: {tango_url}
  distribution: FLAT
  height: 7
- name: hsess
  class: Session
""")  # fmt: skip
    return "--config", str(folder)


@pytest.fixture
def user_env(shell_env, tmp_path) -> dict[str, str]:
    """A user's environment without TANGO_HOST, with a runtime folder of the test's own (short: a socket lives there)."""
    env = dict(shell_env, XDG_RUNTIME_DIR=str(tmp_path / "run"))
    env.pop("TANGO_HOST", None)
    return env


def tangorc(env: dict[str, str], line: str) -> Path:
    path = Path(env["HOME"]) / ".tangorc"
    path.write_text(f"# written by the test\n{line}\n")
    return path


READ = "import os; print(os.environ['TANGO_HOST'], hc.read(0.1))"


def embedded_database_ran(env: dict[str, str]) -> bool:
    return (Path(env["XDG_RUNTIME_DIR"]) / "bliss_shell" / "tango-db.port").exists()


# -- where the host comes from ---------------------------------------------------------------------------------------


def test_a_tangorc_in_home_names_the_database_the_session_finds_its_devices_in(database, user_env, tmp_path):
    home_file = tangorc(user_env, f"TANGO_HOST={database.host}")
    config = beamline(tmp_path / "beamline", COUNTER)
    try:
        opened = run_bliss("-s", "hsess", *config, "-c", READ, env=user_env)
        assert opened.returncode == 0, opened.stderr
        assert opened.stdout.split()[-2:] == [database.host, "7.0"]
        status = run_bliss("servers", "status", *config, env=user_env).stdout
        assert f"tango database: {database.host} (TANGO_HOST from {home_file}), answering" in status
        assert not embedded_database_ran(user_env)  # no database of its own
    finally:
        run_bliss("servers", "stop", *config, env=user_env)


SERVER = """
- name: hsims
  class: TangoServer
  instance: hsims
  devices:
    SimCounter: [id00/counter/hostc2]
- name: hc2
  class: TangoCounter
  tango_url: id00/counter/hostc2
  distribution: FLAT
  height: 3
"""


def test_the_configs_tango_host_embedded_beats_the_tangorc(database, user_env, tmp_path):
    tangorc(user_env, f"TANGO_HOST={database.host}")
    config = beamline(tmp_path / "beamline", COUNTER, root="tango_host: embedded\n")
    (tmp_path / "beamline" / "server.yml").write_text(SERVER)
    try:
        opened = run_bliss("-s", "hsess", *config, "-c", READ.replace("hc.", "hc2."), env=user_env)
        assert opened.returncode == 0, opened.stderr
        used, value = opened.stdout.split()[-2:]
        assert used != database.host and value == "3.0"
        assert "hc: Tango device id00/counter/hostc1 is not reachable" in opened.stdout + opened.stderr  # not in ours
        status = run_bliss("servers", "status", *config, env=user_env).stdout
        assert "tango database: embedded (tango_host: embedded in the config's root __init__.yml), running, pid" in status
        assert f"TANGO_HOST={used}" in status
        assert "id00/counter/hostc2" not in database.devices()  # registered in the embedded database only
        not_ours = [line for line in (opened.stdout + opened.stderr).splitlines() if "hc: Tango device id00/counter/" in line]
        embedded = f"(TANGO_HOST {used}, the shell's embedded database: tango_host: embedded in the config's root __init__.yml)"
        assert not_ours and all(embedded in line for line in not_ours), not_ours  # the choice, not the TANGO_HOST it set
    finally:
        stopped = run_bliss("servers", "stop", *config, env=user_env).stdout
    assert "tango database: embedded (pid" in stopped


def test_tango_host_in_the_environment_beats_the_config_and_the_tangorc(database, user_env, tmp_path, dead_host):
    tangorc(user_env, f"TANGO_HOST={dead_host}")  # nothing there
    config = beamline(tmp_path / "beamline", COUNTER, root="tango_host: embedded\n")
    env = dict(user_env, TANGO_HOST=database.host)
    opened = run_bliss("-s", "hsess", *config, "-c", READ, env=env)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.split()[-2:] == [database.host, "7.0"]
    status = run_bliss("servers", "status", *config, env=env).stdout
    assert f"tango database: {database.host} (TANGO_HOST in the environment), answering" in status
    assert not embedded_database_ran(env)


def test_the_configs_tango_host_beats_the_tangorc(database, user_env, tmp_path, dead_host):
    tangorc(user_env, f"TANGO_HOST={dead_host}")
    config = beamline(tmp_path / "beamline", COUNTER, root=f"tango_host: {database.host}\n")
    opened = run_bliss("-s", "hsess", *config, "-c", READ, env=user_env)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.split()[-2:] == [database.host, "7.0"]


def test_a_tangorc_naming_a_database_that_does_not_answer_says_where_it_came_from_and_what_to_do(user_env, tmp_path, dead_host):
    home_file = tangorc(user_env, f"TANGO_HOST = {dead_host}")
    config = beamline(tmp_path / "beamline", COUNTER)
    opened = run_bliss("-s", "hsess", *config, "-c", "print(hc)", env=user_env)
    assert opened.returncode == 0, opened.stderr
    shown = opened.stdout + opened.stderr
    assert (f"TangoUnavailable: Tango database {dead_host} (TANGO_HOST from {home_file}) does not answer: start it, set "
            "TANGO_HOST, or put `tango_host: embedded` in the config's root __init__.yml") in shown  # fmt: skip
    assert f"<hc: unavailable: Tango device {COUNTER} is not reachable: Failed to connect to database on host 127.0.0.1" in shown
    status = run_bliss("servers", "status", *config, env=user_env).stdout
    assert f"tango database: {dead_host} (TANGO_HOST from {home_file}) does not answer: start it" in status
    assert not embedded_database_ran(user_env)


def test_an_object_whose_device_is_found_through_a_dead_database_says_where_that_tango_host_came_from(
    user_env, tmp_path, dead_host
):
    home_file = tangorc(user_env, f"TANGO_HOST={dead_host}")
    config = beamline(tmp_path / "beamline", COUNTER)
    (tmp_path / "beamline" / "own_host.yml").write_text(f"""
- name: hd
  class: TangoCounter
  tango_url: tango://{dead_host}/{COUNTER}
""")  # fmt: skip
    opened = run_bliss("-s", "hsess", *config, "-c", "pass", env=user_env)
    assert opened.returncode == 0, opened.stderr
    lines = (opened.stdout + opened.stderr).splitlines()
    through_it = [line for line in lines if f"ConnectionError: hc: Tango device {COUNTER} is not reachable: " in line]
    assert len(through_it) == 1 and f" (TANGO_HOST {dead_host} from {home_file}) === !!!" in through_it[0], through_it
    own_host = [line for line in lines if f"ConnectionError: hd: Tango device tango://{dead_host}/" in line]
    assert len(own_host) == 1 and "TANGO_HOST" not in own_host[0], own_host  # its URL names its database itself


def test_a_tango_host_in_the_config_that_is_neither_host_port_nor_embedded_stops_the_shell(user_env, tmp_path):
    config = beamline(tmp_path / "beamline", COUNTER, root="tango_host: tango.beamline\n")
    opened = run_bliss("-s", "hsess", *config, "-c", "pass", env=user_env)
    assert opened.returncode == 1
    assert opened.stderr.strip() == ("bliss: the config's root __init__.yml: tango_host must be host:port (or "
                                     "host:port,host:port), or embedded for the shell's own database, not 'tango.beamline'")  # fmt: skip


# -- the files, read as cppTango reads them --------------------------------------------------------------------------

# What cppTango 10.3.3 (the libtango of PyTango 10.3) read from these files: `tango.ApiUtil.get_env_var("TANGO_HOST")`
# with the file as the user's ~/.tangorc (its passwd home folder pointed at a folder of test files).
CPPTANGO_READS = [
    ("TANGO_HOST = Example:12345", "example:12345"),
    ("# TANGO_HOST=a:1\nTANGO_HOST=b:2", "b:2"),
    ("X=1 # TANGO_HOST=a:1\nTANGO_HOST=b:2", "b:2"),
    ("MY_TANGO_HOST=a:1\nTANGO_HOST=b:2", "a:1"),
    ("tango_host=c:3", "c:3"),
    ("TANGO_HOST\nTANGO_HOST=d:4", "d:4"),
    ("TANGO_HOST=e:5,f:6", "e:5,f:6"),
    ("TANGO_HOST=g:7 # comment", "g:7#comment"),
    ("  TANGO_HOST\t=\th:8\t", "\th:8\t"),
    ("TANGO_HOST=", ""),
    ("TANGO_HOST=i:9\r", "i:9\r"),
    ("OTHER=1", None),
]


@pytest.mark.parametrize(("text", "read"), CPPTANGO_READS)
def test_a_tangorc_file_is_read_as_cpptango_reads_it(tmp_path, text, read):
    (tmp_path / "tangorc").write_text(text + "\n")
    assert read_tangorc(tmp_path / "tangorc") == read


def test_the_system_file_comes_after_the_users_and_neither_beats_the_config(tmp_path, monkeypatch):
    monkeypatch.delenv("TANGO_HOST", raising=False)
    system = tmp_path / "etc_tangorc"  # stands for /etc/tangorc, which no variable moves
    system.write_text("TANGO_HOST=facility:10000\n")
    home = tmp_path / "home"
    home.mkdir()
    chosen = choose_tango_host(home=home, system_file=system)
    assert (chosen.host, chosen.origin) == ("facility:10000", f"TANGO_HOST from {system}")
    (home / ".tangorc").write_text("# no host here\nTANGO_EVENT_BUFFER_HWM=10\n")  # cppTango then reads the system file
    assert choose_tango_host(home=home, system_file=system).host == "facility:10000"
    (home / ".tangorc").write_text("TANGO_HOST=mine:20000\n")
    assert choose_tango_host(home=home, system_file=system).origin == f"TANGO_HOST from {home / '.tangorc'}"
    assert choose_tango_host("embedded", home=home, system_file=system).host is None
    assert choose_tango_host("db.beamline:30000", home=home, system_file=system).host == "db.beamline:30000"
    nowhere = choose_tango_host(home=tmp_path, system_file=tmp_path / "absent")
    assert nowhere.host is None and nowhere.origin.startswith("no TANGO_HOST in the environment, the config, ")
    monkeypatch.setenv("TANGO_HOST", "env:40000")
    assert choose_tango_host("embedded", home=home, system_file=system).host == "env:40000"


def test_a_host_from_a_file_that_is_not_host_port_is_refused_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("TANGO_HOST", raising=False)
    (tmp_path / ".tangorc").write_text("TANGO_HOST=g:7 # our database\n")
    problem = choose_tango_host(home=tmp_path, system_file=tmp_path / "absent").problem()
    assert problem == (f"Tango database 'g:7#ourdatabase' (TANGO_HOST from {tmp_path / '.tangorc'}) is not host:port (a "
                       "comment goes on a line of its own: cppTango reads the rest of the line): start it, set TANGO_HOST, "
                       "or put `tango_host: embedded` in the config's root __init__.yml")  # fmt: skip
    with pytest.raises(ConfigError, match="tango_host must be host:port"):
        choose_tango_host("10000", home=tmp_path)


def test_this_machines_files_give_what_pytango_reads(tmp_path):
    """This machine's own files (the real /etc/tangorc, ~/.tangorc of the user's passwd home) read as PyTango does."""
    home = Path(pwd.getpwuid(os.geteuid()).pw_dir)
    env = {key: value for key, value in os.environ.items() if key != "TANGO_HOST"}
    code = "import tango\ntry:\n    print(repr(tango.ApiUtil.get_env_var('TANGO_HOST')))\nexcept Exception:\n    print(None)"
    pytango = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.strip()
    ours = choose_tango_host(home=home) if "TANGO_HOST" not in os.environ else None
    if ours is None:
        pytest.skip("TANGO_HOST is set for the tests")
    assert repr(ours.host) == pytango or (ours.host is None and pytango in ("None", "''"))
    if SYSTEM_TANGORC.exists() and not (home / ".tangorc").exists() and read_tangorc(SYSTEM_TANGORC) is not None:
        assert ours.origin == f"TANGO_HOST from {SYSTEM_TANGORC}"


# -- a device in every form of tango_url ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["plain", "tango_url", "host_port", "alias", "alias_with_host"])
def test_a_tango_counter_is_reached_in_every_form_of_its_url(database, user_env, tmp_path, form):
    url = {
        "plain": COUNTER,  # through TANGO_HOST
        "tango_url": f"tango://{database.host}/{COUNTER}",  # through that database, whatever TANGO_HOST says
        "host_port": f"{database.host}/{COUNTER}",
        "alias": ALIAS,  # put_device_alias in the TANGO_HOST database
        "alias_with_host": f"tango://{database.host}/{ALIAS}",
    }[form]
    env = dict(user_env, TANGO_HOST=database.host) if form in ("plain", "alias") else user_env
    config = beamline(tmp_path / "beamline", url)
    opened = run_bliss("-s", "hsess", *config, "-c", "print(hc.read(0.1))", env=env)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.split()[-1] == "7.0" and "Error" not in opened.stdout + opened.stderr


def test_a_tango_counter_is_reached_without_a_database(user_env, tmp_path, dead_host):
    server = SimulatorServer({"SimCounter": ["id00/counter/nodb1"]}, instance="hostnodb")
    try:
        tangorc(user_env, f"TANGO_HOST={dead_host}")  # a database that does not answer: not asked
        config = beamline(tmp_path / "beamline", server.url("id00/counter/nodb1"))  # tango://127.0.0.1:P/...#dbase=no
        opened = run_bliss("-s", "hsess", *config, "-c", "print(hc.read(0.1))", env=user_env)
        assert opened.returncode == 0, opened.stderr
        assert opened.stdout.split()[-1] == "7.0" and "Error" not in opened.stdout + opened.stderr
        assert not embedded_database_ran(user_env)
    finally:
        server.stop()
