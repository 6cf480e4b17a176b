"""The objects a REST client registered: their state, their properties set, and their events.

``ObjectStore`` keeps the registered objects (``POST /api/object``), reads their state, sets a
property after checking it with the object's type, and sends the socket.io ``/object`` events:

- ``change`` ``{"name", "id", "data": {property: value}}`` when a property's value changes, at most
  one per property every 0.2 s, the last value kept (BLISS's ``ObjectEvents`` throttle);
- ``online`` ``{"name", "id", "state"}`` when reading an object starts failing, or works again.

Changes are found by a poller greenlet, running only while at least one client is connected to
``/object`` and at least one object is registered: every 0.2 s the live properties (a motor's
position, state and target; a Lima's state), every 2 s all of them. An object is read again at
once after a PUT on it and after one of its calls ends (``refresh``). The values read when an
object is registered are the start: no event for them. A property first read later (its object
was offline, or its read failed) sends its first value as a ``change``, as BLISS's events do.

``GET /api/object`` (``states``) answers from the poller's last reads while they are fresh (as
BLISS answers from its cached states), and reads the objects only when nobody polls them.

Examples
--------
>>> from bliss_shell.rest.context import SessionContext
>>> events = []
>>> store = ObjectStore(SessionContext("demo", {"answer": 42}, None, {}, []), lambda e, d: events.append((e, d)))
>>> store.register("answer")
>>> store.state("answer")["type"], store.state("answer")["online"]
('unknown', True)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.lock
import gevent.pool

from .context import SessionContext
from .mappings import create_mapping
from .mappings_base import Mapped, error_entry
from .object_events import Throttle

__all__ = ["ObjectStore"]

logger = logging.getLogger("bliss_shell.rest")

LIVE_PERIOD = 0.2  # s between two reads of the live properties
FULL_PERIOD = 2.0  # s between two reads of all the properties
FRESH = 2 * FULL_PERIOD  # s: a full read that recent answers GET /api/object while the poller runs


def plain(value: Any) -> Any:
    """``value`` made of JSON's types: numpy numbers as Python's, tuples and arrays as lists.

    Examples
    --------
    >>> import numpy as np
    >>> plain((np.int32(1), np.float64(2.5))), plain({"a": np.array([1, 2])})
    ([1, 2.5], {'a': [1, 2]})
    """
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    except Exception:  # values that can't be compared are taken as changed
        return False


class ObjectStore:
    """The registered objects of a session's REST API.

    Parameters
    ----------
    context : SessionContext
        The session: its namespace and config resolve the names.
    emit : Callable[[str, dict], None]
        Sends an event on socket.io ``/object`` (it never raises).
    clock : Callable[[], float]
        The time in seconds that dates the full reads ``states`` answers from for ``FRESH`` s
        (``time.monotonic``; a test passes its own).
    """

    def __init__(self, context: SessionContext, emit: Callable[[str, dict], None], clock: Callable[[], float] = time.monotonic):
        self._context = context
        self._emit = emit
        self._clock = clock
        self._objects: dict[str, Mapped] = {}
        self._online: dict[str, bool] = {}
        self._errors: dict[str, list[dict[str, str]]] = {}
        self._reading: dict[str, gevent.lock.Semaphore] = {}
        self._last: dict[str, dict[str, Any]] = {}  # per object: the last value of each property
        self._full_read: dict[str, float] = {}  # per object: when all its properties were last read without error
        self._throttle = Throttle(self._send_change)
        self._clients = 0
        self._started = False
        self._poller: gevent.Greenlet | None = None
        self._refreshes = gevent.pool.Group()

    # --- lifetime -------------------------------------------------------------------------------

    def start(self) -> None:
        """Allow the poller to run (it runs while a client listens and an object is registered).

        Examples
        --------
        >>> store = ObjectStore(SessionContext("demo", {"answer": 42}, None, {}, []), lambda e, d: None)
        >>> store.start()
        >>> store.polling  # no client listens yet
        False
        >>> store.stop()
        """
        self._started = True
        self._ensure_poller()

    def stop(self) -> None:
        """Stop the poller, the queued events and the reads under way; forget the objects.

        Examples
        --------
        >>> store = ObjectStore(SessionContext("demo", {"answer": 42}, None, {}, []), lambda e, d: None)
        >>> store.register("answer")
        >>> store.stop()
        >>> store.get_objects()
        []
        """
        self._started = False
        if self._poller is not None:
            self._poller.kill()
            self._poller = None
        self._refreshes.kill()
        self._throttle.stop()
        self._objects.clear()

    def client_connected(self) -> None:
        """A socket.io client connected to ``/object``: the poller runs while an object is registered.

        Examples
        --------
        >>> store = ObjectStore(SessionContext("demo", {"answer": 42}, None, {}, []), lambda e, d: None)
        >>> store.start()
        >>> store.register("answer")
        >>> store.client_connected()
        >>> store.polling
        True
        >>> store.stop()
        """
        self._clients += 1
        self._ensure_poller()

    def client_disconnected(self) -> None:
        """A socket.io client left ``/object`` (the poller ends after the last one left).

        Examples
        --------
        >>> store = ObjectStore(SessionContext("demo", {}, None, {}, []), lambda e, d: None)
        >>> store.client_connected()
        >>> store.client_disconnected()
        """
        self._clients = max(0, self._clients - 1)

    @property
    def polling(self) -> bool:
        """Whether the poller is reading the objects now."""
        return self._poller is not None and not self._poller.dead

    def _wanted(self) -> bool:
        return self._started and self._clients > 0 and bool(self._objects)

    def _ensure_poller(self) -> None:
        if self._wanted() and not self.polling:
            self._poller = gevent.spawn(self._poll)

    def _poll(self) -> None:
        next_full = 0.0
        while self._wanted():
            start = time.monotonic()
            full = start >= next_full
            if full:
                next_full = start + FULL_PERIOD
            for name, obj in list(self._objects.items()):
                if not obj.check_online():
                    continue
                if full:
                    self._update(name, obj.all_properties(), stop_on_error=True)
                elif self._online.get(name) and obj.live_properties():
                    self._update(name, obj.live_properties(), stop_on_error=True)
            gevent.sleep(max(0.0, LIVE_PERIOD - (time.monotonic() - start)))

    # --- objects --------------------------------------------------------------------------------

    def register(self, name: str, register_sub_objects: bool = False) -> None:
        """Register ``name`` (nothing when it is registered already); with ``register_sub_objects``, its parts too.

        Raises
        ------
        ObjectNotFound
            No object of that name (the API answers 400 with it in ``objects``).

        Examples
        --------
        >>> store = ObjectStore(SessionContext("test_session", {"roby": roby}, None, {}, []), lambda e, d: None)
        >>> store.register("roby")
        >>> store.get_object("roby")
        <MotorMapping roby (motor)>
        """
        if name in self._objects:
            return
        obj = create_mapping(self._context, name)
        self._reading[name] = gevent.lock.Semaphore()
        self._last[name] = {}
        reachable = obj.check_online()
        self._online[name] = reachable
        self._errors[name] = []
        self._objects[name] = obj
        if reachable:
            self._update(name, obj.all_properties(), quiet=True)
        if register_sub_objects:
            for sub_name in obj.sub_object_names():
                self.register(sub_name)
        self._ensure_poller()

    def unregister(self, name: str) -> None:
        """Forget ``name``: no more state nor events for it.

        Examples
        --------
        >>> store = ObjectStore(SessionContext("demo", {"answer": 42}, None, {}, []), lambda e, d: None)
        >>> store.register("answer")
        >>> store.unregister("answer")
        >>> store.get_object("answer") is None
        True
        """
        self._objects.pop(name, None)
        self._throttle.forget(name)
        for table in (self._online, self._errors, self._reading, self._last, self._full_read):
            table.pop(name, None)

    def get_object(self, name: str) -> Mapped | None:
        """The registered object ``name``, None if it is not registered.

        Examples
        --------
        >>> store = ObjectStore(SessionContext("demo", {"answer": 42}, None, {}, []), lambda e, d: None)
        >>> store.get_object("answer") is None
        True
        """
        return self._objects.get(name)

    def get_objects(self, type: str | None = None) -> list[Mapped]:
        """The registered objects, those of one ``type`` only if given.

        Examples
        --------
        >>> store = ObjectStore(SessionContext("test_session", {"roby": roby, "n": 1}, None, {}, []), lambda e, d: None)
        >>> store.register("roby"), store.register("n")
        (None, None)
        >>> store.get_objects(type="motor")
        [<MotorMapping roby (motor)>]
        """
        return [obj for obj in self._objects.values() if type is None or obj.type == type]

    def state(self, name: str) -> dict[str, Any]:
        """BLISS's ``ObjectSchema`` of ``name``, read now: name, type, online, errors, alias, properties, user_tags, locked.

        Raises
        ------
        KeyError
            ``name`` is not registered.

        Examples
        --------
        >>> store = ObjectStore(SessionContext("test_session", {"roby": roby}, None, {}, []), lambda e, d: None)
        >>> store.register("roby")
        >>> state = store.state("roby")
        >>> state["type"], state["online"], state["properties"]["unit"]
        ('motor', True, 'mm')
        """
        obj = self._objects[name]
        errors: list[dict[str, str]] = []
        values: dict[str, Any] = {}
        reachable = obj.check_online()  # asked once: the state says what this one answer said
        if reachable:
            values, errors = self._update(name, obj.all_properties())
        return self._state_of(obj, values, errors, reachable=reachable, online=reachable and not errors)

    def states(self, type: str | None = None) -> list[dict[str, Any]]:
        """The states of the registered objects (of one ``type`` only if given), for ``GET /api/object``.

        While the poller runs, an object read in full less than ``FRESH`` s ago and online is answered from those
        reads (BLISS answers from its cached states); any other is read now. An object unregistered while the
        others are read is left out.

        Examples
        --------
        >>> store = ObjectStore(SessionContext("test_session", {"roby": roby}, None, {}, []), lambda e, d: None)
        >>> store.register("roby")
        >>> [(state["name"], state["online"]) for state in store.states()]
        [('roby', True)]
        """
        found = []
        for obj in self.get_objects(type=type):
            if self._objects.get(obj.name) is not obj:  # unregistered while another one was read
                continue
            cached = self._cached_state(obj)
            found.append(cached if cached is not None else self.state(obj.name))
        return found

    def _cached_state(self, obj: Mapped) -> dict[str, Any] | None:
        read = self._full_read.get(obj.name)
        if not self.polling or read is None or self._clock() - read > FRESH or not self._online.get(obj.name):
            return None
        # online at its last full read: it was reachable then
        values, errors = dict(self._last[obj.name]), list(self._errors.get(obj.name, []))
        return self._state_of(obj, values, errors, reachable=True, online=True)

    def _state_of(
        self, obj: Mapped, values: dict[str, Any], errors: list[dict[str, str]], reachable: bool, online: bool
    ) -> dict[str, Any]:
        """The state of ``obj`` from ``values`` read; ``reachable``: its ``check_online()``, asked by the caller."""
        properties: dict[str, Any] = {}
        if reachable:
            raw = {prop: values.get(prop) for prop in obj.all_properties()}
            try:
                properties = plain(obj.TYPE.PROPERTIES(**raw).model_dump())
            except Exception as error:  # a value the type does not accept: BLISS's offline state
                errors.append(error_entry(error))
                properties, online = {}, False
        return {
            "name": obj.name,
            "type": obj.type,
            "online": online,
            "errors": errors,
            "alias": obj.alias,
            "properties": properties,
            "user_tags": obj.user_tags,
            "locked": None,
        }

    def set(self, name: str, prop: str, value: Any) -> Any:
        """Set property ``prop`` of ``name`` to ``value``, checked by the type first; the object is read again after.

        Raises
        ------
        KeyError
            No such property (400, BLISS's text).
        AttributeError
            The property is read-only (400).
        pydantic.ValidationError
            The value does not fit the property's type (422).
        Exception
            Whatever the object refused (400, its text): nothing changed.

        Examples
        --------
        >>> store = ObjectStore(SessionContext("test_session", {"roby": roby}, None, {}, []), lambda e, d: None)
        >>> store.register("roby")
        >>> store.set("roby", "velocity", "3")  # checked by the motor type first: a number
        3.0
        >>> roby.velocity
        3.0
        """
        obj = self._objects[name]
        schema = obj.TYPE.PROPERTIES
        if prop not in schema.model_fields:
            raise KeyError(f"Unknown property `{prop}`")
        if schema.read_only_prop(prop):
            raise AttributeError(f"Property `{prop}` is read only")
        value = schema.validate_prop(prop, value)
        self._full_read.pop(name, None)  # GET /api/object reads it again until the refresh is done
        try:
            obj.write(prop, value)
        finally:
            self.refresh(name)
        return value

    def refresh(self, name: str) -> gevent.Greenlet | None:
        """Read ``name`` again now, in a greenlet of its own (returned): after a PUT, after one of its calls ended.

        Examples
        --------
        >>> events = []
        >>> store = ObjectStore(SessionContext("test_session", {"roby": roby}, None, {}, []), lambda e, d: events.append(d))
        >>> store.register("roby")
        >>> roby.velocity = roby.velocity + 1
        >>> store.refresh("roby").join()
        >>> [event["data"] for event in events] == [{"velocity": roby.velocity}]
        True
        """
        obj = self._objects.get(name)
        if obj is None or not obj.check_online():
            return None
        return self._refreshes.spawn(self._update, name, obj.all_properties())

    # --- reads and events -----------------------------------------------------------------------

    def _update(
        self, name: str, props: list[str], quiet: bool = False, stop_on_error: bool = False
    ) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """Read ``props`` of ``name``; send the changes (none when ``quiet``) and the online state."""
        obj = self._objects.get(name)
        lock = self._reading.get(name)
        if obj is None or lock is None:
            return {}, []
        with lock:
            values, errors = obj.read(props, stop_on_error)
        if self._objects.get(name) is not obj:  # unregistered meanwhile
            return values, errors
        values = {prop: plain(value) for prop, value in values.items()}
        self._set_online(name, not errors, errors, quiet)
        if not errors and set(props) >= set(obj.all_properties()):
            self._full_read[name] = self._clock()
        last = self._last[name]
        for prop, value in values.items():
            if prop in last and _same(last[prop], value):
                continue
            last[prop] = value  # a first value (none read before) is a change too, as BLISS's
            if not quiet:
                self._throttle.push((name, prop), value)
        return values, errors

    def _set_online(self, name: str, online: bool, errors: list[dict[str, str]], quiet: bool) -> None:
        self._errors[name] = errors
        if self._online.get(name) == online:
            return
        self._online[name] = online
        if not online:
            reasons = "; ".join(f"{e.get('property')}: {e['exception']}" for e in errors)
            logger.warning("REST object %s offline (its events stop until it answers again): %s", name, reasons)
        elif not quiet:
            logger.warning("REST object %s online again", name)
        if not quiet:
            self._send("online", {"name": name, "id": name, "state": online})

    def _send_change(self, key: tuple[str, str], value: Any) -> None:
        name, prop = key
        self._send("change", {"name": name, "id": name, "data": {prop: value}})

    def _send(self, event: str, data: dict[str, Any]) -> None:
        try:
            self._emit(event, data)
        except Exception:  # an event that can't be sent must not stop the poller
            logger.exception("REST: could not send the %s event %s", event, data)
