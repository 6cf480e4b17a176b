"""``scan.get_data()``: a dict of numpy arrays that also answers to fullnames and objects."""

from __future__ import annotations

from typing import Any

import numpy as np


class ScanData(dict):
    """A scan's data (``scan.get_data()``): one numpy array per channel.

    Keyed by short name (``'diode'``), or by fullname (``'diode:diode'``) where short names clash;
    image channels by fullname, as views (``data['lima_simulator:image'].get_image(-1)``).
    ``data['axis:roby']``, ``data['roby']`` and ``data[roby]`` give the same array.

    Examples
    --------
    >>> data = SCANS[-1].get_data()
    >>> list(data)
    ['roby', 'elapsed_time', 'epoch', 'diode']
    >>> data["roby"]
    array([0., 1., 2., 3., 4.])
    >>> data[roby] is data["axis:roby"] is data["roby"]
    True
    >>> "diode2" in data, diode in data, "timer:epoch" in data
    (False, True, True)
    >>> data["diode2"]
    Traceback (most recent call last):
    ...
    KeyError: "'diode2' is not a channel of this scan; keys: roby, elapsed_time, epoch, diode"
    """

    def __init__(self, by_fullname: dict[str, np.ndarray], sources: dict[str, Any], views: dict[str, Any] | None = None):
        short = [fullname.rsplit(":", 1)[-1] for fullname in by_fullname]
        keyed = {
            (name if short.count(name) == 1 else fullname): values for name, (fullname, values) in zip(short, by_fullname.items())
        }
        keyed.update(views or {})  # Lima image views, always by fullname ('lima_simulator:image')
        super().__init__(keyed)
        self._aliases = {fullname: key for fullname, key in zip(by_fullname, keyed)}
        self._objects = {id(source): key for (fullname, source), key in zip(sources.items(), keyed) if source is not None}

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, str):
            if dict.__contains__(self, key):
                return dict.__getitem__(self, key)
            if key in self._aliases:
                return dict.__getitem__(self, self._aliases[key])
        elif id(key) in self._objects:
            return dict.__getitem__(self, self._objects[id(key)])
        raise KeyError(f"{key!r} is not a channel of this scan; keys: {', '.join(self)}")

    def __contains__(self, key: Any) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True
