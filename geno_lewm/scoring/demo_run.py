"""The terminal demo run (``python -m tools.demo.terminal_inference`` and ``geno-lewm-demo``).

:func:`run_terminal_demo` clears its owned outputs, writes ``runtime_preflight_report.json``, runs
the real ``geno-lewm-score`` command (in-process, same ``main``), verifies the receipts, writes
``score_receipt_batch_report.json`` and ``terminal_demo_transcript.md``, re-opens the preflight
report and rejects it if it no longer matches this run, and only then writes
``terminal_demo_manifest.json``. Every path it records is package-local (relative to
``artifact_root``, else the bare file name): no workstation roots.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
from pathlib import Path
from typing import Any, Final

from ledger.errors import ReleaseError
from ledger.fsutil import atomic_write_text
from ledger.identity import relative_or_name, sha256_file

GENERATED_BY: Final = "tools.demo.terminal_inference"
SCHEMA_VERSION: Final = "1.0.0"
SCORES: Final = "scores.jsonl"
RECEIPTS: Final = "receipts.jsonl"
BATCH_REPORT: Final = "score_receipt_batch_report.json"
PREFLIGHT: Final = "runtime_preflight_report.json"
TRANSCRIPT: Final = "terminal_demo_transcript.md"
MANIFEST: Final = "terminal_demo_manifest.json"
OWNED: Final = (SCORES, RECEIPTS, BATCH_REPORT, PREFLIGHT, TRANSCRIPT, MANIFEST)
CLAIM: Final = (
    "Model-quality claims require the published evaluation report (eval_report.md); this transcript only shows the scoring command running on the demo inputs."
)


def _ident(path: Path, root: Path) -> dict[str, Any]:
    digest, size = sha256_file(path)
    return {"path": relative_or_name(path, root), "sha256": digest, "size": size}


def vcf_summary(vcf: Path, root: Path) -> dict[str, Any]:
    """Records, ALTs and contigs of the demo VCF (streamed)."""
    import pysam

    records = alts = 0
    contigs: list[str] = []
    quiet = pysam.set_verbosity(0)
    try:
        with pysam.VariantFile(os.fspath(vcf)) as vf:
            for rec in vf:
                records += 1
                alts += len(rec.alts or ())
                if rec.chrom not in contigs:
                    contigs.append(rec.chrom)
    finally:
        pysam.set_verbosity(quiet)
    return {"path": relative_or_name(vcf, root), "records": records, "alts": alts, "contigs": contigs}


def _preflight(model_dir: Path, vcf: Path, fasta: Path, command: list[str], device: str, root: Path) -> dict[str, Any]:
    """The runtime preflight document for this run (recomputed to re-check the written one)."""
    import torch

    from geno_lewm import __version__
    from geno_lewm.package import model_id_of, verify_package
    from geno_lewm.runtime import resolve_device

    manifest = verify_package(model_dir)
    dev = resolve_device(device)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "kind": "runtime_preflight",
        "ok": True,
        "fixture_manifest_allowed": False,
        "model": {
            "model_id": model_id_of(model_dir),
            "release_id": manifest["release_id"],
            "version": manifest["model"]["version"],
            "stand_in": manifest["stand_in"],
            "manifest": _ident(model_dir / "manifest.json", root),
        },
        "model_artifacts": [{"path": a["path"], "role": a["role"], "sha256": a["sha256"], "size": a["size"]} for a in manifest["artifacts"]],
        "inputs": {"vcf": _ident(vcf, root), "fasta": _ident(fasta, root)},
        "command": command,
        "backend": {"device": dev.type, "torch": torch.__version__.split("+")[0], "python": platform.python_version(), "geno_lewm": __version__},
        "runtime_requirements": {"python": ">=3.11", "torch": ">=2.4,<2.14", "network": "none (fail-closed guard while scoring)"},
    }


def run_terminal_demo(
    model_dir: str | os.PathLike[str],
    vcf: str | os.PathLike[str],
    fasta: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    artifact_root: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    batch_size: int = 64,
    numerics: str = "default",
) -> dict[str, Any]:
    """Run the demo; return the terminal demo manifest (``status`` passed/failed).

    ``numerics="reproducible"`` scores and verifies with pinned kernels (the console scripts re-run
    themselves in a fresh process when torch is already loaded here); verification then requires
    exact reproduction. The default verifies reproduction within the tolerance.
    """
    from geno_lewm.cli.score import main as score_main
    from geno_lewm.scoring.receipts import verify_receipts
    from geno_lewm.scoring.report import field_names
    from geno_lewm.scoring.run import utc_now

    root = Path(artifact_root or Path.cwd()).resolve()
    mdir, vpath, fpath, out = Path(model_dir).resolve(), Path(vcf).resolve(), Path(fasta).resolve(), Path(output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in OWNED:
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()
    rel = lambda p: relative_or_name(p, root)  # noqa: E731
    argv = [
        "--model-dir", str(mdir), "--vcf", str(vpath), "--fasta", str(fpath),
        "--output-scores", str(out / SCORES), "--output-receipts", str(out / RECEIPTS),
        "--output-report", str(out / BATCH_REPORT), "--device", device, "--batch-size", str(batch_size), "--json", "--quiet",
    ] + (["--numerics", numerics] if numerics != "default" else [])  # fmt: skip
    shown = ["geno-lewm-score"] + [rel(Path(a)) if a.startswith("/") else a for a in argv]
    pre = _preflight(mdir, vpath, fpath, shown, device, root)
    atomic_write_text(out / PREFLIGHT, json.dumps(pre, indent=2, sort_keys=True) + "\n")
    generated = utc_now()
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        code = score_main(argv)
    verified: dict[str, Any] = {"ok": False}
    if code == 0 and numerics == "default":
        res = verify_receipts(mdir, out / RECEIPTS, out / SCORES, fasta=fpath, vcf=vpath, sample=8, device=device)
        verified = res.to_dict()
    elif code == 0:  # the verify console script pins (re-running itself when torch is loaded here)
        from geno_lewm.cli.verify_receipts import main as verify_main

        vo, ve = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(vo), contextlib.redirect_stderr(ve):
            vcode = verify_main(
                [
                    "--model-dir",
                    str(mdir),
                    "--receipts",
                    str(out / RECEIPTS),
                    "--scores",
                    str(out / SCORES),
                    "--fasta",
                    str(fpath),
                    "--vcf",
                    str(vpath),
                    "--sample",
                    "8",
                    "--device",
                    device,
                    "--numerics",
                    numerics,
                    "--json",
                ]
            )
        verified = (
            json.loads(vo.getvalue())
            if vcode == 0 and vo.getvalue().strip()
            else {"ok": False, "error": ve.getvalue().strip().splitlines()[-1:] or ["verification failed"]}
        )
    summary = json.loads(so.getvalue()) if code == 0 and so.getvalue().strip() else {}
    vsum = vcf_summary(vpath, root)
    rows = [json.loads(line) for line in (out / SCORES).read_text().splitlines()] if code == 0 else []
    _write_transcript(out / TRANSCRIPT, pre, shown, code, se.getvalue(), vsum, rows, generated, root, out)
    # re-check the preflight evidence before writing the manifest
    current = _preflight(mdir, vpath, fpath, shown, device, root)
    written = json.loads((out / PREFLIGHT).read_text(encoding="utf-8"))
    for key in ("model", "model_artifacts", "inputs", "command", "backend", "runtime_requirements", "fixture_manifest_allowed", "generated_by"):
        if written.get(key) != current.get(key):
            raise ReleaseError(
                "DEMO_PREFLIGHT_STALE", f"{PREFLIGHT} no longer matches this run ({key} differs)", "re-run the terminal demo from a clean output directory"
            )
    status = "passed" if code == 0 and verified.get("ok") else "failed"
    manifest: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "status": status,
        "generated": generated,
        "exit_code": code,
        "model_id": pre["model"]["model_id"],
        "model": pre["model"],
        "inputs": pre["inputs"],
        "vcf_summary": vsum,
        "command": shown,
        "claim_boundary": CLAIM,
        "stand_in": pre["model"]["stand_in"],
        "runtime_preflight": {
            **_ident(out / PREFLIGHT, root),
            "model_id": pre["model"]["model_id"],
            "backend": pre["backend"],
            "fixture_manifest_allowed": False,
        },
        "artifacts": {name: _ident(out / name, root) for name in (SCORES, RECEIPTS, BATCH_REPORT, TRANSCRIPT) if (out / name).is_file()},
    }
    if code == 0:
        report = json.loads((out / BATCH_REPORT).read_text(encoding="utf-8"))
        manifest["score_fields"] = field_names(out / SCORES)
        manifest["receipt_fields"] = field_names(out / RECEIPTS)
        manifest["score_receipt_batch"] = {
            "counts": report["counts"],
            "receipt_count": report["receipt_count"],
            "receipts_output_commitments_sha256": report["receipts_output_commitments_sha256"],
            "verified": verified,
        }
        manifest["summary"] = {k: summary.get(k) for k in ("counts", "work", "calibrated")}
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _write_transcript(
    path: Path, pre: dict, shown: list[str], code: int, stderr: str, vsum: dict, rows: list[dict], generated: str, root: Path, out: Path
) -> None:
    m = pre["model"]
    lines = [
        "# GenoLeWM terminal demo transcript",
        "",
        f"- Generated: {generated}",
        f"- Exit code: {code}",
        f"- Model release: {m['release_id']}",
        f"- Model version: {m['version']}",
        f"- Model id: {m['model_id']}",
        f"- Inputs: VCF `{pre['inputs']['vcf']['path']}`, FASTA `{pre['inputs']['fasta']['path']}`, model manifest `{m['manifest']['path']}`",
        f"- VCF input summary: {vsum['records']} records, {vsum['alts']} ALTs, contigs {', '.join(vsum['contigs'])}",
        f"- Outputs: `{relative_or_name(out / SCORES, root)}`, `{relative_or_name(out / RECEIPTS, root)}`, `{relative_or_name(out / BATCH_REPORT, root)}`",
        "",
        f"**{CLAIM}**",
        "",
    ]
    if m["stand_in"]:
        lines += ["> Stand-in model: built on the tiny stand-in encoder; the scores carry no biological skill.", ""]
    lines += ["## Command", "", "```", "$ " + " ".join(shown), "```", "", "## stderr", "", "```", stderr.rstrip(), "```", ""]
    if rows:
        lines += [
            f"## Score rows (fields: {', '.join(rows[0].keys())})",
            "",
            "| variant | score | percentile | bucket | confidence | error |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['chrom']}:{r['pos']} {r['ref']}>{r['alt']} | {r['score']} | {r['percentile']} | {r['bucket']} | {r['confidence']} | {r['error_code'] or ''} |"
            )
        lines.append("")
    atomic_write_text(path, "\n".join(lines) + "\n")


__all__ = ["CLAIM", "GENERATED_BY", "OWNED", "run_terminal_demo", "vcf_summary"]
