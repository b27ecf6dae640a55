"""The evaluation config: a closed msgspec Struct loaded from YAML, plus its effective form.

The committed default lives in ``configs/eval/default.yaml``. Command-line flags override single
fields; the result is written as ``eval_config.effective.yaml`` beside the metrics so every
figure is tied to the config that produced it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from ledger.errors import ConfigError, InputError
from ledger.identity import relative_or_name

Orientation = Literal["higher_is_damaging", "lower_is_damaging"]

DEFAULT_BINARY_LABEL_MAP: dict[str, int] = {
    "pathogenic": 1,
    "likely_pathogenic": 1,
    "pathogenic/likely_pathogenic": 1,
    "benign": 0,
    "likely_benign": 0,
    "benign/likely_benign": 0,
}


class EvalConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Settings of one evaluation (closed schema: unknown keys are a ``CONFIG.INVALID`` error)."""

    schema_version: str = "1.0.0"  # version of this config schema
    bootstrap: int = 1000  # bootstrap resamples for confidence intervals (0: no intervals)
    seed: int = 0  # seed of the bootstrap's numpy Generator (PCG64)
    confidence_level: float = 0.95  # two-sided percentile-interval level
    min_n_for_claim: int = 200  # evaluated sets smaller than this get a "too small" negative finding
    min_n_per_class: int = 30  # binary mode: fewer examples in a class get a negative finding
    wide_ci_threshold: float = 0.2  # CI wider than this gets a "too uncertain" negative finding
    allow_key_mismatch: bool = False  # evaluate the shared keys (counted, reported) instead of failing
    score_orientation: Orientation = "higher_is_damaging"  # primary score direction
    baseline_orientation: Orientation = "higher_is_damaging"  # baseline score direction
    label_orientation: Orientation = "higher_is_damaging"  # spearman labels: direction of the label
    binary_label_map: dict[str, int] = msgspec.field(default_factory=lambda: dict(DEFAULT_BINARY_LABEL_MAP))  # VCF INFO text -> 0/1
    min_examples_for_rollout_claim: int = 200  # rollout tracks with fewer examples get a finding

    def __post_init__(self) -> None:
        """Range checks that the type system cannot express."""
        if self.bootstrap < 0:
            raise ConfigError("INVALID", f"eval config: bootstrap must be >= 0, got {self.bootstrap}")
        if not 0.0 < self.confidence_level < 1.0:
            raise ConfigError("INVALID", f"eval config: confidence_level must be in (0, 1), got {self.confidence_level}")
        if self.min_n_for_claim < 0 or self.min_n_per_class < 0 or self.min_examples_for_rollout_claim < 0:
            raise ConfigError("INVALID", "eval config: minimum counts must be >= 0")
        if self.wide_ci_threshold <= 0:
            raise ConfigError("INVALID", "eval config: wide_ci_threshold must be > 0")
        bad = {k: v for k, v in self.binary_label_map.items() if v not in (0, 1) or isinstance(v, bool)}
        if bad:
            raise ConfigError("INVALID", f"eval config: binary_label_map values must be 0 or 1, got {bad}")


def default_config_path() -> Path:
    """The committed default eval config (``configs/eval/default.yaml``)."""
    from geno_lewm.resources import config_path

    return config_path("eval", "default.yaml")


def load_eval_config(path: str | os.PathLike[str] | None = None, overrides: Mapping[str, Any] | None = None) -> EvalConfig:
    """Load the YAML config at ``path`` (default: the committed one) and apply ``overrides``.

    ``overrides`` holds only the flags the user actually passed (``None`` values are ignored).
    Raises ``INPUT.MISSING_FILE`` or ``CONFIG.INVALID`` naming the bad key.
    """
    p = Path(path) if path is not None else default_config_path()
    if not p.is_file():
        raise InputError("MISSING_FILE", f"eval config not found: {relative_or_name(p)}", "pass --eval-config with an existing YAML file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError("INVALID", f"eval config {p.name} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("INVALID", f"eval config {p.name} must be a mapping")
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return msgspec.convert(data, EvalConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError("INVALID", f"eval config {p.name}: {exc}", "compare with configs/eval/default.yaml") from None


def effective_yaml(config: EvalConfig, *, base_config: str, cli_overrides: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> str:
    """The text of ``eval_config.effective.yaml``: base config name, explicit overrides, result.

    ``base_config`` is a public-safe name of the YAML the run started from; ``extra`` carries
    command-level settings (metric mode, split, flags) so the file records the whole run.
    """
    doc: dict[str, Any] = {
        "base_config": base_config,
        "cli_overrides": {k: v for k, v in sorted(cli_overrides.items()) if v is not None},
        "effective": msgspec.to_builtins(config),
    }
    if extra:
        doc["run"] = {k: v for k, v in sorted(extra.items())}
    return yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, allow_unicode=True)
