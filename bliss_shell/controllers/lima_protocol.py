"""What a LimaCCDs server produces: its frames' bytes, its pixel types, and where it saves each frame.

The bytes are those of ``readImage`` (DATA_ARRAY) and ``video_last_image`` (VIDEO_IMAGE); the
saving is its ``AUTO_FRAME`` HDF5 saving. Encoders for our simulator, decoders for clients. The formats
are the real server's: Lima-tango-python 1.12.2 (commit 7a44684c) ``lima/server/LimaCCDs.py``
(``_image_2_data_array``, ``_video_image_2_struct``) and Lima core (``common/src/VideoUtils.cpp``
``data2Image``: the video pixels are the frame's own bytes; ``control/src/CtSaving_Hdf5.cpp``).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# readImage answers ("DATA_ARRAY", header + pixels). Header version 4 (80 bytes): magic, version, header length,
# category (2: image), data type, big endian (0/1), number of dimensions, 6 dimensions (fastest first: width,
# height), 6 steps in bytes, image number, acquisition tag, 2 padding words. Versions 1-3 differ after the steps.
DATA_HEADER = "<IHHIIHH6H6IQQII"
DATA_VERSION = 4
DATA_MAGIC = struct.unpack(">I", b"DTAY")[0]
DATA_IMAGE = 2  # DataArrayCategory: ScalarStack, Spectrum, Image, SpectrumStack, ImageStack
ACQ_TAG_NONE = 0xFFFFFFFF  # the header's acquisition tag while no client wrote acq_tag (LimaCCDs' AcqTagNone)
_DATA_PREFIX = "<IHHIIHH6H"  # the fields every version shares, all a reader needs
# The header's data type codes (DataArrayType: DARRAY_UINT8 = 0, ..., DARRAY_FLOAT64 = 9).
DATA_TYPES = {np.dtype(name): code for code, name in enumerate(
    ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float32", "float64"))}  # fmt: skip
_DATA_DTYPES = {code: dtype for dtype, code in DATA_TYPES.items()}

# image_type names and their pixels (LimaCCDs' ImageType2NbBytes: 10 to 16 bits in 2 bytes, 24 bits in 4).
IMAGE_TYPES = {
    "Bpp1": "uint8", "Bpp6": "uint8", "Bpp8": "uint8", "Bpp8S": "int8",
    "Bpp10": "uint16", "Bpp10S": "int16", "Bpp12": "uint16", "Bpp12S": "int16", "Bpp14": "uint16", "Bpp14S": "int16",
    "Bpp16": "uint16", "Bpp16S": "int16", "Bpp24": "uint32", "Bpp32": "uint32", "Bpp32S": "int32", "Bpp32F": "float32",
}  # fmt: skip

# acq_status_fault_error in Fault: the real server's words for Lima core's error codes (read_acq_status_fault_error).
DISK_FULL = "Saving: disk full"  # a frame was refused by a disk with next to no room left (CtControl::SaveDiskFull)
FAULT_ERRORS = ("Saving: unknown error", "Saving: file open error", "Saving: file close error", "Saving: access error",
                "Saving: overwrite error", DISK_FULL, "Saving: overun", "Processing: overun", "Camera: error")  # fmt: skip
# The values the real server's enumerated attributes take (its dictionaries; saving_format: Lima core's format names).
REAL_CHOICES = {
    "acq_mode": ("SINGLE", "CONCATENATION", "ACCUMULATION"),
    "acq_trigger_mode": ("INTERNAL_TRIGGER", "EXTERNAL_TRIGGER", "EXTERNAL_TRIGGER_MULTI", "EXTERNAL_GATE",
                         "EXTERNAL_START_STOP", "INTERNAL_TRIGGER_MULTI", "EXTERNAL_TRIGGER_READOUT"),
    "saving_mode": ("MANUAL", "AUTO_FRAME", "AUTO_HEADER"),
    "saving_format": ("EDF", "CBF", "NXS", "FITS", "EDFGZ", "TIFF", "HDF5", "EDFCONCAT", "EDFLZ4", "CBFMHEADER", "HDF5GZ",
                      "HDF5BS", "RAW"),
    "saving_overwrite_policy": ("ABORT", "OVERWRITE", "APPEND", "MULTISET"),
    "image_rotation": ("NONE", "90", "180", "270"),
}  # fmt: skip

# video_last_image answers ("VIDEO_IMAGE", header + pixels): magic, version 1, video mode, frame number, width,
# height, endianness (0: little), header length (32), 2 padding words; the header in network order, the pixels the
# frame's own bytes. Video modes (Lima core's VideoMode): Y8 = 0, Y16 = 1, Y32 = 2, Y64 = 3 (grey, by pixel size; a
# float frame makes no video image). Before any video image: frame -1, width and height -1, Y8, no pixels.
VIDEO_HEADER = "!IHHqiiHHHH"
VIDEO_MAGIC = struct.unpack(">I", b"VDEO")[0]
VIDEO_MODES = {1: 0, 2: 1, 4: 2, 8: 3}  # bytes per pixel: Y8, Y16, Y32, Y64


def image_dtype(image_type: str, image_sizes: Sequence[int]) -> np.dtype:
    """The pixel type of a LimaCCDs device, from its ``image_type`` and ``image_sizes`` attributes.

    ``image_type`` decides (``Bpp16S`` is ``int16``, ``Bpp32F`` ``float32``); a name this table does not
    know falls back on ``image_sizes``: ``[signed, bytes per pixel, width, height]``.

    Examples
    --------
    >>> image_dtype("Bpp16S", [1, 2, 256, 256])
    dtype('int16')
    """
    if image_type in IMAGE_TYPES:
        return np.dtype(IMAGE_TYPES[image_type])
    signed, depth = int(image_sizes[0]), int(image_sizes[1])
    return np.dtype(f"{'int' if signed else 'uint'}{8 * depth}")


def frame_path(instrument: str, detector: str) -> str:
    """The frames' dataset in each HDF5 file a LimaCCDs server saves (Lima core's fixed layout).

    ``instrument`` and ``detector`` are the server's ``user_instrument_name`` and ``user_detector_name``.
    Entry ``entry_0000``: the first entry of a new file, which is what every file of an acquisition is
    under the ``ABORT`` (or ``OVERWRITE``) overwrite policy; ``APPEND`` would add entries to old files.

    Examples
    --------
    >>> frame_path("instrument", "lima_simulator")
    'entry_0000/instrument/lima_simulator/data'
    """
    return f"entry_0000/{instrument}/{detector}/data"


def encode_data_array(frame: np.ndarray, number: int = 0, acq_tag: int = ACQ_TAG_NONE) -> bytearray:
    """``frame`` (height, width) as the real server's ``readImage`` sends it, little endian.

    ``acq_tag`` is the header's acquisition tag (``ACQ_TAG_NONE`` until a client writes ``acq_tag``).

    Examples
    --------
    >>> frame = np.arange(6, dtype=np.uint16).reshape(2, 3)
    >>> raw = encode_data_array(frame, number=7)
    >>> len(raw), decode_data_array(raw).tolist()
    (92, [[0, 1, 2], [3, 4, 5]])
    """
    height, width = frame.shape
    size = frame.dtype.itemsize
    header = struct.pack(
        DATA_HEADER, DATA_MAGIC, DATA_VERSION, struct.calcsize(DATA_HEADER), DATA_IMAGE,
        DATA_TYPES[np.dtype(frame.dtype.name)], 0, 2, width, height, 0, 0, 0, 0, size, size * width, 0, 0, 0, 0,
        number, acq_tag, 0, 0,
    )  # fmt: skip
    return _with_header(header, frame, frame.dtype.newbyteorder("<"))


def _with_header(header: bytes, frame: np.ndarray, dtype: np.dtype) -> bytearray:
    """``header`` then the pixels as ``dtype``, copied once (a 2048x2048 frame is 16 MB)."""
    out = bytearray(len(header) + frame.size * dtype.itemsize)
    out[: len(header)] = header
    np.frombuffer(out, dtype=dtype, offset=len(header)).reshape(frame.shape)[...] = frame
    return out


def encode_video_image(frame: np.ndarray | None, number: int = -1) -> bytearray:
    """``frame`` as the real server's ``video_last_image`` sends it: the VDEO header, then the pixels as they are.

    The video mode follows the pixel size (Y8, Y16, Y32, Y64); signed pixels keep their bits, in little
    endian as a little-endian server sends them. ``None``: no video image yet (frame -1, -1 x -1, Y8).

    Examples
    --------
    >>> raw = encode_video_image(np.array([[1, 2, 3]], dtype=np.uint16), number=4)
    >>> mode, number, frame = decode_video_image(raw)
    >>> mode, number, frame.tolist()
    (1, 4, [[1, 2, 3]])
    """
    if frame is None:
        return bytearray(struct.pack(VIDEO_HEADER, VIDEO_MAGIC, 1, 0, -1, -1, -1, 0, struct.calcsize(VIDEO_HEADER), 0, 0))
    if frame.dtype.kind not in "iu":
        raise ValueError(f"a {frame.dtype} frame makes no video image (Lima core: grey video modes of integer pixels only)")
    height, width = frame.shape
    mode = VIDEO_MODES[frame.dtype.itemsize]
    header = struct.pack(VIDEO_HEADER, VIDEO_MAGIC, 1, mode, number, width, height, 0, struct.calcsize(VIDEO_HEADER), 0, 0)
    return _with_header(header, frame, frame.dtype.newbyteorder("<"))


def decode_video_image(raw: bytes) -> tuple[int, int, np.ndarray]:
    """The video mode, frame number and pixels of a ``video_last_image`` answer (grey modes, unsigned).

    A signed camera's pixels come as their unsigned bits (``view(np.int16)`` gives them back); no video
    image yet gives frame -1 and an empty array.
    """
    magic, _, mode, number, width, height, endian, header_size, _, _ = struct.unpack_from(VIDEO_HEADER, raw)
    if magic != VIDEO_MAGIC:
        raise ValueError("not a Lima VIDEO_IMAGE")
    if width < 0 or height < 0:
        return mode, number, np.zeros((0, 0), dtype=np.uint8)
    sizes = {code: size for size, code in VIDEO_MODES.items()}
    if mode not in sizes:
        raise ValueError(f"Lima VIDEO_IMAGE of video mode {mode}: only the grey modes Y8, Y16, Y32, Y64 (0 to 3) are read")
    dtype = np.dtype(f"{'>' if endian else '<'}u{sizes[mode]}")
    return mode, number, np.frombuffer(raw, dtype=dtype, offset=header_size, count=width * height).reshape(height, width)


def decode_data_array(raw: bytes) -> np.ndarray:
    """The frame of a readImage answer (what a client of a real LimaCCDs does), any version and data type."""
    magic, _, header_size, _, data_type, big_endian, nb_dims, *dims = struct.unpack_from(_DATA_PREFIX, raw)
    if magic != DATA_MAGIC:
        raise ValueError("not a Lima DATA_ARRAY")
    dtype = _DATA_DTYPES.get(data_type)
    if dtype is None:
        raise ValueError(f"Lima DATA_ARRAY of unknown data type {data_type} (known: 0 to 9)")
    dtype = dtype.newbyteorder(">" if big_endian else "<")
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(dims[:nb_dims][::-1])


def saves_every_frame(saving: Mapping[str, Any]) -> bool:
    """True when the server saves every frame of the acquisition to files (``saving_mode`` ``AUTO_FRAME``).

    ``saving`` holds its ``saving_*`` settings (a Lima node's info, or ``FrameReferences.as_info()``).

    Examples
    --------
    >>> saves_every_frame({"saving_mode": "AUTO_FRAME"}), saves_every_frame({"saving_mode": "MANUAL"})
    (True, False)
    """
    return saving.get("saving_mode") == "AUTO_FRAME"


def saved_frame(saving: Mapping[str, Any], index: int) -> tuple[str, int]:
    """The file and the row of that file where the server saved frame ``index``.

    ``saving`` holds the server's ``saving_*`` settings of the acquisition (a Lima node's info, or
    ``FrameReferences.as_info()``).

    Examples
    --------
    >>> saving = {"saving_directory": "/data/scan0001", "saving_prefix": "lima_simulator_", "saving_suffix": ".h5",
    ...           "saving_index_format": "%04d", "saving_next_number": 0, "saving_frame_per_file": 100}
    >>> saved_frame(saving, 250)
    ('/data/scan0001/lima_simulator_0002.h5', 50)
    """
    per_file = max(1, int(saving["saving_frame_per_file"]))
    return _saved_file(saving, index // per_file), index % per_file


def saved_files(saving: Mapping[str, Any], frames: int) -> list[tuple[str, int]]:
    """The files the server saved the first ``frames`` frames to, in order, and how many each holds.

    Examples
    --------
    >>> saving = {"saving_directory": "/data", "saving_prefix": "cam_", "saving_suffix": ".h5",
    ...           "saving_index_format": "%04d", "saving_next_number": 3, "saving_frame_per_file": 100}
    >>> saved_files(saving, 250)
    [('/data/cam_0003.h5', 100), ('/data/cam_0004.h5', 100), ('/data/cam_0005.h5', 50)]
    """
    per_file = max(1, int(saving["saving_frame_per_file"]))
    return [(_saved_file(saving, first // per_file), min(per_file, frames - first)) for first in range(0, frames, per_file)]


def _saved_file(saving: Mapping[str, Any], file_index: int) -> str:
    """The path of the acquisition's ``file_index``-th file (0: its first, numbered ``saving_next_number``)."""
    name = saving["saving_prefix"] + saving["saving_index_format"] % (int(saving["saving_next_number"]) + file_index)
    return f"{saving['saving_directory']}/{name}{saving['saving_suffix']}"


