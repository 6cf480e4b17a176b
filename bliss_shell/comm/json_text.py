"""Scan info as strict JSON: what Redis (the 1.x ``info|`` keys, blissdata's documents) and the files hold.

JSON has no NaN nor infinity: they become null. numpy scalars and arrays become Python numbers and
lists; any other type its text. One encoder for the publisher, the blissdata 2 documents and the writer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as strict JSON holds it: numpy values as Python ones, NaN and infinities as None.

    Examples
    --------
    >>> import numpy as np
    >>> plain({"a": np.arange(2), "b": float("nan"), "c": np.float32(0.5), "d": (np.inf, 1)})
    {'a': [0, 1], 'b': None, 'c': 0.5, 'd': [None, 1]}
    """
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy scalars and arrays
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}  # json refuses keys other than text and numbers
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (str, int)):
        return value
    return str(value)


def json_text(value: Any) -> str:
    """``value`` as strict JSON text (``plain``; at C speed when it holds no NaN nor infinity).

    Examples
    --------
    >>> json_text({"title": "ct 0.1", "roby": float("nan")})
    '{"title": "ct 0.1", "roby": null}'
    """
    try:
        return json.dumps(value, allow_nan=False, default=_numpy)
    except ValueError:  # a NaN or an infinity somewhere: null in its place
        return json.dumps(plain(value), allow_nan=False)


def _numpy(value: Any) -> Any:
    """What ``json.dumps`` cannot take itself: numpy scalars and arrays as Python values, any other as text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
