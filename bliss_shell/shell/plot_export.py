"""``elog_plot()`` at the prompt: a picture of the live plot, saved beside the session's logbook and noted in it.

BLISS's ``elog_plot()`` sends Flint's current plot to the e-logbook. Here the live plots' viewer
draws it (its ``/png``, docs/plots.md): no browser is needed, only the viewer (``flint()``
starts it). The PNG goes to ``<session>_plots/`` beside ``<session>_logbook.txt``, and the
logbook gets a line naming it (``plot: .../demo_plots/2026-12-07_10-31-02_demo_5_ascan_curve.png``).

Examples
--------
Before ``flint()``, nothing draws the plots:

>>> elog_plot()
elog_plot: the live plots of test_session are not running: flint() starts them
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from bliss_shell.comm.redis_types import RedisClient
from bliss_shell.plot.launcher import find_viewer
from bliss_shell.scanning import current
from bliss_shell.scanning.logbook import add_entry, session_logbook

PNG_TIMEOUT = 30.0  # s for the viewer to read the scan and draw it (it runs at nice 19)


class NoPicture(RuntimeError):
    """The viewer could not give the picture; the message is its one line."""


def fetch_png(client: RedisClient, session: str, scan: str | None = None, plot: str | None = None) -> tuple[bytes, str]:
    """The PNG the session's viewer draws (``/png``) and the file name it gives it.

    Parameters
    ----------
    client : RedisClient
        Where the session's plot settings say where its viewer listens.
    session : str
        The session.
    scan, plot : str, optional
        The viewer's ``?scan=`` and ``?plot=``: by default what its page used last shows.

    Raises
    ------
    NoPicture
        No viewer runs, or it has nothing to draw (its one-line answer).

    Examples
    --------
    >>> png, name = fetch_png(client, "test_session", plot="curve")  # doctest: +SKIP
    >>> name  # doctest: +SKIP
    'test_session_2_ascan_curve.png'
    """
    record = find_viewer(client, session)
    if record is None:
        raise NoPicture(f"the live plots of {session} are not running: flint() starts them")
    query = urllib.parse.urlencode({key: value for key, value in (("scan", scan), ("plot", plot)) if value is not None})
    try:
        with urllib.request.urlopen(record["url"] + "png" + (f"?{query}" if query else ""), timeout=PNG_TIMEOUT) as answer:
            return answer.read(), answer.headers.get_filename() or f"{session}_plot.png"
    except urllib.error.HTTPError as error:  # the viewer's refusals are one line of text; anything else (a 500 page) is not
        said = error.read().decode(errors="replace").strip() if error.headers.get_content_type() == "text/plain" else ""
        raise NoPicture(said or f"the live plots of {session} answered {error.code} {error.reason}") from None
    except OSError as error:
        raise NoPicture(f"the live plots of {session} at {record['url']} did not answer ({error})") from None


def elog_plot(controller: Any = None) -> Path | None:
    """Save a picture of the live plot beside the session's logbook, and note it there, as BLISS's ``elog_plot``.

    The curves of the session's last scan as the page used last shows them (ticked counters, zoom),
    or as a new page would (plotselect's counters) when no page shows it. Drawn by the viewer: no
    browser needed. Give a Lima detector for the newest frame, an MCA for the newest spectrum. Prints where
    the picture went.

    Parameters
    ----------
    controller : Lima or MCA, optional
        Whose plot: by default the curves (as BLISS's).

    Returns
    -------
    Path or None
        The PNG; None (after one line that says why) when the live plots do not run or have nothing to draw,
        or the picture cannot be saved. A logbook that cannot be written keeps the picture (a warning says so).

    Examples
    --------
    >>> elog_plot()  # doctest: +SKIP
    Plot saved to /data/id00/inhouse/demo/demo_plots/2026-12-07_10-31-02_demo_5_ascan_curve.png (logbook entry added)
    >>> elog_plot(mca1)  # doctest: +SKIP
    """
    plot = _plot_of(controller)
    context = current()
    try:
        logbook = session_logbook(context)
    except Exception as error:  # SCAN_SAVING unreadable (Redis gone, a bad value): nowhere to save the picture
        print(f"elog_plot: the plot was not saved: the saving folder is unknown ({type(error).__name__}: {error})")
        return None
    last = next((scan.node for scan in reversed(context.scans) if scan.node is not None), None)
    try:  # the session's last scan: the viewer waits until it has read it
        png, name = fetch_png(context.client, context.session, last.db_name if last else None, plot)
    except NoPicture as error:
        print(f"elog_plot: {error}")
        return None
    path = logbook.parent / f"{context.session}_plots" / f"{datetime.now():%Y-%m-%d_%H-%M-%S}_{name}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
    except OSError as error:
        print(f"elog_plot: cannot write {path}: {error.strerror or error}")
        return None
    noted = add_entry(logbook, f"plot: {path}")  # False after its warning: the picture stays
    print(f"Plot saved to {path} " + ("(logbook entry added)" if noted else "(not in the logbook: see the warning above)"))
    return path


def _plot_of(controller: Any) -> str:
    if controller is None:
        return "curve"
    # imported here: their modules load PyTango, which a session without Tango devices need not
    from bliss_shell.controllers.lima import Lima
    from bliss_shell.controllers.simulation_counters import SimulationMCA
    from bliss_shell.controllers.tango_mca import TangoMCA

    if isinstance(controller, Lima):
        return "image"
    if isinstance(controller, (SimulationMCA, TangoMCA)):
        return "spectrum"
    raise TypeError(f"elog_plot: give a Lima detector or an MCA, or nothing for the curves; not {controller!r}")
