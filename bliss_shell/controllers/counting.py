"""Waiting on a counting device with a deadline, and counting one point: shared by the counter card and the MCA."""

from __future__ import annotations

import time
from collections.abc import Callable

import gevent

from bliss_shell.config import ConfigNode

from .acquisition import AcquisitionObject, AcquisitionParameters, Block, Timing

DEFAULT_TIMEOUT = 3.0  # s a device may take beyond the count time
_FIRST_POLL = 0.0005
_POLL = 0.005


def timeout_setting(node: ConfigNode) -> float:
    """The ``timeout`` key of a counting device's config: seconds it may take beyond the count time (default 3).

    Raises
    ------
    ValueError
        ``timeout`` is not a number above 0.

    Examples
    --------
    >>> timeout_setting(config.get_config("p201"))  # doctest: +SKIP
    3.0
    """
    value = node.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{node.where}: {node.name}: timeout must be a positive number of seconds, not {value!r}")
    return float(value)


def poll_until(done: Callable[[], bool], seconds: float, waited_for: Callable[[], str]) -> None:
    """Call ``done`` until it returns True; after ``seconds``, ``TimeoutError(waited_for())``.

    Polls soon at first, then every 5 ms: a short count is seen soon, a long one costs few calls.

    Raises
    ------
    TimeoutError
        ``done`` still returns False after ``seconds``; the message is ``waited_for()``.

    Examples
    --------
    >>> poll_until(lambda: roby.state == "READY", 1.5, lambda: "roby: still moving")
    >>> poll_until(lambda: False, 0.01, lambda: "p201: still counting")
    Traceback (most recent call last):
    ...
    TimeoutError: p201: still counting
    """
    deadline = time.monotonic() + seconds
    poll = _FIRST_POLL
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(waited_for())
        gevent.sleep(poll)
        poll = min(2 * poll, _POLL)


def count_once(acquisition: AcquisitionObject, count_time: float) -> Block:
    """One point of ``acquisition``, as a step scan counts it (what a counter's ``read(count_time)`` does).

    Examples
    --------
    >>> count_once(diode.controller.acquisition_object([diode]), 0.1)
    {'diode': [...]}
    >>> count_once(p201.acquisition_object([ct1]), 0.1)  # doctest: +SKIP
    {'ct1': [...]}
    """
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=count_time, timing=Timing.STEP))
    try:
        acquisition.start()
        acquisition.trigger()
        gevent.sleep(count_time)
        acquisition.wait_ready()
        return acquisition.read()
    finally:
        acquisition.stop()