@dataclass(frozen=True)
class FrameReferences:
    """Where a camera's frames of one acquisition are: its server, their size and type, the files it saves.

    What a Lima acquisition object states once it is prepared (its ``image`` channel's ``references``);
    a reader finds every frame with it, in the server's memory or in the file the server saved it to.
    The field names are the keys of a Lima node's info in Redis (``as_info``).

    Examples
    --------
    >>> refs = FrameReferences("tango://localhost:10000/id00/limaccds/simulator", 64, 32, "uint32",
    ...                        "entry_0000/instrument/lima_simulator/data", saving_mode="AUTO_FRAME",
    ...                        saving_directory="/data/scan0001", saving_prefix="lima_simulator_")
    >>> refs.saved, refs.saved_files(250)[-1]
    (True, ('/data/scan0001/lima_simulator_0002.h5', 50))
    >>> refs.as_info()["saving_frame_per_file"]
    100
    """

    server_url: str
    width: int
    height: int
    dtype: str
    frame_path: str  # the frames' dataset in each file (``frame_path``)
    saving_overwrite_policy: str = "ABORT"  # first: the server's saving attributes are written in this order
    saving_mode: str = "MANUAL"  # AUTO_FRAME: every frame saved; MANUAL: none
    saving_directory: str = ""
    saving_prefix: str = ""
    saving_suffix: str = ".h5"
    saving_format: str = "HDF5"
    saving_frame_per_file: int = 100
    saving_index_format: str = "%04d"
    saving_next_number: int = 0  # after saving_prefix, which sets it
    buffer_max_number: int = 1  # the frames the server's memory holds (its ring buffer), as prepareAcq sized it

    @property
    def saved(self) -> bool:
        """True when the server saves every frame to files (``AUTO_FRAME``)."""
        return saves_every_frame(vars(self))

    def saved_files(self, frames: int) -> list[tuple[str, int]]:
        """The files its first ``frames`` frames are saved to, and how many each holds (see ``saved_files``)."""
        return saved_files(vars(self), frames)

    def saving(self) -> dict[str, Any]:
        """The ``saving_*`` attributes to write to the server, by name."""
        return {key: value for key, value in self.as_info().items() if key.startswith("saving_")}

    def as_info(self) -> dict[str, Any]:
        """The references as a Lima node's info holds them (JSON)."""
        return asdict(self)
