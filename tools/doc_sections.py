"""Generated sections of Markdown docs: a block between two marker comments, printed or rewritten.

``docs/errors.md`` (:mod:`tools.errors_catalog`) and ``docs/release-steps.md``
(:mod:`tools.steps_doc`) each carry one generated section; a test compares it with a fresh render,
so the docs cannot go stale. :func:`doc_command` is the shared ``python -m tools.<x> [--write]``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def table_section(begin: str, end: str, headers: list[str], rows: list[list[str]]) -> str:
    """A generated Markdown table between the markers (markers included)."""
    lines = [begin, "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join([*lines, "", end])


def current_section(text: str, begin: str, end: str) -> str | None:
    """The section between ``begin`` and ``end`` (markers included) as it stands in ``text``; None when missing."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < 0:
        return None
    return text[start : stop + len(end)]


def write_section(doc: Path, section: str, begin: str, end: str, heading: str) -> None:
    """Replace the generated section of ``doc`` with ``section`` (append it under ``heading`` when missing)."""
    from ledger.fsutil import atomic_write_text

    text = doc.read_text(encoding="utf-8")
    old = current_section(text, begin, end)
    text = text.replace(old, section) if old else text.rstrip("\n") + f"\n\n{heading}\n\n" + section + "\n"
    atomic_write_text(doc, text)


def doc_command(prog: str, what: str, doc: Path, render: Callable[[], str], begin: str, end: str, heading: str, argv: list[str] | None) -> int:
    """``python -m PROG [--write]``: print the rendered section, or rewrite it in ``doc``."""
    from ledger.clikit import ArgumentParser, run_cli

    def _main(args_in: list[str] | None) -> int:
        parser = ArgumentParser(prog=prog, description=f"Render {what}.")
        parser.add_argument("--write", action="store_true", help=f"rewrite the generated section of {doc.parent.name}/{doc.name}")
        args = parser.parse_args(args_in)
        section = render()
        if args.write:
            write_section(doc, section, begin, end, heading)
        else:
            print(section)
        return 0

    return run_cli(_main, argv)
