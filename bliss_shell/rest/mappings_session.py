"""Measurement groups, ``ACTIVE_MG`` and ``SCAN_SAVING`` as the REST API's object types (BLISS's).

``ACTIVE_MG`` is BLISS's ``objectref``: its ``ref`` names the active group (``"hardware:MG1"``);
setting it makes another group active. ``SCAN_SAVING`` is read from the session namespace at each
use, so that a new ``SCAN_SAVING`` (a data policy changed) is the one served.

Examples
--------
>>> ActiveMgMapping({"ACTIVE_MG": None}, "ACTIVE_MG", lambda name: None).get("ref")
'hardware:'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from bliss_shell.controllers import MeasurementGroup
from bliss_shell.scanning.scan_identity import data_policy

from .mappings_base import Mapped, hardware_ref, ref_name
from .object_types import MeasurementgroupType, ObjectrefType, ScanSavingType

__all__ = ["ActiveMgMapping", "MeasurementGroupMapping", "ScanSavingMapping"]


class MeasurementGroupMapping(Mapped):
    """Our ``MeasurementGroup`` as BLISS's ``measurementgroup``: available, disabled; enable, disable, set_active.

    Examples
    --------
    >>> MeasurementGroupMapping(MG1, "MG1").read(["available", "disabled"])
    ({'available': ['diode', 'diode2'], 'disabled': []}, [])
    """

    TYPE = MeasurementgroupType


class ActiveMgMapping(Mapped):
    """``ACTIVE_MG`` as BLISS's ``objectref``: ``ref`` is ``"hardware:<active group>"``.

    Examples
    --------
    >>> env = {"ACTIVE_MG": MG1, "MG1": MG1}
    >>> ActiveMgMapping(env, "ACTIVE_MG", env.get).get("ref")
    'hardware:MG1'
    """

    TYPE = ObjectrefType

    def __init__(self, env: dict[str, Any], name: str, find: Callable[[str], Any]):
        super().__init__(env, name)
        self._find = find

    def _get_ref(self) -> str:
        active = self.object.get("ACTIVE_MG")
        return hardware_ref(getattr(active, "name", None))

    def _set_ref(self, value: str | None) -> None:
        name = ref_name("hardware:" if value is None else value)
        if name is None:
            raise ValueError("ACTIVE_MG: a session always has an active measurement group; name one, e.g. 'hardware:MG1'")
        group = self._find(name)
        if not isinstance(group, MeasurementGroup):
            raise ValueError(f"ACTIVE_MG: '{name}' is not a measurement group")
        group.set_active()


_OPTIONAL = ("beamline", "proposal_name", "proposal_session_name", "collection_name", "dataset_name")
_NOT_KEPT = ("dataset_definition", "sample_notes", "sample_name", "sample_description")  # no dataset metadata here


class ScanSavingMapping(Mapped):
    """``SCAN_SAVING`` as BLISS's ``scansaving``; ESRF-only properties are None under the default policy.

    Examples
    --------
    >>> saving = ScanSavingMapping({"SCAN_SAVING": SCAN_SAVING}, "SCAN_SAVING")
    >>> saving.get("data_path") == SCAN_SAVING.get_path(), saving.get("proposal_name")
    (True, None)
    """

    TYPE = ScanSavingType

    def __init__(self, env: dict[str, Any], name: str):
        super().__init__(env, name)

    @property
    def saving(self) -> Any:
        """The session's ``SCAN_SAVING`` now."""
        return self.object["SCAN_SAVING"]

    def get(self, prop: str) -> Any:
        """A property of ``SCAN_SAVING``; None for what its data policy does not have."""
        getter = getattr(self, f"_get_{prop}", None)
        if getter is not None:
            return getter()
        if prop in _NOT_KEPT:
            return None
        if prop in _OPTIONAL:
            try:
                return getattr(self.saving, prop)
            except AttributeError:
                return None
        return getattr(self.saving, prop)

    def write(self, prop: str, value: Any) -> None:
        """Set a parameter of ``SCAN_SAVING`` (it checks the value itself)."""
        if prop in _NOT_KEPT:
            raise AttributeError(f"SCAN_SAVING: {prop} is not kept by this shell (no dataset metadata)")
        setattr(self.saving, prop, value)

    def _get_data_path(self) -> str:
        return self.saving.get_path()

    def _call_create_root_path(self) -> None:
        os.makedirs(self.saving.root_path, exist_ok=True)

    def _call_add_dataset_techniques(self, techniques: list[str]) -> None:
        raise ValueError("SCAN_SAVING: dataset techniques are not kept by this shell")

    def _call_dataset_exists(self, *, collection_name: str, dataset_name: str, proposal_name: str | None = None) -> bool:
        saving = self.saving
        policy = data_policy(saving)
        if policy != "ESRF":
            raise ValueError(f"Data policy '{policy}' is not supported")
        return os.path.exists(saving._dataset_folder(collection_name, dataset_name, proposal_name))
