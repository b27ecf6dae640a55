"""The training run: precompute states with the frozen encoder, fit action encoder + predictor, package.

Because the encoder is frozen, every source/target latent is computed once up front (through the
window cache and :func:`geno_lewm.state.encode_states`, the same path scoring uses). Each step then
draws its batch, SIGReg projections and dropout from seeds derived from (run seed, step), so a run
resumed from a checkpoint continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from ledger.errors import TrainingError
from ledger.fsutil import atomic_path, atomic_write_text

from geno_lewm.train.config import TrainConfig, config_hash, dump_yaml
from geno_lewm.train.resume import CHECKPOINT_NAME, check_resume_identity, load_checkpoint, save_checkpoint

GENERATED_BY = "geno-lewm-train"
RUN_RECORD = "training_run.json"
RUN_SCHEMA_VERSION = "1.0.0"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_json(path: Path, doc: dict) -> None:
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")


class _Log:
    """train.log + metrics.jsonl writers (append-only streams, flushed per line)."""

    def __init__(self, run_dir: Path) -> None:
        self.log = open(run_dir / "train.log", "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.metrics = open(run_dir / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115

    def line(self, text: str) -> None:
        self.log.write(f"{_now()} {text}\n")
        self.log.flush()

    def metric(self, row: dict) -> None:
        self.metrics.write(json.dumps(row, sort_keys=True) + "\n")
        self.metrics.flush()

    def close(self) -> None:
        self.log.close()
        self.metrics.close()


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Learning rate at 1-based ``step``: linear warm-up, then cosine decay to 10 % of the peak."""
    o = cfg.optim
    if o.warmup_steps and step <= o.warmup_steps:
        return o.lr * step / o.warmup_steps
    span = max(1, o.steps - o.warmup_steps)
    frac = min(1.0, (step - o.warmup_steps) / span)
    return o.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def base_version(version: str) -> str:
    """``0.1.0a1`` → ``0.1.0`` (release ids carry plain MAJOR.MINOR.PATCH)."""
    m = re.match(r"^(\d+\.\d+\.\d+)", version)
    return m.group(1) if m else "0.0.0"


def _precompute(encoder, contract, examples, cache, batch: int, *, with_scales: bool = False):
    """Source and target latents for every example: (N, D), (N, D).

    ``with_scales`` adds the sources' pre-normalisation scales (N,) (``geno_lewm.state.pool_scales``).
    """
    import torch

    from geno_lewm.state import encode_states

    src, tgt, scl = [], [], []
    for i in range(0, len(examples), batch):
        chunk = examples[i : i + batch]
        loci = [e.edit.locus for e in chunk]
        s, sc = encode_states(encoder, contract, [e.window for e in chunk], loci, cache=cache, with_scales=True)  # (b, D), (b,)
        src.append(s)
        scl.append(sc)
        tgt.append(encode_states(encoder, contract, [e.edited for e in chunk], loci, cache=cache))  # (b, D)
    if with_scales:
        return torch.cat(src), torch.cat(tgt), torch.cat(scl)  # (N, D), (N, D), (N,)
    return torch.cat(src), torch.cat(tgt)  # (N, D), (N, D)


def build_modules(cfg: TrainConfig, *, state_dim: int, k: int):
    """Fresh (seeded) action encoder and predictor for ``cfg``; returns (action, predictor, arch dict)."""
    import torch

    from geno_lewm.model.action import ActionEncoder
    from geno_lewm.model.config import ActionConfig, PredictorConfig
    from geno_lewm.model.predictor import Predictor

    acfg = ActionConfig(dim=cfg.action.dim, max_allele_len=cfg.action.max_allele_len, window_bp=cfg.state.window_bp, k=k)
    # The predictor section holds every PredictorConfig field but the two widths that come from the encoder and the action config.
    pcfg = PredictorConfig(state_dim=state_dim, action_dim=acfg.dim, **msgspec.structs.asdict(cfg.predictor))
    torch.manual_seed(cfg.run.seed)
    return ActionEncoder(acfg), Predictor(pcfg), {"action": msgspec.to_builtins(acfg), "predictor": pcfg.to_manifest()}


