"""The ``bliss`` command, the ptpython REPL and (later) the live scan display.

Top layer: may import every other layer; see docs/architecture.md.
"""
