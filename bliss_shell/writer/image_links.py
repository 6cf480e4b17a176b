"""A detector's frames in the scan's master file: one virtual dataset over the files Lima saved.

The frames stay in Lima's files; the master file maps them (paths relative to its folder,
so the scan folder can move) and silx shows them as one stack from the master file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFrames:
    """Where a detector's frames of one scan were saved: each file and how many frames it holds."""

    detector: str
    dataset: str  # the frames' path inside each file
    frame_shape: tuple[int, int]  # (height, width)
    dtype: str
    files: Sequence[tuple[str, int]]


def add_image_links(filename: str, entry: str, images: Sequence[ImageFrames]) -> None:
    """Add ``instrument/<detector>/data`` (virtual) and ``measurement/<detector>`` to the closed scan entry."""
    import h5py

    folder = os.path.dirname(os.path.abspath(filename))
    with h5py.File(filename, "a", locking=False) as file:
        for image in images:
            total = sum(count for _, count in image.files)
            if not total:
                continue
            layout = h5py.VirtualLayout(shape=(total, *image.frame_shape), dtype=image.dtype)
            row = 0
            for path, count in image.files:
                source = "./" + os.path.relpath(path, folder)
                # A slice, not the whole source: the camera may have saved frames after the scan's last point.
                layout[row : row + count] = h5py.VirtualSource(source, image.dataset, shape=(count, *image.frame_shape))[:count]
                row += count
            detector = file[entry]["instrument"].create_group(image.detector)
            detector.attrs["NX_class"] = "NXdetector"
            detector.create_virtual_dataset("data", layout, fillvalue=0).attrs["interpretation"] = "image"
            file[entry]["measurement"][image.detector] = h5py.SoftLink(f"/{entry}/instrument/{image.detector}/data")