def loss_terms(cfg: TrainConfig, action_encoder, predictor, src, tgt, acts: dict, *, generator=None, context=None, scale=None) -> dict:
    """Forward pass + loss terms for one batch: {'mse', 'sigreg', 'loss', 'pred'}.

    SIGReg acts on trainable latents (the action embeddings by default, or the predicted states):
    the encoder's own latents are frozen, so a regulariser on them would have no gradient.
    """
    from geno_lewm.model.losses import latent_mse, sigreg

    a = action_encoder(**acts)  # (B, A)
    extra = {"scale": scale} if scale is not None else {}
    pred = predictor(src.unsqueeze(1), a, **extra) if context is None else predictor(src.unsqueeze(1), a, context, **extra)  # (B, D)
    mse = latent_mse(pred, tgt)
    reg_on = a if cfg.loss.sigreg_on == "action" else pred
    reg = sigreg(reg_on.float(), num_projections=cfg.loss.sigreg_projections, knots=cfg.loss.sigreg_knots, generator=generator)
    loss = mse + cfg.loss.sigreg_weight * reg
    if cfg.loss.shift_weight > 0:  # the score is the shift magnitude: fit it directly too
        shift = ((pred - src).norm(dim=-1) - (tgt - src).norm(dim=-1)).pow(2).mean() / src.shape[-1]
        loss = loss + cfg.loss.shift_weight * shift
    return {"mse": mse, "sigreg": reg, "loss": loss, "pred": pred}


def train_run(
    cfg: TrainConfig,
    *,
    model_dir: str | os.PathLike[str],
    run_dir: str | os.PathLike[str],
    fasta: str | os.PathLike[str],
    vcf: str | os.PathLike[str] | None,
    dataset_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    resume_from: str | os.PathLike[str] | None = None,
    stop_after_steps: int | None = None,
    device: str | None = None,
    progress: bool = True,
) -> dict:
    """Run (or resume) training into ``run_dir``; return the final ``training_run.json`` document.

    On completion ``run_dir`` is a model package (manifest.json, encoder/, weights, config).
    ``stop_after_steps`` stops early after writing a checkpoint (an interruption rehearsal).
    """
    from geno_lewm.encoder.carbon import CarbonEncoder
    from geno_lewm.runtime import configure_determinism, resolve_device
    from geno_lewm.train.data import build_examples, dataset_snapshot_id

    t_start = time.perf_counter()
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    record_path = run / RUN_RECORD
    seed = cfg.run.seed
    configure_determinism(seed, threads=cfg.runtime.threads or None, deterministic=cfg.runtime.deterministic)
    dev = resolve_device(device or cfg.runtime.device)
    encoder = CarbonEncoder.load(model_dir, device=dev.type)
    contract = cfg.state
    contract.validate(k=encoder.tokenizer.k, num_layers=encoder.num_layers)
    # the FASTA's .fai goes into the cache directory (working state, never packaged): no symlink
    # into the dataset is left in the run, and nothing is written beside the dataset's FASTA
    work_dir = Path(cache_dir) if cache_dir else run / "window_cache"
    examples, split = build_examples(fasta, vcf, cfg.data, window_bp=contract.window_bp, seed=seed, index_dir=work_dir / "fasta_index")
    identity = {
        "run_id": None,
        "dataset_snapshot_id": dataset_snapshot_id(fasta, vcf, dataset_dir),
        "split_id": split.split_id,
        "seed": seed,
        "config_hash": config_hash(cfg),
    }
    ckpt = None
    if resume_from is not None:
        if not record_path.is_file():
            raise TrainingError("RESUME_MISMATCH", f"the target run directory has no {RUN_RECORD}", "resume into the run directory that wrote the checkpoint")
        record = json.loads(record_path.read_text(encoding="utf-8"))
        identity["run_id"] = record.get("run_id")
        ckpt = load_checkpoint(resume_from)
        check_resume_identity(ckpt, identity)
    else:
        if record_path.is_file() or (run / "manifest.json").is_file():
            raise TrainingError("RUN_EXISTS", f"{run.name} already holds a training run", "use a new --run-dir, or --resume-from its predictor_checkpoint.pt")
        identity["run_id"] = f"{cfg.run.name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
        record = {
            "schema_version": RUN_SCHEMA_VERSION,
            "generated_by": GENERATED_BY,
            **identity,
            "stand_in": encoder.identity.stand_in,
            "encoder": {"id": encoder.identity.encoder_id, "revision": encoder.identity.revision, "hash": encoder.identity.hash},
            "state_contract_hash": contract.hash(),
            "split": split.to_dict(),
            "leakage_check": "passed",
            "device": dev.type,
            "precision": "bf16-autocast" if dev.type == "cuda" else "fp32",
            "started_at": _now(),
            "status": "running",
            "steps_completed": 0,
            "resumed_from": [],
        }
        if encoder.identity.stand_in:
            from geno_lewm.encoder.tiny import STAND_IN_SENTENCE

            record["note"] = STAND_IN_SENTENCE
        _write_json(record_path, record)
    log = _Log(run)
    try:
        return _fit(
            cfg, encoder, examples, split, identity, record, ckpt, run, cache_dir, dev, log, stop_after_steps, progress, resume_from, t_start, dataset_dir
        )
    finally:
        log.close()


