"""The tree is formatted by the project's formatter (ruff, line length from pyproject.toml)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from geno_lewm.resources import project_root


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is in the development group; install it with `uv sync`")
def test_every_python_file_is_formatted():
    root = project_root()
    assert root is not None
    done = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", "."], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, "run `uv run ruff format .`:\n" + done.stdout[-3000:] + done.stderr[-2000:]
