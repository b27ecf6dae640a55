"""``geno-lewm-release gate-check``: run the release invariants, record each verdict as a ledger step.

Each invariant of :mod:`tools.release.invariants` runs as its own recorded step (``inv_rel_1``,
``inv_rel_2``, ``inv_rel_3``, ``inv_rel_5``, ``inv_rel_6``): ``step_passed`` when it holds,
``step_failed`` with its error code and message when not. The command prints one line per
invariant (or ``--json``) and exits non-zero (``RELEASE.GATE_CHECK``, exit 9) naming every failed
invariant. ``.github/workflows/release-gate.yml`` runs it.

Wiring: ``geno-lewm-release`` adds the subcommand with :func:`add_subcommand` and dispatches
``gate-check`` to :func:`run_from_args`; ``python -m tools.release.gate_check`` runs it standalone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ledger.clikit import ArgumentParser, run_cli
from ledger.errors import GenoError, ReleaseError

from tools.release.context import ReleaseContext, add_common_flags
from tools.release.invariants import CHECKS, INVARIANTS, Verdict, _verdict
from tools.release.recording import StepRun


#: Files each invariant reads, recorded as step inputs when under the artifact root (so a later
#: edit makes the gate stale).
INPUT_FILES: dict[str, tuple[str, ...]] = {
    "INV-REL-1": ("docs/public-api.snapshot.json",),
    "INV-REL-2": ("tests/baselines/bit_match/baseline.json", "tests/baselines/bit_match/model/manifest.json", "tests/baselines/bit_match/scores.jsonl", "tests/baselines/bit_match/output_commitments.jsonl"),
    "INV-REL-3": ("CHANGELOG.md",),
    "INV-REL-5": ("docs/public-api.snapshot.json",),
}


def _project_root(project_root: str | os.PathLike[str] | None) -> Path:
    from geno_lewm.resources import require_project_root

    return require_project_root(project_root, "gate-check needs a source checkout (git history, CHANGELOG, snapshot)")


def gate_check(
    ctx: ReleaseContext,
    project_root: str | os.PathLike[str] | None = None,
    *,
    version: str | None = None,
    model_dir: str | os.PathLike[str] | None = None,
    sdist: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    skip: tuple[str, ...] = (),
    current: dict[str, str] | None = None,
    argv: list[str] | None = None,
) -> list[Verdict]:
    """Run every invariant not in ``skip``, each recorded as a step in ``ctx``'s ledger; return the verdicts.

    ``current`` overrides the live public-API snapshot (tests). Never raises for a failing
    invariant; a typed error inside a check becomes that invariant's failed verdict.
    """
    root = _project_root(project_root)
    unknown = [s for s in skip if s not in CHECKS]
    if unknown:
        from ledger.errors import InputError

        raise InputError("UNKNOWN_INVARIANT", f"cannot skip unknown invariant(s): {', '.join(unknown)}", f"known: {', '.join(CHECKS)}")
    opts: dict[str, Any] = {"version": version, "model_dir": model_dir, "sdist": sdist, "threads": threads, "current": current}
    verdicts: list[Verdict] = []
    for inv, check in CHECKS.items():
        if inv in skip:
            ctx.log(f"[{INVARIANTS[inv][0]}] {inv} skipped (--skip)")
            continue
        step = INVARIANTS[inv][0]
        verdict: Verdict | None = None
        try:
            with StepRun(ctx, step, ["geno-lewm-release", "gate-check", *(argv or []), "--invariant", inv]) as run:
                for rel in INPUT_FILES.get(inv, ()):
                    if (root / rel).is_file() and ctx.holds(root / rel):
                        run.input(root / rel)
                try:
                    verdict = check(root, opts)
                except GenoError as err:
                    verdict = _verdict(inv, False, err.message, err.code)
                if not verdict.ok:
                    raise GenoError(verdict.code or "RELEASE.INVARIANT", f"{inv}: {verdict.message}" + (f" ({'; '.join(verdict.details[:5])})" if verdict.details else ""))
        except GenoError:
            pass  # recorded as step_failed by StepRun; the verdict carries it
        verdicts.append(verdict if verdict is not None else _verdict(inv, False, "check did not run", "RELEASE.INVARIANT"))
    return verdicts


def render(verdicts: list[Verdict]) -> str:
    """One line per invariant (``✓``/``✗`` plus the word), problems indented below a failure."""
    lines = ["Release invariants"]
    for v in verdicts:
        glyph, word = ("✓", "passed") if v.ok else ("✗", "FAILED")
        lines.append(f"  {glyph} {v.invariant:<9} {word:<6}  {v.message}")
        if not v.ok:
            lines += [f"      {d}" for d in v.details[:20]]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``gate-check`` flags (plus the common ledger flags)."""
    parser.add_argument("--version", help="version being released (default: geno_lewm.__version__ of the project root)")
    parser.add_argument("--project-root", help="source checkout (default: this checkout)")
    parser.add_argument("--model-dir", help="INV-REL-2: score with this copy of the baseline package (default: the committed tests/baselines/bit_match/model)")
    parser.add_argument("--sdist", help="INV-REL-6: check this sdist instead of building one")
    parser.add_argument("--threads", type=int, help="INV-REL-2: torch CPU threads while scoring")
    parser.add_argument("--skip", action="append", default=[], metavar="INV-REL-N", help="skip an invariant (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON on stdout")
    add_common_flags(parser)


def add_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``gate-check`` to ``geno-lewm-release``'s subparsers; dispatch it to :func:`run_from_args`."""
    p = subparsers.add_parser("gate-check", help="run the release invariants (INV-REL-1/2/3/5/6) and record each verdict in the ledger")
    add_arguments(p)
    return p


def run_from_args(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    """Run ``gate-check`` for parsed ``args``; raise ``RELEASE.GATE_CHECK`` naming the failed invariants."""
    ctx = ReleaseContext.from_args(args)
    try:
        verdicts = gate_check(ctx, args.project_root, version=args.version, model_dir=args.model_dir, sdist=args.sdist, threads=args.threads, skip=tuple(args.skip), argv=argv or [])
    finally:
        ctx.close()
    if args.json:
        print(json.dumps({"schema_version": "1.0.0", "generated_by": "tools.release.gate_check", "verdicts": [v.to_dict() for v in verdicts]}, indent=2, sort_keys=True))
    else:
        sys.stdout.write(render(verdicts))
    failed = [v for v in verdicts if not v.ok]
    if failed:
        raise ReleaseError("GATE_CHECK", "failed invariants: " + "; ".join(f"{v.invariant} ({v.code})" for v in failed), "fix each failed invariant named above; the ledger records every verdict (geno-lewm-release status)")
    return 0


def _main(argv: list[str] | None) -> int:
    parser = ArgumentParser(prog="python -m tools.release.gate_check", description="Run the release invariants and record each verdict in the ledger.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args, list(argv or []))


def main(argv: list[str] | None = None) -> int:
    """Run ``gate-check`` standalone; returns the exit code."""
    return run_cli(_main, argv)


__all__ = ["add_arguments", "add_subcommand", "gate_check", "main", "render", "run_from_args"]

if __name__ == "__main__":
    sys.exit(main())
