"""``python -m bliss_shell.controllers.simulators INSTANCE [-nodb -ORBendPoint ... -dlist ...]``."""

from tango.server import run

from .counter import SimCounter
from .motor import SimMotor

if __name__ == "__main__":
    run((SimMotor, SimCounter))
