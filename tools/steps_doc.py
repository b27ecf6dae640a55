"""The release-steps table of ``docs/release-steps.md``, rendered from the step declarations.

``python -m tools.steps_doc --write`` refreshes it; a test fails when the table is stale, so a
step's flags, gate and purpose are documented exactly as declared (:mod:`tools.release.engine.declare`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tools import doc_sections

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "release-steps.md"
BEGIN = "<!-- BEGIN GENERATED: release steps (python -m tools.steps_doc --write) -->"
END = "<!-- END GENERATED: release steps -->"


def _flag(f: dict[str, Any]) -> str:
    shown = f["name"] if f["type"] == "bool" else f"{f['name']} {f['type'].upper()}"
    return f"`{shown}`" if f["required"] else f"`[{shown}]`"


def render() -> str:
    """The generated Markdown table (markers included): step, gate, command, flags, purpose."""
    from tools.release.cli import step_rows

    rows = []
    for r in step_rows():
        command = f"`python -m {r['module']}`" + "".join(f" `{a}`" for a in r["fixed_args"])
        flags = " ".join(_flag(f) for f in r["flags"]) or "—"
        rows.append([f"`{r['name']}`", r["gate"] or "—", command, flags, r["purpose"].replace("|", "/")])
    return doc_sections.table_section(BEGIN, END, ["step", "gate", "command", "flags", "purpose"], rows)


def current_section(text: str) -> str | None:
    """The generated section as it stands in ``text`` (None when the markers are missing)."""
    return doc_sections.current_section(text, BEGIN, END)


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.steps_doc [--write]``: print or refresh the steps table in docs/release-steps.md."""
    return doc_sections.doc_command("python -m tools.steps_doc", "the release-steps table", DOC, render, BEGIN, END, "## Step table", argv)


if __name__ == "__main__":
    sys.exit(main())
