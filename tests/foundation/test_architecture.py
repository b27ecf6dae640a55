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


def _fresh_python(code: str, *args: str, timeout: int = 120) -> str:
    """Run ``code`` (with ``args``) in a fresh interpreter at the repository root; its stdout, stripped."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True).stdout.strip()


def _import_all(*packages: str) -> dict:
    return json.loads(_fresh_python(_PROBE, ",".join(packages), timeout=300).splitlines()[-1])


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
    assert _fresh_python("import sys, geno_lewm.cli.score, geno_lewm.scoring.ray_engine, geno_lewm.scoring.shards; print('ray' in sys.modules)") == "False"


def test_light_geno_lewm_modules_do_not_import_torch():
    code = "import sys, geno_lewm, geno_lewm.versioning, geno_lewm.errors, geno_lewm.cli.main; "
    assert _fresh_python(code + "print(','.join(m for m in ('torch','transformers','textual') if m in sys.modules))") == ""


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


# -- the project's import graph: no cycles, no upward arrows ---------------------------------------

_PROJECT = ("ledger", "geno_lewm", "tools", "bench", "cockpit")


def _project_modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in _PROJECT:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _module_imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """Project modules ``name`` imports anywhere (function bodies included, ``if TYPE_CHECKING:`` blocks excluded)."""
    found: set[str] = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for c in child.orelse:
                    visit_one(c)
            else:
                visit_one(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module
            for a in node.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base)
        else:
            visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    out = set()
    for target in found:
        while target and target not in mods:
            target = target.rpartition(".")[0]
        if target and target != name:
            out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (static, every import statement)."""
    mods = _project_modules()
    return {name: _module_imports(name, path, mods) for name, path in mods.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return cycles


def test_no_import_cycles_among_project_modules():
    cycles = import_cycles(import_graph())
    assert not cycles, f"{len(cycles)} import cycle(s): " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_upward_imports():
    """geno_lewm never imports tools/bench/cockpit; ledger imports no other project package; nothing imports cockpit."""
    upward = []
    for name, targets in import_graph().items():
        top = name.split(".")[0]
        for t in targets:
            t_top = t.split(".")[0]
            if (
                (top == "geno_lewm" and t_top in ("tools", "bench", "cockpit"))
                or (top == "ledger" and t_top != "ledger")
                or (t_top == "cockpit" and top != "cockpit")
            ):
                upward.append(f"{name} -> {t}")
    assert not upward, upward


def test_cycle_scan_sees_function_level_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    mods = {"pkg": tmp_path / "pkg" / "__init__.py", "pkg.x": tmp_path / "x.py", "pkg.y": tmp_path / "y.py"}
    (tmp_path / "x.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import y\ndef f():\n    from pkg.y import g\n")
    assert _module_imports("pkg.x", mods["pkg.x"], mods) == {"pkg.y"}
    (tmp_path / "x.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import y\n")
    assert _module_imports("pkg.x", mods["pkg.x"], mods) == set()
