"""A continuous scan's period (``acq_time``) is refused in one line naming it, before anything moves or is published."""

from __future__ import annotations

import os

import pytest


@pytest.mark.parametrize(
    "command, args, message",
    [
        ("fscan", ("roby", 0, 0.1, 10, 0, "diode"), "fscan: acq_time must be a finite number of seconds > 0, not 0"),
        ("fscan", ("roby", 0, 0.1, 10, -0.5, "diode"), "fscan: acq_time must be a finite number of seconds > 0, not -0.5"),
        ("fscan", ("roby", 0, 0.1, 10, "1", "diode"), "fscan: acq_time must be a finite number of seconds > 0, not '1'"),
        ("ftimescan", (0, 10, "diode"), "ftimescan: acq_time must be a finite number of seconds > 0, not 0"),
        ("ftimescan", (float("nan"), 10, "diode"), "ftimescan: acq_time must be a finite number of seconds > 0, not nan"),
    ],
)
def test_a_period_that_is_not_above_zero_is_refused(session, redis_client, command, args, message):
    args = tuple(session[a] if isinstance(a, str) and a in session else a for a in args)
    before = session["roby"].position
    with pytest.raises(ValueError) as caught:
        session[command](*args)
    assert str(caught.value) == message
    assert session["roby"].position == before
    assert not any(key.startswith(b"node|{test_session}:") for key in redis_client.keys("node|*"))  # nothing numbered
    assert len(session["SCANS"]) == 0
    assert not os.path.exists(session["SCAN_SAVING"].filename)
