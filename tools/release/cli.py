"""``geno-lewm-release``: release gates and steps, headless (the cockpit drives the same functions).

Subcommands::

    geno-lewm-release status [--json] [--workdir DIR]
    geno-lewm-release run [--workdir DIR] STEP [step args…]
    geno-lewm-release rehearse --workdir DIR [--until STEP]
    geno-lewm-release replay --ledger FILE [--artifacts ROOT] [--trusted-keys FILE] [--checkpoint FILE] [--json]
    geno-lewm-release steps [--json]
    geno-lewm-release issues sync [--repo OWNER/NAME] [--api-url URL] [--workdir DIR]

This module imports neither torch nor transformers nor textual at import time; ``status``,
``steps`` and ``replay`` never import them at all.
"""

from __future__ import annotations

import argparse
import json
import sys

from ledger.clikit import ArgumentParser, run_cli
from ledger.errors import ProvenanceError, ReleaseError


def _status(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tools.release.context import ReleaseContext
    from tools.release.status import gate_states, render_text, status_report

    ctx = ReleaseContext.from_args(args)
    states = gate_states(ctx, artifact_root=Path(args.artifacts) if args.artifacts else None)
    if args.json:
        print(json.dumps(status_report(states), indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(states))
    return 0


def _run(args: argparse.Namespace) -> int:
    from tools.release.context import ReleaseContext
    from tools.release.runner import run_step

    ctx = ReleaseContext.from_args(args)
    step_args = list(args.step_args)
    if step_args and step_args[0] == "--":
        step_args = step_args[1:]
    outcome = run_step(args.step, step_args, ctx, log=lambda line: print(line, file=sys.stderr))
    ctx.close()
    if not outcome.ok:
        return outcome.exit_code or 9
    return 0


def _rehearse(args: argparse.Namespace) -> int:
    from tools.release.rehearse import rehearse

    result = rehearse(args.workdir, progress=lambda line: print(line, file=sys.stderr), until=args.until)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        sys.stdout.write(result.render())
    return 0 if result.ok else 9


def _replay(args: argparse.Namespace) -> int:
    from tools.release.replay import replay
    from tools.release.status import render_text

    report = replay(args.ledger, args.artifacts, trusted_keys=args.trusted_keys, checkpoint=args.checkpoint)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(report.gates))
        print(f"\nledger: {report.events} events, verification {'ok' if report.ledger_ok else 'FAILED'}; gates from {report.gates_source}")
    if report.problems:
        first = report.problems[0]
        listing = "; ".join(f"{p['code']}: {p['message']}" for p in report.problems)
        if first["code"].startswith("LEDGER."):
            from ledger.errors import LedgerError

            raise LedgerError(first["code"].split(".", 1)[1], f"replay found {len(report.problems)} problem(s): {listing}")
        raise ProvenanceError("REPLAY_DRIFT", f"replay found {len(report.problems)} problem(s): {listing}", "re-run the named steps or restore the recorded bytes; a ledger problem means tampering")
    return 0


def _steps(args: argparse.Namespace) -> int:
    from tools.release.steps import STEPS

    rows = [{"name": s.name, "module": s.module, "kind": s.kind, "available": s.available(), "description": s.description} for s in STEPS.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<22} {'ok ' if r['available'] else 'n/a'} {r['kind']:<8} {r['description']}")
    return 0


def build_parser() -> ArgumentParser:
    """The ``geno-lewm-release`` argument parser."""
    from tools.release.context import add_common_flags

    parser = ArgumentParser(prog="geno-lewm-release", description="Release gates and steps, recorded in the signed ledger.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("status", help="gate states and blockers derived from the ledger")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--artifacts", metavar="ROOT", help="artifact root for the stale check (default: --workdir or the current directory)")
    add_common_flags(p)
    p = sub.add_parser("run", help="run one release step with ledger recording")
    p.add_argument("step", help="step name (see `geno-lewm-release steps`)")
    p.add_argument("step_args", nargs=argparse.REMAINDER, help="arguments passed to the step")
    add_common_flags(p)
    p = sub.add_parser("rehearse", help="run the whole release offline on the example data (fixture rehearsal)")
    p.add_argument("--workdir", required=True, metavar="DIR", help="empty or new directory for the rehearsal")
    p.add_argument("--until", metavar="STEP", help="stop after this step")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p = sub.add_parser("replay", help="CI mode: verify the ledger, re-derive gates, check artifacts on disk")
    p.add_argument("--ledger", required=True, metavar="FILE", help="ledger file")
    p.add_argument("--artifacts", metavar="ROOT", help="artifact root (default: the ledger's directory)")
    from ledger.cli import add_anchor_options

    add_anchor_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("steps", help="list the registered steps")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    from tools.release import gate_check, issues, prepare, yank

    gate_check.add_subcommand(sub)
    issues.add_subcommand(sub)
    yank.add_subcommand(sub)
    prepare.add_subcommand(sub)
    return parser


def _main(argv: list[str] | None) -> int:
    from tools.release import gate_check, issues, prepare, yank

    args = build_parser().parse_args(argv)
    handlers = {
        "status": _status, "run": _run, "rehearse": _rehearse, "replay": _replay, "steps": _steps,
        "gate-check": lambda a: gate_check.run_from_args(a, argv),
        "yank": lambda a: yank.run_from_args(a, argv),
        "prepare": lambda a: prepare.run_from_args(a, argv),
        "issues": issues.run_from_args,
    }
    if args.command not in handlers:
        raise ReleaseError("UNKNOWN_COMMAND", f"unknown command {args.command!r}")
    return handlers[args.command](args)


def main(argv: list[str] | None = None) -> int:
    """Run ``geno-lewm-release`` and return its exit code."""
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
