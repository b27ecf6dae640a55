"""The closed training-config schema (YAML), its validation and its identity hash.

Unknown keys anywhere are ``CONFIG.UNKNOWN_KEY`` naming the dotted key; wrong types are
``CONFIG.INVALID`` naming the path. The config hash is SHA-256 over the canonical JSON of the
fully resolved payload (defaults filled in, floats carried as decimal strings).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import msgspec

from ledger.canonical import canonical_json, floats_as_text, sha256_hex
from ledger.errors import ConfigError

from geno_lewm.state import StateContract

CONFIG_SCHEMA_VERSION = "1.0.0"


class RunConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Run identity."""

    name: str = "geno-lewm-run"  # human name; the run id is <name>-<UTC time>-<random>
    seed: int = 0  # seeds init, batch order, synthetic edits, projections and the split
    revision: int = 1  # release-id revision r<N> (bump when re-training with other data/seed/hparams)


class RuntimeConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where and how deterministically to run."""

    device: Literal["auto", "cpu", "cuda"] = "auto"  # cuda runs bf16 autocast, cpu runs fp32
    threads: int = 0  # torch CPU threads (0 = leave torch's default)
    deterministic: bool = True  # torch.use_deterministic_algorithms


class ActionSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Action encoder hyper-parameters."""

    dim: int = 64  # action embedding width
    max_allele_len: int = 16  # longest allele encoded base by base


class PredictorSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Predictor hyper-parameters (state_dim comes from the encoder)."""

    d_model: int = 128  # transformer width
    depth: int = 2  # blocks
    heads: int = 4  # attention heads
    mlp_ratio: int = 4  # MLP expansion
    history: int = 1  # maximum states of history
    dropout_pct: int = 0  # dropout in percent
    context_radius: int = -1  # edit-context tokens (encoder k-mer embeddings, ref and alt) each side of the locus token; -1 = none
    scale_input: bool = False  # the predicted change is divided by the source's pre-normalisation scale (RFC-0014); false = off


class LossConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Loss weights."""

    sigreg_weight: float = 0.05  # weight of SIGReg
    sigreg_on: Literal["action", "predicted"] = "action"  # latents SIGReg shapes: action embeddings or predicted states
    sigreg_projections: int = 64  # random 1-D projections per step
    sigreg_knots: int = 17  # integration points of the Epps–Pulley statistic
    shift_weight: float = 0.0  # weight of the shift-magnitude loss (||pred − src|| vs ||tgt − src||, the score); 0 = off


class OptimConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """AdamW and schedule."""

    lr: float = 1e-3  # peak learning rate
    weight_decay: float = 0.01  # AdamW weight decay
    beta1: float = 0.9  # AdamW beta1
    beta2: float = 0.95  # AdamW beta2
    grad_clip: float = 1.0  # max grad norm (0 = off)
    batch_size: int = 32  # training examples per step
    steps: int = 200  # optimisation steps
    warmup_steps: int = 10  # linear warm-up, then cosine decay to 10 %


class DataConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Training examples: VCF edits plus synthetic edits, split by region."""

    use_vcf: bool = True  # include the VCF's variants as edits
    synthetic_snvs: int = 256  # random SNVs drawn over the genome
    synthetic_indels: int = 64  # random insertions + deletions (half each)
    synthetic_mnvs: int = 32  # random 2–3 bp substitutions
    max_indel_len: int = 6  # longest synthetic indel
    heldout_fraction: float = 0.2  # fraction of regions held out
    split_block_bp: int = 2000  # region size of the split
    encode_batch_size: int = 32  # windows per encoder call
    placement: Literal["centred", "tile"] = "centred"  # window around an edit: centred on it, or the scorer's tile window


class CheckpointConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Checkpoint and logging cadence."""

    every_steps: int = 50  # write predictor_checkpoint.pt every N steps (and at the end)
    log_every: int = 10  # metrics.jsonl / train.log cadence


class TrainConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole training config (configs/train-tiny-cpu.yaml, configs/first_experiment/…)."""

    schema_version: str = CONFIG_SCHEMA_VERSION  # config schema version
    run: RunConfig = RunConfig()  # identity and seed
    runtime: RuntimeConfig = RuntimeConfig()  # device and determinism
    state: StateContract = StateContract()  # the state contract
    action: ActionSection = ActionSection()  # action encoder
    predictor: PredictorSection = PredictorSection()  # predictor
    loss: LossConfig = LossConfig()  # losses
    optim: OptimConfig = OptimConfig()  # optimiser
    data: DataConfig = DataConfig()  # data
    checkpoint: CheckpointConfig = CheckpointConfig()  # checkpoints/logs


def _check_ranges(cfg: TrainConfig) -> None:
    checks = [
        (cfg.schema_version.split(".")[0] == CONFIG_SCHEMA_VERSION.split(".")[0], "schema_version", f"MAJOR must be {CONFIG_SCHEMA_VERSION.split('.')[0]}"),
        (cfg.optim.steps > 0, "optim.steps", "must be > 0"),
        (cfg.optim.batch_size > 0, "optim.batch_size", "must be > 0"),
        (cfg.optim.lr > 0, "optim.lr", "must be > 0"),
        (0 <= cfg.optim.warmup_steps <= cfg.optim.steps, "optim.warmup_steps", "must be in 0..optim.steps"),
        (0.0 < cfg.data.heldout_fraction < 1.0, "data.heldout_fraction", "must be in (0, 1)"),
        (cfg.data.split_block_bp >= cfg.state.window_bp, "data.split_block_bp", "must be >= state.window_bp"),
        (cfg.data.max_indel_len >= 1, "data.max_indel_len", "must be >= 1"),
        (
            cfg.state.window_bp >= 2 * (cfg.data.max_indel_len + 1),
            "data.max_indel_len",
            "must leave a centred deletion room in the window (state.window_bp >= 2 * (max_indel_len + 1))",
        ),
        (cfg.data.encode_batch_size > 0, "data.encode_batch_size", "must be > 0"),
        (cfg.checkpoint.every_steps > 0 and cfg.checkpoint.log_every > 0, "checkpoint", "every_steps and log_every must be > 0"),
        (cfg.predictor.d_model % cfg.predictor.heads == 0, "predictor.heads", "must divide predictor.d_model"),
        (cfg.predictor.history >= 1, "predictor.history", "must be >= 1"),
        (cfg.predictor.context_radius >= -1, "predictor.context_radius", "must be >= -1 (-1 = no edit context)"),
        (0 <= cfg.predictor.dropout_pct < 100, "predictor.dropout_pct", "must be in 0..99"),
        (cfg.loss.sigreg_weight >= 0, "loss.sigreg_weight", "must be >= 0"),
        (cfg.loss.shift_weight >= 0, "loss.shift_weight", "must be >= 0"),
    ]
    for ok, key, why in checks:
        if not ok:
            raise ConfigError("INVALID", f"training config: {key} {why}")
    cfg.state.validate()


def parse_config(payload: object, *, source: str = "training config") -> TrainConfig:
    """Validate a decoded payload against the closed schema (``CONFIG.UNKNOWN_KEY`` / ``CONFIG.INVALID``)."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ConfigError("INVALID", f"{source}: top level must be a mapping")
    try:
        cfg = msgspec.convert(payload, TrainConfig, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        m = re.match(r"Object contains unknown field `([^`]+)`(?: - at `\$\.?([^`]*)`)?", text)
        if m:
            key = ".".join(p for p in (m.group(2) or "", m.group(1)) if p)
            raise ConfigError("UNKNOWN_KEY", f"{source}: unknown key {key!r}", "remove it or fix its spelling; the schema is closed (docs/model.md)") from None
        raise ConfigError("INVALID", f"{source}: {text.replace('$.', '')}") from None
    _check_ranges(cfg)
    return cfg


def load_config(path: str | os.PathLike[str]) -> TrainConfig:
    """Read and validate a YAML training config."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError("MISSING", f"training config {p.name!r} not found", "pass --training-config (see configs/)")
    try:
        payload = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError("YAML", f"{p.name} is not valid YAML ({exc})") from None
    return parse_config(payload, source=p.name)


#: Fields added after schema 1.0.0, with the default that reproduces the earlier behaviour. At that
#: default they are left out of the resolved payload, so an older config keeps its config hash and
#: its effective YAML byte for byte.
LATER_FIELD_DEFAULTS: dict[tuple[str, str], object] = {
    ("predictor", "context_radius"): -1,
    ("data", "placement"): "centred",
    ("loss", "shift_weight"): 0.0,
    ("predictor", "scale_input"): False,
}


def resolved_payload(cfg: TrainConfig) -> dict:
    """The fully resolved config as plain data (floats kept as floats; later fields at their old default omitted)."""
    out = msgspec.to_builtins(cfg)
    for (section, key), default in LATER_FIELD_DEFAULTS.items():
        if out[section].get(key) == default:
            out[section].pop(key)
    return out


def config_hash(cfg: TrainConfig) -> str:
    """SHA-256 of the canonical resolved payload (floats as ``repr`` decimal strings)."""
    return sha256_hex(canonical_json(floats_as_text(resolved_payload(cfg))))


def dump_yaml(cfg: TrainConfig) -> str:
    """The effective config as YAML text (what ``config.effective.yaml`` holds)."""
    import yaml

    header = f"# effective GenoLeWM training config (config hash {config_hash(cfg)})\n"
    return header + yaml.safe_dump(resolved_payload(cfg), sort_keys=True)
