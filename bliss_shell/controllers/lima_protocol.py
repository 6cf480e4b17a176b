"""What a LimaCCDs server produces: the bytes of ``readImage`` (DATA_ARRAY) and ``video_last_image``
(VIDEO_IMAGE), and where its ``AUTO_FRAME`` saving puts each frame.

Encoders for our simulator, decoders for clients; the formats are the real server's.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

# readImage answers ("DATA_ARRAY", header + pixels), the header as the real server encodes it.
DATA_HEADER = "<IHHIIHHHHHHHHIIIIIIQ"
DATA_MAGIC = struct.unpack(">I", b"DTAY")[0]
DATA_TYPES = {np.dtype("uint8"): 0, np.dtype("uint16"): 1, np.dtype("uint32"): 2}
FRAME_PATH = "entry_0000/instrument/{detector}/data"
# video_last_image answers ("VIDEO_IMAGE", header + pixels); mode 2 is Y32 (32-bit grey).
VIDEO_HEADER = "!IHHqiiHHHH"
VIDEO_MAGIC = struct.unpack(">I", b"VDEO")[0]
VIDEO_Y32 = 2


def encode_data_array(frame: np.ndarray) -> bytes:
    height, width = frame.shape
    header = struct.pack(
        DATA_HEADER, DATA_MAGIC, 2, struct.calcsize(DATA_HEADER), 0, DATA_TYPES[frame.dtype], 0, 2,
        width, height, 0, 0, 0, 0, 1, width, 0, 0, 0, 0, 0,
    )  # fmt: skip
    return header + np.ascontiguousarray(frame, dtype=frame.dtype.newbyteorder("<")).tobytes()


def encode_video_image(frame: np.ndarray, number: int) -> bytes:
    height, width = frame.shape
    header = struct.pack(VIDEO_HEADER, VIDEO_MAGIC, 1, VIDEO_Y32, number, width, height, 0, struct.calcsize(VIDEO_HEADER), 0, 0)
    return header + np.ascontiguousarray(frame, dtype=">u4").tobytes()


def decode_data_array(raw: bytes) -> np.ndarray:
    """The frame of a readImage answer (what a client of a real LimaCCDs does)."""
    fields = struct.unpack_from(DATA_HEADER, raw)
    if fields[0] != DATA_MAGIC:
        raise ValueError("not a Lima DATA_ARRAY")
    header_size, data_type, width, height = fields[2], fields[4], fields[7], fields[8]
    dtype = {code: dtype for dtype, code in DATA_TYPES.items()}[data_type].newbyteorder("<")
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(height, width)


def saved_frame(saving: Mapping[str, Any], index: int) -> tuple[str, int]:
    """The file and the row of that file where the server saved frame ``index``.

    ``saving`` holds the server's ``saving_*`` settings of the acquisition.
    """
    per_file = max(1, int(saving["saving_frame_per_file"]))
    number = int(saving["saving_next_number"]) + index // per_file
    name = saving["saving_prefix"] + saving["saving_index_format"] % number + saving["saving_suffix"]
    return f"{saving['saving_directory']}/{name}", index % per_file
