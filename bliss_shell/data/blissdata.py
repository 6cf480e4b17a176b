"""The blissdata 2 documents of a scan, written beside the 1.x tree: what blissdata 2.4 readers need to see it.

blissdata 2 readers (Flint 2, ewoks, blisswriter, ``DataStore(url)``) find a scan through
``_SCAN_HISTORY_`` or the search index ``esrf:scan:index``, load its JSON document
(``esrf:scan:{demo}:tmp:3_ascan``) and follow its state stream (``...|state``: CREATED to CLOSED)
and its data streams. The data streams are the channels' own streams (``keys.stream_key``): each
value is stored once and read by both APIs. This module says what the documents hold; the publisher
sends them with the scan's tree and END, retention and the orphan closer handle their keys as the
scan's. They need a Redis with the ReJSON and search modules, not a cluster: ``prepare_server``
(``blissdata_server.py``) checks that once per session and tells why not. See docs/redis-layout.md.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bliss_shell.comm.json_text import json_text, plain

from . import keys
from .encoding import SEAL_ID

HISTORY = "_SCAN_HISTORY_"  # every scan's document key, in creation order
HISTORY_LENGTH = 2048  # entries kept in HISTORY (as blissdata keeps)
SCAN_PREFIX = "esrf:scan:"
END_REASONS = {"done": "SUCCESS", "aborted": "USER_ABORT", "failed": "FAILURE"}

Command = tuple[str, tuple, dict]  # a method of a pipeline, its arguments: what ScanPublisher queues


class State(enum.IntEnum):
    """A scan's states in its state stream, as blissdata numbers them."""

    CREATED = 0
    PREPARED = 1
    STARTED = 2
    STOPPED = 3
    CLOSED = 4


def scan_key(scan_db: str) -> str:
    """A scan's JSON document.

    Examples
    --------
    >>> scan_key("demo:tmp:3_ascan")
    'esrf:scan:{demo}:tmp:3_ascan'
    """
    return SCAN_PREFIX + keys.tagged(scan_db)


def state_key(scan_db: str) -> str:
    """A scan's state stream: entries ``{state: 0..4}``.

    Examples
    --------
    >>> state_key("demo:tmp:3_ascan")
    'esrf:stream:{demo}:tmp:3_ascan|state'
    """
    return keys.stream_key(scan_db) + "|state"


def document_keys(scan_db: str) -> list[str]:
    """The keys a scan has beside its nodes' keys: its document and its state stream.

    Examples
    --------
    >>> document_keys("demo:tmp:3_ascan")
    ['esrf:scan:{demo}:tmp:3_ascan', 'esrf:stream:{demo}:tmp:3_ascan|state']
    """
    return [scan_key(scan_db), state_key(scan_db)]


def numeric_stream(db_name: str, dtype: np.dtype, shape: Sequence[int], unit: str | None = None) -> dict[str, Any]:
    """A channel's entry in the document's ``data_streams``: its stream, its encoding, its info.

    Examples
    --------
    >>> numeric_stream("demo:tmp:3_ascan:timer:elapsed_time", np.dtype("f8"), (), unit="s")
    {'pk': '{demo}:tmp:3_ascan:timer:elapsed_time', 'encoding': {'type': 'numeric', 'dtype_str': '<f8', 'shape': []},
     'info': {'unit': 's', 'dtype': 'float64', 'shape': []}}
    """
    info: dict[str, Any] = {} if unit is None else {"unit": unit}
    info.update(dtype=dtype.name, shape=list(shape))
    encoding = {"type": "numeric", "dtype_str": dtype.newbyteorder("<").str, "shape": list(shape)}
    return {"pk": keys.tagged(db_name), "encoding": encoding, "info": info}


def lima_stream(db_name: str, dtype: np.dtype, shape: Sequence[int], lima_info: Mapping[str, Any]) -> dict[str, Any]:
    """A Lima detector's entry in ``data_streams``: a JSON stream of its frame counters, read by blissdata's LimaClient.

    Parameters
    ----------
    db_name : str
        The Lima image node's db_name: its stream is ``keys.stream_key(db_name)``.
    dtype, shape :
        A frame's.
    lima_info : mapping
        ``server_url`` (the Tango name; the key of the acquisition counter), ``buffer_max_number``,
        ``frame_per_acquisition``, ``acquisition_offset``, and for a saved scan ``file_path`` (a ``%``
        pattern of the file number), ``data_path``, ``file_format``, ``file_offset``, ``frame_per_file``.

    Examples
    --------
    >>> lima_stream("demo:tmp:3_ascan:lima1:image", np.dtype("u2"), (2, 3), {"server_url": "id00/limaccds/sim",
    ...             "buffer_max_number": 100, "frame_per_acquisition": 5, "acquisition_offset": 0})["info"]
    {'format': 'lima_v1', 'plugin': 'lima', 'dtype': 'uint16', 'shape': [2, 3], 'lima_info': {'protocol_version': 1,
     'server_url': 'id00/limaccds/sim', 'buffer_max_number': 100, 'frame_per_acquisition': 5, 'acquisition_offset': 0}}
    """
    info = {"format": "lima_v1", "plugin": "lima", "dtype": dtype.name, "shape": list(shape),
            "lima_info": {"protocol_version": 1, **lima_info}}  # fmt: skip
    return {"pk": keys.tagged(db_name), "encoding": {"type": "json"}, "info": plain(info)}


