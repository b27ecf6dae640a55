"""``python -m tools.release.rollout_state_examples``: resolve cache-keyed rollout example specs to measured states.

Each ``--spec-jsonl`` row names one rollout example by window-cache keys (RFC-0002 shards):
``{"example_id", "track", "source": {"key", "token_index"}, "target": {...}, "candidates": [{...}],
"edits": [{"kind", "offset", "ref", "alt"}]}``. This helper resolves every key to its shard under
``--cache-dir``, checks the shard (schema, key, payload SHA-256 and shape) and writes
``--output`` (JSONL, ``schema_version=1.0.0``, ``generated_by=tools.release.rollout_state_examples``)
with cache-dir-relative shard identities, plus ``--report`` binding the spec, the cache index (every
shard used, by path, SHA-256 and size) and the output. It does not run Carbon or build haplotypes:
the cache-backed specs remain required benchmark inputs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from geno_lewm.cache import read_shard
from ledger.canonical import canonical_json
from ledger.errors import InputError
from ledger.fsutil import atomic_write_text

from tools.release.engine.declare import Flag, Step, StepCall
from ledger.artifacts import identity
from ledger.reports import decode
from tools.release.publication.public_report import write_public_report

GENERATED_BY = "tools.release.rollout_state_examples"
SCHEMA_VERSION = "1.0.0"
TRACKS = ("phased_haplotype", "synthetic_edit_chain")


def read_jsonl(path: Path, what: str) -> list[dict[str, Any]]:
    """JSON objects, one a line (``INPUT.BAD_JSONL`` naming the line)."""
    if not path.is_file():
        raise InputError("MISSING_FILE", f"{what} {path.name} not found")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise InputError("BAD_JSONL", f"{path.name} line {n} is not JSON") from None
        if not isinstance(row, dict):
            raise InputError("BAD_JSONL", f"{path.name} line {n} is not a JSON object")
        rows.append(row)
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` atomically as JSONL (one sorted-key JSON object a line)."""
    atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def rows_output_flags(what: str) -> tuple[Flag, Flag]:
    """``--output`` (the ``what`` JSONL) and ``--report``: the outputs of a step that writes rows with a report (see :func:`write_rows`)."""
    return (
        Flag("--output", f"{what} JSONL to write", required=True, role="output"),
        Flag("--report", "report JSON to write", required=True, role="output"),
    )


def write_rows(call: StepCall, rows: list[dict[str, Any]], report: dict[str, Any], *, generated_by: str) -> Path:
    """Write ``rows`` to ``--output`` (JSONL) and ``report`` plus the output's identity to ``--report``; return the output path."""
    out = Path(call.args.output)
    write_jsonl(out, rows)
    write_public_report(call.args.report, {**report, "output": identity(out, out.parent)}, generated_by=generated_by)
    return out


class StateRef(msgspec.Struct):
    """A measured latent state: a window-cache key and the token inside it."""

    key: Annotated[str, msgspec.Meta(min_length=64, max_length=64)]  # 64-hex cache key
    token_index: int  # token position in the cached window


class ExampleSpec(msgspec.Struct):
    """One cache-keyed example spec row (other fields are ignored)."""

    example_id: Annotated[str, msgspec.Meta(min_length=1)]  # unique example id
    track: Literal[TRACKS]  # phased_haplotype or synthetic_edit_chain
    edits: Annotated[list[Any], msgspec.Meta(min_length=1)]  # the edit chain
    source: StateRef  # state before the edits
    target: StateRef  # measured state after the edits
    candidates: list[StateRef] | None = None  # retrieval candidates


def _state(ref: StateRef, cache_dir: Path, where: str, used: dict[str, dict[str, Any]]) -> dict[str, Any]:
    key = ref.key
    shard = cache_dir / key[:2] / f"{key}.parquet"
    if not shard.is_file():
        raise InputError(
            "CACHE_KEY_MISSING", f"{where}: cache key {key[:16]}… has no shard in the cache", "encode the window first (geno-lewm-train / the cache builder)"
        )
    if key not in used:
        read_shard(shard, key)
        used[key] = identity(shard, cache_dir)
    return {"key": key, "token_index": ref.token_index, "shard": used[key]}


def resolve(spec_rows: list[dict[str, Any]], cache_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(example rows, cache index) for the spec rows."""
    used: dict[str, dict[str, Any]] = {}
    out = []
    seen: set[str] = set()
    for i, raw in enumerate(spec_rows, start=1):
        r = decode(raw, ExampleSpec, what=f"spec row {i}", error=lambda m, h: InputError("ROLLOUT_SPEC", m, h))
        if r.example_id in seen:
            raise InputError("ROLLOUT_SPEC", f"spec row {i}: example_id {r.example_id!r} is repeated")
        seen.add(r.example_id)
        out.append(
            {
                "schema_version": SCHEMA_VERSION,
                "generated_by": GENERATED_BY,
                "example_id": r.example_id,
                "track": r.track,
                "edits": r.edits,
                "source": _state(r.source, cache_dir, f"row {i} source", used),
                "target": _state(r.target, cache_dir, f"row {i} target", used),
                "candidates": [_state(c, cache_dir, f"row {i} candidate {j}", used) for j, c in enumerate(r.candidates or [])],
            }
        )
    index = [used[k] for k in sorted(used)]
    return out, index


def _body(call: StepCall) -> str:
    spec, cache = Path(call.args.spec_jsonl), Path(call.args.cache_dir)
    rows, index = resolve(read_jsonl(spec, "spec"), cache)
    call.run.input(*[cache / ident["path"] for ident in index])
    report = {
        "kind": "rollout_state_examples",
        "examples": len(rows),
        "spec": identity(spec, spec.parent),
        "cache_index": {"shards": index, "sha256": hashlib.sha256(canonical_json({"shards": index})).hexdigest()},
        "limitations": ["Resolves measured cached states only: no Carbon encoding and no held-out haplotype construction happen here."],
    }
    out = write_rows(call, rows, report, generated_by=GENERATED_BY)
    return f"rollout state examples: {len(rows)} examples over {len(index)} cache shards -> {out.name}"


STEP = Step(
    "rollout_state_examples",
    gate="",
    body=_body,
    purpose="resolve cache-keyed measured latent examples for rollout benchmarks",
    flags=(
        Flag("--spec-jsonl", "cache-keyed example specs (JSONL)", required=True, role="input"),
        Flag("--cache-dir", "window-embedding cache directory", required=True),
        *rows_output_flags("examples"),
    ),
    details="Resolve cache-keyed rollout example specs to measured latent-state shards.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
