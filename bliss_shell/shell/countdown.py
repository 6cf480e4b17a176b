"""``countdown``: wait, showing the seconds left on one line, as BLISS's ``countdown``."""

from __future__ import annotations

import math
import numbers
import sys
import time

import gevent


def countdown(duration_s: float, message: str = "Waiting...", end_message: str | None = None) -> None:
    """Wait ``duration_s`` seconds while the line ``message   N s`` counts down; then print ``end_message``.

    The wait lets everything else run (gevent's sleep) and Ctrl-C ends it, as ``sleep``. In a terminal
    the line is rewritten in place each second; into a file, only its first and last states are written.

    Parameters
    ----------
    duration_s : float
        Seconds to wait, >= 0.
    message : str
        Shown before the seconds left.
    end_message : str, optional
        Printed on its own line when the wait is over.

    Raises
    ------
    ValueError
        ``duration_s`` is not a finite number >= 0.

    Examples
    --------
    >>> countdown(0.2, "waiting for refill", "Go!")
    waiting for refill    1 s
    waiting for refill    0 s
    Go!
    """
    if isinstance(duration_s, bool) or not isinstance(duration_s, numbers.Real) or not 0 <= duration_s < math.inf:
        raise ValueError(f"countdown: duration_s must be a number of seconds >= 0, not {duration_s!r}")
    end = time.monotonic() + float(duration_s)
    live = sys.stdout.isatty()  # a log file gets the first and the last line only
    shown: int | None = None
    while (left := end - time.monotonic()) > 0:
        if math.ceil(left) != shown and (live or shown is None):
            shown = math.ceil(left)
            print(f"\r{message} {shown:4d} s" if live else f"{message} {shown:4d} s", end="" if live else "\n", flush=True)
        gevent.sleep(min(0.1, left))
    print(f"\r{message} {0:4d} s" if live else f"{message} {0:4d} s", flush=True)
    if end_message:
        print(end_message, flush=True)