def _fit(cfg, encoder, examples, split, identity, record, ckpt, run, cache_dir, dev, log, stop_after_steps, progress, resume_from, t_start, dataset_dir):
    import torch

    from geno_lewm.cache import WindowCache
    from geno_lewm.model.action import edits_to_tensors
    from geno_lewm.runtime import step_seed

    contract = cfg.state
    seed = cfg.run.seed
    cache = WindowCache(Path(cache_dir) if cache_dir else run / "window_cache", encoder_hash=encoder.identity.hash, contract_hash=contract.hash())
    t0 = time.perf_counter()
    src, tgt, scl = _precompute(encoder, contract, examples, cache, cfg.data.encode_batch_size, with_scales=True)  # (N, D), (N, D), (N,)
    encode_s = time.perf_counter() - t0
    n_windows = 2 * len(examples)
    log.line(
        f"encoded {n_windows} windows in {encode_s:.2f}s (cache hits {cache.stats['hits']}, misses {cache.stats['misses']}, rebuilt {cache.stats['rebuilt']})"
    )
    is_train = torch.tensor([e.split == "train" for e in examples])  # (N,)
    acts_all = edits_to_tensors([e.edit for e in examples], _action_cfg(cfg, encoder))
    ctx_all = None
    if cfg.predictor.context_radius >= 0:
        from geno_lewm.model.context import edit_context

        ctx_all, _ = edit_context(
            encoder,
            contract.window_bp,
            [e.window for e in examples],
            [e.edited for e in examples],
            [e.edit.locus for e in examples],
            cfg.predictor.context_radius,
        )  # (N, C, 2D)
    tr = is_train.nonzero().squeeze(1)  # (N_train,)
    ho = (~is_train).nonzero().squeeze(1)  # (N_heldout,)

    action_encoder, predictor, arch = build_modules(cfg, state_dim=src.shape[1], k=encoder.tokenizer.k)
    if cfg.predictor.scale_input:
        predictor.scale_ref.fill_(float(scl[tr].median()))  # the reference scale: median over the training sources
    action_encoder.to(dev).train()
    predictor.to(dev).train()
    params = list(action_encoder.parameters()) + list(predictor.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.optim.lr, betas=(cfg.optim.beta1, cfg.optim.beta2), weight_decay=cfg.optim.weight_decay)
    start = 0
    if ckpt is not None:
        action_encoder.load_state_dict(ckpt["action_encoder"])
        predictor.load_state_dict(ckpt["predictor"])
        opt.load_state_dict(ckpt["optimizer"])
        start = int(ckpt["step"])
        from ledger.identity import sha256_file

        digest, size = sha256_file(resume_from)
        record["resumed_from"].append({"step": start, "checkpoint": {"name": Path(resume_from).name, "sha256": digest, "size": size}, "at": _now()})
        record["status"] = "running"
        _write_json(run / RUN_RECORD, record)
        log.line(f"resumed from {Path(resume_from).name} at step {start}")
        log.metric({"event": "resumed", "step": start, "run_id": identity["run_id"]})
        print(f"resumed at step {start}", file=sys.stderr)

    end = cfg.optim.steps if stop_after_steps is None else min(cfg.optim.steps, stop_after_steps)
    use_amp = dev.type == "cuda"
    ckpt_path = run / CHECKPOINT_NAME
    t_train = time.perf_counter()
    seen = 0
    bar = _progress(progress)
    task = bar.add_task("training", total=cfg.optim.steps, completed=start) if bar else None
    try:
        if bar:
            bar.start()
        for step in range(start + 1, end + 1):
            g = torch.Generator().manual_seed(step_seed(seed, step))
            pick = tr[torch.randint(0, len(tr), (cfg.optim.batch_size,), generator=g)]  # (B,)
            torch.manual_seed(step_seed(seed, step, 2))  # dropout stream
            for group in opt.param_groups:
                group["lr"] = lr_at(cfg, step)
            acts = {k: v[pick].to(dev) for k, v in acts_all.items()}
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
                ctx = ctx_all[pick].to(dev) if ctx_all is not None else None
                sc = scl[pick].to(dev) if cfg.predictor.scale_input else None
                terms = loss_terms(
                    cfg,
                    action_encoder,
                    predictor,
                    src[pick].to(dev),
                    tgt[pick].to(dev),
                    acts,
                    generator=torch.Generator().manual_seed(step_seed(seed, step, 1)),
                    context=ctx,
                    scale=sc,
                )
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            if cfg.optim.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, cfg.optim.grad_clip)
            opt.step()
            seen += len(pick)
            if step % cfg.checkpoint.log_every == 0 or step == end:
                el = time.perf_counter() - t_train
                row = {
                    "step": step,
                    "loss": terms["loss"].item(),
                    "mse": terms["mse"].item(),
                    "sigreg": terms["sigreg"].item(),
                    "lr": lr_at(cfg, step),
                    "examples_per_s": seen / el if el > 0 else None,
                }
                log.metric(row)
                log.line(f"step {step} loss {row['loss']:.5f} mse {row['mse']:.5f} sigreg {row['sigreg']:.4f}")
            if step % cfg.checkpoint.every_steps == 0 or step == end:
                save_checkpoint(ckpt_path, identity=identity, step=step, predictor=predictor, action_encoder=action_encoder, optimizer=opt)
                record["steps_completed"] = step
                _write_json(run / RUN_RECORD, record)
            if bar:
                bar.update(task, completed=step, description=f"training loss {terms['loss'].item():.4f}")
    finally:
        if bar:
            bar.stop()
    train_s = time.perf_counter() - t_train
    if end < cfg.optim.steps:
        record["status"] = "stopped"
        record["steps_completed"] = end
        _write_json(run / RUN_RECORD, record)
        log.line(f"stopped after step {end} (checkpoint kept for --resume-from)")
        return record

    evaluation = _evaluate(action_encoder, predictor, src, tgt, acts_all, ho, dev, ctx_all, scl if cfg.predictor.scale_input else None)
    log.metric({"event": "heldout", "step": end, **evaluation})
    log.line(f"held-out mse {evaluation['heldout_mse']:.5f} vs return-source baseline {evaluation['heldout_source_baseline_mse']:.5f}")
    model_id = _package(cfg, encoder, arch, action_encoder, predictor, run, identity)
    record.update(
        {
            "status": "completed",
            "steps_completed": end,
            "finished_at": _now(),
            "model_id": model_id,
            "heldout": {k: repr(v) for k, v in evaluation.items()},
            "timing": {
                "encode_windows": n_windows,
                "encode_seconds": f"{encode_s:.3f}",
                "train_examples": seen,
                "train_seconds": f"{train_s:.3f}",
                "total_seconds": f"{time.perf_counter() - t_start:.3f}",
            },
            "cache": dict(cache.stats),
        }
    )
    _write_json(run / RUN_RECORD, record)
    log.line(f"packaged model {model_id}")
    return record


