"""The object types the REST API serves: BLISS 2.4's abstract types, as pydantic models, and ours.

A type has a ``NAME`` (``motor``, ``lima``...), the states shown as good (``STATE_OK``), a model of
its properties (``PROPERTIES``: their JSON schema is what ``/api/object_type`` serves, and a PUT
validates a value with it) and its callables (``CALLABLES``: name -> model of ``{args, kwargs}``).
BLISS's types keep BLISS's names, properties, schemas and callables, so that blissclient and
blisswebui find what they expect; ``counter``, ``countercard`` and ``mca`` are ours (BLISS has none).

Examples
--------
>>> MotorType.PROPERTIES.read_only_prop("state"), MotorType.PROPERTIES.read_only_prop("velocity")
(True, False)
>>> from bliss_shell.rest.object_typedef import serialize_object_type
>>> serialize_object_type(MotorType)["callables"]["move"]["args"]["prefixItems"]
[{'type': 'number'}]
"""

from __future__ import annotations

from typing import ClassVar, Literal, NotRequired, get_args

from pydantic import BaseModel
from typing_extensions import TypedDict

from .object_typedef import (
    Callable,
    Callable1Arg,
    CallableSchema,
    EmptyCallable,
    Field,
    HardwareRefField,
    HardwareRefListField,
    HardwareSchema,
    ObjectType,
)

__all__ = ["OBJECT_TYPES", "LimaStates", "MotorStates"]

# --- BLISS's types ---------------------------------------------------------------------------------

MotorState = Literal["READY", "MOVING", "FAULT", "UNKNOWN", "DISABLED", "LOWLIMIT", "HIGHLIMIT", "HOME", "OFF"]
MotorStates: list[str] = list(get_args(MotorState))  # BLISS's names, in BLISS's order


class MotorPropertiesSchema(HardwareSchema):
    """BLISS's motor: ``state`` a list of states, ``limits`` ordered [low, high]."""

    state: list[MotorState | str] = Field(["UNKNOWN"], read_only=True)
    position: float | None
    target: float | None
    tolerance: float
    acceleration: float | None
    velocity: float | None
    limits: list[float] = Field(length=2)
    unit: str | None = Field(read_only=True)
    offset: float
    sign: int
    display_digits: int = Field(read_only=True)


class MotorCallablesSchema(CallableSchema):
    move: Callable1Arg[float]
    rmove: Callable1Arg[float]
    stop: EmptyCallable
    wait: EmptyCallable


class MotorType(ObjectType):
    """BLISS's ``motor``."""

    NAME = "motor"
    STATE_OK: ClassVar[list[str]] = ["READY", "MOVING"]
    PROPERTIES = MotorPropertiesSchema
    CALLABLES = MotorCallablesSchema


class _MeasurementgroupProperties(HardwareSchema):
    available: list[str] = Field(description="A list of available counters (including those enabled)")
    disabled: list[str] = Field(description="A list of disabled counters")


class _MeasurementgroupCallables(CallableSchema):
    enable: Callable1Arg[str]
    disable: Callable1Arg[str]
    set_active: EmptyCallable


class MeasurementgroupType(ObjectType):
    """BLISS's ``measurementgroup``."""

    NAME = "measurementgroup"
    STATE_OK: ClassVar[list[str]] = []
    PROPERTIES = _MeasurementgroupProperties
    CALLABLES = _MeasurementgroupCallables


class _ObjectrefProperties(HardwareSchema):
    ref: str | None = HardwareRefField()


class _NoCallables(CallableSchema):
    pass


class ObjectrefType(ObjectType):
    """BLISS's ``objectref``: the type of ``ACTIVE_MG`` (``ref``: ``"hardware:MG1"``)."""

    NAME = "objectref"
    PROPERTIES = _ObjectrefProperties
    CALLABLES = _NoCallables


class _ScansavingProperties(HardwareSchema):
    base_path: str
    data_path: str
    root_path: str
    filename: str
    beamline: str | None = Field(None, description="For bliss_basic, the beamline name")
    template: str | None = Field(None, description="For bliss_basic, the saving `template`")
    data_filename: str | None = Field(None, description="For bliss_basic, the saving `data_filename`")
    proposal_name: str | None = Field(None, description="For bliss_esrf, the proposal name")
    proposal_session_name: str | None = Field(None, description="For bliss_esrf, the proposal session name")
    collection_name: str | None = Field(None, description="For bliss_esrf, the collection name")
    dataset_name: str | None = Field(None, description="For bliss_esrf, the dataset name")
    dataset_definition: str | None = Field(None, description="For bliss_esrf, the dataset definition (usually the technique)")
    sample_notes: str | None = Field(None, description="For bliss_esrf, sample notes (used to store tags and other metadata)")
    sample_name: str | None = Field(None, description="For bliss_esrf, the sample name")
    sample_description: str | None = Field(None, description="For bliss_esrf, the sample description")


class DatasetExistsKwargs(TypedDict):
    """The keyword arguments of ``dataset_exists``."""

    collection_name: str
    dataset_name: str
    proposal_name: NotRequired[str | None]


class _ScansavingCallables(CallableSchema):
    create_root_path: EmptyCallable
    add_dataset_techniques: Callable1Arg[list[str]]
    dataset_exists: Callable[tuple[()], DatasetExistsKwargs, bool]


