"""Whether a greenlet is inside its function now, so that an exception thrown into it is raised there.

gevent's ``bool(greenlet)`` is True as soon as a greenlet is scheduled (``start()``), before it ran a
line. An exception thrown into a greenlet that never ran is raised before its function's first line:
its ``try`` cannot catch it, and a KeyboardInterrupt reaches the hub and ends the shell. Ctrl-C at
the prompt (``shell/interrupt.py``) and the kill of a REST call (``rest/calls.py``) both ask
`is_running` first: a running greenlet gets the KeyboardInterrupt, one that has not run yet is
cancelled (it never runs).

Layer: ``comm``, the lowest layer whose job involves greenlets (the session lock's and the
failover's waits run in them) and one that ``rest`` and ``shell`` both import. ``config``, below
it, reads YAML and runs no greenlet: a gevent helper there would give it a job it does not have.

Examples
--------
>>> import gevent
>>> seen = []
>>> worker = gevent.Greenlet(lambda: seen.append(is_running(gevent.getcurrent())) or gevent.sleep(0.01))
>>> worker.start(); bool(worker), is_running(worker)  # scheduled: gevent says True, it has not run
(True, False)
>>> gevent.sleep(0); is_running(worker), seen  # switched into, waiting inside its function
(True, [True])
>>> worker.join(); is_running(worker)  # ended
False
"""

from __future__ import annotations

import gevent

__all__ = ["is_running"]


def is_running(greenlet: gevent.Greenlet) -> bool:
    """True once ``greenlet`` was switched into and until it ends (the current greenlet is running).

    Examples
    --------
    >>> is_running(gevent.getcurrent())
    True
    >>> is_running(gevent.Greenlet(print))
    False
    """
    # a greenlet keeps its frame while it waits elsewhere; it has none before it ran, once it ended, and while it
    # runs (the frame is then the interpreter's current one, not kept in the greenlet)
    return greenlet is gevent.getcurrent() or greenlet.gr_frame is not None
