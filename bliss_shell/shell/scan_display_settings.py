"""``SCAN_DISPLAY``: how the shell shows scans, kept per session, as BLISS's ``SCAN_DISPLAY``.

``auto``: the live plots open (``flint()``) when a scan starts, once per shell, as BLISS opens Flint;
``displayed_channels``: the scan table's columns after the motors and ``dt`` (BLISS's ``plotselect``
sets them there; here they are set directly); ``scan_display_filter_enabled`` (False: every column
that fits, whatever ``displayed_channels`` says). BLISS's other Flint settings (``motor_position``,
``extra_args``, ``restart_flint_if_stucked``) have no counterpart: setting one is refused, naming these.

Examples
--------
>>> SCAN_DISPLAY.displayed_channels = ["diode2"]
>>> SCAN_DISPLAY
Parameters (default) -
  .auto                        = False
  .displayed_channels          = ['diode2']
  .scan_display_filter_enabled = True
>>> SCAN_DISPLAY.displayed_channels = []
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bliss_shell.comm import Settings
from bliss_shell.comm.redis_types import RedisClient


class ScanDisplay:
    """The session's ``SCAN_DISPLAY``: whether scans open the live plots, and the scan table's columns; for every shell of it.

    Parameters
    ----------
    session : str
        The session's name.
    client : RedisClient
        Where the choice is kept (with a file of the settings folder, as every setting).

    Examples
    --------
    >>> SCAN_DISPLAY.displayed_channels = ["diode"]  # roby, dt and diode only
    >>> SCAN_DISPLAY.scan_display_filter_enabled = False  # every column again, the choice kept
    >>> SCAN_DISPLAY.scan_display_filter_enabled = True
    >>> SCAN_DISPLAY.displayed_channels = []  # every column that fits
    >>> SCAN_DISPLAY.auto = True  # doctest: +SKIP
    """

    _settings: Settings
    _SETTINGS = ("auto", "displayed_channels", "scan_display_filter_enabled")

    def __init__(self, session: str, client: RedisClient):
        object.__setattr__(self, "_settings", Settings(f"scan_display:{session}", client=client))

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._SETTINGS:
            raise AttributeError(f"SCAN_DISPLAY has no setting {name!r}; it has {', '.join(self._SETTINGS)} (BLISS's "
                                 "other Flint settings have no counterpart here)")  # fmt: skip
        object.__setattr__(self, name, value)

    @property
    def auto(self) -> bool:
        """Open the live plots (``flint()``) when a scan starts, once per shell, as BLISS opens Flint; False by default."""
        return bool(self._settings.get("auto", False))

    @auto.setter
    def auto(self, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise TypeError(f"SCAN_DISPLAY.auto: give True or False, not {enabled!r}")
        self._settings.set(auto=enabled)

    @property
    def displayed_channels(self) -> list[str]:
        """The counters the table shows after the motors and ``dt`` (names or fullnames), in that order; [] for all."""
        return list(self._settings.get("displayed_channels", []))

    @displayed_channels.setter
    def displayed_channels(self, names: list[str]) -> None:
        if isinstance(names, str) or not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise TypeError(f"SCAN_DISPLAY.displayed_channels: give a list of counter names, e.g. ['diode'], not {names!r}")
        self._settings.set(displayed_channels=list(names))

    @property
    def scan_display_filter_enabled(self) -> bool:
        """Whether ``displayed_channels`` chooses the columns (True by default, as in BLISS)."""
        return bool(self._settings.get("scan_display_filter_enabled", True))

    @scan_display_filter_enabled.setter
    def scan_display_filter_enabled(self, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise TypeError(f"SCAN_DISPLAY.scan_display_filter_enabled: give True or False, not {enabled!r}")
        self._settings.set(scan_display_filter_enabled=enabled)

    def columns(self) -> list[str] | None:
        """What the next scan's table is limited to (beside motors and ``dt``); None: every column that fits."""
        chosen = self.displayed_channels
        return chosen if chosen and self.scan_display_filter_enabled else None

    def __repr__(self) -> str:
        return (
            "Parameters (default) -\n"
            f"  .auto                        = {self.auto!r}\n"
            f"  .displayed_channels          = {self.displayed_channels!r}\n"
            f"  .scan_display_filter_enabled = {self.scan_display_filter_enabled!r}"
        )


def opening_plots(watch: Callable[[str], Callable[[], None]], display: ScanDisplay,
                  namespace: dict[str, Any]) -> Callable[[str], Callable[[], None]]:  # fmt: skip
    """``watch``, first opening the live plots (the namespace's ``flint``) once per shell when ``display.auto`` is on.

    The plots failing to open is one line; the scan goes on.
    """
    opened = False

    def watch_and_plot(db_name: str) -> Callable[[], None]:
        nonlocal opened
        flint = namespace.get("flint")
        if not opened and callable(flint) and display.auto:
            opened = True
            try:
                flint()
            except Exception as error:
                print(f"SCAN_DISPLAY.auto: the live plots could not be opened ({type(error).__name__}: {error}); "
                      "the scan goes on", flush=True)  # fmt: skip
        return watch(db_name)

    return watch_and_plot