class ScanSavingType(ObjectType):
    """BLISS's ``scansaving``: the type of ``SCAN_SAVING``."""

    NAME = "scansaving"
    PROPERTIES = _ScansavingProperties
    CALLABLES = _ScansavingCallables


LimaState = Literal["READY", "ACQUIRING", "CONFIGURATION", "FAULT", "UNKNOWN", "OFFLINE", "BUSY"]
LimaStates: list[str] = list(get_args(LimaState))  # BLISS's names, in BLISS's order


class _LimaStaticPropertiesSchema(BaseModel):
    """What a LimaCCDs device says of its camera; the pixel size in micron."""

    lima_version: str
    lima_type: str
    camera_type: str
    camera_model: str
    camera_pixelsize: list[float] = Field(length=2)
    image_max_dim: list[int] = Field(length=2)


class LimaPropertiesSchema(HardwareSchema):
    """BLISS's lima."""

    state: LimaState = Field("UNKNOWN", read_only=True)
    static: _LimaStaticPropertiesSchema | None = Field(read_only=True)
    rotation: int | None = None
    binning: list[int] | None = None
    binning_mode: str | None = None
    flip: list[bool] | None = None
    raw_roi: list[int] | None = Field(None, read_only=True)
    roi: list[int] | None = Field(None, read_only=True)
    size: list[int] | None = Field(None, read_only=True)
    acc_max_expo_time: float | None = None


class LimaType(ObjectType):
    """BLISS's ``lima``."""

    NAME = "lima"
    STATE_OK: ClassVar[list[str]] = ["READY", "ACQUIRING"]
    PROPERTIES = LimaPropertiesSchema
    CALLABLES = _NoCallables


class _TangoAttrAsCounterProperties(HardwareSchema):
    name: str | None = Field(None, read_only=True)
    attribute: str | None = Field(None, read_only=True)
    value: float | None = None
    unit: str | None = Field(None, read_only=True)


class _TangoAttrAsCounterCallables(CallableSchema):
    get_metadata: EmptyCallable


class TangoAttrAsCounterType(ObjectType):
    """BLISS's ``tango_attr_as_counter``: our TangoCounter of a scalar attribute."""

    NAME = "tango_attr_as_counter"
    PROPERTIES = _TangoAttrAsCounterProperties
    CALLABLES = _TangoAttrAsCounterCallables


class _UnknownProperties(HardwareSchema):
    pass


class UnknownType(ObjectType):
    """BLISS's ``unknown``: any other object, and one that failed to load (offline)."""

    NAME = "unknown"
    STATE_OK: ClassVar[list[str]] = []
    PROPERTIES = _UnknownProperties
    CALLABLES = _NoCallables


# --- ours (BLISS has none) ---------------------------------------------------------------------------


class _CounterProperties(HardwareSchema):
    name: str = Field(read_only=True)
    fullname: str = Field(description="controller:name, as scans name its channel", read_only=True)
    unit: str | None = Field(None, read_only=True)
    dtype: str | None = Field(None, description="The type of its values (float64, uint32...)", read_only=True)
    shape: list[int] = Field([], description="[] for a number, [n] for a spectrum, [height, width] for an image", read_only=True)
    mode: str | None = Field(None, description="Sampling mode: MEAN, SINGLE or INTEGRATE", read_only=True)


class CounterType(ObjectType):
    """Ours: a counter (simulation counters, a counter card's channels, a Tango counter of a spectrum or image)."""

    NAME = "counter"
    PROPERTIES = _CounterProperties
    CALLABLES = _NoCallables


class _CounterCardProperties(HardwareSchema):
    state: str = Field("UNKNOWN", description="The Tango device's state", read_only=True)
    url: str = Field(description="The Tango device", read_only=True)
    counters: list[str] = HardwareRefListField([], read_only=True)
    timer: str | None = HardwareRefField(None, read_only=True)
    timeout: float = Field(description="Seconds beyond the count time to wait for the counts", unit="s", read_only=True)


class CounterCardType(ObjectType):
    """Ours: a counter card (``p201``); its channels are registered with it."""

    NAME = "countercard"
    STATE_OK: ClassVar[list[str]] = ["ON", "STANDBY", "RUNNING"]
    PROPERTIES = _CounterCardProperties
    CALLABLES = _NoCallables


class _McaProperties(HardwareSchema):
    state: str = Field("UNKNOWN", description="The Tango device's state (ON for a simulation)", read_only=True)
    url: str | None = Field(None, description="The Tango device (None for a simulation)", read_only=True)
    nbins: int = Field(description="Bins of a spectrum", read_only=True)
    dtype: str | None = Field(None, description="The type of a spectrum's bins", read_only=True)
    unit: str | None = Field(None, read_only=True)


class McaType(ObjectType):
    """Ours: an MCA (``SimulationMCA``, ``TangoMCA``): one spectrum per point."""

    NAME = "mca"
    STATE_OK: ClassVar[list[str]] = ["ON", "STANDBY", "RUNNING"]
    PROPERTIES = _McaProperties
    CALLABLES = _NoCallables


OBJECT_TYPES: dict[str, type[ObjectType]] = {
    t.NAME: t
    for t in (
        CounterType,
        CounterCardType,
        LimaType,
        McaType,
        MeasurementgroupType,
        MotorType,
        ObjectrefType,
        ScanSavingType,
        TangoAttrAsCounterType,
        UnknownType,
    )
}
"""Every type, by name, in the order ``/api/object_type`` lists them (by name, as BLISS's package listing)."""
