"""``python -m tools.release.cluster_score``: a recorded ``geno-lewm-score --engine ray`` run.

Takes the flags of ``geno-lewm-score`` (the engine is always Ray) plus the common ledger flags. The
run is recorded as step ``cluster_score``: ``step_started``; one ``shard_scored`` event per shard
(the shard, the regions it read, the Ray node id and host name of the worker that scored it, the
model id it verified, the input files' and the shard outputs' sha256, its counts, and whether a
``--resume`` reused it); the inputs and outputs as ``artifact_recorded``; then ``step_passed``. A
failed run records ``step_failed`` with the error code (naming the shard that kept failing).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ledger.clikit import run_cli

from tools.release.context import ReleaseContext, add_common_flags
from tools.release.recording import StepRun

STEP = "cluster_score"
_OUTPUT_ROLES = {"scores.jsonl": "scores", "receipts.jsonl": "receipts", "records.txt": "record_groups"}


def shard_event(run_id: str, shard: dict[str, Any]) -> dict[str, Any]:
    """The ``shard_scored`` event body for one shard identity of :meth:`RayRun.engine`."""
    inputs = [{"role": role, "path": f["path"], "sha256": f["sha256"], "size": f["size"]} for role, f in sorted(shard["inputs"].items()) if isinstance(f, dict)]
    outputs = [{"role": _OUTPUT_ROLES.get(name, name.split(".")[0]), "path": name, "sha256": f["sha256"], "size": f["size"]} for name, f in sorted(shard["outputs"].items())]
    return {
        "run_id": run_id,
        "step": STEP,
        "shard": shard["shard"],
        "regions": list(shard["regions"] or []),
        "node_id": shard["node"].get("node_id") or "unknown",
        "hostname": shard["node"].get("hostname") or "unknown",
        "model_id": shard["inputs"]["model_id"],
        "inputs": inputs,
        "outputs": outputs,
        "alts": int(shard["counts"]["alts"]),
        "scored": int(shard["counts"]["scored"]),
        "resumed": bool(shard["resumed"]),
    }


def _main(argv: list[str] | None) -> int:
    from geno_lewm.cli.score import build_parser, print_ray_run, score_with_ray

    parser = build_parser()
    parser.prog = "python -m tools.release.cluster_score"
    parser.description = "Score on a Ray cluster (geno-lewm-score --engine ray) and record one ledger event per shard."
    add_common_flags(parser)
    args = parser.parse_args(argv)
    args.engine = "ray"
    ctx = ReleaseContext.from_args(args)
    try:
        with StepRun(ctx, STEP, ["python", "-m", "tools.release.cluster_score", *(argv or [])]) as run:
            for p in (args.model_dir, args.vcf, args.fasta):
                run.input(p)
            result = score_with_ray(parser, args)
            if ctx.record:
                ctx.ledger().append_many([("shard_scored", shard_event(run.run_id, s)) for s in result.shards], ctx.signer())
            for p in (args.output_scores, args.output_receipts, args.output_vcf, args.output_parquet, args.output_report):
                if p:
                    run.output(Path(p))
            if args.output_vcf:
                run.output(Path(str(args.output_vcf) + ".tbi"))
    finally:
        ctx.close()
    print_ray_run(result, as_json=args.json)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the recorded cluster scoring step and return its exit code."""
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
