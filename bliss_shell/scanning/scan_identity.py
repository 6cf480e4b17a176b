"""A scan's identity as blissdata 2 indexes it: the ``id`` of its scan document, searchable by each field.

BLISS fills it from SCAN_SAVING as the scan starts: ``name`` (the command), ``number``, ``data_policy`` and
``session`` always; ``path`` (its file) when it is saved; ``proposal``, ``collection`` and ``dataset`` under the
ESRF data policy. A field that does not apply is None, as blissdata's model leaves it.

Examples
--------
>>> scan_identity(SCAN_SAVING, "test_session", "ascan", 2, "/tmp/scans/test_session/data.h5")
{'name': 'ascan', 'number': 2, 'data_policy': 'None', 'session': 'test_session', 'proposal': None, 'collection': None, 'dataset': None, 'path': '/tmp/scans/test_session/data.h5'}
"""

from __future__ import annotations

from typing import Any

ESRF = "ESRF"  # BLISS's ``data_policy`` under the ESRF data policy
NO_POLICY = "None"  # and without one: the string, as BLISS's BasicScanSaving says it


def data_policy(saving: Any) -> str:
    """``'ESRF'`` for a session under the ESRF data policy (``ESRFScanSaving``), else ``'None'`` as in BLISS.

    Examples
    --------
    >>> data_policy(SCAN_SAVING)
    'None'
    """
    return ESRF if str(getattr(type(saving), "policy", "")).startswith("ESRF") else NO_POLICY


def scan_identity(saving: Any, session: str, name: str, number: int, path: str | None) -> dict[str, Any]:
    """The identity of a scan that starts now, with SCAN_SAVING as it is (proposal, collection, dataset).

    Parameters
    ----------
    saving : ScanSaving
        The session's SCAN_SAVING (``ESRFScanSaving`` under the data policy).
    session : str
        The session's name.
    name : str
        The scan command: ``'ascan'``, ``'ct'``, ... (BLISS's ``Scan.name``, not the node name ``2_ascan``).
    number : int
        Its number (an unsaved scan: the session's shadow number).
    path : str or None
        Its file; None when it is not saved.

    Returns
    -------
    dict
        ``name``, ``number``, ``data_policy``, ``session``, ``proposal``, ``collection``, ``dataset``, ``path``.

    Examples
    --------
    >>> scan_identity(SCAN_SAVING, "test_session", "ct", 3, None)["path"] is None
    True
    """
    policy = data_policy(saving)
    esrf = policy == ESRF
    return {
        "name": name,
        "number": int(number),
        "data_policy": policy,
        "session": session,
        "proposal": saving.proposal_name if esrf else None,
        "collection": saving.collection_name if esrf else None,
        "dataset": saving.dataset_name if esrf else None,
        "path": path or None,
    }
