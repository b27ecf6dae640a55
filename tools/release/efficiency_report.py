"""``python -m tools.release.efficiency_report``: normalise benchmark output into ``efficiency_report.json``.

``bench.inference --release-efficiency`` calls :func:`write_efficiency_report` directly; this
module's CLI re-normalises an existing bench JSON (``--bench-json``) into ``--output`` (default
``MODEL_DIR/efficiency_report.json``). The normalised report (``generated_by=tools.release.efficiency_report``)
carries: single-variant latency, batched throughput, peak memory, the benchmark command
(public-safe), hardware/runtime notes, input identities (package-relative paths or inline labels),
samples, warm-up and limitations. Numbers are carried as decimal strings (float-free JSON).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.clikit import ArgumentParser, run_cli
from ledger.errors import InputError

from tools.release.artifacts import public_argv
from tools.release.context import ReleaseContext, add_common_flags
from tools.release.recording import StepRun
from tools.release.reports import check_public_report, load_json, write_report

GENERATED_BY = "tools.release.efficiency_report"
FILENAME = "efficiency_report.json"
#: Fields every efficiency report carries (after normalisation).
REQUIRED = ("single_variant_latency_ms", "batched_throughput_variants_per_s", "command", "hardware", "inputs", "samples", "warmup", "limitations")
#: Accepted spellings from benchmark output -> normalised name.
ALIASES = {"benchmark_command": "command"}


def _decimal(value: Any, where: str) -> Any:
    """Floats become decimal strings (6 significant digits); dicts/lists recurse; ints/str kept."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InputError("BAD_MEASUREMENT", f"{where} is not a finite number", "re-run the benchmark")
        return f"{value:.6g}"
    if isinstance(value, Mapping):
        return {str(k): _decimal(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimal(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise InputError("BAD_MEASUREMENT", f"{where} has unsupported type {type(value).__name__}")


def _inputs(raw: Any) -> list[dict[str, Any]]:
    """Inputs as a list of identities (``{name?, path, sha256, size}``) or inline labels (``{name?, label}``)."""
    items = [{"name": k, **v} if isinstance(v, Mapping) else {"name": k, "label": v} for k, v in sorted(raw.items()) if v is not None] if isinstance(raw, Mapping) else list(raw)
    out = []
    for i, inp in enumerate(items):
        if not isinstance(inp, Mapping) or not (("path" in inp and "sha256" in inp and "size" in inp) or "label" in inp):
            raise InputError("BAD_MEASUREMENT", f"inputs[{i}] must be a path/sha256/size identity or an inline label")
        out.append(dict(inp))
    return out


def normalize(bench: Mapping[str, Any], *, artifact_root: str | Path | None = None) -> dict[str, Any]:
    """The normalised report body from bench measurements (``INPUT.BAD_MEASUREMENT`` names a missing field).

    Accepts ``bench.inference`` output as is (``benchmark_command``, ``peak_memory_mib``, inputs as
    a mapping); floats become decimal strings; ``peak_memory_bytes`` is derived when only MiB is given.
    """
    data = {ALIASES.get(k, k): v for k, v in bench.items() if k not in ("generated_by", "schema_version", "kind")}
    if "peak_memory_bytes" not in data and isinstance(data.get("peak_memory_mib"), (int, float)):
        data["peak_memory_bytes"] = int(round(data["peak_memory_mib"] * 2**20))
    missing = [k for k in (*REQUIRED, "peak_memory_bytes") if k not in data]
    if missing:
        raise InputError("BAD_MEASUREMENT", f"benchmark output lacks {', '.join(missing)}", "run python -m bench.inference --release-efficiency")
    if not isinstance(data["limitations"], list) or not data["limitations"]:
        raise InputError("BAD_MEASUREMENT", "limitations must be a non-empty list", "say what the measurement does not show")
    if not isinstance(data["samples"], int) or data["samples"] < 1 or not isinstance(data["warmup"], int) or data["warmup"] < 0:
        raise InputError("BAD_MEASUREMENT", "samples must be a positive integer and warmup a non-negative integer")
    data["inputs"] = _inputs(data["inputs"])
    command = [str(c) for c in data["command"]]
    data["command"] = public_argv(command, artifact_root) if artifact_root is not None else command
    doc = {"kind": "efficiency_report", **{k: _decimal(v, k) for k, v in data.items()}}
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
