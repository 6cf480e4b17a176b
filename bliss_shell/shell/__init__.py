"""The ``bliss`` command: the session's namespace, the ptpython REPL, the live scan display and the plots.

Top layer: may import every other layer; see docs/architecture.md.
"""
