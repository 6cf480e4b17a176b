"""What a mapped object is: one of the session's objects seen as an object type of the REST API.

A mapping reads each property of its type from the object (``_get_<property>`` methods, else the
object's attribute of the same name), writes the writable ones (``_set_<property>``, else the
attribute) and runs the type's callables (``_call_<name>``). It validates nothing itself: the
store checks a property's value and a call's arguments with the type's models first.

Examples
--------
>>> class Thing:
...     pass
>>> mapped = UnknownMapping(Thing(), "thing")
>>> mapped.type, mapped.check_online(), mapped.read(mapped.live_properties())
('unknown', True, ({}, []))
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from .object_typedef import ObjectType
from .object_types import UnknownType

__all__ = ["DummyNotLoaded", "Mapped", "UnknownMapping", "hardware_ref", "ref_name", "settable"]


def hardware_ref(name: str | None) -> str:
    """BLISS's reference to an object: ``"hardware:MG1"``; ``"hardware:"`` for none.

    Examples
    --------
    >>> hardware_ref("MG1"), hardware_ref(None)
    ('hardware:MG1', 'hardware:')
    """
    return f"hardware:{name or ''}"


def ref_name(ref: Any) -> str | None:
    """The object name of a reference (``"hardware:MG1"`` -> ``"MG1"``); None for ``"hardware:"``.

    Raises
    ------
    ValueError
        ``ref`` is not a reference.

    Examples
    --------
    >>> ref_name("hardware:MG1"), ref_name("hardware:")
    ('MG1', None)
    """
    if not isinstance(ref, str) or not ref.startswith("hardware:"):
        raise ValueError(f"{ref!r} is not an object reference: give 'hardware:<name>', e.g. 'hardware:MG1'")
    return ref[len("hardware:") :] or None


def error_entry(error: BaseException, prop: str | None = None) -> dict[str, str]:
    """One entry of an object's ``errors`` (BLISS's keys: property, exception, traceback)."""
    entry = {"property": prop} if prop is not None else {}
    return {**entry, "exception": str(error), "traceback": "".join(traceback.format_tb(error.__traceback__))}


def settable(obj: Any, name: str) -> bool:
    """Whether ``obj``'s class lets ``name`` be set: a property with a setter, or another data descriptor (a slot).

    An attribute the object does not have, a method, a plain class attribute, a read-only property: not settable
    (``setattr`` would add a stray attribute, or fail with Python's own words).

    Examples
    --------
    >>> class Thing:
    ...     unit = "mm"
    ...     @property
    ...     def speed(self):
    ...         return 1.0
    ...     @speed.setter
    ...     def speed(self, value):
    ...         pass
    ...     @property
    ...     def reading(self):
    ...         return 1.5
    >>> [settable(Thing(), name) for name in ("speed", "reading", "unit", "colour")]
    [True, False, False, False]
    """
    found = inspect.getattr_static(type(obj), name, None)
    if isinstance(found, property):
        return found.fset is not None
    return hasattr(type(found), "__set__")


class DummyNotLoaded:
    """Stands for an object that failed to load (BLISS's ``DummyNotLoaded``): type ``unknown``, offline.

    Examples
    --------
    >>> UnknownMapping(DummyNotLoaded("cam", "device not exported"), "cam").check_online()
    False
    """

    def __init__(self, name: str, error: BaseException | str):
        self.name = name
        self.error = str(error)


class Mapped:
    """One registered object: the session's object ``obj`` seen as the type ``TYPE``.

    Subclasses set ``TYPE``, ``LIVE`` (the properties polled often: position, state...) and give
    ``_get_<property>`` / ``_set_<property>`` / ``_call_<callable>`` methods where the object's own
    attribute of that name is not the value.

    Examples
    --------
    >>> from bliss_shell.rest.mappings_devices import MotorMapping
    >>> motor = MotorMapping(roby, "roby")
    >>> motor.live_properties()
    ['position', 'state', 'target']
    >>> motor.read(["velocity", "unit"]) == ({"velocity": roby.velocity, "unit": "mm"}, [])
    True
    """

    TYPE: ClassVar[type[ObjectType]] = UnknownType
    LIVE: ClassVar[tuple[str, ...]] = ()

    def __init__(self, obj: Any, name: str, user_tags: Iterable[str] = ()):
        self.object = obj
        self.name = name
        self.alias: str | None = None  # the shell has no aliases
        self.user_tags = list(user_tags)
        self._now: dict[str, Any] = {}  # what the read under way already got (a getter may reuse it)

    @property
    def type(self) -> str:
        """The type's name (``motor``)."""
        return self.TYPE.NAME

    def check_online(self) -> bool:
        """Whether the object can be used at all (False for an object that failed to load)."""
        return not isinstance(self.object, DummyNotLoaded)

    def live_properties(self) -> list[str]:
        """The properties read every 0.2 s while a client listens."""
        return [name for name in self.LIVE if name in self.TYPE.PROPERTIES.model_fields]

    def all_properties(self) -> list[str]:
        """Every property of the type, in the type's order."""
        return list(self.TYPE.PROPERTIES.model_fields)

    def read(self, props: Iterable[str], stop_on_error: bool = False) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """Read ``props`` now: the values read, and an error entry for each read that failed.

        With ``stop_on_error`` the first failure ends the reading (a dead device is not asked again
        for each property, each time until its timeout).
        """
        values: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        self._now = {}
        try:
            for prop in props:
                try:
                    values[prop] = self.get(prop)
                except Exception as error:  # a read that fails is reported, the others go on
                    errors.append(error_entry(error, prop))
                    if stop_on_error:
                        break
        finally:
            self._now = {}
        return values, errors

    def get(self, prop: str) -> Any:
        """One property's value, as the type exposes it."""
        getter = getattr(self, f"_get_{prop}", None)
        value = getter() if getter is not None else getattr(self.object, prop)
        self._now[prop] = value
        return value

    def write(self, prop: str, value: Any) -> None:
        """Write an already validated value of a writable property to the object.

        The mapping's ``_set_<property>`` writes it; without one, the object's own attribute, only when its class
        makes it settable (a property with a setter): an attribute is never added to the object.

        Raises
        ------
        AttributeError
            The object has no setter for ``prop``: nothing changed.

        Examples
        --------
        >>> class Thing:
        ...     @property
        ...     def reading(self):
        ...         return 1.5
        >>> UnknownMapping(Thing(), "thing").write("reading", 3)
        Traceback (most recent call last):
        ...
        AttributeError: Property `reading` of thing can't be set: Thing has no setter for it
        """
        setter = getattr(self, f"_set_{prop}", None)
        if setter is not None:
            setter(value)
        elif settable(self.object, prop):
            setattr(self.object, prop, value)
        else:
            raise AttributeError(
                f"Property `{prop}` of {self.name} can't be set: {type(self.object).__name__} has no setter for it"
            )

    def sub_object_names(self) -> list[str]:
        """The objects this one is made of (registered with it, as BLISS's ``compose`` references)."""
        return []

    def has_function(self, function_name: str) -> bool:
        """Whether the type has the callable ``function_name`` (BLISS's)."""
        return function_name in self.TYPE.callables()

    def validate_call(self, function_name: str, *args: Any, **kwargs: Any) -> None:
        """Check a call's arguments with the callable's model.

        Raises
        ------
        KeyError
            The type has no such callable.
        pydantic.ValidationError
            The arguments do not fit (the API answers 422 with its errors).
        """
        model = self.TYPE.callables().get(function_name)
        if model is None:
            raise KeyError(f"Unknown function `{function_name}`")
        model.__pydantic_validator__.validate_assignment(model.model_construct(), "params", {"args": args, "kwargs": kwargs})

    def call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the callable ``function_name`` (``_call_<name>``, else the object's method of that name)."""
        method = getattr(self, f"_call_{function_name}", None)
        if method is None:
            method = getattr(self.object, function_name)
        return method(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.type})>"


class UnknownMapping(Mapped):
    """Any other object: no property, no callable; offline when it failed to load.

    Examples
    --------
    >>> UnknownMapping(ascan, "ascan").all_properties(), UnknownMapping(ascan, "ascan").has_function("run")
    ([], False)
    """

    TYPE = UnknownType


def config_user_tags(node: Mapping[str, Any] | None) -> list[str]:
    """BLISS's ``user_tag`` of an object's config: a string or a list of strings."""
    tags = None if node is None else node.get("user_tag")
    if tags is None:
        return []
    return [tags] if isinstance(tags, str) else [str(tag) for tag in tags]
