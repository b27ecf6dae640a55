"""``geno-lewm-train --carbon-preflight``: check the real training inputs before launching, and record them.

Writes ``training_preflight_report.json`` (schema 1.0.0) into the run directory: config hash and
resolved payload, accelerator probe, Carbon model file identities, dependency versions and the
dataset evidence identities found in the dataset directory, verified as a set by
:func:`verify_dataset_evidence` when the directory is a dataset package. Every check is listed with ``ok``; when
one fails the report is still written (``ok: false``) and ``TRAINING.PREFLIGHT_FAILED`` names the
failed checks. Paths in the report are relative to the directory they belong to.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path

from ledger.canonical import floats_as_text
from ledger.errors import GenoError, TrainingError
from ledger.fsutil import atomic_write_text
from ledger.identity import file_identity, sha256_file

REPORT_NAME = "training_preflight_report.json"
REPORT_SCHEMA_VERSION = "1.0.0"
GENERATED_BY = "geno-lewm-train --carbon-preflight"
DATASET_EVIDENCE = ("dataset_package.json", "dataset_input_check_report.json", "dataset_snapshot_report.json", "SHA256SUMS")
DEPENDENCIES = ("torch", "transformers", "safetensors", "tokenizers", "numpy", "pyarrow", "pysam", "msgspec", "pyyaml")


def probe_accelerator(requested: str, *, min_gpu_gib: float, allow_cpu: bool) -> dict:
    """CUDA presence and memory per device; ``ok`` when the request can be met."""
    import torch

    devices = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            devices.append({"index": i, "name": p.name, "total_gib": f"{p.total_memory / 2**30:.2f}"})
    best = max((float(d["total_gib"]) for d in devices), default=0.0)
    cuda_ok = bool(devices) and best >= min_gpu_gib
    ok = cuda_ok or (allow_cpu and requested != "cuda") or (allow_cpu and not devices)
    detail = (f"CUDA device with {best:.1f} GiB (need >= {min_gpu_gib:g})" if devices else "no CUDA device") + (
        "; CPU rehearsal allowed" if allow_cpu and not cuda_ok else ""
    )
    return {
        "requested_device": requested,
        "cuda_available": bool(devices),
        "devices": devices,
        "min_gpu_gib": f"{min_gpu_gib:g}",
        "allow_cpu": allow_cpu,
        "ok": ok,
        "detail": detail,
    }


def dependency_versions() -> dict:
    """Installed versions of the packages training depends on (plus Python)."""
    out = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _sha256sums_check(dataset_dir: Path) -> tuple[bool, str]:
    sums = dataset_dir / "SHA256SUMS"
    bad = []
    for line in sums.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            return False, f"malformed SHA256SUMS line {line[:40]!r}"
        digest, name = parts[0], parts[1].lstrip("*").strip()
        p = dataset_dir / name
        if not p.is_file() or sha256_file(p)[0] != digest:
            bad.append(name)
    return (not bad), ("all listed files match" if not bad else f"stale or missing: {', '.join(bad[:5])}")


def verify_dataset_evidence(dataset_dir: str | os.PathLike[str]) -> str:
    """Verify the dataset package's evidence set; return its ``snapshot_id``.

    Runs :func:`geno_lewm.datasets.verify_dataset` (imported here, never at module top
    level): SHA256SUMS coverage and freshness, re-rendered manifest and data card, split
    integrity, and snapshot/input-check reports that name the package's spec and upstream source
    identities — stale input-check evidence raises ``PROVENANCE.STALE_INPUT_CHECK``.
    """
    from geno_lewm.datasets import verify_dataset

    return str(verify_dataset(dataset_dir)["snapshot_id"])


def run_preflight(
    *,
    training_config: str | os.PathLike[str],
    carbon_model_dir: str | os.PathLike[str],
    run_dir: str | os.PathLike[str],
    dataset_dir: str | os.PathLike[str] | None,
    min_gpu_gib: float = 40.0,
    allow_cpu: bool = False,
    require_dataset: bool = True,
) -> dict:
    """Run every check, write the report into ``run_dir``, raise ``TRAINING.PREFLIGHT_FAILED`` on failure."""
    from geno_lewm import __version__
    from geno_lewm.train.config import config_hash, load_config, resolved_payload

    checks: list[dict] = []
    report: dict = {"schema_version": REPORT_SCHEMA_VERSION, "generated_by": GENERATED_BY, "geno_lewm_version": __version__}

    def check(name: str, fn):
        try:
            detail = fn()
            checks.append({"name": name, "ok": True, "detail": detail or "ok"})
            return True
        except GenoError as err:
            checks.append({"name": name, "ok": False, "code": err.code, "detail": err.message})
            return False

    cfg_holder: dict = {}

    def _config():
        cfg = load_config(training_config)
        cfg_holder["cfg"] = cfg
        report["config"] = {"file": Path(training_config).name, "hash": config_hash(cfg), "resolved": floats_as_text(resolved_payload(cfg))}
        return f"config hash {config_hash(cfg)[:12]}…"

    check("config_schema", _config)
    requested = cfg_holder["cfg"].runtime.device if "cfg" in cfg_holder else "cuda"
    accel = probe_accelerator(requested, min_gpu_gib=min_gpu_gib, allow_cpu=allow_cpu)
    report["accelerator"] = accel

    def _accel():
        if not accel["ok"]:
            raise TrainingError("NO_ACCELERATOR", accel["detail"])
        return accel["detail"]

    check("accelerator", _accel)

    def _model():
        from geno_lewm.encoder.carbon import checkpoint_files, read_identity
        from geno_lewm.encoder.tokenizer import CarbonDNATokenizer

        ident = read_identity(carbon_model_dir)
        tok = CarbonDNATokenizer.from_dir(carbon_model_dir)
        files = [dict(file_identity(f, carbon_model_dir)) for f in checkpoint_files(carbon_model_dir)]
        report["carbon_model"] = {
            "root": "carbon_model_dir",
            "files": files,
            "encoder_id": ident.encoder_id,
            "revision": ident.revision,
            "hash": ident.hash,
            "stand_in": ident.stand_in,
            "num_layers": ident.num_layers,
            "hidden_size": ident.hidden_size,
            "tokenizer_k": tok.k,
        }
        if "cfg" in cfg_holder:
            cfg_holder["cfg"].state.validate(k=tok.k, num_layers=ident.num_layers)
        return f"{ident.encoder_id} ({len(files)} files{', stand-in' if ident.stand_in else ''})"

    check("carbon_model", _model)
    report["dependencies"] = dependency_versions()
    check("dependencies", lambda: _deps_ok(report["dependencies"]))

    ds: dict = {"root": "dataset_dir", "files": [], "missing": []}
    report["dataset"] = ds

    def _dataset():
        if dataset_dir is None:
            if require_dataset:
                raise TrainingError("NO_DATASET", "no --dataset-dir given")
            ds["missing"] = list(DATASET_EVIDENCE)
            return "no dataset directory (rehearsal)"
        root = Path(dataset_dir)
        if not root.is_dir():
            raise TrainingError("NO_DATASET", f"dataset directory {root.name!r} not found")
        for name in DATASET_EVIDENCE:
            p = root / name
            if p.is_file():
                ds["files"].append(dict(file_identity(p, root)))
            else:
                ds["missing"].append(name)
        if (root / "SHA256SUMS").is_file():
            ok, detail = _sha256sums_check(root)
            ds["sha256sums_check"] = {"ok": ok, "detail": detail}
            if not ok:
                raise TrainingError("DATASET_STALE", f"SHA256SUMS check failed: {detail}")
        if ds["missing"] and require_dataset:
            raise TrainingError("DATASET_EVIDENCE", f"dataset evidence missing: {', '.join(ds['missing'])}")
        if (root / "dataset_package.json").is_file():
            snapshot = verify_dataset_evidence(root)
            ds["verified"] = {"ok": True, "snapshot_id": snapshot}
        return f"{len(ds['files'])} evidence files" + (" (dataset package verified)" if "verified" in ds else "")

    check("dataset_evidence", _dataset)
    report["checks"] = checks
    report["failed_checks"] = [c["name"] for c in checks if not c["ok"]]
    report["ok"] = not report["failed_checks"]
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(run_dir) / REPORT_NAME, json.dumps(report, indent=2, sort_keys=True) + "\n")
    if not report["ok"]:
        details = "; ".join(f"{c['name']}: {c['detail']}" for c in checks if not c["ok"])
        raise TrainingError(
            "PREFLIGHT_FAILED",
            f"preflight failed ({details}); see {REPORT_NAME}",
            "fix the failed checks listed in the report, or use --allow-cpu / --min-gpu-gib for a rehearsal",
        )
    return report


def _deps_ok(deps: dict) -> str:
    missing = [k for k, v in deps.items() if v is None]
    if missing:
        raise TrainingError("MISSING_DEPENDENCY", f"missing packages: {', '.join(missing)}")
    return "all present"
