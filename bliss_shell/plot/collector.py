"""One garbage collection for the pages closed together, where Bokeh runs one per page.

Bokeh's ``Document.destroy`` runs a full ``gc.collect()`` for every page whose session ends
(bokeh/document/document.py says it should not be needed), and the server ends the sessions
that expired together in one go, without letting the loop run in between. Each collection
scans every object of the viewer: about 0.2 s with 20 pages open on a quiet machine, far more
at nice 19 on a busy one. 20 pages closed at once during a fast scan kept the viewer from
answering anything, ``/status`` included, for 17 s. ``defer_bokeh_collections`` makes each of
those calls ask for one collection, run ``DELAY`` s later on the loop, for all of them.

Examples
--------
>>> defer_bokeh_collections(viewer_loop)  # what ``Viewer.run`` does  # doctest: +SKIP
"""

from __future__ import annotations

import gc

import bokeh.document.document as bokeh_document
from tornado.ioloop import IOLoop

DELAY = 1.0  # s from the first page closed to the collection (the pages closed meanwhile go with it)


class DeferredCollector:
    """What Bokeh's document module calls as ``gc``: ``collect()`` schedules one collection on the loop.

    Examples
    --------
    >>> loop = IOLoop(make_current=False)
    >>> collector = DeferredCollector(loop)
    >>> collector.collect(), collector.collect()  # one collection scheduled, DELAY s from now (once the loop runs)
    (0, 0)
    >>> loop.close()
    """

    def __init__(self, loop: IOLoop):
        self._loop = loop
        self._scheduled = False

    def collect(self) -> int:
        """Schedule a full collection unless one is; 0, as nothing was collected yet."""
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_later(DELAY, self._run)
        return 0

    def _run(self) -> None:
        self._scheduled = False
        gc.collect()


def defer_bokeh_collections(loop: IOLoop) -> None:
    """Make the collections Bokeh runs when pages close one collection on ``loop``, ``DELAY`` s later."""
    if getattr(bokeh_document, "gc", None) is gc:  # a Bokeh that no longer collects there needs nothing
        setattr(bokeh_document, "gc", DeferredCollector(loop))  # noqa: B010 (a module's name, not an attribute)
