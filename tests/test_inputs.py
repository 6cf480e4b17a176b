"""Every input checked where it enters: one clear line naming the command or file, nothing moved,
numbered or published."""

from __future__ import annotations

import os

import pytest

from bliss_shell.config import Config, ConfigError, ConfigRoot
from bliss_shell.data import get_node, keys


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda s: s["loopscan"](2, 0, s["diode"], save="no"), TypeError, "^loopscan: save must be True or False, not 'no'$"),
        (lambda s: s["ct"](0.1, s["diode"], run=1), TypeError, "^ct: run must be True or False, not 1$"),
        (
            lambda s: s["anscan"]([], 3, 0.1, s["diode"]),
            ValueError,
            r"^anscan: give a list of \(motor, start, stop\): anscan\(\[\(roby, 0, 1\), \(robz, 5, 6\)\], 10, 0.1\)$",
        ),
        (
            lambda s: s["pointscan"](s["roby"], "012", 0.1, s["diode"]),
            ValueError,
            "^pointscan: roby: positions must be a list of numbers, not '012'$",
        ),
        (
            lambda s: s["pointscan"](s["roby"], [0, "x"], 0.1, s["diode"]),
            ValueError,
            r"^pointscan: roby: positions must be a list of numbers, not \[0, 'x'\]$",
        ),
        (lambda s: s["lookupscan"]([], 0.1, s["diode"]), ValueError, r"^lookupscan: give a list of \(motor, positions\) pairs"),
    ],
)
def test_bad_scan_arguments_are_one_line_naming_the_command(session, redis_client, call, error, message):
    with pytest.raises(error, match=message):
        call(session)
    assert session["roby"].position == 0 and len(session["SCANS"]) == 0
    assert not [key for key in redis_client.keys("node|*") if b"scan" in key.rsplit(b":", 1)[-1]]


def test_a_garbage_scan_counter_in_redis_says_what_to_do(session, redis_client):
    session["loopscan"](1, 0, session["diode"])
    counter = keys.node_key(session["SCAN_SAVING"].directory_db_name()[0])
    redis_client.hset(counter, "last_scan_number", "garbage")
    with pytest.raises(RuntimeError, match=rf"^loopscan: the scan counter in Redis \({counter}, field last_scan_number\) "
                                           rf"is not a number; nothing was moved\. Remove it \(redis-cli HDEL"):  # fmt: skip
        session["loopscan"](1, 0, session["diode"])
    assert len(session["SCANS"]) == 1
    redis_client.hdel(counter, "last_scan_number")
    assert session["loopscan"](1, 0, session["diode"]).number == 2  # after the file's highest


def test_scan_saving_values_written_into_redis_by_another_client_are_checked(session, redis_client, tmp_path):
    redis_client.hset("scan_saving|{test_session}", "template", "{session}/../../../x/")
    with pytest.raises(ValueError, match=r"^SCAN_SAVING.template '\{session\}/\.\./\.\./\.\./x/' must stay inside base_path "
                                         r"\(read back from Redis, key scan_saving\|\{test_session\}\); set it again"):  # fmt: skip
        session["loopscan"](2, 0, session["diode"])
    assert len(session["SCANS"]) == 0 and not os.path.exists(tmp_path / "x")
    redis_client.hset("scan_saving|{test_session}", "data_filename", "a|b")
    redis_client.hset("scan_saving|{test_session}", "template", "{session}/")
    with pytest.raises(ValueError, match=r"^SCAN_SAVING.data_filename = 'a\|b': a value may not"):
        session["SCAN_SAVING"].filename


def test_an_unsaved_scan_that_left_redis_says_so(session, redis_client):
    scan = session["ct"](0.01, session["diode"])
    for key in redis_client.keys(f"*{keys.tagged(scan.node.db_name)}*"):
        redis_client.delete(key)  # what retention does once data_retention has passed
    assert get_node(scan.node.db_name) is None
    with pytest.raises(RuntimeError, match=rf"^scan {scan.node.name} was not saved and has expired from Redis"):
        scan.get_data()


@pytest.mark.parametrize("name", ["../../esc", "a:b", "1st", "with space"])
def test_a_config_name_that_is_not_a_python_name_is_refused(tmp_path, name):
    (tmp_path / "objects.yml").write_text(f"- name: '{name}'\n  class: SimulationDiode\n")
    with pytest.raises(ConfigError, match=rf"objects.yml, line 1: name {name!r} is not valid: it becomes a Python name"):
        Config([ConfigRoot(tmp_path)])


def test_a_deleted_saving_folder_is_one_line_and_no_traceback(session, tmp_path, capfd):
    import re
    import shutil

    import gevent

    from bliss_shell.shell.error_report import ErrorReport

    scan = session["loopscan"](3000, 0.001, session["diode"], run=False)

    def run() -> Exception | None:  # as the shell runs a command: its error is the one line shown
        try:
            scan.run()
        except Exception as error:
            return error
        return None

    command = gevent.spawn(run)
    with gevent.Timeout(20):
        while scan.node is None or len(get_node(f"{scan.node.db_name}:timer:diode:diode") or ()) < 50:
            gevent.sleep(0.01)
    shutil.rmtree(tmp_path / "scans")  # someone removes the folder while the scan writes into it
    error = command.get(timeout=30)
    assert "Traceback" not in capfd.readouterr().err and scan.state == "failed"
    ErrorReport(hint="").report(error)  # the shell's line for the command's error: it names the file consumer
    written = rf"writing {re.escape(scan.path)} failed after \d+ points: \[Errno 2\] No such file or directory: '[^']+'"
    assert re.fullmatch(rf"!!! === ConsumerError: file consumer: {written} === !!!\n", capfd.readouterr().out)


def billion_laughs() -> str:
    text, previous = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n', "a"
    for letter in "bcdefghij":
        text += f"{letter}: &{letter} [{', '.join(['*' + previous] * 9)}]\n"
        previous = letter
    return "name: laughs\nclass: SimulationDiode\n" + text


@pytest.mark.parametrize(
    "text, message",
    [
        (billion_laughs(), r"laughs.yml: more than 100000 values \(YAML aliases expanded\)"),
        ("name: deep\nv: " + "[" * 5000 + "]" * 5000 + "\n", r"laughs.yml: nested too deeply \(at most 32 levels\)$"),
        ("name: deep\nv: " + "[" * 40 + "]" * 40 + "\n", r"laughs.yml, line 2: nested deeper than 32 levels$"),
        ("- {name: x}\n" + "#" * (3 * 1024 * 1024) + "\n", r"laughs.yml: \d+ bytes is more than a config file may hold"),
    ],
)
def test_a_hostile_or_huge_config_file_is_one_config_error(tmp_path, text, message):
    (tmp_path / "laughs.yml").write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        Config([ConfigRoot(tmp_path)])
    assert "\n" not in str(caught.value)


def test_a_config_of_too_many_objects_is_refused(tmp_path):
    for part in range(3):  # 21,000 objects in files each below the size limit
        (tmp_path / f"many{part}.yml").write_text("".join(f"- {{name: o{part}_{i}}}\n" for i in range(7000)))
    with pytest.raises(ConfigError, match=r"more than 20000 objects in the config"):
        Config([ConfigRoot(tmp_path)])
