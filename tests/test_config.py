"""Beamline YAML config: objects by name, folder defaults, sessions, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bliss_shell.config import Config, ConfigError, ConfigNode, ConfigRoot, Session, config_roots
from bliss_shell.config._classes import known_classes
from terminal import run_bliss

KNOWN = ", ".join(known_classes())


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(root: Path) -> Config:
    return Config([ConfigRoot(root)])


def test_objects_are_found_by_name_in_any_file_of_the_tree(tmp_path):
    write(tmp_path, "motors/motors.yml", "- name: roby\n  velocity: 10\n- name: robz\n")
    write(tmp_path, "detectors/deep/diode.yml", "name: diode\nunit: V\n")
    config = load(tmp_path)
    assert sorted(config.names()) == ["diode", "roby", "robz"]
    roby = config.get("roby")
    assert isinstance(roby, ConfigNode) and roby["velocity"] == 10
    assert roby.where.endswith("motors/motors.yml, line 1")
    assert config.get("robz").line == 3


def test_folder_init_gives_defaults_below_it_and_root_init_holds_globals(tmp_path):
    write(tmp_path, "__init__.yml", "beamline: id00\nredis_url: redis://example:6379\n")
    write(tmp_path, "motors/__init__.yml", "velocity: 5\nunit: mm\n")
    write(tmp_path, "motors/fast/__init__.yml", "velocity: 50\n")
    write(tmp_path, "motors/m.yml", "- name: slow\n- name: own\n  velocity: 1\n")
    write(tmp_path, "motors/fast/f.yml", "name: fast\n")
    config = load(tmp_path)
    assert config.globals == {"beamline": "id00", "redis_url": "redis://example:6379"}
    assert dict(config.get("slow")) == {"name": "slow", "velocity": 5, "unit": "mm"}
    assert config.get("own")["velocity"] == 1
    assert dict(config.get("fast")) == {"name": "fast", "velocity": 50, "unit": "mm"}


def test_malformed_yaml_names_file_and_line(tmp_path):
    write(tmp_path, "ok.yml", "name: fine\n")
    bad = write(tmp_path, "motors/bad.yml", "- name: roby\n  velocity: 1\n   unit: mm\n")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{bad.as_posix()}, line 3, column")
    assert "mapping values are not allowed here" in message


def test_duplicate_names_name_both_files(tmp_path):
    first = write(tmp_path, "a/motors.yml", "- name: other\n- name: roby\n")
    second = write(tmp_path, "b/more.yml", "name: roby\n")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert str(caught.value) == (
        f"duplicate name 'roby': {first.as_posix()}, line 2 and {second.as_posix()}, line 1; "
        "names must be unique across the whole config"
    )


def test_unknown_class_names_object_place_and_known_classes(tmp_path):
    path = write(tmp_path, "motors.yml", "- name: fine\n- name: roby\n  class: NoSuchMotor\n")
    config = load(tmp_path)
    assert config.get("fine")["name"] == "fine"
    with pytest.raises(ConfigError) as caught:
        config.get("roby")
    assert str(caught.value) == (f"{path.as_posix()}, line 2: 'roby' has unknown class 'NoSuchMotor'; known classes: {KNOWN}")


def test_yaml_tags_are_refused_so_config_cannot_run_code(tmp_path):
    path = write(tmp_path, "evil.yml", "name: evil\nvalue: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(ConfigError, match=rf"{path.as_posix()}, line 2: YAML tags .* are not allowed"):
        load(tmp_path)
    assert not (tmp_path / "pwned").exists()


def test_duplicate_key_and_non_mapping_items_are_refused(tmp_path):
    write(tmp_path, "dup.yml", "name: x\nunit: mm\nunit: deg\n")
    with pytest.raises(ConfigError, match=r"dup.yml, line 3, column 1: found duplicate key \"unit\""):
        load(tmp_path)
    (tmp_path / "dup.yml").write_text("- name: x\n- just a string\n")
    with pytest.raises(ConfigError, match=r"dup.yml, line 2: list items must be mappings"):
        load(tmp_path)


def test_config_location_option_then_environment(tmp_path, monkeypatch):
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    monkeypatch.setenv("BLISS_CONFIG", str(tmp_path))
    assert config_roots(str(chosen)) == [ConfigRoot(chosen)]
    assert config_roots() == [ConfigRoot(tmp_path)]
    monkeypatch.delenv("BLISS_CONFIG")
    repository = Path(__file__).resolve().parents[1]
    assert config_roots() == [ConfigRoot(repository / "config"), ConfigRoot(repository / "sessions", "sessions")]
    with pytest.raises(ConfigError, match=r"config directory .*/nowhere \(from --config\) does not exist"):
        config_roots(str(tmp_path / "nowhere"))


def sessions_config(root: Path) -> Config:
    write(root, "objects.yml", "- name: roby\n- name: robz\n- name: diode\n- name: shutter\n")
    write(root, "sessions/__init__.yml", "class: Session\n")
    write(root, "sessions/base.yml", "name: base\nconfig-objects: [shutter]\nsetup-file: ./base_setup.py\n")
    write(root, "sessions/base_setup.py", "order.append('base')\n")
    write(
        root,
        "sessions/main.yml",
        "name: main\ninclude-sessions: [base]\nsetup-file: ./main_setup.py\nexclude-objects: [robz]\n",
    )
    write(root, "sessions/main_setup.py", "order.append('main')\nload_script('extra')\n")
    write(root, "sessions/scripts/extra.py", "order.append('extra')\n")
    return load(root)


def test_session_loads_objects_and_runs_setups_included_first(tmp_path, capsys):
    config = sessions_config(tmp_path)
    session = config.get("main")
    assert isinstance(session, Session)
    assert session.object_names() == ["shutter", "roby", "diode"]  # all objects but sessions, less robz
    env: dict = {"order": []}
    errors: list[BaseException] = []
    session.setup(env, on_error=errors.append)
    assert errors == []
    assert env["order"] == ["base", "main", "extra"]
    assert env["roby"] is config.get("roby") and "robz" not in env
    assert env["current_session"] is session and env["config"] is config
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "main: Loading config...",
        "OK: 3/3 objects successfully initialized.",
        "shutter, roby, diode",
        "base: Executing setup file...",
        "main: Executing setup file...",
        "Done.",
    ]


def test_session_errors_are_reported_and_the_rest_still_loads(tmp_path, capsys):
    write(tmp_path, "objects.yml", "- name: roby\n- name: broken\n  class: Nope\n")
    write(tmp_path, "sessions/__init__.yml", "class: Session\n")
    write(tmp_path, "sessions/s.yml", "name: s\nsetup-file: ./missing_setup.py\nconfig-objects: [broken, roby, ghost]\n")
    session = load(tmp_path).get("s")
    env: dict = {}
    errors: list[BaseException] = []
    session.setup(env, on_error=errors.append)
    assert [str(e) for e in errors][:2] == [
        f"{(tmp_path / 'objects.yml').as_posix()}, line 2: 'broken' has unknown class 'Nope'; known classes: {KNOWN}",
        f"{(tmp_path / 'sessions' / 's.yml').as_posix()}, line 3: session 's': config-objects names 'ghost', "
        "which no config file defines; correct or remove it",
    ]
    assert isinstance(errors[2], FileNotFoundError)
    assert str(errors[2]).endswith(f"setup-file {tmp_path / 'sessions' / 'missing_setup.py'} not found")
    assert "roby" in env
    assert "OK: 1/3 objects successfully initialized." in capsys.readouterr().out


def test_an_unknown_object_of_an_included_session_names_that_session_file_and_the_line_of_config_objects(tmp_path):
    write(tmp_path, "objects.yml", "- name: roby\n")
    write(tmp_path, "sessions/__init__.yml", "class: Session\n")
    base = write(tmp_path, "sessions/base.yml", "# the base of every session\nname: base\nconfig-objects: [roby, nosuchobject]\n")
    write(tmp_path, "sessions/main.yml", "name: main\ninclude-sessions: [base]\nconfig-objects: [roby]\n")
    env: dict = {}
    errors: list[BaseException] = []
    load(tmp_path).get("main").setup(env, on_error=errors.append, verbose=False)
    assert [str(e) for e in errors] == [
        f"{base.as_posix()}, line 3: session 'base': config-objects names 'nosuchobject', which no config file defines; "
        "correct or remove it"
    ]
    assert env["roby"] is not None and env["nosuchobject"].reason.startswith(
        f"{base.as_posix()}, line 3:"
    )  # the line of config-objects


def test_load_script_names_the_folder_and_scripts_when_missing(tmp_path):
    config = sessions_config(tmp_path)
    env: dict = {"order": []}
    config.get("main").setup(env, on_error=pytest.fail, verbose=False)
    with pytest.raises(FileNotFoundError, match=r"load_script: no script 'nope' in .*; scripts there: extra"):
        env["load_script"]("nope")


def test_include_sessions_loop_is_refused(tmp_path):
    write(tmp_path, "sessions/__init__.yml", "class: Session\n")
    write(tmp_path, "sessions/a.yml", "name: a\ninclude-sessions: [b]\n")
    write(tmp_path, "sessions/b.yml", "name: b\ninclude-sessions: [a]\n")
    with pytest.raises(ConfigError, match="include-sessions loops: a -> b -> a"):
        load(tmp_path).get("a").object_names()


def test_shell_refuses_a_broken_config_with_one_line_and_exit_1(tmp_path, shell_env):
    write(tmp_path, "sessions/__init__.yml", "class: Session\n")
    write(tmp_path, "sessions/s.yml", "name: s\n")
    bad = write(tmp_path, "motors.yml", "name: roby\n  velocity: 3\n")
    result = run_bliss("-s", "s", "--config", str(tmp_path), "-c", "pass", env=shell_env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"bliss: {bad.as_posix()}, line 2, column")
    assert len(result.stderr.strip().splitlines()) == 1


def test_every_device_class_is_declared():
    assert set(known_classes()) >= {
        "Session", "MeasurementGroup", "SimulationMotor", "SimulationDiode", "SimulationCounter", "SimulationMCA",
        "TangoMotor", "TangoCounter",
    }  # fmt: skip
