"""Import rules: only cockpit imports textual; ledger imports neither torch, transformers nor geno_lewm."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = r"""
import importlib, json, pkgutil, sys
pkg_names = sys.argv[1].split(",")
failed = []
for pkg_name in pkg_names:
    pkg = importlib.import_module(pkg_name)
    if hasattr(pkg, "__path__"):
        for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
            if info.name.endswith("__main__"):
                continue
            try:
                importlib.import_module(info.name)
            except SystemExit:
                pass
            except Exception as exc:
                failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
print(json.dumps({"modules": sorted(sys.modules), "failed": failed}))
"""


def _import_all(*packages: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(packages)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _top(names: list[str]) -> set[str]:
    return {n.split(".", 1)[0] for n in names}


def test_non_ui_packages_never_import_textual():
    result = _import_all("ledger", "geno_lewm", "tools", "bench")
    assert not result["failed"], result["failed"]
    assert "textual" not in _top(result["modules"])


def test_ledger_imports_no_model_or_ui_stack():
    result = _import_all("ledger")
    assert not result["failed"], result["failed"]
    loaded = _top(result["modules"])
    for forbidden in ("torch", "transformers", "textual", "geno_lewm", "cockpit"):
        assert forbidden not in loaded, f"ledger pulled in {forbidden}"


def test_ray_is_imported_only_when_the_ray_engine_runs():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, geno_lewm.cli.score, geno_lewm.scoring.ray_engine, geno_lewm.scoring.shards; print('ray' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    assert out.stdout.strip() == "False"


def test_light_geno_lewm_modules_do_not_import_torch():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, geno_lewm, geno_lewm.versioning, geno_lewm.errors, geno_lewm.cli.main; "
         "print(','.join(m for m in ('torch','transformers','textual') if m in sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    assert out.stdout.strip() == ""


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


#: The one module allowed to import ray (the cluster engine; the import sits inside functions).
RAY_MODULE = "geno_lewm/scoring/ray_engine.py"


def test_static_import_rules_hold_for_every_source_file():
    offenders = []
    for pkg in ("ledger", "geno_lewm", "tools", "bench", "cockpit"):
        for path in (ROOT / pkg).rglob("*.py"):
            imported = _imports_of(path)
            if "ray" in imported and path.relative_to(ROOT).as_posix() != RAY_MODULE:
                offenders.append(f"{path.relative_to(ROOT)} imports ray (only {RAY_MODULE} may)")
            if pkg == "cockpit":
                continue
            if "textual" in imported or "cockpit" in imported:
                offenders.append(f"{path.relative_to(ROOT)} imports textual/cockpit")
            if pkg == "ledger" and imported & {"torch", "transformers", "geno_lewm"}:
                offenders.append(f"{path.relative_to(ROOT)} imports {sorted(imported & {'torch', 'transformers', 'geno_lewm'})}")
    assert not offenders, offenders
