"""Channel values as typed binary blocks: raw little-endian bytes, dtype and shape kept in the node.

A channel's stream (``keys.stream_key``) has blissdata 2's layout, so its readers and ours read
the same entries: a block of ``n`` points whose first point has index ``i`` is the entry with ID
``{i}-1`` and fields ``payload`` (the bytes) and ``len`` (``n``, only when ``n > 1``: absent means
1). The seal, last entry of a finished channel, has the greatest ID a stream can hold
(``SEAL_ID``) and one field, ``id``: the channel's number of points.

Nothing is pickled, so a reader in any language can decode a block with the node's
``dtype`` and ``shape`` fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SEAL_ID = "18446744073709551615-18446744073709551615"  # the greatest stream ID: nothing can follow the seal
_SEAL_ID = SEAL_ID.encode()

Entry = tuple[bytes, dict[bytes, bytes]]


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


def block_id(first_index: int) -> str:
    """The entry ID of the block whose first point is ``first_index``.

    Examples
    --------
    >>> block_id(0), block_id(10)
    ('0-1', '10-1')
    """
    return f"{first_index}-1"


def block_fields(payload: bytes, count: int) -> dict[str, bytes | int]:
    """The fields of a block of ``count`` points: ``payload``, and ``len`` unless it is 1.

    Examples
    --------
    >>> block_fields(b"abcd", 2), block_fields(b"ab", 1)
    ({'payload': b'abcd', 'len': 2}, {'payload': b'ab'})
    """
    return {"payload": payload, "len": count} if count != 1 else {"payload": payload}


def seal_fields(length: int) -> dict[str, int]:
    """The fields of the seal (ID ``SEAL_ID``) of a channel of ``length`` points.

    Examples
    --------
    >>> seal_fields(5)
    {'id': 5}
    """
    return {"id": length}


def is_seal(entry: Entry) -> bool:
    """Whether ``entry`` seals its channel: no point comes after it.

    Examples
    --------
    >>> is_seal((b"10-1", {b"payload": b"..."})), is_seal((SEAL_ID.encode(), {b"id": b"11"}))
    (False, True)
    """
    return entry[0] == _SEAL_ID


def block_first(entry_id: bytes) -> int:
    """Entry IDs are ``{first_index}-1``: the ID locates the block's points.

    Examples
    --------
    >>> block_first(b"10-1")
    10
    """
    return int(entry_id.split(b"-")[0])


def block_end(entry: Entry) -> int:
    """Index after the last point of a block; a seal's ``id``: the channel's length.

    Examples
    --------
    >>> block_end((b"10-1", {b"payload": b"...", b"len": b"5"})), block_end((b"15-1", {b"payload": b"."}))
    (15, 16)
    >>> block_end((SEAL_ID.encode(), {b"id": b"16"}))
    16
    """
    entry_id, fields = entry
    if entry_id == _SEAL_ID:
        return int(fields[b"id"])
    return block_first(entry_id) + int(fields.get(b"len", 1))
