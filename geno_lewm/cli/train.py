"""``geno-lewm-train``: build the tiny stand-in encoder, preflight real inputs, train, resume, package."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from geno_lewm.cli.options import add_flags
from ledger.clikit import ArgumentParser, command, flag_kwargs
from ledger.errors import InputError


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(prog="geno-lewm-train", description="Train the GenoLeWM predictor over a frozen Carbon encoder (docs/model.md).")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--build-tiny-encoder", metavar="DIR", help="write the tiny stand-in Carbon checkpoint into DIR and exit")
    mode.add_argument("--carbon-preflight", action="store_true", help="check inputs and write training_preflight_report.json into --run-dir")
    mode.add_argument("--carbon-train", action="store_true", help="train into --run-dir (which becomes a model package)")
    add_flags(p, "--seed", help="seed for --build-tiny-encoder")
    p.add_argument("--pretrain-steps", type=int, default=40, help="LM pretraining steps for --build-tiny-encoder (0 = random weights)")
    p.add_argument("--training-config", help="training config YAML (default: the bundled configs/train-tiny-cpu.yaml)")
    add_flags(p, "--carbon-model-dir")
    p.add_argument("--dataset-dir", help="dataset package directory (its dataset_manifest.json names the reference and the train split; release evidence)")
    add_flags(p, "--fasta", help="reference FASTA (default: the manifest's reference in --dataset-dir, else its one top-level FASTA, else the bundled example)")
    add_flags(p, "--vcf", help="VCF of edits (.vcf or .vcf.gz + tabix; default: the manifest's train split, else as for --fasta)")
    p.add_argument("--run-dir", help="run directory")
    p.add_argument("--cache-dir", help="window-embedding cache directory (default: <run-dir>/window_cache)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override runtime.device")
    p.add_argument("--resume-from", help="predictor_checkpoint.pt of the run in --run-dir")
    p.add_argument("--stop-after-steps", type=int, help="stop after this step, keeping the checkpoint (interruption rehearsal)")
    p.add_argument(
        "--package-release-run", action="store_true", help="after training, package the run (geno_lewm.train.run_package: manifest, card, checksums)"
    )
    p.add_argument("--metadata-json", help="release metadata JSON passed to --package-release-run")
    p.add_argument("--min-gpu-gib", type=float, default=40.0, help="preflight: minimum CUDA memory (default 40)")
    p.add_argument("--allow-cpu", action="store_true", help="preflight: accept a machine without a suitable GPU (rehearsal)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_flags(p, "--json", help="print the resulting report as JSON on stdout")
    return p


#: The dataset package's manifest (tools.release.dataset_package writes it) and the split trained on.
DATASET_MANIFEST = "dataset_manifest.json"
TRAIN_SPLIT = "train"


def _find_one(root: Path, patterns: tuple[str, ...], what: str) -> Path:
    hits = sorted({f for pat in patterns for f in root.glob(pat)})
    if len(hits) != 1:
        raise InputError(
            "DATASET_LAYOUT",
            f"expected one {what} in the dataset directory, found {len(hits)}",
            f"pass --{what.lower()} explicitly, or a dataset package with {DATASET_MANIFEST}",
        )
    return hits[0]


def dataset_inputs(dataset_dir: str | Path) -> tuple[Path, Path] | None:
    """(reference FASTA, train-split VCF) named by ``dataset_manifest.json`` in ``dataset_dir``; None without one.

    The manifest's ``reference`` and ``splits`` are package-relative paths (see
    docs/release-steps.md, dataset_package). A manifest that is unreadable, lacks the train split
    or names a missing or unsafe path raises ``INPUT.DATASET_LAYOUT``.
    """
    from ledger.identity import check_public_path

    root = Path(dataset_dir)
    man = root / DATASET_MANIFEST
    if not man.is_file():
        return None
    hint = "rebuild the dataset package (python -m tools.release.dataset_package) or pass --fasta/--vcf"
    try:
        doc = json.loads(man.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("DATASET_LAYOUT", f"{DATASET_MANIFEST} is not valid JSON ({exc})", hint) from None
    splits = doc.get("splits") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(doc.get("reference"), str) or not isinstance(splits, dict):
        raise InputError("DATASET_LAYOUT", f"{DATASET_MANIFEST} needs a reference path and a splits mapping", hint)
    if not isinstance(splits.get(TRAIN_SPLIT), str):
        raise InputError("DATASET_LAYOUT", f"{DATASET_MANIFEST} names no {TRAIN_SPLIT!r} split (has {sorted(splits)})", hint)
    out = []
    for what, rel in (("reference", doc["reference"]), (f"splits.{TRAIN_SPLIT}", splits[TRAIN_SPLIT])):
        try:
            check_public_path(rel, f"{DATASET_MANIFEST} {what}")
        except InputError as err:
            raise InputError("DATASET_LAYOUT", err.message, hint) from None
        if not (root / rel).is_file():
            raise InputError("DATASET_LAYOUT", f"{DATASET_MANIFEST} {what} {rel!r} is not in the dataset directory", hint)
        out.append(root / rel)
    return out[0], out[1]


def _inputs(args) -> tuple[Path, Path | None]:
    from geno_lewm.resources import example_path

    if args.dataset_dir:
        root = Path(args.dataset_dir)
        packaged = None if (args.fasta and args.vcf) else dataset_inputs(root)
        if packaged is not None:
            return Path(args.fasta) if args.fasta else packaged[0], Path(args.vcf) if args.vcf else packaged[1]
        fasta = Path(args.fasta) if args.fasta else _find_one(root, ("*.fa", "*.fasta", "*.fna"), "FASTA")
        vcf = Path(args.vcf) if args.vcf else _find_one(root, ("*.vcf", "*.vcf.gz"), "VCF")
        return fasta, vcf
    return Path(args.fasta) if args.fasta else example_path("rCRS_chrM.fa"), Path(args.vcf) if args.vcf else example_path("mt_known_variants.vcf")


def _need(args, *names: str) -> None:
    for n in names:
        if getattr(args, n.replace("-", "_")) is None:
            raise InputError("USAGE", f"geno-lewm-train: --{n} is required here", "run `geno-lewm-train --help` for usage")


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.build_tiny_encoder:
        from geno_lewm.encoder.tiny import STAND_IN_SENTENCE, build_tiny_carbon

        out = build_tiny_carbon(args.build_tiny_encoder, seed=args.seed, pretrain_steps=args.pretrain_steps)
        print(f"wrote tiny stand-in encoder to {out.name}/ — {STAND_IN_SENTENCE}", file=sys.stderr)
        return 0
    from geno_lewm.resources import config_path

    config_file = Path(args.training_config) if args.training_config else config_path("train-tiny-cpu.yaml")
    if args.carbon_preflight:
        _need(args, "carbon-model-dir", "run-dir")
        from geno_lewm.train.preflight import REPORT_NAME, run_preflight

        report = run_preflight(
            training_config=config_file,
            require_dataset=not args.allow_cpu or args.dataset_dir is not None,
            **flag_kwargs(args, "carbon_model_dir", "run_dir", "dataset_dir", "min_gpu_gib", "allow_cpu"),
        )
        print(json.dumps(report, indent=2, sort_keys=True) if args.json else f"preflight passed; wrote {REPORT_NAME}")
        return 0
    _need(args, "carbon-model-dir", "run-dir")
    from geno_lewm.train.config import load_config
    from geno_lewm.train.loop import train_run

    fasta, vcf = _inputs(args)
    record = train_run(
        load_config(config_file),
        model_dir=args.carbon_model_dir,
        fasta=fasta,
        vcf=vcf,
        progress=not args.no_progress,
        **flag_kwargs(args, "run_dir", "dataset_dir", "cache_dir", "resume_from", "stop_after_steps", "device"),
    )
    if args.package_release_run and record["status"] == "completed":
        from geno_lewm.train.run_package import package_run
        from ledger.reports import load_json

        package_run(args.run_dir, load_json(args.metadata_json) if args.metadata_json else None)
    if args.json:
        print(json.dumps(record, indent=2, sort_keys=True))
    else:
        print(
            f"run {record['run_id']}: {record['status']} at step {record['steps_completed']}"
            + (f"; model_id {record['model_id']}" if record.get("model_id") else "")
        )
    return 0


main = command(_main, "Run ``geno-lewm-train`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
