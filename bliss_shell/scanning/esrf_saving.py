"""The ESRF data policy as BLISS's ``ESRFScanSaving``: proposal, collection (sample) and dataset make the path.

``<root>/<proposal>/<beamline>/<session date>/RAW_DATA/<collection>/<collection>_<dataset>/<collection>_<dataset>.h5``:
one file per dataset. When a dataset ends (``enddataset``, or ``newdataset``/``newcollection``/``newproposal``
moving on), every entry of its file gets the dataset's metadata, and two master files link them: the
proposal's ``<proposal>_<beamline>.h5`` in the session-date folder and the collection's
``<proposal>_<collection>.h5``. The choice of proposal, collection and dataset is a setting
(``data_policy|{<session>}``), as SCAN_SAVING's values are.

Examples
--------
A session without the policy refuses its commands, saying how to enable it:

>>> newproposal("hg123")
Traceback (most recent call last):
...
RuntimeError: newproposal: this session saves without the ESRF data policy; enable it in the session's YAML file: scan_saving: {class: ESRFScanSaving, beamline: id00} (docs/saving.md)

The examples of the commands below run in a session with the policy, as its YAML would make it; here the
session is given one, its data roots in its saving folder rather than under ``/data``:

>>> root = SCAN_SAVING.base_path
>>> current().scan_saving = ESRFScanSaving(client, current().session, {
...     "beamline": "id00", "visitor_data_root": f"{root}/visitor",
...     "inhouse_data_root": f"{root}/inhouse", "tmp_data_root": f"{root}/tmp"})
>>> newproposal("hg123")
Proposal set to 'hg123' (visitor)
Data path: .../visitor/hg123/id00/.../RAW_DATA/sample/sample_0001
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from itertools import count
from typing import Any

from bliss_shell.comm import Settings
from bliss_shell.comm.redis_types import RedisClient
from bliss_shell.controllers.error_text import shown
from bliss_shell.data import keys
from bliss_shell.writer.master_files import end_dataset

from .context import current
from .scan_saving import ScanSaving

ROOTS = {"visitor": "/data/visitor", "inhouse": "/data/{beamline}/inhouse", "tmp": "/data/{beamline}/tmp"}
POLICY_SET = ("base_path", "template", "data_filename")  # the policy makes the path: not the user's to set
_PROPOSAL = re.compile(r"[a-z0-9]+")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_DATE = "%Y%m%d"
NAME_MAX = 255  # bytes of a file or folder name (Linux file systems)
PATH_MAX = 4096  # bytes of a path (Linux); a dataset's file leaves NAME_MAX of it for what its scans make beside it


class ESRFScanSaving(ScanSaving):
    """SCAN_SAVING under the ESRF data policy (``scan_saving: {class: ESRFScanSaving, beamline: id00}``).

    The path is made of the proposal, collection and dataset that ``newproposal``, ``newsample``
    (``newcollection``) and ``newdataset`` choose; ``base_path``, ``template`` and ``data_filename`` are
    the policy's, not to be set.

    Parameters
    ----------
    client : redis.Redis
        Where the choice of proposal, collection and dataset is kept.
    session : str
        The session's name.
    config : mapping
        The ``scan_saving`` of the session's YAML: ``beamline`` and, optionally, ``visitor_data_root``
        (default ``/data/visitor``), ``inhouse_data_root`` (``/data/{beamline}/inhouse``) and
        ``tmp_data_root`` (``/data/{beamline}/tmp``).
    beamline : str, optional
        The beamline when ``config`` names none (the config's root ``__init__.yml``).

    Examples
    --------
    What a session makes of ``scan_saving: {class: ESRFScanSaving, beamline: id00}``; its commands are
    the session's ``newproposal``, ``newsample``, ``newdataset``, ...:

    >>> saving = ESRFScanSaving(client, "demo", {"beamline": "id00"})
    >>> saving.newproposal("hg123"); saving.newcollection("sample1"); saving.newdataset("area1")
    Proposal set to 'hg123' (visitor)
    Data path: /data/visitor/hg123/id00/.../RAW_DATA/sample/sample_0001
    Dataset collection set to 'sample1'
    Data path: /data/visitor/hg123/id00/.../RAW_DATA/sample1/sample1_0001
    Dataset set to 'area1'
    Data path: /data/visitor/hg123/id00/.../RAW_DATA/sample1/sample1_area1
    >>> saving.filename
    '/data/visitor/hg123/id00/.../RAW_DATA/sample1/sample1_area1/sample1_area1.h5'
    """

    policy = "ESRF data policy"
    beamline: str
    _roots: dict[str, str]
    _state: Settings

    def __init__(self, client: RedisClient, session: str, config: Mapping[str, Any], beamline: str | None = None):
        beamline = config.get("beamline", beamline)
        if not isinstance(beamline, str) or not _PROPOSAL.fullmatch(beamline):
            raise ValueError(f"session {session}: scan_saving (ESRFScanSaving) needs a beamline, like 'id00' "
                             f"(in scan_saving or the config's root __init__.yml), not {beamline!r}")  # fmt: skip
        super().__init__(client, session, beamline)
        roots = {}
        for kind, default in ROOTS.items():
            root = str(config.get(f"{kind}_data_root", default)).format(beamline=beamline)
            if not os.path.isabs(root):
                raise ValueError(f"session {session}: scan_saving {kind}_data_root must be an absolute folder, not {root!r}")
            roots[kind] = os.path.normpath(root)
        object.__setattr__(self, "_roots", roots)
        object.__setattr__(
            self, "_state", Settings(f"data_policy:{session}", key=keys.session_key("data_policy", session), client=client)
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name in POLICY_SET:
            raise AttributeError(f"SCAN_SAVING.{name} is set by the ESRF data policy: use newproposal(), newsample() "
                                 "and newdataset()")  # fmt: skip
        super().__setattr__(name, value)

    # What the user chose, else BLISS's defaults: the beamline's proposal of the month, "sample", the next number.
    @property
    def proposal_name(self) -> str:
        """The proposal chosen with ``newproposal``, else the beamline's proposal of the month (``id002611``)."""
        return self._state.get("proposal") or f"{self.beamline}{datetime.now():%y%m}"

    @property
    def proposal_session_date(self) -> str:
        """The day the proposal was chosen (``YYYYMMDD``): its session folder."""
        return self._state.get("proposal_date") or datetime.now().strftime(_DATE)

    @property
    def proposal_type(self) -> str:
        """``inhouse`` (the beamline's own, ``ih...``, ``blc...``), ``tmp`` (``test...``, ``tmp...``, ``temp...``) or ``visitor``."""
        return self._type_of(self.proposal_name)

    def _type_of(self, proposal: str) -> str:
        if proposal.startswith((self.beamline, "ih", "blc")):
            return "inhouse"
        if proposal.startswith(("test", "tmp", "temp")):
            return "tmp"
        return "visitor"

    @property
    def collection_name(self) -> str:
        """The collection (sample) chosen with ``newcollection``/``newsample``, else ``sample``."""
        return self._state.get("collection") or "sample"

    @property
    def dataset_name(self) -> str:
        """The current dataset; when none was chosen, the next free number of the collection, kept from then on.

        As in BLISS, the scans of a shell, and the next shells, go on in that dataset until ``newdataset``.
        """
        dataset = self._state.get("dataset")
        if not dataset:
            dataset = self._next_dataset(self.collection_name)
            self._state.set(dataset=dataset, dataset_start=datetime.now().astimezone().isoformat())
        return dataset

    def _session_folder(self, proposal: str | None = None) -> str:
        proposal = proposal or self.proposal_name
        date = self.proposal_session_date if proposal == self.proposal_name else datetime.now().strftime(_DATE)
        return os.path.join(self._roots[self._type_of(proposal)], proposal, self.beamline, date)

    def _collection_folder(self, collection: str, proposal: str | None = None) -> str:
        return os.path.join(self._session_folder(proposal), "RAW_DATA", collection)

    def _dataset_folder(self, collection: str, dataset: str, proposal: str | None = None) -> str:
        return os.path.join(self._collection_folder(collection, proposal), f"{collection}_{dataset}")

    def _next_dataset(self, collection: str, name: str | int | None = None, proposal: str | None = None) -> str:
        """BLISS's dataset name generator: the first of its names whose folder does not exist and is not the current one.

        ``'area1'``, then ``'area1_0002'``, ``'area1_0003'``, ...; a number n (or its digits): n, n+1, ...
        with 4 digits; None: ``0001``, ``0002``, ...
        """
        current = self._state.get("dataset") if proposal is None and collection == self.collection_name else None
        names = _dataset_names(name)  # endless: one is free
        return next(d for d in names if d != current and not os.path.exists(self._dataset_folder(collection, d, proposal)))

    def _check_fits(self, command: str, name: Any, proposal: str, collection: str, dataset: str) -> None:
        """Refuse names whose folders or files the file system cannot hold (``NAME_MAX``, ``PATH_MAX``)."""
        dataset_file = os.path.join(self._dataset_folder(collection, dataset, proposal), f"{collection}_{dataset}.h5")
        masters = [os.path.join(self._session_folder(proposal), f"{proposal}_{self.beamline}.h5"),
                   os.path.join(self._collection_folder(collection, proposal), f"{proposal}_{collection}.h5")]  # fmt: skip
        for path in (dataset_file, *masters):
            longest = max(path.split(os.sep), key=lambda part: len(part.encode()))
            if len(longest.encode()) > NAME_MAX or len(path.encode()) > PATH_MAX - NAME_MAX:
                raise ValueError(f"{command}: {shown(name)} is too long for the file system: {longest[:20]}... would be a "
                                 f"name of {len(longest.encode())} bytes in a path of {len(path.encode())} (at most "
                                 f"{NAME_MAX} and {PATH_MAX - NAME_MAX}); choose a shorter name")  # fmt: skip

    def logbook_folder(self) -> str:
        """The proposal's session folder, beside RAW_DATA: a dataset holds only what the scans wrote."""
        return self._session_folder()

    def get_path(self) -> str:
        """The dataset's folder, where its scans are saved."""
        return self._dataset_folder(self.collection_name, self.dataset_name)

    def _file(self, scan: dict[str, str]) -> str:
        """The dataset's file: ``<collection>_<dataset>.h5`` in its folder (``filename``, but for the null writer)."""
        return os.path.join(self.get_path(), f"{self.collection_name}_{self.dataset_name}.h5")

    def _scan_folder(self, values: dict[str, str], scan: dict[str, str]) -> str:
        return self.get_path()

    @property
    def number_in_path(self) -> bool:
        """False: the policy's path is the dataset's, whatever template the session saved with before."""
        return False

    def _common_folder(self) -> str:
        return self.get_path()

    def _parameters(self) -> dict[str, str]:
        kept = {key: value for key, value in super()._parameters().items() if key not in POLICY_SET}
        return {"proposal_name": self.proposal_name, "proposal_type": self.proposal_type,
                "proposal_session_date": self.proposal_session_date, "collection_name": self.collection_name,
                "dataset_name": self.dataset_name, **kept}  # fmt: skip

    # The commands
    def newproposal(self, name: str | None = None, command: str = "newproposal") -> None:
        """The ``newproposal`` command (``endproposal``: ``name`` None): the dataset ends, collection ``sample`` starts."""
        proposal = f"{self.beamline}{datetime.now():%y%m}" if name is None else _proposal_name(name)
        if not _PROPOSAL.fullmatch(proposal):
            raise ValueError(f"newproposal: {shown(name)} is not a proposal name: letters and digits, like 'hg123', "
                             f"'{self.beamline}1234', 'ihch123' or 'test123'")  # fmt: skip
        self._check_fits(command, name, proposal, "sample", self._next_dataset("sample", proposal=proposal))
        self._end_dataset()
        self._state.set(proposal=proposal, proposal_date=datetime.now().strftime(_DATE), collection=None, dataset=None,
                        dataset_start=None)  # fmt: skip
        print(f"Proposal set to '{proposal}' ({self.proposal_type})\nData path: {self.get_path()}")

    def newcollection(self, name: str | None = None, what: str = "Dataset collection") -> None:
        """The ``newcollection`` (``what="Sample"``: ``newsample``) command: the current dataset ends."""
        command = f"new{'sample' if what == 'Sample' else 'collection'}"
        collection = "sample" if name is None else name
        if not isinstance(collection, str) or not _NAME.fullmatch(collection):
            raise ValueError(f"{command}: {shown(name)} is not a name: letters, digits, '_' and '-', like 'sample1'")
        proposal = self.proposal_name
        self._check_fits(command, name, proposal, collection, self._next_dataset(collection, proposal=proposal))
        self._end_dataset()
        self._state.set(collection=collection, dataset=None, dataset_start=None)
        print(f"{what} set to '{collection}'\nData path: {self.get_path()}")

    def newdataset(self, name: str | int | None = None) -> None:
        """The ``newdataset`` command: the current dataset ends; a name taken gives the next free one (BLISS's rule)."""
        if not _dataset_name(name):
            raise ValueError(f"newdataset: {shown(name)} is not a dataset name: letters, digits, '_' and '-', like "
                             "'area1', or a whole number >= 1 (7: '0007')")  # fmt: skip
        collection = self.collection_name
        dataset = self._next_dataset(collection, name)
        self._check_fits("newdataset", name, self.proposal_name, collection, dataset)
        self._end_dataset()
        self._state.set(dataset=dataset, dataset_start=datetime.now().astimezone().isoformat())
        print(f"Dataset set to '{dataset}'\nData path: {self.get_path()}")

    def enddataset(self) -> None:
        """The dataset is finished: metadata and master-file links written; the next scan starts the next one."""
        self._end_dataset()
        self._state.set(dataset=None, dataset_start=None)
        print(f"Dataset ended; next data path: {self.get_path()}")

    def endproposal(self) -> None:
        """The ``endproposal`` command: the dataset ends; back to the beamline's proposal of the month (BLISS's)."""
        self.newproposal(None, command="endproposal")

    def _end_dataset(self) -> None:
        """Write the current dataset's metadata into its file and link its entries from the master files."""
        filename = self._file({})
        if not os.path.exists(filename):
            return  # a dataset without scans leaves nothing
        proposal, collection, dataset = self.proposal_name, self.collection_name, self.dataset_name
        metadata = {"proposal": proposal, "beamline": self.beamline, "collection": collection, "sample": collection,
                    "dataset": dataset, "start_time": self._state.get("dataset_start"),
                    "end_time": datetime.now().astimezone().isoformat()}  # fmt: skip
        masters = [os.path.join(self._session_folder(), f"{proposal}_{self.beamline}.h5"),
                   os.path.join(self._collection_folder(collection), f"{proposal}_{collection}.h5")]  # fmt: skip
        end_dataset(filename, metadata, masters, prefix=f"{collection}_{dataset}")


def _dataset_name(name: Any) -> bool:
    """Whether ``newdataset`` takes ``name``: None, a whole number >= 1 (or its digits), or a name of letters, digits, _ and -."""
    if name is None:
        return True
    if isinstance(name, bool) or not isinstance(name, (str, numbers.Integral)):
        return False  # True is not dataset 1, nor 3.7 dataset 3, nor nan one at all
    if isinstance(name, str) and not (name.isascii() and name.isdigit()):
        return bool(_NAME.fullmatch(name))
    return int(name) >= 1


def _dataset_names(name: str | int | None) -> Iterator[str]:
    """BLISS's dataset names for ``name``: ``area1``, ``area1_0002``, ...; 7: ``0007``, ``0008``, ...; None: ``0001``, ...

    Examples
    --------
    >>> names = _dataset_names("area1"); [next(names) for _ in range(3)]
    ['area1', 'area1_0002', 'area1_0003']
    >>> names = _dataset_names(7); [next(names) for _ in range(2)]
    ['0007', '0008']
    """
    if name is None or not isinstance(name, str) or name.isdigit():
        yield from (f"{number:04d}" for number in count(int(name or 1)))
        return
    yield name
    yield from (f"{name}_{number:04d}" for number in count(2))


def _proposal_name(name: Any) -> str:
    """BLISS's spelling of a proposal: lower case, without ``-``, ``_`` and spaces (``'HG-12_3'``: ``'hg123'``); else ``''``."""
    if not isinstance(name, str):
        return ""
    return re.sub(r"[-_\s]", "", name.lower())


def scan_saving_of(client: RedisClient, session: str, config: Mapping[str, Any] | None, beamline: str | None) -> ScanSaving:
    """The session's SCAN_SAVING, as its YAML chooses.

    ``scan_saving: {class: ESRFScanSaving, ...}`` of its YAML (or of the config's root ``__init__.yml``)
    enables the ESRF data policy; none, or ``class: BasicScanSaving``, is the plain one.
    """
    config = config or {}
    if not isinstance(config, Mapping):
        raise ValueError(f"session {session}: scan_saving must be a mapping, like {{class: ESRFScanSaving, beamline: id00}}")
    chosen = config.get("class", "BasicScanSaving")
    if chosen == "ESRFScanSaving":
        return ESRFScanSaving(client, session, config, beamline)
    if chosen != "BasicScanSaving":
        raise ValueError(f"session {session}: scan_saving class {chosen!r} is not a data policy: choose ESRFScanSaving "
                         "or BasicScanSaving")  # fmt: skip
    return ScanSaving(client, session, beamline)


def _policy(command: str) -> ESRFScanSaving:
    saving = current().scan_saving
    if not isinstance(saving, ESRFScanSaving):
        raise RuntimeError(f"{command}: this session saves without the ESRF data policy; enable it in the session's YAML "
                           "file: scan_saving: {class: ESRFScanSaving, beamline: id00} (docs/saving.md)")  # fmt: skip
    return saving


def newproposal(name: str | None = None) -> None:
    """Save into proposal ``name`` from now on, in its collection ``sample`` (ESRF data policy).

    The current dataset ends first (as ``enddataset``). The proposal's name gives its root folder: the
    beamline's own (``id00...``), ``ih...`` and ``blc...`` are inhouse, ``test...``, ``tmp...`` and
    ``temp...`` are tmp, every other one is visitor.

    Parameters
    ----------
    name : str, optional
        The proposal, letters and digits (``hg-123`` is ``hg123``; capitals are lowered); None: the
        beamline's proposal of the month (``id002611``).

    Examples
    --------
    In a session whose YAML enables the ESRF data policy (``scan_saving: {class: ESRFScanSaving, beamline: id00}``):

    >>> newproposal("hg123")
    Proposal set to 'hg123' (visitor)
    Data path: .../visitor/hg123/id00/.../RAW_DATA/sample/sample_0001
    >>> newproposal("ihch456")
    Proposal set to 'ihch456' (inhouse)
    Data path: .../inhouse/ihch456/id00/.../RAW_DATA/sample/sample_0001
    >>> newproposal()
    Proposal set to 'id00...' (inhouse)
    Data path: .../inhouse/id00.../id00/.../RAW_DATA/sample/sample_0001
    >>> newproposal("hg123")
    Proposal set to 'hg123' (visitor)
    Data path: .../visitor/hg123/id00/.../RAW_DATA/sample/sample_0001
    """
    _policy("newproposal").newproposal(name)


def newcollection(name: str | None = None) -> None:
    """Save into collection ``name`` of the proposal from now on, in its next dataset (ESRF data policy).

    The current dataset ends first (as ``enddataset``). ``newsample`` is the same command.

    Parameters
    ----------
    name : str, optional
        The collection: letters, digits, ``_`` and ``-``, starting with a letter or digit; None: ``sample``.

    Examples
    --------
    In a session whose YAML enables the ESRF data policy (``scan_saving: {class: ESRFScanSaving, beamline: id00}``):

    >>> newcollection("cells")
    Dataset collection set to 'cells'
    Data path: .../RAW_DATA/cells/cells_0001
    >>> newcollection()
    Dataset collection set to 'sample'
    Data path: .../RAW_DATA/sample/sample_0001
    """
    _policy("newcollection").newcollection(name)


def newsample(name: str | None = None) -> None:
    """Save into sample ``name`` of the proposal from now on, in its next dataset (ESRF data policy).

    BLISS's name for ``newcollection``: a sample is a collection of datasets. The current dataset
    ends first (as ``enddataset``).

    Parameters
    ----------
    name : str, optional
        The sample: letters, digits, ``_`` and ``-``, starting with a letter or digit; None: ``sample``.

    Examples
    --------
    In a session whose YAML enables the ESRF data policy (``scan_saving: {class: ESRFScanSaving, beamline: id00}``):

    >>> newsample("powder")
    Sample set to 'powder'
    Data path: .../RAW_DATA/powder/powder_0001
    >>> s = loopscan(3, 0.01, diode)
    >>> s.path
    '.../RAW_DATA/powder/powder_0001/powder_0001.h5'
    """
    _policy("newsample").newcollection(name, what="Sample")


def newdataset(name: str | int | None = None) -> None:
    """Save into dataset ``name`` of the collection from now on (ESRF data policy).

    The current dataset ends first (as ``enddataset``). A dataset is never added to once ended: when
    ``name`` is taken (its folder exists, a scan saved there, or it is the current dataset), the next
    free name of BLISS's generator is used: ``area1_0002``, ``area1_0003``, ...; for a number, the
    next numbers. A name the file system cannot hold (over 255 bytes with its collection) is refused.

    Parameters
    ----------
    name : str or int, optional
        The dataset: letters, digits, ``_`` and ``-``; a whole number >= 1 (or its digits) is written
        with 4 digits (``7``: ``0007``); None: the collection's next free number.

    Raises
    ------
    ValueError
        ``name`` is none of these (``3.7``, ``True``, ``'a b'``) or too long; nothing changed.

    Examples
    --------
    In a session whose YAML enables the ESRF data policy (``scan_saving: {class: ESRFScanSaving, beamline: id00}``):

    >>> newdataset("area2")
    Dataset set to 'area2'
    Data path: .../RAW_DATA/sample/sample_area2
    >>> s = loopscan(3, 0.01, diode)
    >>> newdataset()
    Dataset set to '0001'
    Data path: .../RAW_DATA/sample/sample_0001
    >>> newdataset(7)
    Dataset set to '0007'
    Data path: .../RAW_DATA/sample/sample_0007
    >>> newdataset("area2")
    Dataset set to 'area2_0002'
    Data path: .../RAW_DATA/sample/sample_area2_0002
    >>> newdataset(3.7)
    Traceback (most recent call last):
    ...
    ValueError: newdataset: 3.7 is not a dataset name: letters, digits, '_' and '-', like 'area1', or a whole number >= 1 (7: '0007')
    """
    _policy("newdataset").newdataset(name)


def enddataset() -> None:
    """End the dataset (ESRF data policy): the next scan saves into the collection's next dataset.

    Every entry of the dataset's file gets the dataset's metadata (proposal, beamline, collection,
    sample, dataset, start and end times), and the proposal's and the collection's master files
    link them. A dataset without scans leaves nothing.

    Examples
    --------
    In a session whose YAML enables the ESRF data policy (``scan_saving: {class: ESRFScanSaving, beamline: id00}``):

    >>> newdataset("area1")
    Dataset set to 'area1'
    Data path: .../RAW_DATA/sample/sample_area1
    >>> s = loopscan(3, 0.01, diode)
    >>> s.path
    '.../RAW_DATA/sample/sample_area1/sample_area1.h5'
    >>> enddataset()
    Dataset ended; next data path: .../RAW_DATA/sample/sample_0001
    """
    _policy("enddataset").enddataset()


def endproposal() -> None:
    """End the proposal (ESRF data policy): the dataset ends, and the beamline's proposal of the month follows.

    As BLISS's ``endproposal``: the current dataset ends first (as ``enddataset``), then the scans go
    to the default proposal (``<beamline><yymm>``, inhouse), in its collection ``sample`` and next
    dataset, as ``newproposal()`` does.

    Examples
    --------
    In a session whose YAML enables the ESRF data policy (``scan_saving: {class: ESRFScanSaving, beamline: id00}``):

    >>> newproposal("hg123")
    Proposal set to 'hg123' (visitor)
    Data path: .../visitor/hg123/id00/.../RAW_DATA/sample/sample_0001
    >>> endproposal()
    Proposal set to 'id00...' (inhouse)
    Data path: .../inhouse/id00.../id00/.../RAW_DATA/sample/sample_0001
    """
    _policy("endproposal").endproposal()


POLICY_COMMANDS = [newproposal, endproposal, newsample, newcollection, newdataset, enddataset]
