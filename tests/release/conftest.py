"""Fixtures for the release-step tests: a rehearsal workdir with the dataset gate built."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.release.gate.rehearsal import rehearse


@pytest.fixture(scope="session")
def dataset_workdir_template(tmp_path_factory) -> Path:
    """A workdir where the rehearsal ran up to dataset_integrity (built once per session)."""
    wd = tmp_path_factory.mktemp("dataset-template") / "wd"
    result = rehearse(wd, until="dataset_integrity")
    assert result.ok, result.render()
    return wd


@pytest.fixture
def dataset_workdir(dataset_workdir_template, tmp_path) -> Path:
    """A private copy of the dataset-gate workdir (tests may edit it)."""
    wd = tmp_path / "wd"
    shutil.copytree(dataset_workdir_template, wd)
    return wd