def document(scan_db: str, identity: Mapping[str, Any], info: Mapping[str, Any],
             streams: Mapping[str, dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """A scan's JSON document, shaped as blissdata's ScanModel.

    Parameters
    ----------
    scan_db : str
        The scan's db_name.
    identity : mapping
        ``name``, ``number``, ``data_policy``, and (None if unknown) ``session``, ``proposal``,
        ``collection``, ``dataset``, ``path``: what search_existing_scans looks scans up by.
    info : mapping
        The scan_info (BLISS's schema).
    streams : mapping
        The data streams by channel fullname (``numeric_stream``, ``lima_stream``).

    Examples
    --------
    >>> doc = document("demo:tmp:3_ascan", {"name": "ascan", "number": 3, "data_policy": "no_policy"}, {}, {})
    >>> doc["id"]["pk"], doc["state_stream"]
    ('{demo}:tmp:3_ascan|id', {'pk': '{demo}:tmp:3_ascan|state', 'encoding': None, 'info': None})
    """
    tagged = keys.tagged(scan_db)
    fields = ("name", "number", "data_policy", "session", "proposal", "collection", "dataset", "path")
    ident: dict[str, Any] = {"pk": f"{tagged}|id", **{field: identity.get(field) for field in fields}}
    ident["number"] = int(identity["number"])  # a NUMERIC field of the index
    return {"pk": tagged, "id": ident, "info": dict(info),  # JSON text once sent (``json_text``)
            "state_stream": {"pk": f"{tagged}|state", "encoding": None, "info": None},
            "data_streams": dict(streams)}  # fmt: skip


def creation(scan_db: str, doc: dict[str, Any], started: bool = True) -> list[Command]:
    """The commands that publish a scan's document: its states, then the document, then its history entry.

    A reader that finds the document (through the search index as soon as it is set, or woken by
    ``_SCAN_HISTORY_``) finds it complete and its state stream holding STARTED already (CREATED when not
    ``started``: a scan that ends before it is prepared): blissdata's ``load_scan`` reads the last state.

    Examples
    --------
    >>> doc = document("demo:tmp:3_ascan", {"name": "ascan", "number": 3, "data_policy": "None"}, {}, {})
    >>> for command, args, options in creation("demo:tmp:3_ascan", doc):
    ...     print(command, args[0], *args[1:2] if command == "xadd" else [], options)
    xadd esrf:stream:{demo}:tmp:3_ascan|state {'state': 0} {}
    xadd esrf:stream:{demo}:tmp:3_ascan|state {'state': 1} {}
    xadd esrf:stream:{demo}:tmp:3_ascan|state {'state': 2} {}
    execute_command JSON.SET {}
    xadd _SCAN_HISTORY_ {'key': 'esrf:scan:{demo}:tmp:3_ascan'} {'maxlen': 2048}
    """
    key = scan_key(scan_db)
    last = State.STARTED if started else State.CREATED
    commands: list[Command] = [("xadd", (state_key(scan_db), {"state": state.value}), {}) for state in State if state <= last]
    commands.append(("execute_command", ("JSON.SET", key, "$", json_text(doc)), {}))
    commands.append(("xadd", (HISTORY, {"key": key}), {"maxlen": HISTORY_LENGTH}))
    return commands


def closing(scan_db: str, info: Mapping[str, Any], state: str, lima: Mapping[str, int], stopped: bool = True
            ) -> list[Command]:  # fmt: skip
    """The commands that end a scan's document, after its channels are sealed: Lima seals, STOPPED, info, CLOSED.

    Parameters
    ----------
    scan_db : str
        The scan's db_name.
    info : mapping
        The scan_info at its end (``end_time``...); ``end_reason`` is set from ``state``.
    state : str
        ``done``, ``aborted`` or ``failed``: SUCCESS, USER_ABORT, FAILURE.
    lima : mapping
        The Lima image nodes' db_names and the entries their streams hold.
    stopped : bool
        Whether to write STOPPED (blissdata stops only a STARTED scan; it closes one in any state).

    Examples
    --------
    >>> for command, args, options in closing("demo:tmp:3_ascan", {"end_time": "..."}, "aborted", {"demo:tmp:3_ascan:lima1:image": 7}):
    ...     print(command, *args, options)
    xadd esrf:stream:{demo}:tmp:3_ascan:lima1:image {'id': 7} {'id': '18446744073709551615-18446744073709551615'}
    xadd esrf:stream:{demo}:tmp:3_ascan|state {'state': 3} {}
    execute_command JSON.SET esrf:scan:{demo}:tmp:3_ascan $.info {"end_time": "...", "end_reason": "USER_ABORT"} {}
    xadd esrf:stream:{demo}:tmp:3_ascan|state {'state': 4} {}
    """
    final = {**info, "end_reason": END_REASONS.get(state, "FAILURE")}
    commands: list[Command] = [("xadd", (keys.stream_key(db_name), {"id": entries}), {"id": SEAL_ID})
                               for db_name, entries in lima.items()]  # fmt: skip
    if stopped:
        commands.append(("xadd", (state_key(scan_db), {"state": State.STOPPED.value}), {}))
    commands.append(("execute_command", ("JSON.SET", scan_key(scan_db), "$.info", json_text(final)), {}))
    commands.append(("xadd", (state_key(scan_db), {"state": State.CLOSED.value}), {}))
    return commands


def lima_entry(last_index: int, last_index_saved: int) -> dict[str, bytes]:
    """The fields of one entry of a Lima stream: the counters blissdata's LimaClient updates from.

    Examples
    --------
    >>> lima_entry(4, 3)
    {'payload': b'{"last_index": 4, "last_index_saved": 3}'}
    """
    return {"payload": json.dumps({"last_index": last_index, "last_index_saved": last_index_saved}).encode()}
