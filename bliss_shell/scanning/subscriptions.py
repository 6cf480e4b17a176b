"""The session's consumers: what each scan hands its points and its end to, and what a failing one costs.

``current().consumers`` lists factories, in order (as bluesky's ``RunEngine.subscribe``): each makes
one consumer per scan from its ``ScanStart``. A session starts with the scan's record keepers (the Lima
cameras' frames, the file, Redis), which stay first and cannot be unsubscribed, then the live display
and the logbook; ``subscribe`` adds one after the others, ``unsubscribe`` takes it away.

Two kinds, said when subscribing:

- a data consumer (``data=True``: Redis, the file, the cameras' frames) keeps the scan's record: its
  failure ends the scan as ``failed``, with a reason that names it; its end always runs. Redis's consumer
  never fails it: its publisher sends in the background, and a Redis that refuses or goes away is a warning
  line (``get_data`` then reads the file).
- an observer (the default: the logbook, the display, a consumer typed at the prompt) never fails a
  scan: its error is one warning line naming it, once per scan, and the scan goes on.

At the end, the other data consumers end first, then the record keepers (the cameras' frames give the
file its image links, then the file, which so knows every failure), then the scan's node in Redis gets
the final info and END, then the observers that ``always_ends`` (the logbook: its line says the end
every record got), all of them even through a second Ctrl-C; then the other observers (the display),
which a second Ctrl-C skips. A data consumer's factory that fails leaves the other data consumers
unmade (no point will come) but the observers are made, and the logbook has the failed scan's line.

Examples
--------
>>> from bliss_shell.scanning import current
>>> current().consumers
Subscriptions(lima frames, file, redis, display, logbook)
>>> def broken(start):
...     return 1 / 0
>>> token = current().consumers.subscribe(broken)
>>> loopscan(2, 0, diode)
WARNING: broken consumer failed: ZeroDivisionError: division by zero; the scan goes on
Scan(number=..., name=loopscan, path=.../data.h5)
>>> SCANS[-1].state
'done'
>>> current().consumers.unsubscribe(token)
>>> current().consumers.unsubscribe("file")
Traceback (most recent call last):
...
ValueError: consumers.unsubscribe: 'file' keeps the scans' record (lima frames, file, redis) and cannot be unsubscribed; to save nothing, set SCAN_SAVING.writer = 'null' or give save=False
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from .consumers import ConsumerFactory, Ending, RedisConsumer, ScanConsumer, ScanStart, display_consumer, file_consumer
from .lima_frames import lima_frames
from .logbook import logbook_consumer
from .records import Points

Result = TypeVar("Result")


class ConsumerError(RuntimeError):
    """A data consumer failed while the scan ran: the message names it."""


@dataclass(frozen=True, eq=False)  # each one is itself: a token unsubscribes its own subscription only
class Subscription:
    """One factory of the session's consumers, its name and its kind (what ``subscribe`` returns).

    Examples
    --------
    One made for one scan only (``Scan.run(consumers=...)``), with a ``ScanConsumer`` class as its factory:

    >>> from bliss_shell.scanning import ScanConsumer
    >>> class Said(ScanConsumer):
    ...     def __init__(self, start):
    ...         self.title = start.plan.title
    ...     def end(self, ending):
    ...         print(self.title, ending.state.value)
    >>> loopscan(3, 0, diode, run=False).run(consumers=[Subscription("said", Said)])
    loopscan 3 0 done
    Scan(number=..., name=loopscan, path=.../data.h5)
    """

    name: str  # in messages: "logbook consumer failed: ..."
    make: ConsumerFactory
    data: bool = False  # keeps the scan's record: its failure fails the scan
    always_ends: bool = False  # its end runs even through a second Ctrl-C (a data consumer's always does)
    record: bool = False  # one of the scan's record keepers: never unsubscribed, ends after the other data consumers

    @property
    def essential(self) -> bool:
        """Its end runs whatever happens, before the others'."""
        return self.data or self.always_ends


