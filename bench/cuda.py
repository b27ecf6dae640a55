"""CUDA paths at a real model size: ``python -m bench.cuda --package-dir DIR [--output-json F]``.

Where a GPU is lent, this runs what a Carbon-500M user runs on it, for real, and records the device:

1. **Builds a Carbon-500M-shaped encoder** in ``DIR/encoder-random``: a Llama causal LM with the
   shapes of ``bench.carbon_shape`` (about 0.5 B parameters), **randomly initialised** (no weights,
   no network) and flagged as a stand-in, so every score made with it says it has no biological skill.
2. **Encoder throughput at 8 kb windows** through the scorer's own encoder (``CarbonEncoder``,
   bf16 on CUDA) at several batch sizes: windows/s, achieved TFLOP/s (analytic FLOPs of the decoder
   stack), peak device memory; beside it the rate when the whole states are copied to the host.
3. **A bf16 training run** (``train_run``: bf16 autocast on CUDA) of the first experiment's predictor
   (``configs/first_experiment/train-carbon-500m-snv.yaml``) at ``--window-bp``, shortened to
   ``--train-steps`` steps on ``--train-snvs`` synthetic SNVs of a seeded synthetic reference
   (``--reference-kb``; chrM holds only two 8 kb split blocks), then calibrated:
   the result is a real, scoreable model package in ``DIR/package`` for ``bench.inference --device
   cuda``. Encode windows/s, training examples/s and seconds per optimiser step are recorded.

Random weights: timing evidence only; the package's held-out figures mean nothing and say so.
On a machine without CUDA it runs on the CPU at whatever (small) shape is asked, which is how it is
rehearsed and tested.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import command_line, finish, host_basics
from ledger.clikit import ArgumentParser, command

CLAIM = "Random-initialised encoder at Carbon-500M-like shapes: timing and memory evidence only; its scores and held-out figures carry no biological skill."
RANDOM_SENTENCE = "Random-initialised Carbon-500M-shaped encoder (stand-in): timing evidence only, no biological skill."


def write_random_carbon(
    out_dir: Path, *, hidden: int, layers: int, heads: int, kv_heads: int, intermediate: int, window_bp: int, device: str, seed: int = 0
) -> Path:
    """Write a randomly initialised Carbon-layout checkpoint (tokenizer + safetensors) flagged as a stand-in."""
    import torch
    from transformers import LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    from bench.carbon_shape import _llama_config
    from geno_lewm.encoder.tiny import _tokenizer_files, tiny_vocab
    from geno_lewm.encoder.tokenizer import CarbonDNATokenizer

    out_dir.mkdir(parents=True, exist_ok=False)
    vocab = tiny_vocab()
    for name, payload in _tokenizer_files(vocab).items():
        (out_dir / name).write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tok = CarbonDNATokenizer.from_dir(out_dir)
    cfg = _llama_config(tok, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, intermediate=intermediate, window_bp=window_bp)
    cfg.bos_token_id, cfg.eos_token_id = vocab["<s>"], vocab["</s>"]
    cfg.geno_lewm_stand_in = True
    cfg.geno_lewm_encoder_id = f"carbon-shaped-random-h{hidden}-l{layers}"
    cfg.geno_lewm_revision = f"random-seed{seed}"
    cfg.geno_lewm_note = RANDOM_SENTENCE
    torch.manual_seed(seed)
    with torch.device(device):
        model = LlamaForCausalLM(cfg).eval()
    hf_logging.disable_progress_bar()
    model.save_pretrained(out_dir)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return out_dir


def _stage(t0: float, text: str) -> None:
    """One progress line on stderr with the seconds since ``t0`` (a long device run shows where it is)."""
    print(f"[{time.perf_counter() - t0:7.1f}s] {text}", file=sys.stderr, flush=True)


def _windows(window_bp: int, n: int) -> list[str]:
    """``n`` windows of ``window_bp`` cut from the bundled chrM at spread offsets."""
    from geno_lewm.resources import example_path

    lines = example_path("rCRS_chrM.fa").read_text(encoding="utf-8").splitlines()
    seq = "".join(x.strip() for x in lines if not x.startswith(">")).upper()
    span = len(seq) - window_bp + 1
    if span <= 0:
        seq = seq * (window_bp // len(seq) + 2)
        span = len(seq) - window_bp + 1
    return [seq[(i * 997) % span :][:window_bp] for i in range(n)]


def encoder_throughput(encoder_dir: Path, *, device: str, window_bp: int, batch_sizes: list[int], reps: int) -> dict[str, Any]:
    """Time ``CarbonEncoder.hidden_states`` (last layer) at each batch size; windows/s and achieved TFLOP/s."""
    import torch

    from geno_lewm.encoder.carbon import CarbonEncoder

    enc = CarbonEncoder.load(encoder_dir, device=device)
    cfg = json.loads((encoder_dir / "config.json").read_text(encoding="utf-8"))
    h, layers, inter = int(cfg["hidden_size"]), int(cfg["num_hidden_layers"]), int(cfg["intermediate_size"])
    heads, kv = int(cfg["num_attention_heads"]), int(cfg["num_key_value_heads"])
    wins = _windows(window_bp, max(batch_sizes))
    tokens = len(enc.tokenizer.encode_window(wins[0]))
    per_layer = h * h * 2 + 2 * h * (h * kv // heads) + 3 * h * inter  # q,o + k,v + gate,up,down weights
    flops = 2 * tokens * layers * per_layer + 4 * layers * tokens * tokens * h  # matmuls + QKᵀ and AV (no LM head)
    rows = []
    if enc.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def timed(call, b: int) -> list[float]:
        call(wins[:b], enc.num_layers)  # warm-up (kernels, allocator)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            call(wins[:b], enc.num_layers)
            if enc.device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t)
        return times

    for b in batch_sizes:
        kept = timed(enc.device_hidden_states, b)  # what the scorer runs: the states stay on the device
        host = timed(enc.hidden_states, b)  # the host API: the whole (B, T, H) float32 states copied back
        s, s_host = statistics.median(kept), statistics.median(host)
        rows.append(
            {
                "batch_windows": b,
                "s_per_call": round(s, 5),
                "windows_per_s": round(b / s, 2),
                "achieved_tflops": round(b * flops / s / 1e12, 2),
                "samples": [round(x, 5) for x in kept],
                "host_copy_windows_per_s": round(b / s_host, 2),
                "host_copy_samples": [round(x, 5) for x in host],
            }
        )
    peak = round(torch.cuda.max_memory_allocated() / 2**20, 1) if enc.device.type == "cuda" else None
    return {
        "what": "CarbonEncoder.device_hidden_states (last layer; the scorer's path, states kept on the device) on window_bp windows, median of reps calls after one warm-up; host_copy_*: hidden_states, the same states copied to the host",
        "dtype": str(enc.dtype).removeprefix("torch."),
        "tokens_per_window": tokens,
        "flops_per_window": flops,
        "parameters": sum(p.numel() for p in enc.model.parameters()),
        "batches": rows,
        "peak_device_memory_mib": peak,
    }


def train_package(encoder_dir: Path, package: Path, reference: Path, *, device: str, window_bp: int, steps: int, snvs: int, calib_null: int) -> dict[str, Any]:
    """Train (bf16 autocast on CUDA) and calibrate a package with the first experiment's recipe, shortened.

    ``reference`` is long enough for a region split at ``window_bp`` blocks (chrM holds only two).
    """
    import msgspec

    from geno_lewm.resources import config_path
    from geno_lewm.scoring.calibrate import calibrate_package
    from geno_lewm.train.config import config_hash, load_config
    from geno_lewm.train.loop import train_run

    cfg = load_config(config_path("first_experiment/train-carbon-500m-snv.yaml"))
    data = {"use_vcf": False, "synthetic_snvs": snvs, "split_block_bp": window_bp, "heldout_fraction": 0.2, "encode_batch_size": 32}
    rep = msgspec.structs.replace
    cfg = rep(
        cfg,
        runtime=rep(cfg.runtime, device=device),
        state=rep(cfg.state, window_bp=window_bp),
        optim=rep(cfg.optim, steps=steps, warmup_steps=max(1, steps // 10)),
        data=rep(cfg.data, **data),
        checkpoint=rep(cfg.checkpoint, every_steps=steps, log_every=max(1, steps // 4)),
    )
    t0 = time.perf_counter()
    rec = train_run(
        cfg,
        model_dir=encoder_dir,
        run_dir=package,
        fasta=reference,
        vcf=None,
        device=device,
        progress=False,
    )
    train_wall = time.perf_counter() - t0
    shutil.rmtree(package / "window_cache", ignore_errors=True)
    t1 = time.perf_counter()
    calibrate_package(package, reference, n_null=calib_null, seed=0, min_count=30, device=device)
    t = rec["timing"]
    train_s = float(t["train_seconds"])
    return {
        "config": {
            "file": "configs/first_experiment/train-carbon-500m-snv.yaml",
            "overrides": {"window_bp": window_bp, "steps": steps, **data},
            "reference": reference.name,
            "hash": config_hash(cfg),
            "batch_size": cfg.optim.batch_size,
        },
        "precision": rec["precision"],
        "device": rec["device"],
        "model_id": rec["model_id"],
        "encode_windows": t["encode_windows"],
        "encode_windows_per_s": round(t["encode_windows"] / max(float(t["encode_seconds"]), 1e-9), 2),
        "train_examples": t["train_examples"],
        "train_examples_per_s": round(t["train_examples"] / max(train_s, 1e-9), 1),
        "seconds_per_step": round(train_s / steps, 5),
        "train_run_wall_seconds": round(train_wall, 2),
        "calibration_seconds": round(time.perf_counter() - t1, 2),
        "calibration_null": calib_null,
        "heldout_meaningless": rec["heldout"],
    }


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(
        prog="python -m bench.cuda", description="CUDA paths at a Carbon-500M-like size: encoder throughput, a bf16 training run, a scoreable package."
    )
    p.add_argument("--package-dir", required=True, help="an empty or new folder: the random encoder and the trained package are written here")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--window-bp", type=int, default=8004, help="window length (a multiple of 6, the k-mer size; default 8,004 bp, the first at or past 8 kb)")
    p.add_argument("--hidden", type=int, default=1280)
    p.add_argument("--layers", type=int, default=24)
    p.add_argument("--heads", type=int, default=20)
    p.add_argument("--kv-heads", type=int, default=20)
    p.add_argument("--intermediate", type=int, default=3584)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--train-snvs", type=int, default=256, help="synthetic SNVs to train on (each encodes its edited window into the window cache)")
    p.add_argument("--calib-null", type=int, default=300)
    p.add_argument("--reference-kb", type=int, default=400, help="kilobases of the seeded synthetic reference trained and calibrated on")
    p.add_argument("--seed", type=int, default=20260501, help="seed of the synthetic reference")
    p.add_argument("--output-json", default="bench/results/cuda_carbon_shape.json")
    args = p.parse_args(argv)

    import torch

    from geno_lewm.runtime import resolve_device

    device = resolve_device(args.device).type
    root = Path(args.package_dir)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    _stage(t0, f"building a random {args.hidden}x{args.layers} encoder on {device}")
    enc_dir = write_random_carbon(
        root / "encoder-random",
        hidden=args.hidden,
        layers=args.layers,
        heads=args.heads,
        kv_heads=args.kv_heads,
        intermediate=args.intermediate,
        window_bp=args.window_bp,
        device=device,
    )
    build_s = time.perf_counter() - t0
    _stage(t0, "encoder written; timing encoder batches")
    throughput = encoder_throughput(enc_dir, device=device, window_bp=args.window_bp, batch_sizes=args.batch_sizes, reps=args.reps)
    from bench.synth import write_reference

    _stage(t0, f"encoder timed ({max(r['windows_per_s'] for r in throughput['batches'])} windows/s at best); training")
    reference = write_reference(root / "reference.fa", total_bp=args.reference_kb * 1000, seed=args.seed)
    try:
        training = train_package(
            enc_dir,
            root / "package",
            reference,
            device=device,
            window_bp=args.window_bp,
            steps=args.train_steps,
            snvs=args.train_snvs,
            calib_null=args.calib_null,
        )
    except Exception as exc:  # noqa: BLE001 -- the encoder figures above are still evidence: record the failure beside them
        training = {"error": f"{type(exc).__name__}: {exc}"}
    _stage(t0, "trained and calibrated" if "error" not in training else f"training failed: {training['error']}")
    gpu = None
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        gpu = {"name": props.name, "capability": f"{props.major}.{props.minor}", "memory_gib": round(props.total_memory / 2**30, 1), "cuda": torch.version.cuda}
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.cuda",
        "stand_in": True,
        "random_init": True,
        "claim_boundary": CLAIM,
        "device": device,
        "gpu": gpu,
        "machine": {**host_basics(), "torch": torch.__version__},
        "encoder_shape": {"hidden": args.hidden, "layers": args.layers, "heads": args.heads, "kv_heads": args.kv_heads, "intermediate": args.intermediate},
        "window_bp": args.window_bp,
        "encoder_build_seconds": round(build_s, 2),
        "encoder_throughput": throughput,
        "training": training,
        "package": "package (under --package-dir)",
        "seconds": round(time.perf_counter() - t0, 1),
        "command": command_line("bench.cuda", argv),
    }
    best = max(throughput["batches"], key=lambda r: r["windows_per_s"])
    if "error" in training:
        finish(args.output_json, doc, [f"training failed: {training['error']}"])
        return 1
    return finish(
        args.output_json,
        doc,
        (
            f"device {gpu['name'] if gpu else device}: encoder {best['windows_per_s']} windows/s at batch {best['batch_windows']} ({best['achieved_tflops']} TFLOP/s, {throughput['dtype']})",
            f"training ({training['precision']}): {training['train_examples_per_s']} examples/s, {training['seconds_per_step']} s/step; encode {training['encode_windows_per_s']} windows/s",
            f"package {root / 'package'} (model {training['model_id'][:12]})",
        ),
    )


main = command(_main, "Run the CUDA benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
