"""The README's tour is run as written, in the real shell (``bliss -s demo`` in a terminal), like docs/tutorial.md.

Each ``DEMO [n]:`` line is typed; the lines the README shows after it that the shell prints as they are
(``Out [n]: ...``, an error's ``!!! === ... === !!!`` line, the viewer's URL) must appear, ``...`` standing
for any text, a number ending in ``...`` for any number (a measured value) and a port for any port. Before the
tour, the test points SCAN_SAVING at its own folder (which replaces /tmp/scans, and its node 'scans' in the tree),
so the prompt numbers run one ahead of the README's.
"""

from __future__ import annotations

import re
from pathlib import Path

from terminal import run_bliss

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
SHOWN = ("Out [", "!!! ===", "Live plots of demo:")


def tour() -> list[tuple[str, list[str]]]:
    """(command, the lines shown after it) for each ``DEMO [n]:`` line of the README's session."""
    steps: list[tuple[str, list[str]]] = []
    for line in README.splitlines():
        typed = re.match(r"^    DEMO \[\d+\]: (.*)$", line)
        if typed:
            steps.append((typed.group(1).split("   <- ")[0].strip(), []))
        elif steps and line.strip().startswith(SHOWN):
            steps[-1][1].append(line.strip())
    return steps


def pattern(shown: str, shift: int, base: Path) -> str:
    """The regex of a line the README shows: its prompt number shifted, ``...`` any text, a port any port."""
    shown = re.sub(r"Out \[(\d+)\]", lambda n: f"Out [{int(n.group(1)) + shift}]", shown).replace("/tmp/scans", str(base))
    shown = shown.replace("'scans'", repr(base.name))  # the saving folder's node in the tree
    regex = re.escape(shown)
    regex = re.sub(r"\d+\\\.\d+\\\.\\\.\\\.", r"[-+.e\\d]+", regex)  # 4.996...: a measured value, noise and all
    regex = regex.replace(r"\.\.\.", ".*")
    return re.sub(r":\d{4,5}/", r":\\d+/", regex)


def test_the_readme_tour_gives_the_output_shown(open_terminal, shell_env, tmp_path):
    steps = tour()
    assert len(steps) >= 8 and steps[0][0].startswith("ascan(")  # the README still has its tour
    shell = open_terminal("-s", "demo")
    try:
        shell.prompt(1, timeout=60)
        shell.enter(f"SCAN_SAVING.base_path = '{tmp_path}'")
        for number, (command, shown) in enumerate(steps, start=2):
            shell.prompt(number, timeout=60)
            shell.enter(command)
            for line in shown:
                shell.wait_for(pattern(line, 1, tmp_path), timeout=60)
        shell.prompt(len(steps) + 2, timeout=60)
    finally:
        run_bliss("plot", "demo", "--stop", env=shell_env)  # flint() started a viewer: stop it
