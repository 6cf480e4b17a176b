"""What the shell tells the session's plots through Redis: ``plotselect``'s choice and the peak tools' marks.

Both live in the session's plot settings (``plot|<session>``, docs/redis-layout.md), so
every viewer of the session, started before or after, shows them, and a new shell starts
with the choice the last one made. A Redis that does not answer only costs the plot its mark.

Examples
--------
What ``plotselect(diode)`` tells the plots, and what the next shell starts with:

>>> from bliss_shell.scanning.context import current
>>> publish_selection(current(), ["diode"])
>>> client.hget(plot_key("test_session"), "select")
b'["diode"]'
>>> load_selection(client, "test_session")
['diode']
"""

from __future__ import annotations

import json
from typing import Any

from bliss_shell.comm.redis_types import RedisClient, RedisError
from bliss_shell.data.keys import plot_key

from .context import ScanContext


def load_selection(client: RedisClient, session: str) -> list[str]:
    """The counters chosen with plotselect in the session's last shell."""
    try:
        raw = client.hget(plot_key(session), "select")
    except RedisError:
        return []
    return [name for name in json.loads(raw) if isinstance(name, str)] if raw else []


def publish_selection(context: ScanContext, names: list[str]) -> None:
    """Tell the session's plots the counters chosen with plotselect (by name)."""
    _publish(context, "select", names)


def publish_marker(context: ScanContext, scan_db_name: str, tool: str, counter: str, axis: str | None, x: float) -> None:
    """Mark ``x`` on the scan's curve, as Flint marks BLISS's ``cen``, ``peak``, ``com``."""
    _publish(context, "marker", {"scan": scan_db_name, "tool": tool, "counter": counter, "axis": axis, "x": x})


def _publish(context: ScanContext, field: str, value: Any) -> None:
    """Set one field of the session's plot settings, as JSON; a Redis that does not answer is ignored."""
    try:
        context.client.hset(plot_key(context.session), field, json.dumps(value))
    except RedisError:
        pass  # the shell's own result stands; only the plot misses it