class Subscriptions:
    """The session's consumer factories, in the order their consumers take points and ends.

    Parameters
    ----------
    subscriptions : iterable of Subscription
        The factories to start with.

    Examples
    --------
    >>> from bliss_shell.scanning import current
    >>> class Count(ScanConsumer):
    ...     def __init__(self, start):
    ...         self.points = 0
    ...     def add_points(self, points, count):
    ...         self.points += count
    ...     def end(self, ending):
    ...         print(f"{self.points} points, {ending.state.value}")
    >>> token = current().consumers.subscribe(Count, name="count")
    >>> s = loopscan(4, 0, diode)
    4 points, done
    >>> current().consumers.unsubscribe("count")
    >>> current().consumers.unsubscribe("count")
    Traceback (most recent call last):
    ...
    ValueError: consumers.unsubscribe: no consumer 'count' is subscribed: lima frames, file, redis, display, logbook
    """

    def __init__(self, subscriptions: Iterable[Subscription] = ()):
        self._subscriptions = list(subscriptions)

    def subscribe(self, make: ConsumerFactory, name: str | None = None, *, data: bool = False,
                  always_ends: bool = False) -> Subscription:  # fmt: skip
        """Add a factory: every scan from now on makes its consumer, after the others.

        Parameters
        ----------
        make : callable
            Takes the ``ScanStart``, returns a ``ScanConsumer`` (or None: nothing for that scan); a
            ``ScanConsumer`` class whose ``__init__`` takes the ``ScanStart`` is one.
        name : str, optional
            What warnings and reasons call it; the factory's ``__name__`` by default.
        data : bool
            True: it keeps the scan's record, and its failure fails the scan. False: it only observes.
        always_ends : bool
            True: its end runs even through a second Ctrl-C (an observer that records the end).

        Returns
        -------
        Subscription
            What ``unsubscribe`` takes (or its name).

        Raises
        ------
        TypeError
            ``make`` is not callable, or a class that is not a ``ScanConsumer``.
        ValueError
            A consumer of that name is subscribed already.
        """
        if not callable(make):
            raise TypeError(f"consumers.subscribe: {make!r} is not callable: give a function or ScanConsumer "
                            "class that takes the ScanStart")  # fmt: skip
        if isinstance(make, type) and not issubclass(make, ScanConsumer):
            raise TypeError(f"consumers.subscribe: {make!r} is a class but not a ScanConsumer: subclass ScanConsumer, "
                            "or give a function that takes the ScanStart and returns one")  # fmt: skip
        name = name or str(getattr(make, "__name__", repr(make)))
        if name in self.names():
            raise ValueError(f"consumers.subscribe: a consumer {name!r} is subscribed already: unsubscribe it, "
                             "or give another name=")  # fmt: skip
        subscription = Subscription(name, make, data, always_ends)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, token: Subscription | str) -> None:
        """Take a factory away (what ``subscribe`` returned, or its name): the next scans make no such consumer.

        The scan's record keepers (the cameras' frames, the file, Redis) stay: not to save, set
        ``SCAN_SAVING.writer = 'null'`` or give ``save=False``.

        Raises
        ------
        ValueError
            No such consumer is subscribed (a token of one unsubscribed already), or it is a record keeper.
        """
        subscribed = ", ".join(self.names())
        if isinstance(token, Subscription):
            if token not in self._subscriptions:
                raise ValueError(f"consumers.unsubscribe: that {token.name!r} subscription is not subscribed "
                                 f"(unsubscribed already?); subscribed: {subscribed}")  # fmt: skip
            found = token
        else:
            named = [subscription for subscription in self._subscriptions if subscription.name == token]
            if not named:
                raise ValueError(f"consumers.unsubscribe: no consumer {token!r} is subscribed: {subscribed}")
            found = named[0]
        if found.record:
            records = ", ".join(subscription.name for subscription in self._subscriptions if subscription.record)
            raise ValueError(f"consumers.unsubscribe: {found.name!r} keeps the scans' record ({records}) and cannot be "
                             "unsubscribed; to save nothing, set SCAN_SAVING.writer = 'null' or give save=False")  # fmt: skip
        self._subscriptions.remove(found)

    def names(self) -> list[str]:
        """The names of the factories, in order."""
        return [subscription.name for subscription in self._subscriptions]

    def __iter__(self) -> Iterator[Subscription]:
        return iter(list(self._subscriptions))

    def __len__(self) -> int:
        return len(self._subscriptions)

    def __repr__(self) -> str:
        return f"Subscriptions({', '.join(self.names())})"


def default_subscriptions() -> Subscriptions:
    """What a session starts with: the record keepers (the cameras' frames, the file, Redis), the live display, the logbook.

    The cameras' consumer comes first: its end gives the file the links to their frames.
    """
    return Subscriptions([
        Subscription("lima frames", lima_frames, data=True, record=True),
        Subscription("file", file_consumer, data=True, record=True),
        Subscription("redis", RedisConsumer, data=True, record=True),
        Subscription("display", display_consumer),
        Subscription("logbook", logbook_consumer, always_ends=True),  # ends once every record has the end state
    ])  # fmt: skip


