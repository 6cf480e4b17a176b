"""``kill -USR1 <pid>`` prints every greenlet's stack: for a shell that stopped answering."""

import signal
import sys
from types import FrameType

from gevent.util import format_run_info


def _dump(signum: int, frame: FrameType | None) -> None:
    print("\n=== bliss_shell greenlets (SIGUSR1) ===", file=sys.__stderr__)
    print("\n".join(format_run_info()), file=sys.__stderr__, flush=True)


def install_greenlet_dump() -> None:
    """Make SIGUSR1 print every greenlet's stack on the terminal's stderr (the shell does it at its prompt)."""
    signal.signal(signal.SIGUSR1, _dump)
