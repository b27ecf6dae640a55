"""``python -m tools.release.rollout_state_rows``: measured example states → ``geno-lewm-rollout-states`` rows.

Consumes ``tools.release.rollout_state_examples`` output (every row must carry
``schema_version=1.0.0`` and ``generated_by=tools.release.rollout_state_examples``), loads the
manifest-backed model package (action encoder + predictor, verified), pools each measured shard
through the state contract (``geno_lewm.state.pool_states``), rolls the source state through the
example's edits with the predictor alone, and writes one JSONL row per example (predicted, target
and candidate latents) plus ``--report`` with package-relative provenance.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ledger.errors import InputError, ProvenanceError

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from ledger.artifacts import identity
from tools.release.rollout_state_examples import GENERATED_BY as EXAMPLES_GENERATOR
from tools.release.rollout_state_examples import SCHEMA_VERSION, read_jsonl, rows_output_flags, write_rows

GENERATED_BY = "tools.release.rollout_state_rows"
ROWS_KIND = "geno-lewm-rollout-states"


def check_examples(rows: list[dict[str, Any]]) -> None:
    """Refuse example rows without the supported schema version or the examples generator marker."""
    for i, r in enumerate(rows, start=1):
        if r.get("schema_version") != SCHEMA_VERSION:
            raise ProvenanceError(
                "ROLLOUT_EXAMPLES",
                f"example row {i} has schema_version {r.get('schema_version')!r}; expected {SCHEMA_VERSION}",
                "regenerate with python -m tools.release.rollout_state_examples",
            )
        if r.get("generated_by") != EXAMPLES_GENERATOR:
            raise ProvenanceError(
                "ROLLOUT_EXAMPLES",
                f"example row {i} has generated_by {r.get('generated_by')!r}; expected {EXAMPLES_GENERATOR}",
                "regenerate with python -m tools.release.rollout_state_examples",
            )


def _hidden(cache_dir: Path, state: dict[str, Any]):
    from geno_lewm.cache import read_shard, shard_hidden

    return shard_hidden(read_shard(cache_dir / state["shard"]["path"], state["key"]))  # (T, H)


def build_rows(rows: list[dict[str, Any]], model_dir: Path, cache_dir: Path) -> list[dict[str, Any]]:
    """One rollout-states row per example (predicted latent after the last edit, target, candidates)."""
    import torch

    from geno_lewm.edits import EditSpec
    from geno_lewm.package import ModelPackage
    from geno_lewm.state import pool_states

    pkg = ModelPackage.load(model_dir, device="cpu")

    def latent(state: dict[str, Any]) -> torch.Tensor:
        hid = _hidden(cache_dir, state).unsqueeze(0)  # (1, T, H)
        return pool_states(hid, torch.tensor([state["token_index"]]), pkg.contract)  # (1, D)

    out = []
    for r in rows:
        z = latent(r["source"])  # (1, D)
        for e in r["edits"]:
            try:
                edit = EditSpec(kind=e["kind"], offset=int(e["offset"]), ref=e["ref"], alt=e["alt"])
            except (KeyError, TypeError, ValueError):
                raise InputError("ROLLOUT_SPEC", f"example {r['example_id']}: bad edit {e!r}") from None
            z = pkg.predict(z, [edit])  # (1, D)
        out.append(
            {
                "schema_version": SCHEMA_VERSION,
                "kind": ROWS_KIND,
                "generated_by": GENERATED_BY,
                "model_id": pkg.model_id,
                "example_id": r["example_id"],
                "track": r["track"],
                "steps": len(r["edits"]),
                "predicted": z[0].tolist(),
                "target": latent(r["target"])[0].tolist(),
                "candidates": [latent(c)[0].tolist() for c in r["candidates"]],
            }
        )
    return out


def _body(call: StepCall) -> str:
    ex, model, cache = Path(call.args.examples_jsonl), Path(call.args.model_dir), Path(call.args.cache_dir)
    examples = read_jsonl(ex, "examples")
    check_examples(examples)
    call.run.input(model / "manifest.json")
    rows = build_rows(examples, model, cache)
    report = {
        "kind": "rollout_state_rows",
        "rows": len(rows),
        "model_id": rows[0]["model_id"] if rows else "",
        "examples": identity(ex, ex.parent),
        "model_manifest": identity(model / "manifest.json", model),
    }
    out = write_rows(call, rows, report, generated_by=GENERATED_BY)
    return f"rollout state rows: {len(rows)} rows -> {out.name}"


STEP = Step(
    "rollout_state_rows",
    gate="",
    body=_body,
    purpose="predictor rollout-state rows from measured latent examples",
    flags=(
        Flag("--examples-jsonl", "output of tools.release.rollout_state_examples", required=True, role="input"),
        common_flag("--model-dir"),
        Flag("--cache-dir", "the window cache the examples were resolved in", required=True),
        *rows_output_flags("rollout-states"),
    ),
    details="Roll measured example states through the packaged predictor (geno-lewm-rollout-states JSONL).",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
