"""A reader process: follows one scan of a session through ``walk_events`` and checks every point.

Started before the scan; prints ``ready``, then at that scan's END_SCAN one JSON line: per
channel, the number of points seen, whether every block came once and in order, and the END's
state and reason. Used by tests/test_load.py, tests/test_redis_topologies.py and bench/load.py.

Usage: python follow_points.py SESSION SCAN_NAME     (SCAN_NAME as in the tree: 3_loopscan)
"""

import json
import sys

from bliss_shell.data import EventType, get_session_node

session, scan_name = sys.argv[1:3]
counts: dict[str, int] = {}
in_order = True
print("ready", flush=True)
others = lambda node: node.type == "scan" and node.name != scan_name  # noqa: E731  (not their data: not ours)
for event in get_session_node(session).walk_events(exclude_children=others):
    if event.type is EventType.NEW_DATA and f":{scan_name}:" in event.node.db_name:
        name = event.node.fullname
        in_order &= event.data.first_index == counts.get(name, 0)
        counts[name] = counts.get(name, 0) + event.data.block_size
    elif event.type is EventType.END_SCAN and event.node.name == scan_name:
        print(json.dumps({"counts": counts, "in_order": in_order, **event.data.data}), flush=True)
        break
