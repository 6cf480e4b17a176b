"""The Redis data-node tree: publishing, ``get_node``, ``walk``, ``walk_events``, ``get``.

Layer: above ``controllers``; see docs/architecture.md.
"""
