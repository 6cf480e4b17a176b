"""The boundaries of docs/architecture.md hold: the import-linter contracts of pyproject.toml, and private modules.

The contracts (layers; redis, h5py and tango each in their folders only; the simulators apart) run on the package,
and each is shown to break on a package of empty folders given one bad import. import-linter 2.0 has no contract for
the last rule (a private module, ``_name.py``, is imported only from its own folder): grimp checks it.
"""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
CONTRACTS = [contract["name"] for contract in tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]]
FOLDERS = ["shell", "rest", "scanning", "plot", "data", "writer", "controllers", "comm", "config", "simulators"]


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """``lint-imports`` with the contracts of pyproject.toml, on the ``bliss_shell`` found first from ``pythonpath``."""
    env = {**os.environ, "COLUMNS": "200"}  # a contract's name and its verdict on one line
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    lint = Path(sys.executable).parent / "lint-imports"
    command = [str(lint), "--no-cache", "--no-logo", str(PYPROJECT)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def broken(result: subprocess.CompletedProcess) -> list[str]:
    """The contracts lint-imports reports broken; every contract must have a verdict."""
    verdicts = {name: f"{name} BROKEN" in result.stdout for name in CONTRACTS}
    missing = [name for name in CONTRACTS if not verdicts[name] and f"{name} KEPT" not in result.stdout]
    assert not missing, f"no verdict for {missing}:\n{result.stdout}{result.stderr}"
    return [name for name, is_broken in verdicts.items() if is_broken]


def private_imports_across_folders(package: str) -> list[str]:
    """``importer -> imported`` for each import of a private module (``_name``) from outside the folder that holds it.

    A module is private when a part of its name after the package starts with one ``_`` (``__main__`` is not);
    its folder's modules, at any depth, may import it.
    """
    graph = grimp.build_graph(package, cache_dir=None)
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            parts = imported.split(".")
            private = [i for i, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")]
            if private:
                folder = ".".join(parts[: private[0]])
                if importer != folder and not importer.startswith(f"{folder}."):  # the folder's own __init__ may
                    found.append(f"{importer} -> {imported}")
    return found


def test_import_linter_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert broken(result) == []


def test_no_module_imports_a_private_module_of_another_folder():
    assert private_imports_across_folders("bliss_shell") == []


def make_package(root: Path, name: str, modules: dict[str, str]) -> None:
    """A package ``name`` under ``root`` with the top folders of bliss_shell, empty but for ``modules`` (path: source)."""
    for folder in ["", *FOLDERS]:
        (root / name / folder).mkdir(parents=True, exist_ok=True)
        (root / name / folder / "__init__.py").touch()
    for path, source in modules.items():
        (root / name / path).write_text(source)


# The Lima simulator writes its frames with h5py (a Lima server's own files): pyproject.toml ignores that one import,
# and import-linter refuses an ignored import that is not there.
LIMA_SIMULATOR = {"simulators/lima_saving.py": "import h5py\n"}
# The modules a contract names must exist (import-linter refuses a contract on a module it cannot find).
NAMED = {f"scanning/{name}.py": "" for name in ("peaks", "scan_tools", "parameters", "scan")}
VIOLATIONS = {
    "writer/frames.py: import bliss_shell.data": "Layers: a lower layer never imports a higher one",
    "plot/reader.py: import redis": "redis only in comm/ and data/ (the others use comm.redis_types)",
    "data/lima_view.py: import h5py": "h5py only in writer/ (readers of files go through it)",
    "simulators/motor.py: import h5py": "h5py only in writer/ (readers of files go through it)",
    "data/lima_view.py: import tango": "tango only in controllers/, comm/ and the simulators (Tango servers)",
    "controllers/lima.py: from bliss_shell.simulators import lima": "No module of the shell imports the simulators",
    "simulators/lima.py: from bliss_shell.data import keys": "The simulators import only controllers/, comm/ and config/",
    "scanning/peaks.py: from bliss_shell.scanning import scan": "The peak tools and the shared parameter texts never import the Scan class",
}


@pytest.mark.parametrize("violation", VIOLATIONS)
def test_each_contract_breaks_on_one_bad_import(violation: str, tmp_path: Path):
    path, source = violation.split(": ")
    make_package(tmp_path, "bliss_shell", {**LIMA_SIMULATOR, **NAMED, "simulators/lima.py": "", "data/keys.py": "", path: source})
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken(result) == [VIOLATIONS[violation]], result.stdout


def test_an_external_package_reached_through_its_layer_is_allowed(tmp_path: Path):
    make_package(tmp_path, "bliss_shell", {**LIMA_SIMULATOR, **NAMED,
        "comm/connection.py": "import redis\nimport tango\n",
        "writer/frame_files.py": "import h5py\n",
        "data/lima_view.py": "import bliss_shell.comm.connection\nimport bliss_shell.writer.frame_files\n",
        "plot/reader.py": "import bliss_shell.data.lima_view\n"})  # fmt: skip
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert broken(result) == []


@pytest.mark.parametrize(
    ("importer", "source", "found"),
    [
        ("plot/launcher.py", "from tinypkg.comm import _process", ["tinypkg.plot.launcher -> tinypkg.comm._process"]),
        ("plot/launcher.py", "import tinypkg.comm._process", ["tinypkg.plot.launcher -> tinypkg.comm._process"]),
        ("__init__.py", "from tinypkg.comm._process import run", ["tinypkg -> tinypkg.comm._process"]),
        ("comm/daemons.py", "from . import _process", []),  # its own folder
        ("comm/__init__.py", "from ._process import run", []),  # its folder's __init__ re-exports it
        ("plot/__main__.py", "from tinypkg.comm import __main__", []),  # dunder modules are not private
    ],
)
def test_a_private_module_imported_from_another_folder_is_found(importer, source, found, tmp_path, monkeypatch):
    make_package(tmp_path, "tinypkg", {"comm/_process.py": "def run(): pass\n", "comm/__main__.py": "", importer: source})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert private_imports_across_folders("tinypkg") == found
