"""``lima.image``, ``lima.acquisition`` and ``lima.saving``: a LimaCCDs device's parameters as a BLISS user types them.

Each property reads the device's attribute (``image.binning`` is ``image_bin``, ``acquisition.expo_time``
``acq_expo_time``, ``saving.frames_per_file`` ``saving_frame_per_file``), checks a new value before the
device sees it (an error names the object, the value and what is accepted) and keeps what the user set
as a setting of the Lima object (``lima:<name>``, comm/settings.py), under the attribute's name. When the
object is built the settings go back to the device, so a restarted server gets them again.

Lima core changes the roi when the binning, flip or rotation change (it stays on the same pixels of the
sensor), so the image group keeps all four as the device has them after each change, and restores them
in the order that gives the same roi again: rotation, flip, binning, then the roi.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bliss_shell.comm import Settings

from .tango_client import TangoClient, TangoDeviceError

Check = Callable[["Parameters", "Parameter", Any], Any]
ROTATIONS = {0: "NONE", 90: "90", 180: "180", 270: "270"}  # user's degrees: the device's image_rotation values
_IMAGE = ("image_rotation", "image_flip", "image_bin", "image_roi")  # the order that restores the same roi
_WHOLE_IMAGE = [0, 0, 0, 0]  # image_roi written so: no roi (Lima core's empty roi)


def whole(value: Any) -> bool:
    """Whether ``value`` is a whole number (an int or numpy integer, not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def items(value: Any, count: int) -> list[Any] | None:
    """The ``count`` items of a list, tuple or array; None for anything else."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or len(value) != count:
        return None
    return list(value)


def check_rect(label: str, value: Any, image: tuple[int, int]) -> list[int]:
    """``(x, y, width, height)`` as four ints inside an image of ``image`` (width, height) pixels.

    Raises
    ------
    ValueError
        ``value`` is not four whole numbers, or the rectangle is empty or goes outside the image.

    Examples
    --------
    >>> check_rect("cam: ROI r1", (100, 100, 40, 20), (256, 256))
    [100, 100, 40, 20]
    >>> check_rect("cam: ROI r1", (250, 0, 10, 10), (256, 256))
    Traceback (most recent call last):
    ...
    ValueError: cam: ROI r1 (250, 0, 10, 10) goes outside the 256 x 256 image: x + width must be <= 256 and y + height <= 256
    """
    rect = items(value, 4)
    if rect is None or not all(whole(v) for v in rect):
        raise ValueError(f"{label} {value!r} refused: give (x, y, width, height), four whole numbers")
    x, y, w, h = (int(v) for v in rect)
    if x < 0 or y < 0 or w < 1 or h < 1:
        raise ValueError(f"{label} {(x, y, w, h)} refused: x and y must be >= 0, width and height >= 1")
    width, height = image
    if x + w > width or y + h > height:
        raise ValueError(f"{label} {(x, y, w, h)} goes outside the {width} x {height} image: x + width must be <= "
                         f"{width} and y + height <= {height}")  # fmt: skip
    return [x, y, w, h]


class Parameter:
    """A LimaCCDs attribute as a property of a group: read from the device, checked, written and kept."""

    def __init__(self, attribute: str, check: Check, shown: Callable[[Any], Any] = lambda value: value, doc: str = ""):
        self.attribute = attribute
        self.check = check
        self.shown = shown
        self.__doc__ = doc
        self.what = attribute

    def __set_name__(self, owner: type, name: str) -> None:
        self.what = name

    def __get__(self, group: Parameters | None, owner: type) -> Any:
        if group is None:
            return self
        return self.shown(group.device.read(self.attribute))

    def __set__(self, group: Parameters, value: Any) -> None:
        group.apply(self.attribute, self.check(group, self, value))


def _read_only(attribute: str, why: str) -> property:
    def read(group: Parameters) -> Any:
        value = group.device.read(attribute)
        return int(value) if whole(value) else value

    def refuse(group: Parameters, value: Any) -> None:
        raise AttributeError(f"{group.label}.{attribute.split('_', 1)[1]} is read only: {why}")

    return property(read, refuse, doc=why)


def _seconds(group: Parameters, parameter: Parameter, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{group.label}.{parameter.what} {value!r} refused: give a number of seconds >= 0")
    return float(value)


def _count(minimum: int) -> Check:
    def check(group: Parameters, parameter: Parameter, value: Any) -> int:
        if not whole(value) or value < minimum:
            raise ValueError(f"{group.label}.{parameter.what} {value!r} refused: give a whole number >= {minimum}")
        return int(value)

    return check


def _choice(group: Parameters, parameter: Parameter, value: Any) -> str:
    """One of the values the device lists for that attribute (``getAttrStringValueList``), any case."""
    choices = group.choices(parameter.attribute)
    if not isinstance(value, str) or value.upper() not in choices:
        raise ValueError(f"{group.label}.{parameter.what} {value!r} refused: the device offers {', '.join(choices)}")
    return value.upper()


class Parameters:
    """One group of a LimaCCDs device's parameters; ``label`` is ``lima_simulator.image``."""

    __slots__ = ("_choices", "device", "label", "name", "settings")
    group = ""
    about = ""  # what scans do with the group, shown by repr

    def __init__(self, name: str, device: TangoClient, settings: Settings):
        self.name = name
        self.device = device
        self.settings = settings
        self.label = f"{name}: {self.group}"
        self._choices: dict[str, list[str]] = {}

    @classmethod
    def parameters(cls) -> list[Parameter]:
        """The group's parameters, in the order the class lists them."""
        return [value for value in vars(cls).values() if isinstance(value, Parameter)]

    def choices(self, attribute: str) -> list[str]:
        """The values the device offers for an enumerated attribute (``getAttrStringValueList``), asked once."""
        if attribute not in self._choices:
            self._choices[attribute] = [str(value) for value in self.device.command("getAttrStringValueList", attribute)]
        return self._choices[attribute]

    def apply(self, attribute: str, value: Any) -> None:
        """Give the device a checked value, then keep it."""
        self.device.write(attribute, value)
        self.settings.set(**{attribute: value})

    def restore(self, saved: dict[str, Any]) -> None:
        """The values the user set, back to the device; one the device refuses now is dropped, saying so."""
        for attribute in (p.attribute for p in self.parameters() if p.attribute in saved):
            try:
                self.device.write(attribute, saved[attribute])
            except TangoDeviceError as error:
                print(f"{self.name}: the saved {attribute} {saved[attribute]!r} is refused now ({error}); it is dropped")
                self.settings.remove(attribute)

    def __repr__(self) -> str:
        values = self.device.read_many([p.attribute for p in self.parameters()])
        rows = [f"  {p.what:<14} {p.shown(value)}" for p, value in zip(self.parameters(), values)]
        return "\n".join([f"{self.name}.{self.group}{self.about}", *rows])


class AcquisitionSettings(Parameters):
    """``lima.acquisition``: a scan sets all three for its run (count time, points, its trigger mode).

    Examples
    --------
    >>> lima_simulator.acquisition.trigger_mode = "internal_trigger_multi"  # doctest: +SKIP
    >>> lima_simulator.acquisition.trigger_mode  # doctest: +SKIP
    'INTERNAL_TRIGGER_MULTI'
    """

    __slots__ = ()
    group = "acquisition"
    about = " (each scan sets these for its run)"
    expo_time = Parameter("acq_expo_time", _seconds, float, "Seconds per frame (acq_expo_time).")
    nb_frames = Parameter("acq_nb_frames", _count(0), int, "Frames per acquisition, 0: until stopped (acq_nb_frames).")
    trigger_mode = Parameter("acq_trigger_mode", _choice, str, "INTERNAL_TRIGGER, ... (acq_trigger_mode).")


class SavingSettings(Parameters):
    """``lima.saving``: ``mode``, ``file_format`` and ``frames_per_file`` of the frames' files.

    A scan sets ``mode`` (AUTO_FRAME when it saves, else MANUAL) and ``file_format`` (HDF5, which
    the frame readers and the master file's links read) for its run; it uses ``frames_per_file``.

    Examples
    --------
    >>> lima_simulator.saving.frames_per_file = 50  # doctest: +SKIP
    >>> lima_simulator.saving.frames_per_file  # doctest: +SKIP
    50
    """

    __slots__ = ()
    group = "saving"
    about = " (scans set mode and file_format for their run, and use frames_per_file)"
    mode = Parameter("saving_mode", _choice, str, "MANUAL, AUTO_FRAME, ... (saving_mode).")
    file_format = Parameter("saving_format", _choice, str, "HDF5, ... (saving_format).")
    frames_per_file = Parameter("saving_frame_per_file", _count(1), int, "Frames in each file (saving_frame_per_file).")


def _binning(group: Parameters, parameter: Parameter, value: Any) -> list[int]:
    binning = items(value, 2)
    if binning is None or not all(whole(v) for v in binning):
        raise ValueError(f"{group.label}.binning {value!r} refused: give [x, y], two whole numbers >= 1, e.g. [2, 2]")
    width, height = (int(v) for v in group.device.read("image_max_dim"))
    if not (1 <= binning[0] <= width and 1 <= binning[1] <= height):
        raise ValueError(f"{group.label}.binning {binning} refused: each must be >= 1 and leave a pixel of the "
                         f"{width} x {height} sensor")  # fmt: skip
    return [int(v) for v in binning]


def _flip(group: Parameters, parameter: Parameter, value: Any) -> list[bool]:
    flip = items(value, 2)
    if flip is None or not all(isinstance(v, (bool, np.bool_)) or (whole(v) and v in (0, 1)) for v in flip):
        raise ValueError(f"{group.label}.flip {value!r} refused: give [left-right, up-down], two booleans, e.g. [True, False]")
    return [bool(v) for v in flip]


def _rotation(group: Parameters, parameter: Parameter, value: Any) -> str:
    names = {str(degrees): name for degrees, name in ROTATIONS.items()} | {"NONE": "NONE"}
    if whole(value) and int(value) in ROTATIONS:
        return ROTATIONS[int(value)]
    if isinstance(value, str) and value.upper() in names:
        return names[value.upper()]
    raise ValueError(f"{group.label}.rotation {value!r} refused: one of 0, 90, 180, 270 (degrees, clockwise)")


def _roi(group: Parameters, parameter: Parameter, value: Any) -> list[int]:
    if value is None or items(value, 4) == _WHOLE_IMAGE:
        return _WHOLE_IMAGE
    return check_rect(f"{group.label}.roi", value, ImageSettings.whole_image(group.device))


class ImageSettings(Parameters):
    """``lima.image``: ``roi``, ``binning``, ``flip``, ``rotation`` (settable), ``width``, ``height``, ``type``.

    The frames of the next scans follow them. Lima core keeps the roi on the same pixels of the
    sensor when the binning, flip or rotation change.

    Examples
    --------
    >>> lima_simulator.image.binning = [2, 2]  # doctest: +SKIP
    >>> lima_simulator.image.roi = (0, 0, 64, 32)  # doctest: +SKIP
    >>> lima_simulator.image.width, lima_simulator.image.height  # doctest: +SKIP
    (64, 32)
    >>> lima_simulator.image.binning = [1, 1]; lima_simulator.image.roi = None  # doctest: +SKIP
    >>> lima_simulator.image.width, lima_simulator.image.height  # doctest: +SKIP
    (256, 256)

    The roi is given in the binned image; ``None`` takes the whole image.
    """

    __slots__ = ()
    group = "image"
    about = " (frames of the next scans)"
    rotation = Parameter("image_rotation", _rotation, lambda value: 0 if value == "NONE" else int(value),
                         "0, 90, 180 or 270 degrees, clockwise (image_rotation).")  # fmt: skip
    flip = Parameter("image_flip", _flip, lambda value: [bool(v) for v in value], "[left-right, up-down] (image_flip).")
    binning = Parameter("image_bin", _binning, lambda value: [int(v) for v in value], "[x, y]: pixels summed (image_bin).")
    roi = Parameter("image_roi", _roi, lambda value: [int(v) for v in value],
                    "[x, y, width, height] of the binned, flipped, turned image (image_roi).")  # fmt: skip
    width = _read_only("image_width", "it follows image.roi, image.binning and image.rotation")
    height = _read_only("image_height", "it follows image.roi, image.binning and image.rotation")
    type = _read_only("image_type", "the camera's pixel type (Bpp16, Bpp32, ...)")

    @staticmethod
    def whole_image(device: TangoClient) -> tuple[int, int]:
        """Width and height of the image before the roi: the sensor binned, turned by the rotation."""
        sensor, binning, rotation = device.read_many(("image_max_dim", "image_bin", "image_rotation"))
        width, height = int(sensor[0]) // int(binning[0]), int(sensor[1]) // int(binning[1])
        return (height, width) if rotation in ("90", "270") else (width, height)

    def apply(self, attribute: str, value: Any) -> None:
        """Give the device the value, then keep the four as the device has them now (its roi may have moved)."""
        self.device.write(attribute, value)
        rotation, flip, binning, roi = self.device.read_many(_IMAGE)
        roi = [int(v) for v in roi]
        if roi == [0, 0, *self.whole_image(self.device)]:
            roi = _WHOLE_IMAGE
        flip, binning = [bool(v) for v in flip], [int(v) for v in binning]
        self.settings.set(image_rotation=rotation, image_flip=flip, image_bin=binning, image_roi=roi)

    def restore(self, saved: dict[str, Any]) -> None:
        """The saved image values, back to the device in the order that gives the same roi.

        When the device refuses one, all four are dropped (saying so) and the whole image is used.
        """
        if not any(attribute in saved for attribute in _IMAGE):
            return
        try:
            self.device.write("image_roi", _WHOLE_IMAGE)  # first: each step below must fit
            for attribute in (attribute for attribute in _IMAGE if attribute in saved):
                self.device.write(attribute, saved[attribute])
        except TangoDeviceError as error:
            shown = {attribute: saved[attribute] for attribute in _IMAGE if attribute in saved}
            print(f"{self.name}: the saved image settings {shown} are refused now ({error}); the whole image is used")
            self.settings.remove(*_IMAGE)
            self.device.write("image_roi", _WHOLE_IMAGE)

    def __repr__(self) -> str:
        kind, width, height, sensor = self.device.read_many(("image_type", "image_width", "image_height", "image_max_dim"))
        return f"{super().__repr__()}\n  {'size':<14} {width} x {height} {kind} (sensor {sensor[0]} x {sensor[1]})"
