"""What a LimaCCDs server produces: its frames' bytes, its pixel types, and where it saves each frame.

The bytes are those of ``readImage`` (DATA_ARRAY) and ``video_last_image`` (VIDEO_IMAGE); the
saving is its ``AUTO_FRAME`` HDF5 saving. Encoders for our simulator, decoders for clients; the formats are the real server's
(Lima-tango-python ``LimaCCDs.py``, Lima core ``CtSaving_Hdf5.cpp``).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# readImage answers ("DATA_ARRAY", header + pixels). Header version 4 (80 bytes): magic, version, header length,
# category (2: image), data type, big endian (0/1), number of dimensions, 6 dimensions (fastest first: width,
# height), 6 steps in bytes, image number, acquisition tag, 2 padding words. Versions 1-3 differ after the steps.
DATA_HEADER = "<IHHIIHH6H6IQQII"
DATA_VERSION = 4
DATA_MAGIC = struct.unpack(">I", b"DTAY")[0]
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

# video_last_image answers ("VIDEO_IMAGE", header + pixels); mode 2 is Y32 (32-bit grey).
VIDEO_HEADER = "!IHHqiiHHHH"
VIDEO_MAGIC = struct.unpack(">I", b"VDEO")[0]
VIDEO_Y32 = 2


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


def encode_data_array(frame: np.ndarray, number: int = 0) -> bytearray:
    """``frame`` (height, width) as the real server's ``readImage`` sends it, little endian.

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
        DATA_HEADER, DATA_MAGIC, DATA_VERSION, struct.calcsize(DATA_HEADER), 2, DATA_TYPES[np.dtype(frame.dtype.name)],
        0, 2, width, height, 0, 0, 0, 0, size, size * width, 0, 0, 0, 0, number, 0, 0, 0,
    )  # fmt: skip
    return _with_header(header, frame, frame.dtype.newbyteorder("<"))


def _with_header(header: bytes, frame: np.ndarray, dtype: np.dtype) -> bytearray:
    """``header`` then the pixels as ``dtype``, copied once (a 2048x2048 frame is 16 MB)."""
    out = bytearray(len(header) + frame.size * dtype.itemsize)
    out[: len(header)] = header
    np.frombuffer(out, dtype=dtype, offset=len(header)).reshape(frame.shape)[...] = frame
    return out


def encode_video_image(frame: np.ndarray, number: int) -> bytearray:
    """``frame`` as the real server's ``video_last_image`` sends it: Y32 pixels, big endian, after the VDEO header."""
    height, width = frame.shape
    header = struct.pack(VIDEO_HEADER, VIDEO_MAGIC, 1, VIDEO_Y32, number, width, height, 0, struct.calcsize(VIDEO_HEADER), 0, 0)
    if frame.dtype != np.uint32:  # Y32 is unsigned: negative pixels of a signed camera show as 0
        frame = np.clip(frame, 0, np.iinfo(np.uint32).max)
    return _with_header(header, frame, np.dtype(">u4"))


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


def saved_frame(saving: Mapping[str, Any], index: int) -> tuple[str, int]:
    """The file and the row of that file where the server saved frame ``index``.

    ``saving`` holds the server's ``saving_*`` settings of the acquisition.

    Examples
    --------
    >>> saving = {"saving_directory": "/data/scan0001", "saving_prefix": "lima_simulator_", "saving_suffix": ".h5",
    ...           "saving_index_format": "%04d", "saving_next_number": 0, "saving_frame_per_file": 100}
    >>> saved_frame(saving, 250)
    ('/data/scan0001/lima_simulator_0002.h5', 50)
    """
    per_file = max(1, int(saving["saving_frame_per_file"]))
    number = int(saving["saving_next_number"]) + index // per_file
    name = saving["saving_prefix"] + saving["saving_index_format"] % number + saving["saving_suffix"]
    return f"{saving['saving_directory']}/{name}", index % per_file
