"""Lima detectors as BLISS's ``lima`` object type.

The state comes from the LimaCCDs device's ``acq_status`` (``OFFLINE`` when the device does not
answer, as BLISS's), ``static`` from its camera attributes (the pixel size in micron), the image
settings from ``lima.image`` (rotation, binning, flip, roi: what a scan's frames follow).

Examples
--------
>>> _LIMA_STATES["Running"], _LIMA_STATES["?"]
('ACQUIRING', 'UNKNOWN')
"""

from __future__ import annotations

from typing import Any

from .mappings_base import Mapped
from .object_types import LimaType

__all__ = ["LimaMapping"]

_LIMA_STATES = {"Ready": "READY", "Fault": "FAULT", "Running": "ACQUIRING", "Configuration": "CONFIGURATION", "?": "UNKNOWN"}
_LIMA_STATIC = ("lima_version", "lima_type", "camera_type", "camera_model", "camera_pixelsize", "image_max_dim")
_MICRON_CAMERAS = ("pco", "andor", "andor3")  # those may give their pixel size in micron already


class LimaMapping(Mapped):
    """Our ``Lima`` as BLISS's ``lima``: state from ``acq_status``, static camera facts, image settings.

    Examples
    --------
    >>> camera = LimaMapping(lima_simulator, "lima_simulator")  # doctest: +SKIP
    >>> camera.get("state"), camera.get("static")["camera_type"]  # doctest: +SKIP
    ('READY', 'Simulator')
    """

    TYPE = LimaType
    LIVE = ("state",)

    def __init__(self, obj: Any, name: str, user_tags: Any = ()):
        super().__init__(obj, name, user_tags)
        self._static: dict[str, Any] | None = None

    def _answers(self) -> bool:
        try:
            self.object.proxy.ping()
        except Exception:  # any failure of the device: BLISS's OFFLINE
            return False
        return True

    def _get_state(self) -> str:
        if not self._answers():
            self._static = None
            return "OFFLINE"
        try:
            status = self.object._device.read("acq_status")
        except Exception as error:
            return "BUSY" if "get_monitor" in str(error) else "UNKNOWN"
        return _LIMA_STATES.get(str(status), "UNKNOWN")

    def _get_static(self) -> dict[str, Any] | None:
        """What the camera is, as BLISS's ``static``: read once while the device answers (None while it does not).

        Every LimaCCDs server has the six attributes. Lima gives the pixel size in meters: it is served
        in micron, as BLISS does (PCO and Andor cameras may give micron already: kept as they are).
        """
        if self._static is None and self._answers():
            values = dict(zip(_LIMA_STATIC, self.object._device.read_many(_LIMA_STATIC)))
            size = [float(v) for v in values["camera_pixelsize"]]
            if not (str(values["camera_type"]).lower() in _MICRON_CAMERAS and size[0] > 0.1):
                size = [v * 1e6 for v in size]
            static = {name: str(values[name]) for name in ("lima_version", "lima_type", "camera_type", "camera_model")}
            self._static = {**static, "camera_pixelsize": size, "image_max_dim": [int(v) for v in values["image_max_dim"]]}
        return self._static

    def _get_rotation(self) -> int:
        return int(self.object.image.rotation)

    def _get_binning(self) -> list[int]:
        return [int(v) for v in self.object.image.binning]

    def _get_binning_mode(self) -> None:
        return None  # LimaCCDs has no binning mode the shell sets

    def _get_flip(self) -> list[bool]:
        return [bool(v) for v in self.object.image.flip]

    def _get_roi(self) -> list[int]:
        return [int(v) for v in self.object.image.roi]

    def _get_raw_roi(self) -> list[int]:
        return self._get_roi()

    def _get_size(self) -> list[int]:
        image = self.object.image
        return [int(image.width), int(image.height)]

    def _get_acc_max_expo_time(self) -> float | None:
        try:
            return float(self.object._device.read("acc_max_expo_time"))
        except Exception:  # a device without accumulation
            return None

    def _set_rotation(self, value: int | None) -> None:
        self.object.image.rotation = value

    def _set_binning(self, value: list[int] | None) -> None:
        self.object.image.binning = value

    def _set_flip(self, value: list[bool] | None) -> None:
        self.object.image.flip = value

    def _set_binning_mode(self, value: str | None) -> None:
        raise ValueError(f"{self.name}: binning_mode can't be set here (LimaCCDs' image_bin_mode is not used by the shell)")

    def _set_acc_max_expo_time(self, value: float | None) -> None:
        self.object._device.write("acc_max_expo_time", value)
