"""``python -m bliss_shell.writer guard SHELL_PID STATE_FILE``: the guard of a shell's scan files (``guard.py``)."""

import sys
from pathlib import Path

from .guard import guard

if __name__ == "__main__" and sys.argv[1:2] == ["guard"]:
    for entry in guard(int(sys.argv[2]), Path(sys.argv[3])):
        print(f"{sys.argv[3]}: entry {entry} marked interrupted (shell {sys.argv[2]} died)", flush=True)