def _action_cfg(cfg: TrainConfig, encoder):
    from geno_lewm.model.config import ActionConfig

    return ActionConfig(dim=cfg.action.dim, max_allele_len=cfg.action.max_allele_len, window_bp=cfg.state.window_bp, k=encoder.tokenizer.k)


def _progress(enabled: bool):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True), transient=False)


def _evaluate(action_encoder, predictor, src, tgt, acts_all, ho, dev, ctx_all=None, scl=None) -> dict:
    """Held-out MSE of the predictor and of the 'return the source state' baseline."""
    import torch

    action_encoder.eval()
    predictor.eval()
    with torch.inference_mode():
        a = action_encoder(**{k: v[ho].to(dev) for k, v in acts_all.items()})  # (N_h, A)
        s = src[ho].to(dev).unsqueeze(1)  # (N_h, 1, D)
        extra = {"scale": scl[ho].to(dev)} if scl is not None else {}
        pred = (predictor(s, a, **extra) if ctx_all is None else predictor(s, a, ctx_all[ho].to(dev), **extra)).float().cpu()  # (N_h, D)
    return {
        "heldout_examples": int(len(ho)),
        "heldout_mse": float(((pred - tgt[ho]) ** 2).mean()),
        "heldout_source_baseline_mse": float(((src[ho] - tgt[ho]) ** 2).mean()),
    }


