"""The one efficiency-report normaliser: bench measurements -> ``efficiency_report.json`` document.

``python -m bench.inference --release-efficiency`` and ``python -m tools.release.efficiency_report``
both call :func:`build_efficiency_report`, so the evidence has one shape whoever writes it:

- ``single_variant_latency_ms``, ``batched_throughput_variants_per_s``, ``peak_memory_bytes``
  (derived from ``peak_memory_mib`` when only that is measured);
- ``command``: the benchmark command, public-safe (absolute paths become package-relative, or
  their bare name when outside the package);
- ``hardware``: hardware/runtime notes; ``inputs``: identities (``name``, ``path``, ``sha256``,
  ``size``, package-relative) or inline labels (``name``, ``label``);
- ``samples``, ``warmup``, ``limitations`` (non-empty);
- ``schema_version``, ``generated_by=tools.release.efficiency_report``, ``kind=efficiency_report``.

Every float becomes a decimal string (6 significant digits), so the JSON is float-free. The
function is idempotent: a normalised report normalises to itself. Nothing here imports torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Final

from ledger.canonical import canonical_json
from ledger.errors import InputError
from ledger.fsutil import atomic_write_text
from ledger.identity import check_public_path, relative_to_root

#: ``generated_by`` of every efficiency report (the release step that owns the evidence).
GENERATED_BY: Final = "tools.release.efficiency_report"
#: ``schema_version`` of the efficiency report.
SCHEMA_VERSION: Final = "1.0.0"
#: File name of the report in a model package.
FILENAME: Final = "efficiency_report.json"
#: Fields every efficiency report carries (after normalisation).
REQUIRED: Final = (
    "single_variant_latency_ms",
    "batched_throughput_variants_per_s",
    "peak_memory_bytes",
    "command",
    "hardware",
    "inputs",
    "samples",
    "warmup",
    "limitations",
)
#: Accepted spellings from benchmark output -> normalised name.
ALIASES: Final = {"benchmark_command": "command"}
_ENVELOPE: Final = ("generated_by", "schema_version", "kind")


def _decimal(value: Any, where: str) -> Any:
    """Floats become decimal strings (6 significant digits); dicts/lists recurse; ints/str/None kept."""
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
    if isinstance(raw, Mapping):
        items = [{"name": k, **v} if isinstance(v, Mapping) else {"name": k, "label": v} for k, v in sorted(raw.items()) if v is not None]
    elif isinstance(raw, (list, tuple)):
        items = list(raw)
    else:
        raise InputError("BAD_MEASUREMENT", "inputs must be a mapping or a list")
    out = []
    for i, inp in enumerate(items):
        if not isinstance(inp, Mapping) or not (("path" in inp and "sha256" in inp and "size" in inp) or "label" in inp):
            raise InputError("BAD_MEASUREMENT", f"inputs[{i}] must be a path/sha256/size identity or an inline label")
        if "path" in inp:
            check_public_path(str(inp["path"]), f"inputs[{i}].path")
        out.append(dict(inp))
    return out


def _public_token(token: str, root: str | os.PathLike[str] | None) -> str:
    """A path token made public: package-relative inside ``root``, else ``<outside-root>/NAME`` or ``<home>/NAME``."""
    if token.startswith("~"):
        return "<home>/" + PurePosixPath(token).name
    if not os.path.isabs(token):
        return token
    if root is not None:
        try:
            return relative_to_root(token, root)
        except InputError:
            pass
    return "<outside-root>/" + Path(token).name


def _public_command(command: Any, root: str | os.PathLike[str] | None) -> list[str]:
    """The command with its path tokens made public (``--flag=/abs`` forms too)."""
    if not isinstance(command, (list, tuple)) or not command:
        raise InputError("BAD_MEASUREMENT", "the benchmark command must be a non-empty list of arguments")
    out = []
    for arg in map(str, command):
        flag, eq, value = arg.partition("=") if arg.startswith("--") and "=" in arg else ("", "", arg)
        out.append(f"{flag}{eq}{_public_token(value, root)}")
    return out


def build_efficiency_report(bench: Mapping[str, Any], *, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The complete ``efficiency_report.json`` document from bench measurements (see the module docstring).

    ``bench`` is ``bench.inference`` output (``benchmark_command``, ``peak_memory_mib``, inputs as
    a mapping) or an already normalised report. ``root`` is the model package directory that
    command paths are made relative to. A missing or malformed field raises
    ``INPUT.BAD_MEASUREMENT`` naming it.
    """
    data = {ALIASES.get(k, k): v for k, v in bench.items() if k not in _ENVELOPE}
    if "peak_memory_bytes" not in data and isinstance(data.get("peak_memory_mib"), (int, float)) and not isinstance(data["peak_memory_mib"], bool):
        data["peak_memory_bytes"] = int(round(data["peak_memory_mib"] * 2**20))
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise InputError("BAD_MEASUREMENT", f"benchmark output lacks {', '.join(missing)}", "run python -m bench.inference --release-efficiency")
    if not isinstance(data["limitations"], list) or not data["limitations"]:
        raise InputError("BAD_MEASUREMENT", "limitations must be a non-empty list", "say what the measurement does not show")
    for key in ("samples", "warmup"):
        if not isinstance(data[key], int) or isinstance(data[key], bool) or data[key] < (1 if key == "samples" else 0):
            raise InputError("BAD_MEASUREMENT", "samples must be a positive integer and warmup a non-negative integer")
    data["inputs"] = _inputs(data["inputs"])
    data["command"] = _public_command(data["command"], root)
    body = {k: _decimal(v, k) for k, v in data.items()}
    return {**body, "schema_version": SCHEMA_VERSION, "generated_by": GENERATED_BY, "kind": "efficiency_report"}


def dumps_report(doc: Mapping[str, Any]) -> str:
    """The report's file text: sorted keys, two-space indent, trailing newline (refuses floats)."""
    canonical_json(dict(doc))
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_efficiency_report(path: str | os.PathLike[str], bench: Mapping[str, Any], *, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Normalise ``bench`` with :func:`build_efficiency_report` and write it atomically to ``path``; return it."""
    doc = build_efficiency_report(bench, root=root)
    atomic_write_text(Path(path), dumps_report(doc))
    return doc


__all__ = ["ALIASES", "FILENAME", "GENERATED_BY", "REQUIRED", "SCHEMA_VERSION", "build_efficiency_report", "dumps_report", "write_efficiency_report"]
