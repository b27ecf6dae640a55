"""``geno-lewm-release gate-check``: run the release invariants, record each verdict as a ledger step.

Each invariant of :mod:`tools.release.gate.invariants` runs as its own recorded step (``inv_rel_1``,
``inv_rel_2``, ``inv_rel_3``, ``inv_rel_5``, ``inv_rel_6``): ``step_passed`` when it holds,
``step_failed`` with its error code and message when not. The command prints one line per
invariant (or ``--json``) and exits non-zero (``RELEASE.GATE_CHECK``, exit 9) naming every failed
invariant. ``.github/workflows/release-gate.yml`` runs it.

Wiring: the step is declared once (:data:`STEP`); ``geno-lewm-release gate-check`` and
``python -m tools.release.gate_check`` both run that declaration.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from ledger.errors import GenoError, ReleaseError

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from tools.release.engine.context import ReleaseContext
from tools.release.gate.invariants import CHECKS, INVARIANTS, Verdict, _verdict
from tools.release.engine.recording import StepRun


#: Files each invariant reads, recorded as step inputs when under the artifact root (so a later
#: edit makes the gate stale).
INPUT_FILES: dict[str, tuple[str, ...]] = {
    "INV-REL-1": ("docs/public-api.snapshot.json",),
    "INV-REL-2": (
        "tests/baselines/bit_match/baseline.json",
        "tests/baselines/bit_match/model/manifest.json",
        "tests/baselines/bit_match/scores.jsonl",
        "tests/baselines/bit_match/output_commitments.jsonl",
    ),
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
                    raise GenoError(
                        verdict.code or "RELEASE.INVARIANT", f"{inv}: {verdict.message}" + (f" ({'; '.join(verdict.details[:5])})" if verdict.details else "")
                    )
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


def _body(call: StepCall) -> None:
    a = call.args
    verdicts = gate_check(
        call.ctx, a.project_root, version=a.version, model_dir=a.model_dir, sdist=a.sdist, threads=a.threads, skip=tuple(a.skip), argv=call.argv
    )
    if a.json:
        print(
            json.dumps(
                {"schema_version": "1.0.0", "generated_by": "tools.release.gate_check", "verdicts": [v.to_dict() for v in verdicts]}, indent=2, sort_keys=True
            )
        )
    else:
        sys.stdout.write(render(verdicts))
    failed = [v for v in verdicts if not v.ok]
    if failed:
        raise ReleaseError(
            "GATE_CHECK",
            "failed invariants: " + "; ".join(f"{v.invariant} ({v.code})" for v in failed),
            "fix each failed invariant named above; the ledger records every verdict (geno-lewm-release status)",
        )


STEP = Step(
    "gate_check",
    gate="",
    body=_body,
    records="self",
    subcommand="gate-check",
    purpose="run the release invariants INV-REL-1/2/3/5/6, one ledger step each",
    flags=(
        Flag("--version", "version being released (default: geno_lewm.__version__ of the project root)", "str"),
        common_flag("--project-root"),
        Flag("--model-dir", "INV-REL-2: score with this copy of the baseline package (default: the committed tests/baselines/bit_match/model)"),
        Flag("--sdist", "INV-REL-6: check this sdist instead of building one"),
        Flag("--threads", "INV-REL-2: torch CPU threads while scoring", "int"),
        Flag("--skip", "skip an invariant (repeatable)", "str", repeat=True, metavar="INV-REL-N"),
        common_flag("--json", help="print the verdicts as JSON on stdout"),
    ),
    details="Run the release invariants and record each verdict in the ledger.",
)
main = STEP.main


__all__ = ["STEP", "gate_check", "main", "render"]

if __name__ == "__main__":
    sys.exit(main())
