"""``silx_view`` and ``pymca``: a scan's file in silx or PyMca, as BLISS's commands of those names.

BLISS starts ``python -m silx.app.view.main`` and ``python -m PyMca5...`` in its own environment. Here
the programs are looked for on ``PATH`` (``silx``, ``pymca``), then beside the shell's own Python (a
``.venv/bin/bliss`` started without activating its environment finds the silx of that environment); each runs as a process of its own (closing the shell leaves it open; Ctrl-C does not reach it). When the program is not
installed, one line says so and what to install.

Examples
--------
A scan that was not saved has no file to open:

>>> s = ct(0.01, diode)
diode = ... (... /s) diode
>>> silx_view(s)
Traceback (most recent call last):
...
ValueError: silx_view: Scan(...name=ct, path=<no saving>) was not saved, there is no file to open (...)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bliss_shell.scanning import Scan, current
from bliss_shell.writer import entry_name


def silx_view(scan: Scan | int | None = None) -> None:
    """Open a scan's entry of its HDF5 file in silx view.

    Parameters
    ----------
    scan : Scan or int, optional
        The scan, or its index in ``SCANS`` (``-1``: the last); default: the last scan saved, else the
        file the next scan is saved in (``SCAN_SAVING.filename``) when it exists.

    Raises
    ------
    ValueError
        The scan was not saved (``ct``, ``save=False``): it has no file; or no index ``scan`` in ``SCANS``.

    Examples
    --------
    >>> silx_view()  # doctest: +SKIP
    silx_view: silx view /data/id00/inhouse/demo/data.h5::/3.1
    >>> silx_view(SCANS[-2])  # doctest: +SKIP
    """
    chosen = _scan("silx_view", scan)
    if chosen is not None:
        target = f"{chosen.path}::/{entry_name(chosen.number)}"
    else:
        target = _next_file("silx_view")
    _start("silx_view", "silx", ["view", target], "pip install silx")


def pymca(scan: Scan | None = None) -> None:
    """Open a scan's HDF5 file in PyMca.

    Parameters
    ----------
    scan : Scan, optional
        Default: the last scan saved, else the file the next scan is saved in, when it exists.

    Raises
    ------
    ValueError
        The scan was not saved (``ct``, ``save=False``): it has no file.

    Examples
    --------
    >>> pymca()  # doctest: +SKIP
    pymca: pymca /data/id00/inhouse/demo/data.h5
    """
    chosen = _scan("pymca", scan)
    _start("pymca", "pymca", [chosen.path if chosen is not None else _next_file("pymca")], "pip install PyMca5")


def _scan(command: str, scan: Any) -> Any:
    """The scan given (or by its index in SCANS), else the last one saved, else None."""
    scans = current().scans
    if scan is None:
        return next((earlier for earlier in reversed(scans) if earlier.path and earlier.number), None)
    if isinstance(scan, int) and not isinstance(scan, bool):
        try:
            scan = scans[scan]
        except IndexError:
            raise ValueError(f"{command}: no scan {scan} in SCANS, which holds {len(scans)}") from None
    if not isinstance(scan, Scan):
        raise TypeError(f"{command}: {scan!r} is not a scan; give one of SCANS, e.g. {command}(SCANS[-1])")
    if not scan.path or not scan.number:
        raise ValueError(f"{command}: {scan!r} was not saved, there is no file to open (sct, and every scan but ct, saves)")
    return scan


def _next_file(command: str) -> str:
    filename = current().scan_saving.filename
    if not filename or not Path(filename).exists():
        raise ValueError(f"{command}: no scan of this session was saved and {filename or 'no file'} does not exist yet; "
                         "run a scan first")  # fmt: skip
    return filename


def _start(command: str, program: str, arguments: list[str], install: str) -> None:
    """Start ``program`` in a process of its own, or say in one line that it is not installed."""
    path = shutil.which(program) or shutil.which(program, path=str(Path(sys.executable).parent))
    if path is None:
        print(f"{command}: {program} is not installed here (no '{program}' on PATH nor beside {sys.executable}); "
              f"{install}, or open the file elsewhere")  # fmt: skip
        return
    # started through sh in the background, in a session of its own: it outlives the shell, is never its zombie,
    # and Ctrl-C at the prompt does not reach it
    subprocess.run(["/bin/sh", "-c", '"$@" </dev/null >/dev/null 2>&1 &', "sh", path, *arguments], check=True,
                   start_new_session=True)  # fmt: skip
    print(f"{command}: {program} {' '.join(arguments)}")
