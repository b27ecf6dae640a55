"""The public API snapshot (INV-REL-1): which symbols are stable, and their signatures.

``PUBLIC_MODULES`` lists the modules whose ``__all__`` (or public names) form the stable API
documented in docs/02-public-api.md. :func:`snapshot` renders each public symbol to a signature
string; the committed ``docs/public-api.snapshot.json`` is compared against it by the test suite
and by the release gate: removing a symbol or changing a signature is a breaking change.

``python -m geno_lewm.api --write`` refreshes the committed snapshot after an intended, additive
change; ``python -m geno_lewm.api --check`` reports differences.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path
from typing import Any

#: Modules whose public names are the stable API.
PUBLIC_MODULES: tuple[str, ...] = (
    "geno_lewm.errors",
    "geno_lewm.versioning",
    "ledger.errors",
    "ledger.identity",
    "ledger.canonical",
    "ledger.fsutil",
    "ledger.clikit",
)

SNAPSHOT_PATH = Path(__file__).resolve().parent.parent / "docs" / "public-api.snapshot.json"


def _public_names(module: Any) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__]
    return sorted(names)


def _describe(obj: Any) -> str:
    if inspect.isclass(obj):
        parts = []
        try:
            parts.append(f"class{inspect.signature(obj)}")
        except (TypeError, ValueError):
            parts.append("class")
        members = []
        for name, member in sorted(vars(obj).items()):
            if name.startswith("_"):
                continue
            if callable(member) or isinstance(member, (classmethod, staticmethod, property)):
                fn = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                if isinstance(member, property):
                    members.append(f"{name}: property")
                    continue
                try:
                    members.append(f"{name}{inspect.signature(fn)}")
                except (TypeError, ValueError):
                    members.append(name)
        return "; ".join(parts + members)
    if callable(obj):
        try:
            return f"def{inspect.signature(obj)}"
        except (TypeError, ValueError):
            return "callable"
    return f"value: {type(obj).__name__}"


def snapshot(modules: tuple[str, ...] = PUBLIC_MODULES) -> dict[str, str]:
    """Map ``module.symbol`` to a signature string for every public symbol of ``modules``."""
    out: dict[str, str] = {}
    for mod_name in modules:
        module = importlib.import_module(mod_name)
        for name in _public_names(module):
            out[f"{mod_name}.{name}"] = _describe(getattr(module, name))
    return out


def deprecated_symbols(modules: tuple[str, ...] = PUBLIC_MODULES) -> dict[str, str]:
    """``module.symbol`` → reason for every public symbol (or public method) marked ``@deprecated``."""
    out: dict[str, str] = {}
    for mod_name in modules:
        module = importlib.import_module(mod_name)
        for name in _public_names(module):
            obj = getattr(module, name)
            reason = getattr(obj, "__deprecated__", None)
            if isinstance(reason, str):
                out[f"{mod_name}.{name}"] = reason
            if inspect.isclass(obj):
                for mname, member in vars(obj).items():
                    r = getattr(getattr(member, "__func__", member), "__deprecated__", None)
                    if not mname.startswith("_") and isinstance(r, str):
                        out[f"{mod_name}.{name}.{mname}"] = r
    return dict(sorted(out.items()))


def snapshot_document() -> dict[str, Any]:
    """The snapshot file's content: ``{schema_version, symbols, deprecated}``.

    ``deprecated`` lets a later release prove (INV-REL-5) that a removed symbol had been deprecated
    for at least one MINOR.
    """
    return {"schema_version": "1.1.0", "symbols": snapshot(), "deprecated": deprecated_symbols()}


def breaking_changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Describe every removal or signature change from ``old`` to ``new`` (additions are fine)."""
    problems = []
    for key, sig in sorted(old.items()):
        if key not in new:
            problems.append(f"removed: {key}")
        elif new[key] != sig:
            problems.append(f"changed: {key}: {sig} -> {new[key]}")
    return problems


def load_snapshot(path: Path = SNAPSHOT_PATH) -> dict[str, str]:
    """Read a committed snapshot file."""
    return json.loads(path.read_text(encoding="utf-8"))["symbols"]


def main(argv: list[str] | None = None) -> int:
    """``python -m geno_lewm.api [--write|--check]``."""
    from ledger.clikit import ArgumentParser, run_cli
    from ledger.fsutil import atomic_write_text

    def _main(args_in: list[str] | None) -> int:
        parser = ArgumentParser(prog="python -m geno_lewm.api", description="Public API snapshot (INV-REL-1).")
        parser.add_argument("--write", action="store_true", help="rewrite docs/public-api.snapshot.json")
        parser.add_argument("--check", action="store_true", help="compare with the committed snapshot")
        args = parser.parse_args(args_in)
        current = snapshot()
        if args.write:
            atomic_write_text(SNAPSHOT_PATH, json.dumps(snapshot_document(), indent=2, sort_keys=True) + "\n")
            print(f"wrote {len(current)} symbols", file=sys.stderr)
            return 0
        problems = breaking_changes(load_snapshot(), current)
        for p in problems:
            print(p)
        return 1 if problems else 0

    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
