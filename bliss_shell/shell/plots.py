"""``flint()`` at the prompt and ``bliss plot SESSION``: the session's live plots, in the browser.

Where the viewer listens comes from the root ``__init__.yml`` (``plot_address``, default
127.0.0.1; ``plot_port``, default 0: any free port) unless a flag names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bliss_shell.comm.embedded_redis import runtime_dir
from bliss_shell.comm.redis_types import RedisClient
from bliss_shell.config import ConfigError
from bliss_shell.plot.launcher import open_viewer


def viewer_address(settings: dict[str, Any]) -> tuple[str, int]:
    """``(address, port)`` of the config's ``plot_address`` and ``plot_port``.

    Raises
    ------
    ConfigError
        The address is not a non-empty string, or the port not a whole number from 0 to 65535.

    Examples
    --------
    >>> viewer_address({})
    ('127.0.0.1', 0)
    >>> viewer_address({"plot_address": "0.0.0.0", "plot_port": 5006})
    ('0.0.0.0', 5006)
    >>> viewer_address({"plot_port": "5006"})
    Traceback (most recent call last):
    ...
    bliss_shell.config.errors.ConfigError: the config's root __init__.yml: plot_port '5006' is not a port number (0 to 65535; 0: any)
    """
    address, port = settings.get("plot_address", "127.0.0.1"), settings.get("plot_port", 0)
    if not isinstance(address, str) or not address:
        raise ConfigError(f"the config's root __init__.yml: plot_address {address!r} is not a host name or address")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"the config's root __init__.yml: plot_port {port!r} is not a port number (0 to 65535; 0: any)")
    return address, port


def show_plots(client: RedisClient, session: str, redis_url: str, address: str, port: int) -> str:
    """Find or start the viewer; print and return its URL."""
    url = open_viewer(client, session, redis_url, address, port, runtime_dir() / f"plot-{session}.log")
    print(f"Live plots of {session}: {url}")
    return url


def make_flint(client: RedisClient, session: str, redis_url: str, settings: dict[str, Any]) -> Callable[[], None]:
    """The session's ``flint()``."""
    address, port = viewer_address(settings)

    def flint() -> None:
        """Open the session's live plots in the browser (started if none runs) and print their URL.

        A browser opens the page when the machine has a screen; else open the URL printed, on this
        machine or through an SSH tunnel.

        Examples
        --------
        >>> flint()  # doctest: +SKIP
        Live plots of demo: http://127.0.0.1:40123/
        """
        show_plots(client, session, redis_url, address, port)

    return flint
