"""``geno-lewm-demo``: the embedded default — build (once) a tiny stand-in model and score the examples.

First run: builds the tiny stand-in encoder, trains a short real predictor run on the bundled chrM
example with the learning recipe (``configs/train-tiny-cpu-context.yaml``: edit context, tile
placement; rfcs/RFC-0014-world-model-fidelity.md), calibrates it, all into ``--workdir`` (default
``./geno-lewm-workspace/demo``). Every run: the terminal demo scores ``examples/`` with the real
score command, verifies the receipts and prints a table. The model is a clearly labelled
**stand-in with no biological skill**: the demo shows the workflow, not model quality.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from ledger.clikit import ArgumentParser, command

from geno_lewm.numerics_mode import add_numerics_flag

DEFAULT_WORKDIR = Path("geno-lewm-workspace") / "demo"
#: Predictor training steps of the embedded demo model (the recipe's own: about a minute on 2 CPU cores).
DEMO_TRAIN_STEPS = 350
#: The demo model's training config (bundled).
DEMO_CONFIG = "train-tiny-cpu-context.yaml"


def ensure_demo_model(workdir: str | os.PathLike[str], *, rebuild: bool = False, log=None) -> Path:
    """The demo model package in ``workdir/model``: reused when it verifies, else built and calibrated."""
    import msgspec

    from geno_lewm.encoder.tiny import build_tiny_carbon
    from geno_lewm.package import verify_package
    from geno_lewm.resources import config_path, example_path
    from geno_lewm.scoring.calibrate import calibrate_package
    from geno_lewm.train.config import load_config
    from geno_lewm.train.loop import train_run
    from ledger.errors import GenoError

    say = log or (lambda text: print(text, file=sys.stderr))
    work = Path(workdir)
    model = work / "model"
    if model.is_dir() and not rebuild:
        try:
            man = verify_package(model)
            if any(a["role"] == "calibration" for a in man["artifacts"]):
                say(f"reusing the demo model in {model}")
                return model
        except GenoError:
            pass
        say("the demo model is incomplete or changed; rebuilding it")
    partial = work / ".build"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    t0 = time.perf_counter()
    say("building the tiny stand-in encoder (no biological skill) …")
    enc = build_tiny_carbon(partial / "encoder", seed=0, pretrain_steps=0)
    cfg = load_config(config_path(DEMO_CONFIG))
    cfg = msgspec.structs.replace(
        cfg, runtime=msgspec.structs.replace(cfg.runtime, device="cpu"), optim=msgspec.structs.replace(cfg.optim, steps=min(cfg.optim.steps, DEMO_TRAIN_STEPS))
    )
    say(f"training the predictor for {cfg.optim.steps} steps on the bundled chrM example …")
    train_run(
        cfg,
        model_dir=enc,
        run_dir=partial / "model",
        fasta=example_path("rCRS_chrM.fa"),
        vcf=example_path("mt_known_variants.vcf"),
        device="cpu",
        progress=False,
    )
    shutil.rmtree(partial / "model" / "window_cache", ignore_errors=True)
    say("calibrating on null SNVs from the held-out regions …")
    calibrate_package(
        partial / "model", example_path("rCRS_chrM.fa"), n_null=600, seed=0, min_count=30, exclude_vcf=example_path("mt_known_variants.vcf"), device="cpu"
    )
    shutil.rmtree(model, ignore_errors=True)
    os.replace(partial / "model", model)
    shutil.rmtree(partial, ignore_errors=True)
    say(f"demo model ready in {time.perf_counter() - t0:.1f}s")
    return model


def render_table(manifest: dict, scores_path: Path) -> None:
    """Print the demo's score rows as a rich table (plain text without a terminal / NO_COLOR)."""
    from rich.console import Console
    from rich.table import Table

    rows = [json.loads(line) for line in scores_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    verified = manifest.get("score_receipt_batch", {}).get("verified", {})
    title = "GenoLeWM demo — STAND-IN model (no biological skill)" if manifest.get("stand_in") else "GenoLeWM demo"
    table = Table(
        title=title,
        caption=f"receipts verified: {verified.get('receipts', 0)}/{len(rows)} ✓ · model {manifest['model_id'][:16]}… · {manifest['model']['release_id']}",
    )
    for col, just in (("variant", "left"), ("score", "right"), ("percentile", "right"), ("bucket", "left"), ("confidence", "right"), ("receipt", "center")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        ok = r["error_code"] is None
        table.add_row(
            f"{r['chrom']}:{r['pos']} {r['ref']}>{r['alt']}",
            f"{r['score']:.4f}" if ok else "—",
            f"{r['percentile']:.1f}" if r["percentile"] is not None else "—",
            r["bucket"] or r["error_code"],
            f"{r['confidence']:.2f}" if r["confidence"] is not None else "—",
            "✓" if ok and verified.get("ok") else "—",
        )
    console = Console(no_color=bool(os.environ.get("NO_COLOR")))
    console.print(table)
    console.print("Scores are predicted latent shifts from a stand-in model; model-quality claims require the published evaluation report.")


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(prog="geno-lewm-demo", description="Build (once) a tiny stand-in GenoLeWM model and score the bundled examples with verified receipts.")
    p.add_argument("--workdir", default=str(DEFAULT_WORKDIR), help=f"workspace for the demo model and outputs (default {DEFAULT_WORKDIR})")
    p.add_argument("--rebuild", action="store_true", help="rebuild the demo model even if one exists")
    p.add_argument("--json", action="store_true", help="print the terminal demo manifest as JSON instead of the table")
    add_numerics_flag(p)
    args = p.parse_args(argv)
    from geno_lewm.resources import example_path
    from geno_lewm.scoring.demo_run import SCORES, run_terminal_demo

    work = Path(args.workdir)
    model = ensure_demo_model(work, rebuild=args.rebuild)
    out = work / "terminal_demo"
    man = run_terminal_demo(
        model, example_path("mt_known_variants.vcf"), example_path("rCRS_chrM.fa"), out, artifact_root=Path.cwd(), device="cpu", numerics=args.numerics
    )
    if args.json:
        print(json.dumps(man, indent=2, sort_keys=True))
    else:
        render_table(man, out / SCORES)
        print(f"outputs in {out} (transcript: terminal_demo_transcript.md)", file=sys.stderr)
    return 0 if man["status"] == "passed" else 9


main = command(_main, "Run ``geno-lewm-demo`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
