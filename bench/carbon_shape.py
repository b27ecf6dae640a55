"""Encoder vs predictor cost at a real model size: a Carbon-500M-shaped encoder on 8 kb windows.

``python -m bench.carbon_shape [--fasta examples/rCRS_chrM.fa] [--windows 2] [--output-json bench/results/carbon_shape.json]``

The encoder is a Llama causal LM **randomly initialised** from Carbon-500M-like shapes (no weights,
no network; the repository holds no Carbon config, so the shapes are the assumed ``--hidden``,
``--layers``, ``--heads``, ``--intermediate`` defaults, about 0.5 B parameters, and are recorded).
The predictor and action encoder are built from ``configs/first_experiment/train-carbon-500m-snv.yaml``
(state width = the encoder's hidden size). Measured on the same machine, in one run:

- encoder seconds per ``--window-bp`` window (one window per call, the state-contract layer);
- predictor seconds per variant (fixed 64-row predictor calls, as ``geno-lewm-score`` runs them);
- FLOPs of one encoder pass (analytic: 2 × tokens × weights + 4 × layers × tokens² × hidden) and of
  one 64-row predictor call (``torch.utils.flop_counter``);

and the same three for the tiny stand-in shapes at their 600 bp windows, so the encoder/predictor
ratio that decides the world model's advantage can be read beside the stand-in's. From these it
derives the per-variant cost of GenoLeWM (one encoder pass per window shared by the window's variants
+ one predictor row) and of the zero-shot baseline (one encoder pass per ALT + the REF window's), and
their ratio at one variant per window (sparse) and at saturation (every SNV of the window's central
half: 3 × window_bp / 2 ALTs). Random weights: timing and FLOPs only, no model-quality meaning.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import command_line, finish, host_basics
from ledger.clikit import ArgumentParser, command

CLAIM = "Random-initialised weights at Carbon-500M-like shapes: timing and FLOP evidence only, not model-quality evidence."


def _tokenizer():
    """The Carbon DNA tokenizer files of the stand-in (same token scheme as Carbon), in a temp dir."""
    import tempfile

    from geno_lewm.encoder.tiny import _tokenizer_files, tiny_vocab
    from geno_lewm.encoder.tokenizer import CarbonDNATokenizer

    d = Path(tempfile.mkdtemp(prefix="carbon-shape-tok-"))
    for name, payload in _tokenizer_files(tiny_vocab()).items():
        (d / name).write_text(json.dumps(payload), encoding="utf-8")
    return CarbonDNATokenizer.from_dir(d)


def _llama_config(tok, *, hidden: int, layers: int, heads: int, kv_heads: int, intermediate: int, window_bp: int):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=max(tok.vocab_size, 4096),
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=window_bp // 2 + 64,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        pad_token_id=tok.pad_id,
    )


def _flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def measure_shape(
    name: str, tok, cfg, *, window_bp: int, windows: list[str], action_dim: int, predictor: dict[str, int], predictor_samples: int
) -> dict[str, Any]:
    """Time encoder passes and 64-row predictor calls for one shape; count FLOPs on ``meta``."""
    import torch
    from transformers import LlamaForCausalLM

    from geno_lewm.edits import EditSpec
    from geno_lewm.model.action import ActionEncoder
    from geno_lewm.model.config import ActionConfig, PredictorConfig
    from geno_lewm.model.predictor import Predictor
    from geno_lewm.scoring.scorer import PREDICTOR_BATCH

    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).eval().requires_grad_(False)
    params = sum(p.numel() for p in model.parameters())
    acfg = ActionConfig(dim=action_dim, max_allele_len=16, window_bp=window_bp, k=tok.k)
    pcfg = PredictorConfig(state_dim=cfg.hidden_size, action_dim=action_dim, **predictor)
    action, pred = ActionEncoder(acfg).eval().requires_grad_(False), Predictor(pcfg).eval().requires_grad_(False)
    rows = [tok.encode_window(w) for w in windows]

    def encode(ids: list[int]) -> None:
        with torch.inference_mode():
            model(input_ids=torch.tensor([ids]), output_hidden_states=True, use_cache=False)

    enc_t = []
    for ids in rows:
        t = time.perf_counter()
        encode(ids)
        enc_t.append(time.perf_counter() - t)
    edits = [EditSpec.from_vcf(0, window_bp // 2 + i % 97, "A", "C") for i in range(PREDICTOR_BATCH)]
    src = torch.randn(PREDICTOR_BATCH, cfg.hidden_size)  # (P, D)

    def predict() -> None:
        with torch.inference_mode():
            pred(src.unsqueeze(1), action.embed(edits))  # (P, D)

    predict()
    pred_t = []
    for _ in range(predictor_samples):
        t = time.perf_counter()
        predict()
        pred_t.append(time.perf_counter() - t)
    tokens = len(rows[0])
    linear = params - model.get_input_embeddings().weight.numel()  # every weight a token multiplies (lm_head included)
    f_enc = 2 * tokens * linear + 4 * cfg.num_hidden_layers * tokens * tokens * cfg.hidden_size  # matmuls + full QKᵀ and AV
    f_pred = _flops(predict)
    del model
    enc_s = statistics.median(enc_t)
    pred_s = statistics.median(pred_t) / PREDICTOR_BATCH
    sat = 3 * window_bp // 2  # every SNV of the window's central half (the tile it owns)
    return {
        "name": name,
        "encoder": {
            "hidden": cfg.hidden_size,
            "layers": cfg.num_hidden_layers,
            "heads": cfg.num_attention_heads,
            "kv_heads": cfg.num_key_value_heads,
            "intermediate": cfg.intermediate_size,
            "vocab": cfg.vocab_size,
            "parameters": params,
        },
        "predictor": {**predictor, "state_dim": cfg.hidden_size, "action_dim": action_dim},
        "window_bp": window_bp,
        "tokens_per_window": len(rows[0]),
        "encoder_s_per_window": {"median": round(enc_s, 4), "samples": [round(x, 4) for x in enc_t]},
        "predictor_s_per_variant": {"median": round(pred_s, 7), "call_rows": PREDICTOR_BATCH, "samples": predictor_samples},
        "flops_per_encoder_pass": f_enc,
        "flops_per_predictor_row": f_pred // PREDICTOR_BATCH,
        "time_ratio_encoder_pass_to_predictor_row": round(enc_s / pred_s, 1),
        "flop_ratio_encoder_pass_to_predictor_row": round(f_enc / max(1, f_pred // PREDICTOR_BATCH), 1),
        "derived": {
            "what": "per-variant model cost from the timings: GenoLeWM = encoder/v + predictor row; baseline = encoder (ALT) + encoder/v (REF), v = variants per window",
            "sparse_1_per_window": {
                "world_model_s": round(enc_s + pred_s, 5),
                "baseline_s": round(2 * enc_s, 5),
                "ratio": round(2 * enc_s / (enc_s + pred_s), 2),
            },
            f"saturation_{sat}_per_window": {
                "world_model_s": round(enc_s / sat + pred_s, 7),
                "baseline_s": round(enc_s + enc_s / sat, 5),
                "ratio": round((enc_s + enc_s / sat) / (enc_s / sat + pred_s), 1),
            },
        },
    }


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(
        prog="python -m bench.carbon_shape", description="Encoder vs predictor cost at Carbon-500M-like shapes on 8 kb windows, beside the tiny stand-in's."
    )
    p.add_argument("--fasta", default=None, help="windows are cut from this FASTA (default: the bundled chrM example)")
    p.add_argument("--window-bp", type=int, default=8000)
    p.add_argument("--windows", type=int, default=2, help="8 kb windows to encode (one per call)")
    p.add_argument("--hidden", type=int, default=1280)
    p.add_argument("--layers", type=int, default=24)
    p.add_argument("--heads", type=int, default=20)
    p.add_argument("--kv-heads", type=int, default=20)
    p.add_argument("--intermediate", type=int, default=3584)
    p.add_argument("--predictor-samples", type=int, default=20)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--output-json", default="bench/results/carbon_shape.json")
    args = p.parse_args(argv)

    from geno_lewm.runtime import prefer_passive_threads

    prefer_passive_threads()
    import msgspec
    import pysam
    import torch

    from geno_lewm.resources import config_path, example_path
    from geno_lewm.train.config import load_config

    if args.threads:
        torch.set_num_threads(args.threads)
    fasta = args.fasta or str(example_path("rCRS_chrM.fa"))
    with pysam.FastaFile(fasta) as fa:
        seq = "".join(fa.fetch(c) for c in fa.references).upper()
    if len(seq) < args.window_bp:
        raise SystemExit("the FASTA is shorter than one window")
    windows = [seq[(i * args.window_bp) % (len(seq) - args.window_bp + 1) :][: args.window_bp] for i in range(args.windows)]
    tok = _tokenizer()
    train = load_config(config_path("first_experiment/train-carbon-500m-snv.yaml"))
    pr = msgspec.to_builtins(train.predictor)
    predictor = {k: int(pr[k]) for k in ("d_model", "depth", "heads", "mlp_ratio", "history")}
    big_cfg = _llama_config(
        tok, hidden=args.hidden, layers=args.layers, heads=args.heads, kv_heads=args.kv_heads, intermediate=args.intermediate, window_bp=args.window_bp
    )
    t0 = time.perf_counter()
    big = measure_shape(
        "carbon-500m-shaped",
        tok,
        big_cfg,
        window_bp=args.window_bp,
        windows=windows,
        action_dim=int(train.action.dim),
        predictor=predictor,
        predictor_samples=args.predictor_samples,
    )
    small_cfg = _llama_config(tok, hidden=64, layers=2, heads=4, kv_heads=2, intermediate=128, window_bp=600)
    small = measure_shape(
        "tiny-stand-in-shaped",
        tok,
        small_cfg,
        window_bp=600,
        windows=[w[:600] for w in windows] * 5,
        action_dim=64,
        predictor={"d_model": 96, "depth": 2, "heads": 4, "mlp_ratio": 2, "history": 1},
        predictor_samples=args.predictor_samples,
    )
    one, five, fifteen = os.getloadavg()
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.carbon_shape",
        "stand_in": False,
        "random_init": True,
        "shapes_note": "Carbon-500M-like shapes assumed (the repository carries no Carbon config): override with --hidden/--layers/--heads/--kv-heads/--intermediate; predictor from configs/first_experiment/train-carbon-500m-snv.yaml.",
        "shapes": [big, small],
        "seconds": round(time.perf_counter() - t0, 1),
        "machine": {**host_basics(), "torch": torch.__version__.split("+")[0], "torch_threads": torch.get_num_threads(), "device": "cpu", "dtype": "float32"},
        "load": {"loadavg_1m": round(one, 2), "loadavg_5m": round(five, 2), "loadavg_15m": round(fifteen, 2)},
        "command": command_line("bench.carbon_shape", argv),
        "claim_boundary": CLAIM,
    }
    return finish(
        args.output_json,
        doc,
        (
            f"{s['name']}: encoder {s['encoder_s_per_window']['median']} s/window ({s['window_bp']} bp), predictor {s['predictor_s_per_variant']['median'] * 1e6:.1f} µs/variant → encoder pass = {s['time_ratio_encoder_pass_to_predictor_row']}× a predictor row (FLOPs {s['flop_ratio_encoder_pass_to_predictor_row']}×)"
            for s in (big, small)
        ),
    )


main = command(_main, "Run the Carbon-shape benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
