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
from ledger.clikit import ArgumentParser, run_cli

from tools.release.context import ReleaseContext, add_common_flags
from tools.release.recording import StepRun
from tools.release.reports import check_public_report, load_json, write_report

__all__ = ["FILENAME", "GENERATED_BY", "REQUIRED", "main", "normalize", "write_efficiency_report"]


def normalize(bench: Mapping[str, Any], *, artifact_root: str | Path | None = None) -> dict[str, Any]:
    """The normalised report (:func:`geno_lewm.efficiency.build_efficiency_report`), checked for private paths."""
    doc = build_efficiency_report(bench, root=artifact_root)
    check_public_report(doc, FILENAME)
    return doc


def write_efficiency_report(path: str | Path, bench: Mapping[str, Any], *, artifact_root: str | Path | None = None) -> dict[str, Any]:
    """Normalise ``bench`` and write it atomically as ``efficiency_report.json``; return the document."""
    return write_report(path, normalize(bench, artifact_root=artifact_root), generated_by=GENERATED_BY)


def _main(argv: list[str] | None) -> int:
    parser = ArgumentParser(prog="python -m tools.release.efficiency_report", description="Normalise bench.inference output into efficiency_report.json.")
    parser.add_argument("--bench-json", required=True, help="benchmark output JSON (bench.inference)")
    parser.add_argument("--model-dir", required=True, help="model directory (output goes to MODEL_DIR/efficiency_report.json)")
    parser.add_argument("--output", help="output path (default: MODEL_DIR/efficiency_report.json)")
    add_common_flags(parser)
    args = parser.parse_args(argv)
    ctx = ReleaseContext.from_args(args)
    out = Path(args.output) if args.output else Path(args.model_dir) / FILENAME
    try:
        with StepRun(ctx, "efficiency_report", ["python", "-m", GENERATED_BY, *(argv or [])]) as run:
            run.input(args.bench_json)
            bench = load_json(args.bench_json)
            doc = write_efficiency_report(out, bench, artifact_root=Path(args.model_dir))
            run.output(out)
    finally:
        ctx.close()
    print(f"{out.name}: latency={doc['single_variant_latency_ms']} throughput={doc['batched_throughput_variants_per_s']} peak_memory_bytes={doc['peak_memory_bytes']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the step; returns the exit code."""
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
