"""An older commit of this repository beside the working tree, for benches that run it in a subprocess.

``checkout(commit)`` gives a git worktree of ``commit`` in a temporary folder (detached, so no branch moves),
removed afterwards whatever happened; ``tree_env`` is the environment that makes a subprocess import that
tree's ``bliss_shell`` and find that tree's config classes, and ``check_imported`` refuses a figure measured on
another one.

Usage (from another bench)::

    with checkout(BEFORE) as tree:
        subprocess.run([sys.executable, script], env=tree_env(tree, folder, HOME=str(folder)), cwd=tree)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEFORE = "88e54a9"  # the last commit of the sequential step loop (no card, no MCA, no fscan, no acquisition chain)


@contextlib.contextmanager
def checkout(commit: str = BEFORE) -> Iterator[Path]:
    """A detached git worktree of ``commit``; removed (and pruned) afterwards, whatever happened."""
    tree = Path(tempfile.mkdtemp(prefix="bsb-before-"))
    try:
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), commit], check=True,
                       capture_output=True)  # fmt: skip
        yield tree
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)
        subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], capture_output=True)
        shutil.rmtree(tree, ignore_errors=True)


def tree_env(tree: Path, folder: Path, **extra: str) -> dict[str, str]:
    """A bare environment whose Python imports ``bliss_shell`` from ``tree`` and its config classes too, plus ``extra``.

    The config's ``class:`` names are entry points, which Python reads from the installed package's metadata (this
    working tree's, as last installed): the tree's own, from its pyproject.toml, go into ``folder/metadata``
    (``tree_metadata``), first on PYTHONPATH.
    """
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": f"{tree_metadata(tree, folder)}:{tree}", **extra}


def tree_metadata(tree: Path, folder: Path) -> Path:
    """``folder/metadata``, holding a ``bliss_shell`` dist-info with the entry points of ``tree``'s pyproject.toml."""
    project = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"console_scripts": project.get("scripts", {}), **project.get("entry-points", {})}
    info = folder / "metadata" / f"bliss_shell-{project['version']}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: bliss_shell\nVersion: {project['version']}\n")
    sections = [
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in points.items()) for group, points in groups.items()
    ]
    (info / "entry_points.txt").write_text("\n".join(sections))
    return folder / "metadata"


def check_imported(module_file: str, tree: Path) -> None:
    """Raise when a subprocess reported a ``bliss_shell`` imported from elsewhere than ``tree``."""
    if not Path(module_file).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"the subprocess imported {module_file}, not the bliss_shell of {tree}")
