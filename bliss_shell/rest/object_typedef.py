"""The building blocks of the REST API's object types: property fields, callables, the property model, the type.

The helper names follow BLISS 2.4's ``typedef`` module (``Field``, ``HardwareRefField``, ``CallableParams``,
``Callable``, ``EmptyCallable``, ``Callable1Arg``, ``CallableSchema``, ``HardwareSchema.read_only_prop`` and
``validate_prop``) on purpose: pydantic writes the class names into the ``$defs`` and titles of the JSON schemas
that ``/api/object_type`` serves, and blissclient and blisswebui read those schemas, so that the schemas served must be
identical to BLISS's, byte for byte. The code is our own; only the names (and the schema keys ``readOnly``,
``length``, ``unit``, ``blissType``) are BLISS's. The types themselves are in ``object_types``.

Examples
--------
>>> class Demo(HardwareSchema):
...     state: str = Field("UNKNOWN", read_only=True)
...     velocity: float
>>> Demo.read_only_prop("state"), Demo.read_only_prop("velocity"), Demo.validate_prop("velocity", "2")
(True, False, 2.0)
"""

from __future__ import annotations

import typing
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter
from pydantic import Field as PydanticField
from pydantic_core import PydanticUndefined

__all__ = [
    "Callable",
    "Callable1Arg",
    "CallableParams",
    "CallableSchema",
    "EmptyCallable",
    "Field",
    "HardwareRefField",
    "HardwareRefListField",
    "HardwareSchema",
    "ObjectType",
    "serialize_object_type",
]

ARGS = TypeVar("ARGS")
KWARGS = TypeVar("KWARGS")
RETURN_TYPE = TypeVar("RETURN_TYPE")
ARG1 = TypeVar("ARG1")


def Field(
    default: Any = PydanticUndefined,
    description: str | None = None,
    read_only: bool | None = None,
    length: int | None = None,
    unit: str | None = None,
) -> Any:
    """A property of a type, with BLISS's extra JSON schema keys ``readOnly``, ``length`` and ``unit``.

    Examples
    --------
    >>> class Demo(HardwareSchema):
    ...     limits: list[float] = Field(length=2)
    >>> Demo.model_json_schema()["properties"]["limits"]["length"]
    2
    """
    extra = {key: value for key, value in (("readOnly", read_only), ("length", length), ("unit", unit)) if value is not None}
    kwargs: dict[str, Any] = {}
    if description is not None:
        kwargs["description"] = description
    if extra:
        kwargs["json_schema_extra"] = extra
    return PydanticField(default, **kwargs)


def HardwareRefField(default: Any = PydanticUndefined, read_only: bool | None = None) -> Any:
    """A property naming another object (``"hardware:MG1"``): ``blissType: hardware_ref`` in its schema.

    Examples
    --------
    >>> class Demo(HardwareSchema):
    ...     ref: str | None = HardwareRefField()
    >>> Demo.model_json_schema()["properties"]["ref"]["blissType"]
    'hardware_ref'
    """
    extra: dict[str, Any] = {"blissType": "hardware_ref"}
    if read_only is not None:
        extra["readOnly"] = read_only
    return PydanticField(default, json_schema_extra=extra)


HardwareRefListField = HardwareRefField  # BLISS has both; they make the same schema


class CallableParams(BaseModel, Generic[ARGS, KWARGS]):
    """What a callable is given: ``args`` (a tuple type) and ``kwargs`` (a dict or TypedDict type)."""

    args: ARGS
    kwargs: KWARGS


class Callable(BaseModel, Generic[ARGS, KWARGS, RETURN_TYPE]):  # noqa: D101
    # no docstring: pydantic would put it into the schema as a description, which BLISS's schema has not
    params: CallableParams[ARGS, KWARGS]
    return_type: RETURN_TYPE


class EmptyCallable(Callable[tuple[()], dict[None, None], None]):
    """A callable without arguments (``stop()``)."""


class Callable1Arg(Callable[tuple[ARG1], dict[None, None], None]):
    """A callable of one positional argument (``move(3.0)``)."""


class CallableSchema(dict[str, Callable]):
    """The callables of a type, as annotations: ``move: Callable1Arg[float]``."""


class HardwareSchema(BaseModel):
    """The properties of a type: a pydantic model whose fields may be read-only."""

    @classmethod
    def read_only_prop(cls, prop: str) -> bool:
        """Whether ``prop`` is read-only (``readOnly`` in its schema)."""
        extra = cls.model_fields[prop].json_schema_extra
        return bool(extra.get("readOnly", False)) if isinstance(extra, dict) else False

    @classmethod
    def validate_prop(cls, prop: str, value: Any) -> Any:
        """``value`` validated (and coerced) as property ``prop``; raises ``pydantic.ValidationError``."""
        annotation: Any = cls.model_fields[prop].annotation
        return TypeAdapter(annotation).validate_python(value)


class ObjectType:
    """An abstract object type: ``NAME``, ``STATE_OK``, ``PROPERTIES`` and ``CALLABLES``."""

    NAME: str
    STATE_OK: typing.ClassVar[list[str]] = []
    PROPERTIES: type[HardwareSchema]
    CALLABLES: type[CallableSchema]

    @classmethod
    def callables(cls) -> dict[str, type[BaseModel]]:
        """The callables' models, by name, in the order the type lists them."""
        return typing.get_type_hints(cls.CALLABLES)


def serialize_object_type(object_type: type[ObjectType]) -> dict[str, Any]:
    """The type as ``/api/object_type`` serves it (BLISS's ``serialize_object_type``).

    Examples
    --------
    >>> from bliss_shell.rest.object_types import UnknownType
    >>> sorted(serialize_object_type(UnknownType))
    ['callables', 'properties', 'properties_ui_meta', 'state_ok', 'super', 'type']
    """
    callables = {}
    for name, model in object_type.callables().items():
        definitions = model.model_json_schema()["$defs"]
        callables[name] = next(iter(definitions.values()))["properties"]  # the CallableParams model
    meta = getattr(object_type.PROPERTIES, "Meta", None)
    ui_meta = {key: getattr(meta, key) for key in ("uischema", "uiorder") if hasattr(meta, key)}
    return {
        "type": object_type.NAME,
        "super": getattr(object_type, "SUPER", None),
        "state_ok": object_type.STATE_OK,
        "properties": object_type.PROPERTIES.model_json_schema()["properties"],
        "properties_ui_meta": ui_meta,
        "callables": callables,
    }
