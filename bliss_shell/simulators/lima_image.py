"""The frames of our LimaCCDs simulator: a spot on noise in the camera's pixel type, shaped as Lima core does.

The picture: a gaussian spot that follows a motor, on Poisson noise, in the pixel type of the camera's
``image_type`` (``in_pixel_type``). The geometry: Lima core (``SoftOpInternalMgr``) processes each frame
in this order: binning (pixels summed), flip (``x``: left-right, ``y``: up-down), rotation (clockwise: 90,
180, 270), then the roi, which is given in the coordinates of the binned, flipped and rotated image.
Changing the binning, flip or rotation keeps the roi on the same pixels of the sensor (``CtImage``
converts it); here the roi is kept in sensor pixels, which does that by construction. Rectangles are
``(x, y, width, height)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

Rect = tuple[int, int, int, int]
ROTATIONS = {"NONE": 0, "90": 90, "180": 180, "270": 270}  # image_rotation values, as the real server names them


def spot_frame(sensor: tuple[int, int], position: float, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts (uint32) of a ``sensor`` (width, height) picture: a spot at ``position`` of its motor, on Poisson noise.

    The noise is a slice of a pool drawn once per size, ``noise`` (returned, grown if needed, for the
    next frame). The spot is computed within 5 sigma of its centre only: beyond, it adds less than one count.

    Examples
    --------
    >>> counts, pool = spot_frame((64, 32), 0.0, np.zeros(0, dtype=np.uint32))
    >>> counts.shape, counts.dtype.name, int(counts[16, 32]) > 900
    ((32, 64), 'uint32', True)
    """
    width, height = sensor
    sigma = width / 32
    cx, cy = width / 2 + position * width / 20, height / 2
    if noise.size < 2 * width * height:
        noise = np.random.default_rng().poisson(5, 2 * width * height).astype(np.uint32)
    start = int(np.random.default_rng().integers(width * height))
    frame = noise[start : start + width * height].reshape(height, width).copy()
    reach = 5 * sigma
    columns = np.arange(max(0, int(cx - reach)), min(width, int(cx + reach) + 1))
    rows = np.arange(max(0, int(cy - reach)), min(height, int(cy + reach) + 1))
    if columns.size and rows.size:
        row = np.exp(-((columns - cx) ** 2) / (2 * sigma**2))
        column = 1000 * np.exp(-((rows - cy) ** 2) / (2 * sigma**2))
        frame[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1] += np.outer(column, row).astype(np.uint32)
    return frame, noise


def in_pixel_type(counts: np.ndarray, pixel_type: str) -> np.ndarray:
    """``counts`` in ``pixel_type`` (a numpy type name: the pixels of an ``image_type``).

    8-bit types divide by 8, signed ones and float sit 20 lower (the noise floor goes below zero),
    every type is clipped to its range.

    Examples
    --------
    >>> in_pixel_type(np.array([[0, 100]], dtype=np.uint32), "int16").tolist()
    [[-20, 80]]
    """
    dtype = np.dtype(pixel_type)
    if dtype == np.uint32:
        return counts
    if dtype.kind == "f":
        return (counts - 20.5).astype(dtype)
    values = counts.astype(np.int64) // (8 if dtype.itemsize == 1 else 1) - (20 if dtype.kind == "i" else 0)
    limits = np.iinfo(dtype)
    return np.clip(values, limits.min, limits.max).astype(dtype)


def _rotated(rect: Rect, size: tuple[int, int], rotation: int) -> Rect:
    """``rect`` of an image of ``size`` (width, height) once that image is turned clockwise (Lima's ``getRotated``)."""
    x, y, w, h = rect
    width, height = size
    if rotation == 90:
        return height - y - h, x, h, w
    if rotation == 180:
        return width - x - w, height - y - h, w, h
    if rotation == 270:
        return y, width - x - w, h, w
    return rect


def _flipped(rect: Rect, size: tuple[int, int], flip: tuple[bool, bool]) -> Rect:
    x, y, w, h = rect
    return size[0] - x - w if flip[0] else x, size[1] - y - h if flip[1] else y, w, h


