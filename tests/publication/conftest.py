"""Fixtures for the publication tests: one fixture release per session, loopback Hub and GitHub per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_services import FakeGitHub, FakeHub  # noqa: E402
from release_fixture import build_fixture_release  # noqa: E402

REPO = "geno-lewm/fixture-model"
DATASET_REPO = "geno-lewm/fixture-data"
GH_REPO = "geno-lewm/geno-lewm"
TAG = "v1"


@pytest.fixture(scope="session")
def release_workdir(tmp_path_factory) -> Path:
    """A complete fixture release (dataset, model package, demo, paper) recorded in its own ledger."""
    wd = tmp_path_factory.mktemp("pubrel") / "release"
    res = build_fixture_release(wd)
    assert res.ok, [(s.name, s.code, s.message) for s in res.steps if not s.ok]
    return wd


@pytest.fixture
def services(tmp_path):
    """(FakeHub, FakeGitHub) on 127.0.0.1, storing under tmp_path."""
    hub, gh = FakeHub(tmp_path / "hub"), FakeGitHub(tmp_path / "gh")
    try:
        yield hub, gh
    finally:
        hub.close()
        gh.close()


def target_args(wd: Path, hub: FakeHub, gh: FakeGitHub) -> list[str]:
    """The shared target flags pointing at the fixture release and the loopback services."""
    return [
        "--workdir", str(wd), "--model-dir", str(wd / "model"), "--dataset-dir", str(wd / "dataset"), "--demo-dir", str(wd / "demo"),
        "--repo-id", REPO, "--dataset-url", f"{hub.base}/datasets/{DATASET_REPO}",
        "--demo-url", f"{gh.base}/{GH_REPO}/releases/tag/{TAG}",
        "--paper-path", str(wd / "paper" / "paper_draft.md"), "--paper-url", f"{gh.base}/{GH_REPO}/releases/download/{TAG}/paper_draft.md",
        "--commit-sha", "0123456789abcdef0123456789abcdef01234567",
        "--hub-endpoint", hub.base, "--github-url", gh.base, "--github-api-url", gh.api,
    ]  # fmt: skip
