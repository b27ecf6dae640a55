"""Release-gate fixtures: a copy of the committed baseline model package, and temporary git repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def baseline_model(tmp_path_factory) -> Path:
    """A private copy of the bit-match baseline's committed model package (treat as read-only)."""
    out = tmp_path_factory.mktemp("baseline-model") / "model"
    shutil.copytree(ROOT / "tests" / "baselines" / "bit_match" / "model", out)
    return out


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; return stdout."""
    proc = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def set_snapshot(repo: Path, symbols: dict[str, str], deprecated: dict[str, str] | None = None) -> None:
    """Write docs/public-api.snapshot.json in ``repo``."""
    doc = {"schema_version": "1.1.0", "symbols": symbols, "deprecated": deprecated or {}}
    (repo / "docs" / "public-api.snapshot.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def set_version_text(repo: Path, version: str) -> None:
    """Set ``__version__`` in the repo copy (pyproject left to ``prepare``)."""
    p = repo / "geno_lewm" / "__init__.py"
    p.write_text(f'"""Copy."""\n\n__version__ = "{version}"\n')


def commit(repo: Path, message: str) -> None:
    """Stage everything and commit."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A temporary git repository holding copies of the files the release commands touch (never the checkout)."""
    r = tmp_path / "repo"
    (r / "geno_lewm").mkdir(parents=True)
    (r / "docs").mkdir()
    shutil.copyfile(ROOT / "pyproject.toml", r / "pyproject.toml")
    shutil.copyfile(ROOT / "CHANGELOG.md", r / "CHANGELOG.md")
    shutil.copyfile(ROOT / "docs" / "public-api.snapshot.json", r / "docs" / "public-api.snapshot.json")
    set_version_text(r, "0.1.0")
    git(r, "init", "-q", "-b", "main")
    commit(r, "Initial release")
    return r


@pytest.fixture(scope="session")
def live_snapshot() -> dict[str, str]:
    """The public API the code exports now."""
    from geno_lewm.api import snapshot

    return snapshot()


@pytest.fixture
def source_repo(tmp_path) -> Path:
    """Like ``repo``, plus a copy of this checkout's source (geno_lewm/, ledger/), so its own public API can be read."""
    r = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for d in ("geno_lewm", "ledger"):
        shutil.copytree(ROOT / d, r / d, ignore=ignore)
    (r / "docs").mkdir()
    for f in ("pyproject.toml", "CHANGELOG.md", "docs/public-api.snapshot.json"):
        shutil.copyfile(ROOT / f, r / f)
    set_version_text(r, "0.1.0")
    git(r, "init", "-q", "-b", "main")
    commit(r, "Initial release")
    return r
