"""What a scan saved, read back for readers of files: the viewer's scans that left Redis, frames of Lima's files.

Every HDF5 read of a reader goes through here (h5py is writer/'s alone, docs/architecture.md). Files are
opened read-only without HDF5's file locking, so a file being written by a shell can be read.

Examples
--------
The file of ``loopscan(5, 0, diode)`` then ``ascan(roby, 0, 4, 5, 0, diode)``:

>>> [(channel.name, channel.shape) for channel in read_channels(SCANS[-1].path, "2_ascan", spectra=10)]
[('diode', (5,)), ('elapsed_time', (5,)), ('epoch', (5,)), ('roby', (5,))]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import entry_number, find_entry


@dataclass(frozen=True)
class SavedChannel:
    """One dataset of a saved scan's ``measurement`` group: what a viewer shows of it."""

    name: str
    path: str  # where the file has it: ``/2.1/measurement/roby``
    shape: tuple[int, ...]  # points first: (points,), (points, bins) or (frames, height, width)
    data: np.ndarray  # scalars: every point; spectra: the last ones asked for; images: the last frame (none: empty)


def read_channels(filename: str, entry: str, spectra: int) -> list[SavedChannel]:
    """The 1D, 2D and 3D datasets of a saved scan's ``measurement`` group, by name; frames stay in the file.

    Parameters
    ----------
    filename : str
        The scan's file.
    entry : str
        The scan's node name, ``<number>_<name>`` (``2_ascan``): its entry is ``N.1`` or, in older files, ``N_name``.
    spectra : int
        How many of the last spectra of a 2D dataset to read.

    Raises
    ------
    OSError
        The file cannot be opened.
    KeyError
        The file has no entry for the scan.

    Examples
    --------
    >>> channels = read_channels(SCANS[-1].path, "2_ascan", spectra=10)
    >>> channels[-1].name, channels[-1].path, channels[-1].data
    ('roby', '/2.1/measurement/roby', array([0., 1., 2., 3., 4.]))
    >>> read_channels(SCANS[-1].path, "9_ascan", spectra=10)
    Traceback (most recent call last):
    ...
    KeyError: '.../data.h5 has no entry for scan 9 (9.1 or 9_ascan)'
    """
    import h5py

    number = entry_number(entry)
    with h5py.File(filename, "r", locking=False) as file:
        if number is None:
            raise KeyError(f"{filename} has no entry {entry}: saved scans are numbered")
        group = find_entry(file, number, entry.split("_", 1)[-1])["measurement"]
        channels = []
        for name, dataset in group.items():
            if dataset.ndim == 1:
                data = dataset[()]
            elif dataset.ndim == 2:
                data = dataset[-spectra:]
            elif dataset.ndim == 3:
                data = dataset[-1] if len(dataset) else np.empty((0, 0), dataset.dtype)
            else:
                continue
            channels.append(SavedChannel(name, dataset.name, dataset.shape, data))
    return channels


def read_frame(filename: str, dataset: str, index: int) -> np.ndarray | None:
    """Frame ``index`` of an image dataset, or None when the file, the dataset or the frame is not there.

    Examples
    --------
    A frame Lima saved: ``read_frame(path, "entry_0000/instrument/lima_simulator/data", 3)``; and none:

    >>> read_frame("/tmp/no/such/file.h5", "entry_0000/instrument/lima_simulator/data", 3) is None
    True
    """
    import h5py

    try:
        with h5py.File(filename, "r", locking=False) as file:
            return file[dataset][index]
    except (OSError, KeyError, IndexError):
        return None


class FileFrames:
    """The frames of a saved scan's image dataset, read from its file when asked (as ``LimaDataView``'s ``get_image``).

    Parameters
    ----------
    filename : str
        The scan's file.
    path : str
        The dataset's path in the file (``SavedChannel.path``).
    count : int
        How many frames it holds.

    Examples
    --------
    >>> frames = FileFrames(SCANS[-1].path, "/2.1/measurement/roby", 5)  # a 1D dataset: its points
    >>> frames.last_image_ready, float(frames.get_image(-1))
    (4, 4.0)
    """

    def __init__(self, filename: str, path: str, count: int):
        self._filename, self._path = filename, path
        self.last_image_ready = count - 1

    def get_image(self, index: int) -> np.ndarray:
        """Frame ``index`` (negative from the last), read from the file.

        Raises
        ------
        IndexError
            The dataset has no such frame.
        OSError
            The file cannot be read.
        """
        absolute = index + self.last_image_ready + 1 if index < 0 else index
        if not 0 <= absolute <= self.last_image_ready:
            raise IndexError(f"image {index} is not in the file (it has {self.last_image_ready + 1})")
        import h5py

        with h5py.File(self._filename, "r", locking=False) as file:
            return file[self._path][absolute]
