"""Channel values as typed binary blocks: raw little-endian bytes, dtype and shape kept in the node.

A block is one entry of a ``data|`` stream with ID ``{first_index + 1}-0`` and fields ``n``
(points) and ``b`` (bytes); a last entry with ``end=1`` and no points seals the channel.

Nothing is pickled, so a reader in any language can decode a block with the node's
``dtype`` and ``shape`` fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def encode_block(values: Sequence[Any], dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    r"""Points as raw little-endian bytes of ``dtype``; each value must have the channel's ``shape``.

    Raises
    ------
    ValueError
        A value's shape is not ``shape``.

    Examples
    --------
    >>> encode_block([1, 2], np.dtype("<u2"), ())
    b'\x01\x00\x02\x00'
    >>> encode_block([[1, 2]], np.dtype("<u2"), (3,))
    Traceback (most recent call last):
    ...
    ValueError: values of shape (2,) do not fit the channel's shape (3,)
    """
    block = np.asarray(values, dtype=dtype.newbyteorder("<"))
    if block.shape[1:] != shape:
        raise ValueError(f"values of shape {block.shape[1:]} do not fit the channel's shape {shape}")
    return block.tobytes()


def decode_block(raw: bytes, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    r"""The points of a block: an array of ``dtype``, one row of ``shape`` per point.

    Examples
    --------
    >>> decode_block(b"\x01\x00\x02\x00\x03\x00\x04\x00", np.dtype("<u2"), (2,))
    array([[1, 2],
           [3, 4]], dtype=uint16)
    """
    block = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
    return block.reshape((-1, *shape)).astype(dtype, copy=False)


def block_first(entry_id: bytes) -> int:
    """Entry IDs are ``{first_index + 1}-0``: the ID locates the block's points.

    Examples
    --------
    >>> block_first(b"11-0")
    10
    """
    return int(entry_id.split(b"-")[0]) - 1


def block_end(entry: tuple[bytes, dict[bytes, bytes]]) -> int:
    """Index after the last point of a data entry (a seal entry has no points).

    Examples
    --------
    >>> block_end((b"11-0", {b"n": b"5", b"b": b"..."})), block_end((b"16-0", {b"n": b"0", b"end": b"1"}))
    (15, 15)
    """
    entry_id, fields = entry
    return block_first(entry_id) + int(fields.get(b"n", 0))
