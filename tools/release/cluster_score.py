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

from tools.release.engine.declare import Flag, Step, StepCall, flags_from_parser

STEP = "cluster_score"
_OUTPUT_ROLES = {"scores.jsonl": "scores", "receipts.jsonl": "receipts", "records.txt": "record_groups"}


def shard_event(run_id: str, shard: dict[str, Any]) -> dict[str, Any]:
    """The ``shard_scored`` event body for one shard identity of :meth:`RayRun.engine`."""
    inputs = [{"role": role, "path": f["path"], "sha256": f["sha256"], "size": f["size"]} for role, f in sorted(shard["inputs"].items()) if isinstance(f, dict)]
    outputs = [
        {"role": _OUTPUT_ROLES.get(name, name.split(".")[0]), "path": name, "sha256": f["sha256"], "size": f["size"]}
        for name, f in sorted(shard["outputs"].items())
    ]
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


def _flags() -> tuple[Flag, ...]:
    """``geno-lewm-score``'s flags (one parser, one source of truth), less the engine choice and ``--shard``."""
    from geno_lewm.cli.score import build_parser

    roles = {
        "--model-dir": "input",
        "--vcf": "input",
        "--fasta": "input",
        "--output-scores": "output",
        "--output-receipts": "output",
        "--output-vcf": "output",
        "--output-parquet": "output",
        "--output-report": "output",
    }
    return tuple(f for f in flags_from_parser(build_parser(), roles) if f.name not in ("--engine", "--shard"))


def _body(call: StepCall) -> None:
    from geno_lewm.cli.score import print_ray_run, score_with_ray

    args = call.args
    args.engine, args.shard = "ray", None
    result = score_with_ray(call.step.parser(), args)
    if call.ctx.record:
        call.ctx.ledger().append_many([("shard_scored", shard_event(call.run.run_id, s)) for s in result.shards], call.ctx.signer())
    if args.output_vcf:
        call.run.output(Path(str(args.output_vcf) + ".tbi"))
    print_ray_run(result, as_json=args.json)


DECLARED = Step(
    STEP,
    gate="",
    body=_body,
    flags=_flags(),
    purpose="score variants on a Ray cluster (geno-lewm-score --engine ray); one shard_scored event per shard",
    details="Score on a Ray cluster (geno-lewm-score --engine ray) and record one ledger event per shard.",
)
main = DECLARED.main


if __name__ == "__main__":
    sys.exit(main())
