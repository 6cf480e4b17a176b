"""``python -m bliss_shell.simulators INSTANCE [tango options]``: the server ``BlissSimulators``.

Without a Tango database (``-nodb -dlist Class::d/f/m,...``) only the classes the device
list names are served: there, a class with no device stops the server.
"""

import sys

from tango.server import run

from .card import CT2
from .counter import SimCounter
from .lima import LimaCCDs
from .mca import SimMCA
from .motor import SimMotor
from .roi_counter import RoiCounterDeviceServer

SERVER = "BlissSimulators"
CLASSES = (SimMotor, SimCounter, LimaCCDs, RoiCounterDeviceServer, CT2, SimMCA)


def served_classes(args: list[str]) -> tuple[type, ...]:
    """The classes named in ``-dlist`` (all of them when there is no device list).

    Examples
    --------
    >>> served_classes(["test", "-nodb", "-dlist", "CT2::id00/ct2/p201"])
    (<class 'bliss_shell.simulators.card.CT2'>,)
    """
    if "-dlist" not in args[:-1]:
        return CLASSES
    named = {entry.split("::", 1)[0] for entry in args[args.index("-dlist") + 1].split(",")}
    return tuple(cls for cls in CLASSES if cls.__name__ in named)


if __name__ == "__main__":
    run(served_classes(sys.argv[1:]), args=[SERVER, *sys.argv[1:]])
