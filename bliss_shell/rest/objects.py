"""The objects a REST client registered: their state, their properties set, and their events.

``ObjectStore`` keeps the registered objects (``POST /api/object``), reads their state, sets a
property after checking it with the object's type, and sends the socket.io ``/object`` events:

- ``change`` ``{"name", "id", "data": {property: value}}`` when a property's value changes, at most
  one per property every 0.2 s, the last value kept (BLISS's ``ObjectEvents`` throttle);
- ``online`` ``{"name", "id", "state"}`` when reading an object starts failing, or works again.

Changes are found by a poller greenlet, running only while at least one client is connected to
``/object`` and at least one object is registered: every 0.2 s the live properties (a motor's
position, state and target; a Lima's state), every 2 s all of them. An object is read again at
once after a PUT on it and after one of its calls ends (``refresh``).

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

__all__ = ["ObjectStore"]

logger = logging.getLogger("bliss_shell.rest")

LIVE_PERIOD = 0.2  # s between two reads of the live properties
FULL_PERIOD = 2.0  # s between two reads of all the properties
THROTTLE = 0.2  # s: at most one change event per property in that time (BLISS's)


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
    """

    def __init__(self, context: SessionContext, emit: Callable[[str, dict], None]):
        self._context = context
        self._emit = emit
        self._objects: dict[str, Mapped] = {}
        self._online: dict[str, bool] = {}
        self._errors: dict[str, list[dict[str, str]]] = {}
        self._reading: dict[str, gevent.lock.Semaphore] = {}
        self._last: dict[str, dict[str, Any]] = {}  # per object: the last value of each property
        self._last_emit: dict[tuple[str, str], float] = {}
        self._queued: dict[tuple[str, str], gevent.Greenlet] = {}
        self._clients = 0
        self._started = False
        self._poller: gevent.Greenlet | None = None
        self._refreshes = gevent.pool.Group()

    # --- lifetime -------------------------------------------------------------------------------

    def start(self) -> None:
        """Allow the poller to run (it runs while a client listens and an object is registered)."""
        self._started = True
        self._ensure_poller()

    def stop(self) -> None:
        """Stop the poller, the queued events and the reads under way; forget the objects."""
        self._started = False
        if self._poller is not None:
            self._poller.kill()
            self._poller = None
        self._refreshes.kill()
        for greenlet in list(self._queued.values()):
            greenlet.kill()
        self._queued.clear()
        self._objects.clear()

    def client_connected(self) -> None:
        """A socket.io client connected to ``/object``."""
        self._clients += 1
        self._ensure_poller()

    def client_disconnected(self) -> None:
        """A socket.io client left ``/object``."""
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
        """
        if name in self._objects:
            return
        obj = create_mapping(self._context, name)
        self._reading[name] = gevent.lock.Semaphore()
        self._last[name] = {}
        self._online[name] = obj.check_online()
        self._errors[name] = []
        self._objects[name] = obj
        if obj.check_online():
            self._update(name, obj.all_properties(), quiet=True)
        if register_sub_objects:
            for sub_name in obj.sub_object_names():
                self.register(sub_name)
        self._ensure_poller()

    register_object = register  # BLISS's name

    def unregister(self, name: str) -> None:
        """Forget ``name``: no more state nor events for it."""
        self._objects.pop(name, None)
        for key in [key for key in self._queued if key[0] == name]:
            self._queued.pop(key).kill()
        for table in (self._online, self._errors, self._reading, self._last):
            table.pop(name, None)

    unregister_object = unregister  # BLISS's name

    def get_object(self, name: str) -> Mapped | None:
        """The registered object ``name``, None if it is not registered."""
        return self._objects.get(name)

    get = get_object

    def get_objects(self, type: str | None = None) -> list[Mapped]:
        """The registered objects, those of one ``type`` only if given."""
        return [obj for obj in self._objects.values() if type is None or obj.type == type]

    def state(self, name: str) -> dict[str, Any]:
        """BLISS's ``ObjectSchema`` of ``name``, read now: name, type, online, errors, alias, properties, user_tags, locked.

        Raises
        ------
        KeyError
            ``name`` is not registered.
        """
        obj = self._objects[name]
        properties: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        online = obj.check_online()
        if online:
            all_props = obj.all_properties()
            values, errors = self._update(name, all_props)
            online = not errors
            raw = {prop: values.get(prop) for prop in all_props}
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
        """
        obj = self._objects[name]
        schema = obj.TYPE.PROPERTIES
        if prop not in schema.model_fields:
            raise KeyError(f"Unknown property `{prop}`")
        if schema.read_only_prop(prop):
            raise AttributeError(f"Property `{prop}` is read only")
        value = schema.validate_prop(prop, value)
        try:
            obj.write(prop, value)
        finally:
            self.refresh(name)
        return value

    def refresh(self, name: str) -> None:
        """Read ``name`` again now (in a greenlet of its own): after a PUT, after one of its calls ended."""
        obj = self._objects.get(name)
        if obj is not None and obj.check_online():
            self._refreshes.spawn(self._update, name, obj.all_properties())

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
        last = self._last[name]
        for prop, value in values.items():
            if prop in last and _same(last[prop], value):
                continue
            known = prop in last
            last[prop] = value
            if known and not quiet:
                self._queue(name, prop, value)
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

    def _queue(self, name: str, prop: str, value: Any) -> None:
        """BLISS's throttle: send now if the last send of this property is 0.2 s old, else in 0.2 s (the last value wins)."""
        key = (name, prop)
        queued = self._queued.pop(key, None)
        if queued is not None:
            queued.kill()
        if time.monotonic() - self._last_emit.get(key, -math.inf) > THROTTLE:
            self._send_change(name, prop, value)
        else:
            self._queued[key] = gevent.spawn_later(THROTTLE, self._send_change, name, prop, value)

    def _send_change(self, name: str, prop: str, value: Any) -> None:
        self._queued.pop((name, prop), None)
        self._last_emit[(name, prop)] = time.monotonic()
        self._send("change", {"name": name, "id": name, "data": {prop: value}})

    def _send(self, event: str, data: dict[str, Any]) -> None:
        try:
            self._emit(event, data)
        except Exception:  # an event that can't be sent must not stop the poller
            logger.exception("REST: could not send the %s event %s", event, data)
