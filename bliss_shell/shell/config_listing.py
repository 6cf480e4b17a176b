"""``lsconfig``: every object of the config, the session's or not, grouped by class, as BLISS's ``lsconfig``.

Examples
--------
>>> make_lsconfig(config)()
<BLANKLINE>
SimulationDiode:
---------------
diode    diode2   c1       c2
<BLANKLINE>
...
SimulationMotor:
---------------
roby   robz   slowy
...
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from bliss_shell.config import Config


def make_lsconfig(config: Config) -> Callable[[], None]:
    """The session's ``lsconfig``, listing ``config``."""

    def lsconfig() -> None:
        """Print every object found in the config, by class: not only the objects of this session.

        An object without ``class`` (a plain settings mapping) is listed under ``None``, as in BLISS.

        Examples
        --------
        >>> lsconfig()
        <BLANKLINE>
        SimulationMotor:
        ---------------
        roby   robz   slowy
        ...
        """
        by_class: dict[str, list[str]] = {}
        for name in config.names():
            by_class.setdefault(str(config.get_config(name).get("class")), []).append(name)
        width = shutil.get_terminal_size((100, 24)).columns
        print()
        for class_name, names in by_class.items():
            print(f"{class_name}:\n{'-' * len(class_name)}")
            column = max(len(name) for name in names) + 2
            per_line = max(1, width // column)
            for start in range(0, len(names), per_line):
                print("".join(f"{name:{column}}" for name in names[start : start + per_line]).rstrip())
            print()

    return lsconfig
