"""The ESRF data policy: newproposal, newsample/newcollection, newdataset, enddataset, as BLISS's ESRFScanSaving."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import h5py
import pytest

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.scanning import ESRFScanSaving
from bliss_shell.shell.error_report import ErrorReport
from bliss_shell.shell.namespace import session_namespace
from conftest import BEAMLINE
from terminal import run_bliss

SESSION_YAML = """\
name: esrf_session
class: Session
config-objects: [roby, diode]
scan_saving:
  class: ESRFScanSaving
  beamline: id00
  visitor_data_root: {root}/visitor
  inhouse_data_root: {root}/{{beamline}}/inhouse
  tmp_data_root: {root}/{{beamline}}/tmp
"""


def _fail(error: BaseException) -> None:
    raise error


@pytest.fixture
def policy_session(redis_client, tmp_path) -> dict:
    """A session whose YAML enables the ESRF data policy, with its data roots under the test's tmp folder."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "esrf_session.yml").write_text(SESSION_YAML.format(root=tmp_path / "data"))
    session = Config([ConfigRoot(BEAMLINE), ConfigRoot(tmp_path / "config", "extra")]).get("esrf_session")
    namespace = session_namespace(session, redis_client, ErrorReport())
    session.setup(namespace, on_error=_fail, verbose=False)
    return namespace


def only_entry(path: str) -> str:
    """The name of the file's one NXentry (the writer's naming, whatever it is)."""
    with h5py.File(path, "r", locking=False) as file:
        entries = [name for name, item in file.items() if item.attrs.get("NX_class") == "NXentry"]
    assert len(entries) == 1, entries
    return entries[0]


def text(dataset) -> str:
    value = dataset[()]
    return value.decode() if isinstance(value, bytes) else value


def test_two_proposals_two_samples_two_datasets_each_make_blisss_tree(policy_session, tmp_path, capsys):
    s = policy_session
    today = datetime.now().strftime("%Y%m%d")
    scans = {}
    for proposal in ("hg123", "ihch456"):
        s["newproposal"](proposal)
        for sample in ("cells", "powder"):
            s["newsample"](sample)
            for dataset in ("area1", "area2"):
                s["newdataset"](dataset)
                scans[proposal, sample, dataset] = s["loopscan"](3, 0, s["diode"])
    s["enddataset"]()
    assert "Dataset set to 'area2'\nData path: " in capsys.readouterr().out

    roots = {"hg123": tmp_path / "data" / "visitor" / "hg123" / "id00" / today,
             "ihch456": tmp_path / "data" / "id00" / "inhouse" / "ihch456" / "id00" / today}  # fmt: skip
    for (proposal, sample, dataset), scan in scans.items():
        folder = roots[proposal] / "RAW_DATA" / sample / f"{sample}_{dataset}"
        assert scan.path == str(folder / f"{sample}_{dataset}.h5")
        assert [p.name for p in folder.glob("*.h5")] == [f"{sample}_{dataset}.h5"]  # one file per dataset
        assert len(scan.get_data()["diode"]) == 3  # published as always
        with h5py.File(scan.path, "r", locking=False) as file:
            entry = file[only_entry(scan.path)]
            assert (text(entry["sample/name"]), entry["sample"].attrs["NX_class"]) == (sample, "NXsample")
            metadata = {key: text(entry["dataset"][key]) for key in entry["dataset"]}
            assert {k: metadata[k] for k in ("proposal", "beamline", "collection", "sample", "dataset")} == {
                "proposal": proposal,
                "beamline": "id00",
                "collection": sample,
                "sample": sample,
                "dataset": dataset,
            }
            assert metadata["start_time"] <= text(entry["start_time"]) <= text(entry["end_time"]) <= metadata["end_time"]
    for proposal, root in roots.items():
        with h5py.File(root / f"{proposal}_id00.h5", "r", locking=False) as master:  # the proposal's master file
            names = sorted(master)
            assert names == sorted(f"{sample}_{dataset}_{only_entry(scans[proposal, sample, dataset].path)}"
                                   for sample in ("cells", "powder") for dataset in ("area1", "area2"))  # fmt: skip
            for name in names:  # the external links open the datasets' entries
                sample, dataset = name.split("_")[:2]
                assert text(master[name]["dataset/dataset"]) == dataset and text(master[name]["sample/name"]) == sample
                assert master.get(name, getlink=True).filename == f"RAW_DATA/{sample}/{sample}_{dataset}/{sample}_{dataset}.h5"
        for sample in ("cells", "powder"):
            with h5py.File(root / "RAW_DATA" / sample / f"{proposal}_{sample}.h5", "r", locking=False) as master:
                linked = [
                    f"{sample}_{dataset}_{only_entry(scans[proposal, sample, dataset].path)}" for dataset in ("area1", "area2")
                ]
                assert sorted(master) == linked
                assert text(master[f"{linked[1]}/dataset/proposal"]) == proposal


