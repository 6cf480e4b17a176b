"""The session's consumers: what each scan hands its points and its end to, and what a failing one costs.

``current().consumers`` lists factories, in order (as bluesky's ``RunEngine.subscribe``): each makes
one consumer per scan from its ``ScanStart``. A session starts with the Lima cameras' frames, the
file, Redis, the live display and the logbook; ``subscribe`` adds one, ``unsubscribe`` takes it away.

Two kinds, said when subscribing:

- a data consumer (``data=True``: Redis, the file, the cameras' frames) keeps the scan's record: its
  failure ends the scan as ``failed``, with a reason that names it; its end always runs.
- an observer (the default: the logbook, the display, a consumer typed at the prompt) never fails a
  scan: its error is one warning line naming it, once per scan, and the scan goes on.

At the end, the data consumers end first, in the list's order (the file before the others), then the
scan's node in Redis gets the final info and END, then the observers that ``always_ends`` (the logbook:
its line is the last word), all of them even through a second Ctrl-C; then the other observers (the
display), which a second Ctrl-C skips.

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


@dataclass(frozen=True)
class Subscription:
    """One factory of the session's consumers, its name and its kind (what ``subscribe`` returns)."""

    name: str  # in messages: "logbook consumer failed: ..."
    make: ConsumerFactory
    data: bool = False  # keeps the scan's record: its failure fails the scan
    always_ends: bool = False  # its end runs even through a second Ctrl-C (a data consumer's always does)

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
    ValueError: no consumer 'count' is subscribed: lima frames, file, redis, display, logbook
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
            ``make`` is not callable.
        ValueError
            A consumer of that name is subscribed already.
        """
        if not callable(make):
            raise TypeError(f"consumers.subscribe: {make!r} is not callable: give a function or ScanConsumer "
                            "class that takes the ScanStart")  # fmt: skip
        name = name or str(getattr(make, "__name__", repr(make)))
        if name in self.names():
            raise ValueError(f"consumers.subscribe: a consumer {name!r} is subscribed already: unsubscribe it, "
                             "or give another name=")  # fmt: skip
        subscription = Subscription(name, make, data, always_ends)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, token: Subscription | str) -> None:
        """Take a factory away (what ``subscribe`` returned, or its name): the next scans make no such consumer.

        Raises
        ------
        ValueError
            No such consumer is subscribed.
        """
        name = token.name if isinstance(token, Subscription) else token
        if name not in self.names():
            raise ValueError(f"no consumer {name!r} is subscribed: {', '.join(self.names())}")
        self._subscriptions = [subscription for subscription in self._subscriptions if subscription.name != name]

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
    """What a session starts with: the cameras' frames, the file, Redis, the live display, the logbook.

    The cameras' consumer comes first: its end gives the file the links to their frames.
    """
    return Subscriptions([
        Subscription("lima frames", lima_frames, data=True),
        Subscription("file", file_consumer, data=True),
        Subscription("redis", RedisConsumer, data=True),
        Subscription("display", display_consumer),
        Subscription("logbook", logbook_consumer, always_ends=True),  # last: the end state the others recorded
    ])  # fmt: skip


def consumers_of(subscriptions: Iterable[Subscription], start: ScanStart) -> Iterator[RunningConsumer]:
    """Every subscription's consumer for this scan, in order, one at a time (a factory that made none is left out).

    Those made before a data consumer's factory failed are already handed out: the scan ends them.

    Raises
    ------
    ConsumerError
        A data consumer's factory failed (an observer's is one warning).
    """
    for subscription in subscriptions:
        made = _guarded(subscription, None, lambda: subscription.make(start))  # noqa: B023  (called here)
        if made is not None:
            yield RunningConsumer(subscription, made)


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
            _guarded(self.subscription, self._warned, lambda: self._consumer.end(ending))
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
        return _guarded(self.subscription, self._warned, lambda: self._consumer.data_views(expired)) or {}


def _guarded(subscription: Subscription, warned: list[bool] | None, step: Callable[[], Result]) -> Result | None:
    """``step()``; a failure goes to ``_failed`` (None then, for an observer)."""
    try:
        return step()
    except Exception as error:
        _failed(subscription, warned, error)
        return None


def _failed(subscription: Subscription, warned: list[bool] | None, error: Exception) -> None:
    """A data consumer's error raised again naming it; an observer's warned of (once, with ``warned``)."""
    if subscription.data:
        raise ConsumerError(f"{subscription.name} consumer: {_said(error)}") from error
    if not warned:
        print(f"WARNING: {subscription.name} consumer failed: {_said(error)}; the scan goes on", flush=True)
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