def _package(cfg, encoder, arch, action_encoder, predictor, run: Path, identity: dict) -> str:
    """Write weights, config and encoder copy into ``run`` and seal the manifest; return model_id."""
    from safetensors.torch import save_file

    from geno_lewm import __version__
    from geno_lewm.encoder.carbon import checkpoint_files
    from geno_lewm.package import Architecture, EncoderInfo, Manifest, ModelInfo, StateContractInfo, artifact_entries, write_manifest
    from geno_lewm.versioning import ReleaseId

    enc_dir = run / "encoder"
    if enc_dir.exists():
        shutil.rmtree(enc_dir)
    enc_dir.mkdir()
    files: list[tuple[str, str]] = []
    for f in checkpoint_files(encoder.model_dir):
        with atomic_path(enc_dir / f.name) as tmp:
            shutil.copyfile(f, tmp)
        files.append((f"encoder/{f.name}", "encoder"))
    for module, name, role in ((predictor, "predictor.safetensors", "predictor"), (action_encoder, "action_encoder.safetensors", "action_encoder")):
        state = {k: v.detach().to("cpu").float().contiguous() for k, v in module.state_dict().items()}
        with atomic_path(run / name) as tmp:
            save_file(state, str(tmp), metadata={"generated_by": GENERATED_BY})
        files.append((name, role))
    atomic_write_text(run / "config.effective.yaml", dump_yaml(cfg))
    files.append(("config.effective.yaml", "config"))
    ident = encoder.identity
    release = ReleaseId.parse(f"geno-lewm-v{base_version(__version__)}-{ident.encoder_id}-r{cfg.run.revision}")
    if ident.stand_in:
        from geno_lewm.encoder.tiny import STAND_IN_SENTENCE

        note = STAND_IN_SENTENCE
    else:
        note = f"Predictor trained on the frozen {ident.encoder_id} encoder (revision {ident.revision})."
    manifest = Manifest(
        schema_version="1.0.0",
        generated_by=GENERATED_BY,
        model=ModelInfo(name="geno-lewm", version=base_version(__version__), package_version=__version__),
        release_id=str(release),
        encoder=EncoderInfo(
            id=ident.encoder_id, revision=ident.revision, hash=ident.hash, stand_in=ident.stand_in, num_layers=ident.num_layers, hidden_size=ident.hidden_size
        ),
        state_contract=StateContractInfo(**cfg.state.to_dict(), hash=cfg.state.hash()),
        architecture=Architecture(**arch),
        artifacts=artifact_entries(run, files),
        training_config_hash=identity["config_hash"],
        dataset_snapshot_id=identity["dataset_snapshot_id"],
        stand_in=ident.stand_in,
        note=note,
    )
    return write_manifest(run, manifest)
