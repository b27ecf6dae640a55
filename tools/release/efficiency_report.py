"""``python -m tools.release.efficiency_report``: record ``efficiency_report.json`` as release evidence.

The normalisation itself is :func:`geno_lewm.efficiency.build_efficiency_report`, the one function
``bench.inference --release-efficiency`` also writes with. This step reads a bench JSON
(``--bench-json``: raw ``bench.inference`` output or an already normalised report), normalises it
(idempotent), checks that no private path is left and writes ``--output`` (default
``MODEL_DIR/efficiency_report.json``), recorded in the ledger. The report
(``generated_by=tools.release.efficiency_report``) carries single-variant latency, batched
throughput, peak memory, the benchmark command (public-safe), hardware/runtime notes,
package-relative input identities or inline labels, samples, warm-up and limitations; numbers are
decimal strings (float-free JSON).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geno_lewm.efficiency import FILENAME, GENERATED_BY, REQUIRED, build_efficiency_report

from tools.release.engine.declare import Derived, Flag, Step, StepCall, common_flag
from ledger.reports import check_public_report, load_json, write_report

__all__ = ["FILENAME", "GENERATED_BY", "REQUIRED", "main", "normalize", "write_efficiency_report"]


def normalize(bench: Mapping[str, Any], *, artifact_root: str | Path | None = None) -> dict[str, Any]:
    """The normalised report (:func:`geno_lewm.efficiency.build_efficiency_report`), checked for private paths."""
    doc = build_efficiency_report(bench, root=artifact_root)
    check_public_report(doc, FILENAME)
    return doc


def write_efficiency_report(path: str | Path, bench: Mapping[str, Any], *, artifact_root: str | Path | None = None) -> dict[str, Any]:
    """Normalise ``bench`` and write it atomically as ``efficiency_report.json``; return the document."""
    return write_report(path, normalize(bench, artifact_root=artifact_root), generated_by=GENERATED_BY)


def _body(call: StepCall) -> str:
    out = Path(call.args.output)
    doc = write_efficiency_report(out, load_json(call.args.bench_json), artifact_root=Path(call.args.model_dir))
    return f"{out.name}: latency={doc['single_variant_latency_ms']} throughput={doc['batched_throughput_variants_per_s']} peak_memory_bytes={doc['peak_memory_bytes']}"


STEP = Step(
    "efficiency_report",
    gate="efficiency",
    body=_body,
    purpose="normalise bench output into efficiency_report.json",
    flags=(
        Flag("--bench-json", "benchmark output JSON (bench.inference)", required=True, role="input"),
        common_flag("--model-dir", help="model package directory (output goes to MODEL_DIR/efficiency_report.json)"),
        Flag("--output", "output path", default=Derived("MODEL_DIR/efficiency_report.json", lambda c: Path(c.args.model_dir) / FILENAME), role="output"),
    ),
    details="Normalise bench.inference output into efficiency_report.json.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
