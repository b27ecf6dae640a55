"""World-model fidelity benchmark: predictor vs its frozen encoder on held-out edits, beside the
"return the source state" baseline.

``python -m bench.fidelity --model-dir M --fasta F --output-json J [--n-edits N] [--seed S]
[--regions auto|heldout|all] [--curve [--curve-sizes 100 1000 …] [--train-fasta T]]``

Edits come from regions the model never trained on (the held-out blocks recorded in the package
for its training reference; all of any other FASTA); see :mod:`geno_lewm.eval.fidelity` for the
figures. ``--curve`` re-trains the package's own recipe (its ``config.effective.yaml``, encoder and
seed, so the same held-out blocks) with N synthetic training edits for each N and reports the
same held-out figures against N. Figures made with the tiny stand-in encoder say so.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import finish, note_stand_in
from ledger.clikit import ArgumentParser, command, flag_kwargs


def machine() -> dict[str, Any]:
    """The machine the figures were measured on."""
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def curve(
    model_dir: Path, fasta: str, train_fasta: str, sizes: list[int], *, n_edits: int, seed: int, regions: str, resamples: int, steps: int | None
) -> list[dict[str, Any]]:
    """Held-out fidelity of the package's recipe re-trained with each number of synthetic edits."""
    import msgspec

    from geno_lewm.eval.fidelity import run_fidelity
    from geno_lewm.package import ModelPackage
    from geno_lewm.train.config import load_config
    from geno_lewm.train.loop import train_run

    cfg = load_config(model_dir / "config.effective.yaml")
    rows = []
    for n in sizes:
        data = msgspec.structs.replace(cfg.data, use_vcf=False, synthetic_snvs=n, synthetic_indels=max(2, n // 4), synthetic_mnvs=max(1, n // 8))
        optim = cfg.optim if steps is None else msgspec.structs.replace(cfg.optim, steps=steps, warmup_steps=min(cfg.optim.warmup_steps, steps))
        c = msgspec.structs.replace(cfg, data=data, optim=optim, runtime=msgspec.structs.replace(cfg.runtime, device="cpu"))
        with tempfile.TemporaryDirectory(prefix="fidelity-curve-") as tmp:
            t0 = time.perf_counter()
            rec = train_run(c, model_dir=model_dir / "encoder", run_dir=Path(tmp) / "run", fasta=train_fasta, vcf=None, device="cpu", progress=False)
            train_s = time.perf_counter() - t0
            pkg = ModelPackage.load(Path(tmp) / "run", device="cpu")
            doc = run_fidelity(pkg, fasta, n_edits=n_edits, seed=seed, regions=regions, resamples=resamples)
        rows.append(
            {
                "training_edits": n,
                "train_examples": rec["split"]["n_train"],
                "train_seconds": round(train_s, 1),
                "regions": doc["regions"],
                "tracks": doc["tracks"],
            }
        )
        snv = doc["tracks"]["snv"]
        print(f"curve N={n}: snv mse {snv['mse']:.4f} vs source {snv['source_state_mse']:.4f}, spearman {snv['spearman']:.3f}", file=sys.stderr)
    return rows


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(
        prog="python -m bench.fidelity", description="Predictor fidelity to its frozen encoder on held-out edits, beside the source-state baseline."
    )
    p.add_argument("--model-dir", required=True, help="model package directory")
    p.add_argument("--fasta", required=True, help="FASTA to draw edits from (its held-out blocks when it is the training reference)")
    p.add_argument("--output-json", default="bench/results/fidelity.json")
    p.add_argument("--n-edits", type=int, default=600, help="edits per track (default 600)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--regions", choices=("auto", "heldout", "all"), default="auto", help="auto: held-out blocks of the training reference, all of any other FASTA"
    )
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--curve", action="store_true", help="also re-train the recipe with --curve-sizes synthetic edits and report held-out figures against N")
    p.add_argument("--curve-sizes", type=int, nargs="+", default=[100, 1000, 4000])
    p.add_argument("--curve-steps", type=int, default=None, help="optimisation steps per curve run (default: the package's)")
    p.add_argument("--train-fasta", default=None, help="training reference for --curve (default: the bundled chrM example)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    p.add_argument("--note", default=None, help="free-text conditions to record (e.g. machine load)")
    args = p.parse_args(argv)
    if args.n_edits < 2:
        from ledger.errors import InputError

        raise InputError("USAGE", "--n-edits must be at least 2")

    from geno_lewm.eval.fidelity import run_fidelity
    from geno_lewm.package import ModelPackage
    from geno_lewm.resources import example_path
    from geno_lewm.runtime import configure_determinism
    from geno_lewm.scoring.netguard import no_network

    configure_determinism(args.seed)
    with no_network():
        pkg = ModelPackage.load(args.model_dir, device=args.device)
        t0 = time.perf_counter()
        doc = run_fidelity(pkg, args.fasta, n_edits=args.n_edits, seed=args.seed, regions=args.regions, resamples=args.bootstrap)
        doc["seconds"] = round(time.perf_counter() - t0, 1)
        if args.curve:
            doc["curve"] = curve(
                Path(args.model_dir),
                args.fasta,
                args.train_fasta or str(example_path("rCRS_chrM.fa")),
                args.curve_sizes,
                **flag_kwargs(args, "n_edits", "seed", "regions"),
                resamples=args.bootstrap,
                steps=args.curve_steps,
            )
    doc["machine"] = machine()
    if args.note:
        doc["note"] = args.note
    note_stand_in(doc, pkg.stand_in)
    return finish(
        args.output_json,
        doc,
        (
            f"{t:>5}: n={m['n']} mse {m['mse']:.4f} vs source {m['source_state_mse']:.4f} (ratio {m['mse_ratio']:.3f}), "
            f"cosine {m['cosine']:.4f} vs {m['source_state_cosine']:.4f}, spearman {m['spearman']:.3f} {m['spearman_ci']}"
            for t, m in doc["tracks"].items()
        ),
    )


main = command(_main, "Run the fidelity benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
