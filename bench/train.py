"""Training throughput of the tiny stand-in on CPU: ``python -m bench.train``.

Builds the stand-in encoder in a temporary directory, trains with configs/train-tiny-cpu.yaml on
the bundled chrM example, and writes bench/results/train_throughput.json (windows/s encoded,
examples/s trained, wall time). The figures describe the stand-in, not real Carbon.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench.report import write_json


def run(out: Path, *, steps: int | None = None) -> dict:
    """Run the benchmark and write its JSON to ``out``; return the document."""
    import msgspec
    import torch

    from geno_lewm import __version__
    from geno_lewm.encoder.tiny import STAND_IN_SENTENCE, build_tiny_carbon
    from geno_lewm.resources import config_path, example_path
    from geno_lewm.train.config import config_hash, load_config
    from geno_lewm.train.loop import train_run

    cfg = load_config(config_path("train-tiny-cpu.yaml"))
    if steps:
        cfg = msgspec.structs.replace(cfg, optim=msgspec.structs.replace(cfg.optim, steps=steps))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        model = build_tiny_carbon(Path(tmp) / "tiny", pretrain_steps=40)
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        rec = train_run(
            cfg,
            model_dir=model,
            run_dir=Path(tmp) / "run",
            fasta=example_path("rCRS_chrM.fa"),
            vcf=example_path("mt_known_variants.vcf"),
            device="cpu",
            progress=False,
        )
        wall = time.perf_counter() - t1
    t = rec["timing"]
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.train",
        "stand_in": True,
        "note": STAND_IN_SENTENCE,
        "geno_lewm_version": __version__,
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "config": {"file": "configs/train-tiny-cpu.yaml", "hash": config_hash(cfg), "steps": cfg.optim.steps, "batch_size": cfg.optim.batch_size},
        "figures": {
            "encoder_build_seconds": round(build_s, 3),
            "encode_windows": t["encode_windows"],
            "encode_windows_per_s": round(t["encode_windows"] / float(t["encode_seconds"]), 1),
            "train_examples": t["train_examples"],
            "train_examples_per_s": round(t["train_examples"] / float(t["train_seconds"]), 1),
            "train_run_wall_seconds": round(wall, 3),
        },
    }
    write_json(out, doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    """CLI entry: print the figures and write the JSON."""
    p = argparse.ArgumentParser(prog="python -m bench.train", description=__doc__.splitlines()[0])
    p.add_argument("--output", default=str(Path(__file__).resolve().parent / "results" / "train_throughput.json"))
    p.add_argument("--steps", type=int, help="override optim.steps")
    args = p.parse_args(argv)
    doc = run(Path(args.output), steps=args.steps)
    print(json.dumps(doc["figures"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
