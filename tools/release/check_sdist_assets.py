"""``python -m tools.release.check_sdist_assets``: INV-REL-6 — the sdist carries the release assets.

Builds the source distribution into a temporary directory (``python -m build --sdist`` when the
``build`` package and the build backend are installed, else ``uv build --sdist --offline``), or
checks a given ``--sdist`` archive, and verifies it contains ``bench/``, ``configs/first_experiment/``
(including the dataset snapshot spec), ``tools/``, ``docs/``, ``rfcs/``, ``examples/``,
``README.md``, ``ROADMAP.md`` and ``AGENTS.md``. Importable: :func:`check_sdist_assets`.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from ledger.errors import ReleaseError, ResourceError

from tools.release.declare import Flag, Step, StepCall

REQUIRED_DIRS = ("bench/", "configs/first_experiment/", "tools/", "docs/", "rfcs/", "examples/")
REQUIRED_FILES = ("README.md", "ROADMAP.md", "AGENTS.md", "configs/first_experiment/dataset-snapshot-snv.json")


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


def missing_assets(members: list[str]) -> list[str]:
    """Required folders/files absent from ``members`` (folders count when any file is under them)."""
    have = set(members)
    missing = [d for d in REQUIRED_DIRS if not any(m.startswith(d) for m in members)]
    missing += [f for f in REQUIRED_FILES if f not in have]
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
    """Build (or take) the sdist and check INV-REL-6; return ``{archive, members, missing}``.

    Raises ``RELEASE.SDIST_ASSETS`` naming the missing assets.
    """
    if sdist is not None:
        members = sdist_members(sdist)
        name = Path(sdist).name
    else:
        from geno_lewm.resources import require_project_root

        root = require_project_root(project_root or None, "no source checkout to build the sdist from", "run from a git checkout or pass --sdist")
        with tempfile.TemporaryDirectory(prefix="geno-lewm-sdist-") as tmp:
            archive = build_sdist(root, tmp)
            members, name = sdist_members(archive), archive.name
    missing = missing_assets(members)
    if missing:
        raise ReleaseError("SDIST_ASSETS", f"{name} lacks release assets: {', '.join(missing)}", "add them to [tool.hatch.build.targets.sdist] include in pyproject.toml")
    return {"archive": name, "members": len(members), "missing": missing}


def _body(call: StepCall) -> str:
    result = check_sdist_assets(call.args.project_root, sdist=call.args.sdist)
    return f"{result['archive']}: {result['members']} files; all release assets present"


STEP = Step("check_sdist_assets", gate="hub_plan", body=_body, purpose="build the sdist and check it carries the release assets (INV-REL-6)", flags=(
    Flag("--project-root", "source checkout to build (default: this checkout)"),
    Flag("--sdist", "check this sdist archive instead of building one", role="input"),
))
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
