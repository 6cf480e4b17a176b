"""The numpy, time and pprint names of BLISS's standard namespace: ``sin(0.5)``, ``rand()``, ``date()``, ``pprint(x)``.

The list is BLISS 1.11's (``bliss/shell/standard.py``): numpy's ``sin``, ``cos``, ``tan``, ``arcsin``,
``arccos``, ``arctan``, ``arctan2``, ``log``, ``log10``, ``sqrt``, ``exp``, ``power``, ``deg2rad``,
``rad2deg``; ``rand`` (``numpy.random.rand``); ``date`` (``time.asctime``); ``pprint``. ``sleep`` is
given by the namespace itself (gevent's).

Examples
--------
>>> SHORTCUTS["sqrt"](16.0), SHORTCUTS["rad2deg"](np.pi)
(np.float64(4.0), np.float64(180.0))
>>> SHORTCUTS["date"](time.localtime(0)) == time.asctime(time.localtime(0))
True
"""

from __future__ import annotations

import time
from pprint import pprint
from typing import Any

import numpy as np

_NUMPY = ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "log", "log10", "sqrt", "exp", "power", "deg2rad",
          "rad2deg")  # fmt: skip

SHORTCUTS: dict[str, Any] = {
    **{name: getattr(np, name) for name in _NUMPY},
    "rand": np.random.rand,
    "date": time.asctime,
    "pprint": pprint,
}
