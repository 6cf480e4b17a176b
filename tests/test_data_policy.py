"""The ESRF data policy: newproposal, newsample/newcollection, newdataset, enddataset, as BLISS's ESRFScanSaving."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import h5py
import pytest

from bliss_shell.data import keys
from bliss_shell.scanning import ESRFScanSaving
from conftest import ESRF_SESSION_YAML
from terminal import run_bliss

POLICY_KEY = keys.session_key("data_policy", "esrf_session")  # the choice of proposal, collection, dataset


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
    before, filename = redis_client.hgetall(POLICY_KEY), saving.filename
    folders = sorted(Path(filename).parents[5].rglob("*"))
    too_long = r"is too long for the file system: .* would be a name of \d+ bytes in a path of \d+ \(at most 255 and 3841\); "
    for command, argument, message in (
        ("newproposal", "hg/123", r"^newproposal: 'hg/123' is not a proposal name: letters and digits, like 'hg123'"),
        ("newproposal", "", r"^newproposal: '' is not a proposal name"),
        ("newproposal", 123, r"^newproposal: 123 is not a proposal name"),
        ("newproposal", "p" * 300, rf"^newproposal: 'ppp.*\.\.\. \(300 characters\) {too_long}choose a shorter name$"),
        ("newsample", "a b", r"^newsample: 'a b' is not a name: letters, digits, '_' and '-'"),
        ("newsample", "s" * 300, rf"^newsample: 'sss.*\.\.\. \(300 characters\) {too_long}"),
        ("newcollection", "c" * 250, r"^newcollection: 'ccc.*\.\.\. \(250 characters\) is too long"),  # cells_0001: 260
        ("newdataset", "../x", r"^newdataset: '../x' is not a dataset name"),
        ("newdataset", "d" * 300, rf"^newdataset: 'ddd.*\.\.\. \(300 characters\) {too_long}choose a shorter name$"),
        ("newdataset", "d" * 5000, r"^newdataset: 'ddd.*\.\.\. \(5000 characters\) is too long for the file system"),
        ("newdataset", "d" * 247, r"^newdataset: 'ddd.*\(247 characters\) is too long"),  # cells_ddd...d.h5: 256 bytes
    ):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            s[command](argument)
        assert redis_client.hgetall(POLICY_KEY) == before and saving.filename == filename
    for bad in (3.7, float("nan"), float("inf"), True, False, 0, -1, "0", "a b", "", [1], b"area3"):
        with pytest.raises(ValueError, match=r"^newdataset: .* is not a dataset name: letters, digits, '_' and '-', like "
                                             r"'area1', or a whole number >= 1 \(7: '0007'\)$"):  # fmt: skip
            s["newdataset"](bad)
        assert redis_client.hgetall(POLICY_KEY) == before and saving.filename == filename
    assert sorted(Path(filename).parents[5].rglob("*")) == folders  # no folder was made
    with pytest.raises(AttributeError, match=r"^SCAN_SAVING.template is set by the ESRF data policy: use newproposal\(\)"):
        saving.template = "{session}/"
    again = ESRFScanSaving(
        redis_client, "esrf_session", {"beamline": "id00", "visitor_data_root": str(Path(filename).parents[6])}
    )
    assert again.filename == filename  # as the next shell sees it: a setting
    s["newdataset"]("d" * 246)  # the longest that fits: cells_<246>.h5 is 255 bytes
    assert len(Path(s["loopscan"](1, 0, s["diode"]).path).name) == 255


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
    (config / "esrf_session.yml").write_text(ESRF_SESSION_YAML.format(root=tmp_path / "data"))
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


def test_a_dataset_name_taken_gives_the_next_of_blisss_generator(policy_session, capsys):
    s, saving = policy_session, policy_session["SCAN_SAVING"]
    s["newproposal"]("hg123")
    s["newdataset"]("area1")
    s["loopscan"](1, 0, s["diode"])
    capsys.readouterr()
    s["newdataset"]("area1")  # its folder exists: BLISS takes area1_0002
    assert capsys.readouterr().out.startswith("Dataset set to 'area1_0002'\nData path: ")
    assert saving.dataset_name == "area1_0002" and saving.get_path().endswith("/RAW_DATA/sample/sample_area1_0002")
    s["newdataset"]("area1")  # area1_0002 is the current one: taken too
    assert saving.dataset_name == "area1_0003"
    s["loopscan"](1, 0, s["diode"])
    s["newdataset"](7)
    s["loopscan"](1, 0, s["diode"])
    for name, taken in ((7, "0008"), ("7", "0009"), ("0007", "0010")):  # numbers go on from the number given
        s["newdataset"](name)
        assert saving.dataset_name == taken
        s["loopscan"](1, 0, s["diode"])
    s["newdataset"]()
    assert saving.dataset_name == "0001"


def test_endproposal_ends_the_dataset_and_goes_back_to_the_default_proposal(policy_session, capsys):
    s, saving = policy_session, policy_session["SCAN_SAVING"]
    s["newproposal"]("hg123")
    s["newsample"]("cells")
    scan = s["loopscan"](2, 0, s["diode"])
    capsys.readouterr()
    s["endproposal"]()
    default = f"id00{datetime.now():%y%m}"
    assert capsys.readouterr().out.startswith(f"Proposal set to '{default}' (inhouse)\nData path: ")
    assert (saving.proposal_name, saving.proposal_type, saving.collection_name) == (default, "inhouse", "sample")
    with h5py.File(scan.path, "r", locking=False) as file:  # the dataset was ended: its metadata written
        assert text(file[only_entry(scan.path)]["dataset/proposal"]) == "hg123"
    assert s["loopscan"](1, 0, s["diode"]).path.endswith(f"/{default}/id00/{datetime.now():%Y%m%d}/RAW_DATA/sample/"
                                                          "sample_0001/sample_0001.h5")  # fmt: skip


def test_a_template_saved_before_the_policy_does_not_move_its_scans(policy_session, redis_client):
    plain = "{session}/{scan_name}/{scan_number}"  # the template the session saved with before its YAML had the policy
    redis_client.hset(keys.session_key("scan_saving", "esrf_session"), "template", plain)
    s = policy_session
    s["newproposal"]("hg123")
    scans = [s["loopscan"](1, 0, s["diode"]), s["loopscan"](1, 0, s["diode"])]
    assert [scan.number for scan in scans] == [1, 2]
    assert {scan.path for scan in scans} == {s["SCAN_SAVING"].filename}  # the dataset's one file
