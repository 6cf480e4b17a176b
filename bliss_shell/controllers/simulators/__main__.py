"""``python -m bliss_shell.controllers.simulators INSTANCE [tango options]``: the server ``BlissSimulators``."""

import sys

from tango.server import run

from .counter import SimCounter
from .lima import LimaCCDs
from .motor import SimMotor

SERVER = "BlissSimulators"

if __name__ == "__main__":
    run((SimMotor, SimCounter, LimaCCDs), args=[SERVER, *sys.argv[1:]])
