"""A detector's frames in the scan's master file: one virtual dataset over the files Lima saved.

The frames stay in Lima's files; the master file maps them (paths relative to its folder,
so the scan folder can move) and silx shows them as one stack from the master file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import h5py


@dataclass(frozen=True)
class ImageFrames:
    """Where a detector's frames of one scan were saved: each file and how many frames it holds."""

    detector: str
    dataset: str  # the frames' path inside each file
    frame_shape: tuple[int, int]  # (height, width)
    dtype: str
    files: Sequence[tuple[str, int]]


def add_image_links(entry: h5py.Group, images: Sequence[ImageFrames]) -> None:
    """Add ``instrument/<detector>/data`` (virtual) and ``measurement/<detector>`` to a scan entry.

    The entry's file must not be in SWMR mode (SWMR creates no objects): the writer calls this after the scan.
    """
    import h5py

    folder = os.path.dirname(os.path.abspath(entry.file.filename))
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
        detector = entry["instrument"].create_group(image.detector)
        detector.attrs["NX_class"] = "NXdetector"
        detector.create_virtual_dataset("data", layout, fillvalue=0).attrs["interpretation"] = "image"
        entry["measurement"][image.detector] = h5py.SoftLink(f"{entry.name}/instrument/{image.detector}/data")