def consumers_of(subscriptions: Iterable[Subscription], start: ScanStart) -> Iterator[RunningConsumer]:
    """Every subscription's consumer for this scan, in order, one at a time (a factory that made none is left out).

    After a data consumer's factory failed, the other data consumers are not made (no point will come), the
    observers still are (the logbook has the failed scan's line); every one handed out is ended by the scan.

    Raises
    ------
    ConsumerError
        A data consumer's factory failed or gave something else than a ``ScanConsumer`` (an observer's is one
        warning): the first such failure, once the observers were made.
    """
    failure: ConsumerError | None = None
    for subscription in subscriptions:
        if failure is not None and subscription.data:
            continue
        try:
            made = _guarded(subscription, None, lambda: _made(subscription, start))  # noqa: B023  (called here)
        except ConsumerError as error:
            failure = error
            continue
        if made is not None:
            yield RunningConsumer(subscription, made)
    if failure is not None:
        raise failure


def _made(subscription: Subscription, start: ScanStart) -> ScanConsumer | None:
    """The subscription's consumer for this scan, or None; something else is a ``TypeError``."""
    made = subscription.make(start)
    if made is not None and not isinstance(made, ScanConsumer):
        raise TypeError(f"its factory gave {made!r}, not a ScanConsumer (or None)")
    return made


class RunningConsumer:
    """One consumer of one scan, run as its kind says: a data consumer's error names it, an observer's is a warning."""

    def __init__(self, subscription: Subscription, consumer: ScanConsumer):
        self.subscription = subscription
        self._consumer = consumer
        self._warned: list[bool] = []  # one warning per observer and scan
        self._failure: str | None = None

    def start(self) -> None:
        """The consumer's ``start``."""
        _guarded(self.subscription, self._warned, self._consumer.start)

    def prepared(self) -> None:
        """The consumer's ``prepared``."""
        _guarded(self.subscription, self._warned, self._consumer.prepared)

    @property
    def takes_points(self) -> bool:
        """False when its consumer does nothing with points (the engine then does not hand it any)."""
        return type(self._consumer).add_points is not ScanConsumer.add_points

    def add_points(self, points: Points, count: int) -> None:
        """The consumer's ``add_points`` (called for every point: no more than a ``try``)."""
        try:
            self._consumer.add_points(points, count)
        except Exception as error:
            _failed(self.subscription, self._warned, error)

    def end(self, ending: Ending) -> None:
        """The consumer's ``end``; a data consumer's failure is kept in ``failure``, an observer's is a warning."""
        try:
            _guarded(self.subscription, self._warned, lambda: self._consumer.end(ending),
                     f"the scan ended {ending.state.value}")  # fmt: skip
        except ConsumerError as error:
            self._failure = str(error)

    @property
    def failure(self) -> str | None:
        """Why the record a data consumer keeps is incomplete, naming it; None for an observer."""
        if not self.subscription.data:
            return None
        try:
            incomplete = self._failure or self._consumer.failure
        except Exception as error:  # its own account of its record broke: the record cannot be trusted
            incomplete = f"its failure could not be read: {_said(error)}"
        named = f"{self.subscription.name} consumer"
        return f"{named}: {incomplete}" if incomplete and not incomplete.startswith(named) else incomplete

    def data_views(self, expired: bool) -> dict[str, Any]:
        """What the consumer adds to ``get_data`` (nothing when an observer's fails)."""
        return _guarded(self.subscription, self._warned, lambda: self._consumer.data_views(expired),
                        "get_data() goes on without what it adds") or {}  # fmt: skip


_GOES_ON = "the scan goes on"  # what an observer's warning ends with while the scan runs


def _guarded(subscription: Subscription, warned: list[bool] | None, step: Callable[[], Result],
             then: str = _GOES_ON) -> Result | None:  # fmt: skip
    """``step()``; a failure goes to ``_failed``, ``then`` what happens next (None then, for an observer)."""
    try:
        return step()
    except Exception as error:
        _failed(subscription, warned, error, then)
        return None


def _failed(subscription: Subscription, warned: list[bool] | None, error: Exception, then: str = _GOES_ON) -> None:
    """A data consumer's error raised again naming it; an observer's warned of (once, with ``warned``), ending ``then``."""
    if subscription.data:
        raise ConsumerError(f"{subscription.name} consumer: {_said(error)}") from error
    if not warned:
        print(f"WARNING: {subscription.name} consumer failed: {_said(error)}; {then}", flush=True)
        if warned is not None:
            warned.append(True)


def _said(error: Exception) -> str:
    """What an error says: its message for this package's errors (a sentence for the user), else its class too.

    Examples
    --------
    >>> from bliss_shell.writer import SavingError
    >>> _said(SavingError("writing /data/x/data.h5 failed after 51 points: [Errno 28] No space left on device"))
    'writing /data/x/data.h5 failed after 51 points: [Errno 28] No space left on device'
    >>> _said(ValueError("no room for point 2"))
    'ValueError: no room for point 2'
    """
    ours = type(error).__module__.startswith("bliss_shell.")
    return str(error) if ours and str(error) else f"{type(error).__name__}: {error}"
