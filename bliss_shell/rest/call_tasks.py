"""What a remote call runs: a session function, a scan command, a registered object's callable.

The three kinds of BLISS 2.4's ``/api/call`` (``FuncTask``, ``ScanFactoryTask``, ``ObjectFuncTask``):
each checks its arguments (``validate``), runs (``run``), and may say how far it got (``progress``).

Examples
--------
>>> task = FuncTask(max, "max(...)")
>>> task.validate((3, 4), {}); task.run((3, 4), {}), task.progress()
(4, None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from bliss_shell.scanning.scan import Scan

__all__ = ["FuncTask", "ObjectFuncTask", "ScanFactoryTask", "Task", "bliss_state"]


class Task(Protocol):
    """One kind of call: ``description`` is what the terminal's box and the logs name it."""

    description: str

    def validate(self, args: tuple, kwargs: dict[str, Any]) -> None:
        """Raise ``pydantic.ValidationError`` when the arguments do not fit (a 422)."""

    def run(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Run the call in the calling greenlet, return its value."""

    def progress(self) -> dict[str, Any] | None:
        """How far it got (the state's ``progress``), None when this kind says nothing."""


class FuncTask:
    """A function of the session: ``function(*args, **kwargs)``.

    Examples
    --------
    >>> FuncTask(sorted, "sorted(...)").run(([3, 1],), {"reverse": True})
    [3, 1]
    """

    def __init__(self, function: Callable[..., Any], description: str):
        self.function = function
        self.description = description

    def validate(self, args: tuple, kwargs: dict[str, Any]) -> None:
        """A session function takes anything: its own errors come when it runs."""

    def run(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """``function(*args, **kwargs)``."""
        return self.function(*args, **kwargs)

    def progress(self) -> dict[str, Any] | None:
        """None: a plain function says nothing while it runs."""
        return None


# BLISS's ScanState names for our scan states ("running" is STARTING once its tree is in Redis)
_BLISS_STATES = {"idle": "IDLE", "done": "DONE", "aborted": "USER_ABORTED", "failed": "KILLED"}


def bliss_state(scan: Scan) -> str:
    """The name BLISS's ``ScanState`` gives to ``scan``'s state now.

    Examples
    --------
    >>> bliss_state(SCANS[-1])
    'DONE'
    """
    if scan.state == "running":
        return "STARTING" if scan.node is not None else "PREPARING"
    return _BLISS_STATES.get(scan.state, scan.state.upper())


class ScanFactoryTask(FuncTask):
    """A scan command: made with ``run=False``, then run, so its progress names the scan while it runs.

    ``progress()`` is ``{"scan": None}`` until the scan's tree is in Redis (BLISS: before STARTING),
    then ``{"scan": <the scan>, "bliss_state": "STARTING" | "DONE" | "USER_ABORTED" | "KILLED"}``.

    Examples
    --------
    >>> task = ScanFactoryTask(loopscan, "loopscan(...)")
    >>> task.progress()
    {'scan': None}
    >>> task.run((2, 0, diode), {"save": False})
    Scan(number=..., name=loopscan, path=<no saving>)
    >>> task.progress()["bliss_state"]
    'DONE'
    """

    def __init__(self, function: Callable[..., Any], description: str):
        super().__init__(function, description)
        self.scan: Any = None

    def run(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Make the scan (``run=False``), then run it; return it."""
        self.scan = self.function(*args, **kwargs, run=False)
        if self.scan is not None:
            self.scan.run()
        return self.scan

    def progress(self) -> dict[str, Any] | None:
        """The scan and its BLISS state, once it started."""
        scan = self.scan
        if not isinstance(scan, Scan) or scan.node is None or scan.state == "idle":
            return {"scan": None}
        return {"scan": scan, "bliss_state": bliss_state(scan)}


class ObjectFuncTask:
    """A callable of a registered object (``roby.move``), checked by its type's pydantic model first.

    Parameters
    ----------
    store
        The `bliss_shell.rest.objects.ObjectStore` that registered the object.
    name, function
        The object's name and the callable's.

    Examples
    --------
    >>> from bliss_shell.rest.context import SessionContext
    >>> from bliss_shell.rest.objects import ObjectStore
    >>> store = ObjectStore(SessionContext("demo", {"roby": roby}, None, {}, []), lambda event, data: None)
    >>> store.register("roby")
    >>> task = ObjectFuncTask(store, "roby", "move")
    >>> task.validate(("far",), {})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for ...
    >>> task.run((roby.position,), {})  # well given: it runs (roby is there already)
    >>> store.stop()
    """

    def __init__(self, store: Any, name: str, function: str):
        self._store = store
        self._name = name
        self._function = function
        self.description = f"{name}.{function}(...)"

    def _object(self) -> Any:
        found = self._store.get_object(self._name)
        if found is None:
            raise LookupError(f"Object '{self._name}' is no longer registered; register it again")
        return found

    def validate(self, args: tuple, kwargs: dict[str, Any]) -> None:
        """The object type's check: ``pydantic.ValidationError`` when the arguments do not fit."""
        self._object().validate_call(self._function, *args, **kwargs)

    def run(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Call it; the object's properties are read again at once when it ends (events to the clients)."""
        try:
            return self._object().call(self._function, *args, **kwargs)
        finally:
            self._store.refresh(self._name)

    def progress(self) -> dict[str, Any] | None:
        """None: an object's callable says nothing while it runs."""
        return None
