"""Which object a name is, and which object type it is served as.

``SCAN_SAVING`` and ``ACTIVE_MG`` are BLISS's special names. Any other name is looked up in the
session namespace first, then loaded from the config (``config.get``); a name in neither is
refused (``Object 'x' doesn't exist in config``, BLISS's text), an object whose loading fails is
served as BLISS's ``DummyNotLoaded`` (type ``unknown``, offline).

====================================  ===================================
our class                             type
====================================  ===================================
``SimulationMotor``, ``TangoMotor``    ``motor`` (BLISS's)
``MeasurementGroup``                  ``measurementgroup`` (BLISS's)
``ACTIVE_MG``                         ``objectref`` (BLISS's)
``SCAN_SAVING``                       ``scansaving`` (BLISS's)
``Lima``                              ``lima`` (BLISS's)
``TangoCounter`` (scalar attribute)   ``tango_attr_as_counter`` (BLISS's)
other counters                        ``counter`` (ours)
``CounterCard``                       ``countercard`` (ours)
``SimulationMCA``, ``TangoMCA``       ``mca`` (ours)
anything else                         ``unknown`` (BLISS's)
====================================  ===================================

Examples
--------
>>> from bliss_shell.rest.context import SessionContext
>>> context = SessionContext(name="demo", env={"answer": 42}, config=None, metadata={}, config_folders=[])
>>> create_mapping(context, "answer").type
'unknown'
"""

from __future__ import annotations

from typing import Any

from bliss_shell.config.session import Unavailable
from bliss_shell.controllers import Counter, MeasurementGroup, looks_like
from bliss_shell.controllers.axis import OffsetAxis
from bliss_shell.controllers.lima import Lima
from bliss_shell.controllers.simulation_counters import SimulationMCA
from bliss_shell.controllers.tango_counter import TangoCounter
from bliss_shell.controllers.tango_mca import TangoMCA

from .context import SessionContext
from .mappings_base import DummyNotLoaded, Mapped, UnknownMapping, config_user_tags
from .mappings_devices import (
    CounterCardMapping,
    CounterMapping,
    McaMapping,
    MotorMapping,
    TangoAttrMapping,
    is_card,
)
from .mappings_lima import LimaMapping
from .mappings_session import ActiveMgMapping, MeasurementGroupMapping, ScanSavingMapping
from .names import ObjectNotFound, lookup

__all__ = ["ObjectNotFound", "create_mapping", "find_object"]


def find_object(context: SessionContext, name: str) -> Any:
    """The session's object ``name`` (`bliss_shell.rest.names.lookup`); a ``DummyNotLoaded`` if it fails to load.

    Raises
    ------
    ObjectNotFound
        Neither the namespace nor the config has it.

    Examples
    --------
    >>> from bliss_shell.rest.context import SessionContext
    >>> find_object(SessionContext(name="demo", env={"roby": roby}, config=None, metadata={}, config_folders=[]), "roby")
    SimulationMotor('roby', ...)
    """
    try:
        obj = lookup(name, context.env, context.config)
    except ObjectNotFound:
        raise
    except Exception as error:  # BLISS: an object that can't be loaded is served offline
        return DummyNotLoaded(name, error)
    return DummyNotLoaded(name, obj.reason) if isinstance(obj, Unavailable) else obj


def _config_tags(context: SessionContext, name: str) -> list[str]:
    config = context.config
    if config is None or name not in config.names():
        return []
    return config_user_tags(config.get_config(name))


def create_mapping(context: SessionContext, name: str) -> Mapped:
    """The object called ``name`` as the type it is served as.

    Raises
    ------
    ObjectNotFound
        No such object.
    """
    env = context.env
    if name == "SCAN_SAVING":
        return ScanSavingMapping(env, name)
    if name == "ACTIVE_MG":
        return ActiveMgMapping(env, name, lambda ref: find_object(context, ref))
    obj = find_object(context, name)
    tags = [] if isinstance(obj, DummyNotLoaded) else _config_tags(context, name)
    if isinstance(obj, OffsetAxis):
        return MotorMapping(obj, name, tags)
    if isinstance(obj, MeasurementGroup):
        return MeasurementGroupMapping(obj, name, tags)
    if isinstance(obj, Lima):
        return LimaMapping(obj, name, tags)
    if is_card(obj):
        return CounterCardMapping(obj, name, env, tags)
    if isinstance(obj, (SimulationMCA, TangoMCA)):
        return McaMapping(obj, name, tags)
    if isinstance(obj, TangoCounter) and tuple(obj.shape) == ():
        return TangoAttrMapping(obj, name, tags)
    if looks_like(obj, Counter):
        return CounterMapping(obj, name, tags)
    return UnknownMapping(obj, name, tags)
