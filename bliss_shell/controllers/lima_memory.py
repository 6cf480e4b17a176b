"""A frame read from a Lima server's memory, for readers (``data/lima_view.py``): the one Tango call they make.

A reader is a shell (gevent) or the viewer (threads): the proxy is green in the first, plain in the second.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
from gevent import monkey

from .lima_protocol import decode_data_array

if TYPE_CHECKING:
    import tango


def frame_from_server(server_url: str, index: int) -> np.ndarray | None:
    """Frame ``index`` of the server's current acquisition (``readImage``), or None when the server cannot give it.

    None when the server does not answer or refuses (the frame is gone from its memory, or never came):
    the caller reads the saved file instead.

    Parameters
    ----------
    server_url : str
        The Lima server's Tango URL, as its node's ``server_url``.
    index : int
        The frame's number in the acquisition, from 0.

    Examples
    --------
    >>> frame_from_server("tango://localhost:1/id00/limaccds/simulator1", 0) is None  # no Tango there
    True
    >>> frame_from_server("tango://localhost:20000/id00/limaccds/simulator1#dbase=no", 0).shape  # doctest: +SKIP
    (24, 32)
    """
    import tango  # loaded on the first frame read: a session opens without PyTango

    try:
        _, raw = _proxy(server_url).readImage(index)
    except tango.DevFailed:
        return None
    return decode_data_array(raw)


def _proxy(url: str) -> tango.DeviceProxy:
    """One proxy per server: green in a gevent process (the shell), plain in a threaded reader (the viewer)."""
    return _cached_proxy(url, monkey.is_module_patched("socket"))


@functools.lru_cache(maxsize=16)
def _cached_proxy(url: str, green: bool) -> tango.DeviceProxy:
    # Building a proxy asks the Tango database each time.
    import tango

    return tango.DeviceProxy(url, green_mode=tango.GreenMode.Gevent if green else tango.GreenMode.Synchronous)
