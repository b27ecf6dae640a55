"""The cockpit's first frame imports neither torch nor transformers (subprocess + sys.modules)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = r"""
import asyncio, json, sys
from cockpit.app import CockpitApp

async def first_frame(workdir):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        gates = app.screen.query_one("#gates").row_count
    return gates

gates = asyncio.run(first_frame(sys.argv[1]))
print(json.dumps({"gates": gates, "heavy": [m for m in ("torch", "transformers") if m in sys.modules]}))
"""


def test_first_frame_imports_no_torch_or_transformers(tmp_path):
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "ws")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["gates"] > 0
    assert result["heavy"] == []


def test_cockpit_modules_have_no_top_level_torch_import():
    offenders = []
    for path in (ROOT / "cockpit").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for bad in ("import torch", "import transformers", "from torch", "from transformers"):
            for line in text.splitlines():
                if line.startswith(bad):  # a top-level import (inside functions is allowed)
                    offenders.append(f"{path.relative_to(ROOT)}: {line}")
    assert not offenders, offenders
