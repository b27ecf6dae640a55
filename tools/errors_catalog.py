"""The catalogue of error codes, read from the source, rendered into docs/errors.md.

Every ``FAMILY.NAME`` code the code base can raise or emit (typed errors, per-variant ``error_code``
values, codes passed around as strings) is found by walking the syntax tree of every module in
``geno_lewm``, ``ledger``, ``tools``, ``bench`` and ``cockpit``. ``docs/errors.md`` carries the rendered
table between two markers; a test fails when the table is out of date, so a new code cannot ship
undocumented. ``python -m tools.errors_catalog --write`` refreshes it.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

from ledger.errors import EXIT_CODES

from tools import doc_sections

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geno_lewm", "ledger", "tools", "bench", "cockpit")
DOC = ROOT / "docs" / "errors.md"
BEGIN = "<!-- BEGIN GENERATED: error codes (python -m tools.errors_catalog --write) -->"
END = "<!-- END GENERATED: error codes -->"
_FAMILY_CLASS = {f"{f.title()}Error": f for f in EXIT_CODES}
_CODE = re.compile(r"^(%s)\.[A-Z][A-Z0-9_]*$" % "|".join(EXIT_CODES))
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _codes_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _CODE.match(node.value):
            found.add(node.value)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            first = node.args[0]
            if name in _FAMILY_CLASS and isinstance(first, ast.Constant) and isinstance(first.value, str) and _NAME.match(first.value):
                found.add(f"{_FAMILY_CLASS[name]}.{first.value}")
    return found


def collect(root: Path = ROOT) -> dict[str, set[str]]:
    """Map each code to the set of top-level packages/modules (dotted) that use it."""
    where: dict[str, set[str]] = defaultdict(set)
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except SyntaxError:
                continue
            for code in _codes_in(tree):
                where[code].add(module.removesuffix(".__init__"))
    return dict(where)


def render(where: dict[str, set[str]]) -> str:
    """The generated Markdown section (between the markers, markers included)."""
    rows = []
    for code in sorted(where, key=lambda c: (list(EXIT_CODES).index(c.split(".")[0]), c)):
        mods = sorted(where[code])
        shown = ", ".join(f"`{m}`" for m in mods[:4]) + (f" and {len(mods) - 4} more" if len(mods) > 4 else "")
        rows.append([f"`{code}`", str(EXIT_CODES[code.split(".")[0]]), shown])
    return doc_sections.table_section(BEGIN, END, ["code", "exit", "used in"], rows)


def current_section(text: str) -> str | None:
    """The generated section as it stands in ``text`` (None when the markers are missing)."""
    return doc_sections.current_section(text, BEGIN, END)


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.errors_catalog [--write]``: print or refresh the catalogue in docs/errors.md."""
    return doc_sections.doc_command(
        "python -m tools.errors_catalog", "the error-code catalogue", DOC, lambda: render(collect()), BEGIN, END, "## Catalogue", argv
    )


if __name__ == "__main__":
    sys.exit(main())
