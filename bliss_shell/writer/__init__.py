"""The NeXus/HDF5 writer, writing and reading scan files.

Layer: below ``data`` (data may import writer, writer never imports data); see docs/architecture.md.
"""

from .image_links import ImageFrames
from .layout import entry_name, highest_scan_number, read_measurement
from .nexus import NexusScanWriter, SavingError, check_target, dataset_names

__all__ = ["ImageFrames", "NexusScanWriter", "SavingError", "check_target", "dataset_names", "entry_name", "highest_scan_number",
           "read_measurement"]  # fmt: skip
