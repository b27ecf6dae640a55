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

from ledger.clikit import ArgumentParser, command
from ledger.errors import ProvenanceError, ReleaseError


def _status(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tools.release.engine.context import ReleaseContext
    from tools.release.gate.status import gate_states, render_text, status_report

    ctx = ReleaseContext.from_args(args)
    states = gate_states(ctx, artifact_root=Path(args.artifacts) if args.artifacts else None)
    if args.json:
        print(json.dumps(status_report(states), indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(states))
    return 0


def _run(args: argparse.Namespace) -> int:
    from tools.release.engine.context import ReleaseContext
    from tools.release.engine.runner import run_step

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
    from tools.release.gate.rehearsal import rehearse

    result = rehearse(args.workdir, progress=lambda line: print(line, file=sys.stderr), until=args.until)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        sys.stdout.write(result.render())
    return 0 if result.ok else 9


def _replay(args: argparse.Namespace) -> int:
    from tools.release.gate.replay import replay
    from tools.release.gate.status import render_text

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
        raise ProvenanceError(
            "REPLAY_DRIFT",
            f"replay found {len(report.problems)} problem(s): {listing}",
            "re-run the named steps or restore the recorded bytes; a ledger problem means tampering",
        )
    return 0


def step_rows() -> list[dict]:
    """Every registered step as ``{name, gate, kind, module, available, purpose, flags}`` (``steps --json``)."""
    from tools.release.engine.registry import all_steps

    return [
        {
            "name": s.name,
            "gate": s.gate or None,
            "kind": s.kind,
            "module": s.module,
            "available": s.available(),
            "purpose": s.purpose,
            "fixed_args": list(s.fixed_args),
            "flags": s.flag_rows() if s.available() else [],
        }
        for s in all_steps().values()
    ]


def _steps(args: argparse.Namespace) -> int:
    rows = step_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            required = " ".join(f["name"] for f in r["flags"] if f["required"])
            print(
                f"{r['name']:<24} {r['gate'] or '-':<18} {'ok ' if r['available'] else 'n/a'} {r['purpose']}"
                + (f"\n{'':<24} requires {required}" if required else "")
            )
    return 0


def _subcommand_steps() -> list:
    from tools.release.engine.registry import all_steps

    return [s for s in all_steps().values() if getattr(s, "subcommand", "")]


def build_parser() -> ArgumentParser:
    """The ``geno-lewm-release`` argument parser."""
    from tools.release.engine.context import add_common_flags

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
    p = sub.add_parser("steps", help="list the registered steps with their gates and flags")
    p.add_argument("--json", action="store_true", help="machine-readable output (each step with its flags: name, type, required, default, help)")
    for s in _subcommand_steps():  # steps that are also subcommands (gate-check, yank, prepare): same declaration
        s.parser(s.subcommand, into=sub)
    from tools.release.gate import issues

    issues.add_subcommand(sub)  # a workspace helper, not a release step: it records nothing
    return parser


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"status": _status, "run": _run, "rehearse": _rehearse, "replay": _replay, "steps": _steps}
    for s in _subcommand_steps():
        handlers[s.subcommand] = lambda a, s=s: s.invoke(a, list(argv or [])[1:])
    from tools.release.gate import issues

    handlers["issues"] = issues.run_from_args
    if args.command not in handlers:
        raise ReleaseError("UNKNOWN_COMMAND", f"unknown command {args.command!r}")
    return handlers[args.command](args)


main = command(_main, "Run ``geno-lewm-release`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
