"""``python -m tools.release.check_sdist_assets``: INV-REL-6 — the sdist carries the release assets, file by file.

Builds the source distribution into a temporary directory (``python -m build --sdist`` when the
``build`` package and the build backend are installed, else ``uv build --sdist --offline``), or
takes a given ``--sdist`` archive, and compares it with the checkout it comes from: every file the
checkout has under the release-asset folders (:data:`ASSET_DIRS`: release tooling ``tools/``,
benchmark harnesses ``bench/``, the first-experiment configs and the checked dataset snapshot spec
``configs/first_experiment/``, every doc ``docs/``, every RFC ``rfcs/``, ``examples/``) plus
:data:`ASSET_FILES` (README, ROADMAP, AGENTS, the snapshot spec) must be in the archive. A folder is
never satisfied by one stray file (an ``rfcs/`` holding only ``README.md`` fails, naming each
missing RFC). The checkout's files are what git tracks (plus untracked, non-ignored files), or
every file on disk when the checkout is not a git repository; caches (``__pycache__``, ``*.pyc``)
and the sdist's own excludes (``bench/results/*.tmp``) are not assets. Importable:
:func:`check_sdist_assets`.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from ledger.errors import ReleaseError, ResourceError

from tools.release.engine.declare import Flag, Step, StepCall, common_flag

#: Folders whose every checkout file the sdist must carry (release page, INV-REL-6).
ASSET_DIRS = ("bench/", "configs/first_experiment/", "tools/", "docs/", "rfcs/", "examples/")
#: Single files the sdist must carry, whether or not the checkout lists them.
ASSET_FILES = ("README.md", "ROADMAP.md", "AGENTS.md", "configs/first_experiment/dataset-snapshot-snv.json")
#: Checkout files that are not assets (caches, and what pyproject's sdist ``exclude`` drops).
NOT_ASSETS = ("*/__pycache__/*", "*.pyc", "bench/results/*.tmp")
#: How many missing files an error message names before summarising the rest.
_NAMED = 12


def sdist_members(archive: str | Path) -> list[str]:
    """Member paths of an sdist, relative to its top-level ``<name>-<version>/`` folder."""
    with tarfile.open(archive, "r:gz") as tf:
        names = tf.getnames()
    out = []
    for n in names:
        parts = n.split("/", 1)
        if len(parts) == 2 and parts[1]:
            out.append(parts[1])
    return sorted(out)


def _is_asset(rel: str) -> bool:
    if any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch("/" + rel, pat) for pat in NOT_ASSETS):
        return False
    return rel in ASSET_FILES or any(rel.startswith(d) for d in ASSET_DIRS)


def checkout_assets(project_root: str | Path) -> list[str]:
    """Every release-asset file of the checkout (POSIX paths relative to ``project_root``), sorted."""
    root = Path(project_root)
    proc = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *ASSET_DIRS, *ASSET_FILES],
        capture_output=True,
        text=True,
    )
    if proc.returncode == 0 and (root / ".git").exists():
        names = [n for n in proc.stdout.split("\0") if n]
    else:  # not a git checkout: every file on disk
        names = []
        for d in ASSET_DIRS:
            base = root / d
            if base.is_dir():
                names += [p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file()]
        names += [f for f in ASSET_FILES if (root / f).is_file()]
    return sorted({n for n in names if _is_asset(n) and (root / n).is_file()})


def missing_assets(members: list[str], expected: list[str]) -> list[str]:
    """What the sdist lacks: each expected file (the checkout's assets plus :data:`ASSET_FILES`) not in
    ``members``, and each :data:`ASSET_DIRS` folder that neither side has any file under."""
    have = set(members)
    missing = sorted((set(expected) | set(ASSET_FILES)) - have)
    missing += [d for d in ASSET_DIRS if not any(e.startswith(d) for e in expected) and not any(m.startswith(d) for m in members)]
    return missing


def build_sdist(project_root: str | Path, out_dir: str | Path) -> Path:
    """Build the sdist of ``project_root`` into ``out_dir``; return the archive path."""
    root, out = Path(project_root), Path(out_dir)
    if importlib.util.find_spec("build") and importlib.util.find_spec("hatchling"):
        cmd = [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out), str(root)]
    elif shutil.which("uv"):
        cmd = ["uv", "build", "--sdist", "--offline", "--out-dir", str(out), str(root)]
    else:
        raise ResourceError("NO_BUILD_TOOL", "neither `python -m build` (with hatchling) nor `uv` is available", "install the dev group (build) or uv")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    archives = sorted(out.glob("*.tar.gz"))
    if proc.returncode != 0 or not archives:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ReleaseError("SDIST_BUILD_FAILED", f"sdist build failed: {' | '.join(tail)}", "run the build command by hand to see the full output")
    return archives[-1]


def check_sdist_assets(project_root: str | Path | None = None, *, sdist: str | Path | None = None) -> dict[str, Any]:
    """Build (or take) the sdist and check INV-REL-6 against the checkout's files.

    Returns ``{archive, members, expected, missing}`` (``expected``: how many asset files the
    checkout has). Raises ``RELEASE.SDIST_ASSETS`` naming the missing files.
    """
    from geno_lewm.resources import require_project_root

    root = require_project_root(project_root or None, "no source checkout to list the release assets of", "run from a git checkout or pass --project-root")
    expected = checkout_assets(root)
    if sdist is not None:
        members, name = sdist_members(sdist), Path(sdist).name
    else:
        with tempfile.TemporaryDirectory(prefix="geno-lewm-sdist-") as tmp:
            archive = build_sdist(root, tmp)
            members, name = sdist_members(archive), archive.name
    missing = missing_assets(members, expected)
    if missing:
        shown = ", ".join(missing[:_NAMED]) + (f" (+{len(missing) - _NAMED} more)" if len(missing) > _NAMED else "")
        raise ReleaseError(
            "SDIST_ASSETS",
            f"{name} lacks {len(missing)} release asset(s) the checkout has or the release page requires: {shown}",
            "add them to [tool.hatch.build.targets.sdist] include in pyproject.toml (anchor root files with '/')",
        )
    return {"archive": name, "members": len(members), "expected": len(expected), "missing": missing}


def _body(call: StepCall) -> str:
    result = check_sdist_assets(call.args.project_root, sdist=call.args.sdist)
    return f"{result['archive']}: {result['members']} files; all {result['expected']} release asset files of the checkout present"


STEP = Step(
    "check_sdist_assets",
    gate="hub_plan",
    body=_body,
    purpose="build the sdist and check it carries every release asset of the checkout (INV-REL-6)",
    flags=(
        common_flag("--project-root"),
        Flag("--sdist", "check this sdist archive instead of building one", role="input"),
    ),
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