def _binned(frame: np.ndarray, bx: int, by: int) -> np.ndarray:
    """Sums of ``bx`` x ``by`` pixels (a partial block at the edge is dropped), saturated at the pixel type's range."""
    height, width = frame.shape[0] // by * by, frame.shape[1] // bx * bx
    wide = frame[:height, :width].astype(np.float64 if frame.dtype.kind == "f" else np.int64)
    summed = wide.reshape(height // by, by, width // bx, bx).sum(axis=(1, 3))
    if frame.dtype.kind != "f":
        limits = np.iinfo(frame.dtype)
        summed = np.clip(summed, limits.min, limits.max)
    return summed.astype(frame.dtype)


@dataclass(frozen=True)
class Geometry:
    """What the camera's frames become: ``sensor`` (width, height) in, ``size`` out.

    Examples
    --------
    >>> Geometry((256, 256), binning=(2, 2)).with_roi((0, 0, 64, 32)).size
    (64, 32)
    """

    sensor: tuple[int, int]
    binning: tuple[int, int] = (1, 1)
    flip: tuple[bool, bool] = (False, False)
    rotation: int = 0
    sensor_roi: Rect | None = None  # in sensor pixels; None: the whole image

    @property
    def binned(self) -> tuple[int, int]:
        """Width and height of the sensor once binned."""
        return self.sensor[0] // self.binning[0], self.sensor[1] // self.binning[1]

    @property
    def full(self) -> tuple[int, int]:
        """The image before the roi: binned, and turned when the rotation is 90 or 270."""
        width, height = self.binned
        return (height, width) if self.rotation in (90, 270) else (width, height)

    @property
    def roi(self) -> Rect:
        """The roi in the coordinates of the processed image (the whole image when none is set)."""
        if self.sensor_roi is None:
            return (0, 0, *self.full)
        x, y, w, h = self.sensor_roi
        bx, by = self.binning
        rect = _flipped((x // bx, y // by, w // bx, h // by), self.binned, self.flip)
        rect = _rotated(rect, self.binned, self.rotation)
        return rect if rect[2] > 0 and rect[3] > 0 else (0, 0, *self.full)

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the frames delivered: the roi's."""
        return self.roi[2], self.roi[3]

    def with_roi(self, roi: Rect) -> Geometry:
        """The geometry with the roi ``roi`` (processed image coordinates).

        An empty one (zero width or height) or the whole image clears it. ValueError, in Lima core's
        words, when it does not fit the image.
        """
        x, y, w, h = roi
        if w == 0 or h == 0 or (x, y, w, h) == (0, 0, *self.full):
            return replace(self, sensor_roi=None)
        full_width, full_height = self.full
        if min(x, y) < 0 or w < 0 or h < 0 or x + w > full_width or y + h > full_height:
            raise ValueError(f"Software roi out of limits: max_roi <0,0>-<{full_width}x{full_height}>, roi <{x},{y}>-<{w}x{h}>")
        turned = self.binned[::-1] if self.rotation in (90, 270) else self.binned
        rect = _rotated(roi, turned, (360 - self.rotation) % 360)
        x, y, w, h = _flipped(rect, self.binned, self.flip)
        bx, by = self.binning
        return replace(self, sensor_roi=(x * bx, y * by, w * bx, h * by))

    def with_sensor(self, sensor: tuple[int, int]) -> Geometry:
        """The geometry with another sensor size, ``sensor`` (width, height).

        As in Lima core, a roi that starts outside is cleared, one that ends outside is cut; a
        binning larger than the sensor goes back to 1 x 1.
        """
        width, height = sensor
        binning = self.binning if self.binning[0] <= width and self.binning[1] <= height else (1, 1)
        roi = self.sensor_roi
        if roi is not None:
            x, y, w, h = roi
            roi = None if x >= width or y >= height else (x, y, min(w, width - x), min(h, height - y))
        return replace(self, sensor=sensor, binning=binning, sensor_roi=roi)

    def process(self, frame: np.ndarray) -> np.ndarray:
        """A frame of the sensor (height, width) as the camera delivers it; no copy when nothing is set."""
        bx, by = self.binning
        if bx > 1 or by > 1:
            frame = _binned(frame, bx, by)
        if self.flip[0]:
            frame = frame[:, ::-1]
        if self.flip[1]:
            frame = frame[::-1]
        if self.rotation:
            frame = np.rot90(frame, -(self.rotation // 90))
        if self.sensor_roi is not None:
            x, y, w, h = self.roi
            frame = frame[y : y + h, x : x + w]
        return np.ascontiguousarray(frame)
