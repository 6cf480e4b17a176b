"""The small interfaces the scan engine drives; Tango and simulation devices both implement them."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from bliss_shell.config import ConfigNode


@runtime_checkable
class Axis(Protocol):
    """A motor: what a scan needs to move it and to name its channel, and what ``wm`` shows.

    Positions and limits are user values: user = dial + offset (``controllers/axis.py``).
    """

    name: str
    unit: str | None
    offset: float

    @property
    def position(self) -> float: ...

    @property
    def dial(self) -> float: ...

    @property
    def limits(self) -> tuple[float, float]: ...

    @property
    def dial_limits(self) -> tuple[float, float]: ...

    @property
    def state(self) -> str: ...

    def check_target(self, target: float) -> None:
        """Raise ValueError naming the axis, target and limits when the target is refused."""

    def move(self, target: float, wait: bool = True) -> None: ...

    def wait_move(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class Counter(Protocol):
    """A counter: read once per point, after counting for the point's count time."""

    name: str
    controller_name: str
    unit: str | None
    dtype: str
    shape: tuple[int, ...]

    def read(self, count_time: float) -> Any: ...


class ConfiguredCounter:
    """What every counter takes from its config: name, controller (default: its own name), unit.

    Scalar float64 unless a subclass says otherwise.
    """

    dtype = "float64"
    shape: tuple[int, ...] = ()

    def __init__(self, node: ConfigNode):
        self.name: str = node.name
        self.controller_name: str = node.get("controller", node.name)
        self.unit: str | None = node.get("unit")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


@runtime_checkable
class Detector(Protocol):
    """A 2D detector: one frame per point, published as references, never as pixels."""

    name: str

    def prepare(self, npoints: int, count_time: float, images_directory: str | None) -> dict[str, Any]:
        """Set the acquisition up; return what a reader needs to find the frames (server, saving)."""

    def start_point(self) -> None: ...

    def wait_point(self, index: int) -> dict[str, int]:
        """Wait until frame ``index`` is ready; return the server's counters (``last_image_ready``, ...)."""

    def stop(self) -> None: ...


def looks_like(value: Any, protocol: type) -> bool:
    """``isinstance(value, protocol)`` decided without running the object's code.

    ``isinstance`` on a runtime protocol reads every member, and for an arbitrary object of the
    namespace a read can be a Tango or Redis call (``SCAN_SAVING`` reads Redis), which fails when
    that server is down. Here only the class and the instance's own ``__dict__`` are looked at.
    """
    members = set(getattr(protocol, "__annotations__", {})) | {
        name for name, member in vars(protocol).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }  # fmt: skip
    kind = type(value)
    own = getattr(value, "__dict__", {})
    return all(hasattr(kind, name) or name in own for name in members)