def test_proposals_go_to_their_root_and_datasets_are_numbered_when_unnamed(policy_session, tmp_path):
    saving = policy_session["SCAN_SAVING"]
    for proposal, kind in (("hg123", "visitor"), ("ihxx123", "inhouse"), ("blc123", "inhouse"), ("id002611", "inhouse"),
                           ("test1", "tmp"), ("tmp2", "tmp"), ("temp3", "tmp")):  # fmt: skip
        policy_session["newproposal"](proposal)
        assert saving.proposal_type == kind
    assert saving.filename.startswith(f"{tmp_path}/data/id00/tmp/temp3/id00/")
    policy_session["newproposal"]("hg-12_3")  # BLISS's spelling: lower case, without '-' and '_'
    assert saving.proposal_name == "hg123" and saving.collection_name == "sample" and saving.dataset_name == "0001"
    first = policy_session["loopscan"](1, 0, policy_session["diode"])
    policy_session["newdataset"]()
    assert saving.dataset_name == "0002" and first.path.endswith("/RAW_DATA/sample/sample_0001/sample_0001.h5")


def test_bad_policy_inputs_are_refused_and_nothing_changes(policy_session, redis_client):
    s, saving = policy_session, policy_session["SCAN_SAVING"]
    s["newproposal"]("hg123")
    s["newsample"]("cells")
    s["newdataset"]("area1")
    s["loopscan"](1, 0, s["diode"])
    s["newdataset"]("area2")
    before, filename = redis_client.hgetall("data_policy|esrf_session"), saving.filename
    for command, argument, message in (
        ("newdataset", "area1", r"^newdataset: dataset 'area1' already exists in collection 'cells' of proposal 'hg123' "
                                r"\(.*/RAW_DATA/cells/cells_area1\); choose another name"),
        ("newdataset", "area2", r"^newdataset: dataset 'area2' already exists in collection 'cells'"),  # the current one
        ("newproposal", "hg/123", r"^newproposal: 'hg/123' is not a proposal name: letters and digits, like 'hg123'"),
        ("newproposal", "", r"^newproposal: '' is not a proposal name"),
        ("newsample", "a b", r"^newsample: 'a b' is not a name: letters, digits, '_' and '-'"),
        ("newdataset", "../x", r"^newdataset: '../x' is not a dataset name"),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            s[command](argument)
        assert redis_client.hgetall("data_policy|esrf_session") == before and saving.filename == filename
    with pytest.raises(AttributeError, match=r"^SCAN_SAVING.template is set by the ESRF data policy: use newproposal\(\)"):
        saving.template = "{session}/"
    again = ESRFScanSaving(
        redis_client, "esrf_session", {"beamline": "id00", "visitor_data_root": str(Path(filename).parents[6])}
    )
    assert again.filename == filename  # as the next shell sees it: a setting


def test_policy_commands_say_how_to_enable_the_policy(session):
    with pytest.raises(RuntimeError, match=r"^newproposal: this session saves without the ESRF data policy; enable it in the "
                                           r"session's YAML file: scan_saving: \{class: ESRFScanSaving, beamline: id00\}"):  # fmt: skip
        session["newproposal"]("hg123")


def test_scan_saving_prints_the_policy_in_its_table(policy_session):
    policy_session["newproposal"]("hg123")
    shown = repr(policy_session["SCAN_SAVING"])
    assert shown.startswith(
        "Parameters (ESRF data policy) -\n  .proposal_name        = 'hg123'\n  .proposal_type        = 'visitor'"
    )
    assert ".template" not in shown and "does not exist  filename   " in shown


def test_bliss_logbook_finds_the_logbook_of_a_policy_session(tmp_path, shell_env):
    config = tmp_path / "beamline"
    config.mkdir()
    (config / "devices.yml").write_text("- name: roby\n  class: SimulationMotor\n- name: diode\n  class: SimulationDiode\n")
    (config / "esrf_session.yml").write_text(SESSION_YAML.format(root=tmp_path / "data"))
    wrote = run_bliss("-s", "esrf_session", "--config", str(config), "-c",
                      "newproposal('ihch1'); elog_print('sample mounted'); print(SCAN_SAVING.get_path())", env=shell_env)  # fmt: skip
    assert wrote.returncode == 0, wrote.stderr
    assert "/ihch1/" in wrote.stdout.splitlines()[-1]
    shown = run_bliss("logbook", "esrf_session", "--config", str(config), env=shell_env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.rstrip().endswith("comment: sample mounted")
    dataset = Path(wrote.stdout.splitlines()[-1])
    logbooks = list((tmp_path / "data").rglob("esrf_session_logbook.txt"))
    assert logbooks == [dataset.parents[2] / "esrf_session_logbook.txt"]  # beside RAW_DATA, never in a dataset


def test_the_scans_of_a_dataset_stay_in_it_until_newdataset(policy_session):
    s = policy_session
    s["newproposal"]("ihch2")
    first = s["loopscan"](2, 0, s["diode"]).path
    second = s["loopscan"](2, 0, s["diode"]).path
    assert first == second and first.endswith("/sample_0001/sample_0001.h5")
    s["newdataset"]()
    assert s["loopscan"](2, 0, s["diode"]).path.endswith("/sample_0002/sample_0002.h5")
