"""What a user set survives `bliss servers stop`: the embedded Redis, the Tango database and the device servers."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from terminal import run_bliss

CONFIG = """
- name: sims
  class: TangoServer
  instance: psims
  devices:
    SimMotor: [id00/motor/pm1]
    SimCounter: [id00/counter/pc1, id00/counter/pc2]
- name: pm1
  class: TangoMotor
  tango_url: id00/motor/pm1
  velocity: 100
  acceleration: 10000
  low_limit: -10
  high_limit: 10
- name: pc1
  class: TangoCounter
  tango_url: id00/counter/pc1
- name: pc2
  class: TangoCounter
  tango_url: id00/counter/pc2
- name: PMG
  class: MeasurementGroup
  counters: [pc1, pc2]
- name: PMG2
  class: MeasurementGroup
  counters: [pc1]
- name: psess
  class: Session
"""

SET = "; ".join([
    "mv(pm1, 7.5)", "pm1.velocity = 123", "pm1.position = 10", "set_lim(pm1, -5, 12)", "PMG.disable('pc2')",
    "PMG2.set_active()", "SCAN_SAVING.data_filename = 'kept'",
])  # fmt: skip
SHOW = "print(pm1.dial, pm1.position, pm1.velocity, pm1.limits, PMG.enabled, ACTIVE_MG.name, SCAN_SAVING.data_filename)"


def test_motor_group_and_saving_settings_survive_stopping_every_server(tmp_path, shell_env):
    (tmp_path / "beamline").mkdir()
    (tmp_path / "beamline" / "devices.yml").write_text(CONFIG)
    (tmp_path / "beamline" / "__init__.yml").write_text("tango_host: embedded\n")  # the shell's own database (docs/tango.md)
    run = Path(tempfile.mkdtemp(prefix="bst-"))  # short: the embedded Redis's socket path must fit 107 bytes
    env = dict(shell_env, XDG_RUNTIME_DIR=str(run))
    for name in ("TANGO_HOST", "BLISS_REDIS_URL"):  # the embedded Redis and Tango database, as a user has them
        env.pop(name, None)
    config = ("--config", str(tmp_path / "beamline"))
    try:
        first = run_bliss("-s", "psess", *config, "-c", SET, env=env)
        assert first.returncode == 0, first.stderr
        stopped = run_bliss("servers", "stop", *config, env=env).stdout
        assert "redis: embedded server (pid" in stopped and "BlissSimulators/psims: (pid" in stopped, stopped
        again = run_bliss("-s", "psess", *config, "-c", SHOW, env=env)
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines()[-1] == "7.5 10.0 123.0 (-5.0, 12.0) ['pc1'] PMG2 kept"
        settings = Path(shell_env["HOME"]) / ".local" / "state" / "bliss_shell" / "settings" / "default"
        assert json.loads((settings / "axis:pm1.json").read_text())["velocity"] == 123
        behind = "tango.DeviceProxy('id00/motor/pm1').write_attribute('Velocity', 77.0)"  # as on the controller's own panel
        synced = run_bliss("-s", "psess", *config, "-c", f"import tango; {behind}; sync(pm1); print(pm1.velocity)", env=env)
        assert synced.returncode == 0, synced.stderr
        assert run_bliss("-s", "psess", *config, "-c", "print(pm1.velocity)", env=env).stdout.splitlines()[-1] == "77.0"
    finally:
        run_bliss("servers", "stop", *config, env=env)
        shutil.rmtree(run, ignore_errors=True)
