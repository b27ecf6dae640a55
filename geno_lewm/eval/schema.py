"""Names and versions shared by the evaluation modules (generator markers, benchmark rows)."""

from __future__ import annotations

from typing import Final

#: ``schema_version`` of the metrics JSON written by ``geno-lewm-eval`` and ``geno-lewm-eval-all``.
EVAL_METRICS_SCHEMA_VERSION: Final = "1.0.0"
#: Top-level fields of a metrics payload this runtime understands (``required_fields`` may name only these).
EVAL_METRICS_FIELDS: Final = frozenset(
    {
        "schema_version",
        "generated_by",
        "benchmarks",
        "rows",
        "conclusions",
        "negative_findings",
        "claim_boundary",
        "coverage",
        "artifacts",
        "referenced_artifacts",
        "eval_config",
        "stand_in",
    }
)

#: Generator marker of per-benchmark metrics (``geno-lewm-eval``).
GEN_EVAL: Final = "geno-lewm-eval"
#: Generator marker of aggregated metrics (``geno-lewm-eval-all``).
GEN_EVAL_ALL: Final = "geno-lewm-eval-all"
#: Generator marker required on primary score rows.
GEN_SCORE: Final = "geno-lewm-score"
#: Generator marker required on baseline score rows.
GEN_CARBON_BASELINE: Final = "geno-lewm-carbon-baseline"
#: Generator marker of rollout metrics JSON consumed by ``geno-lewm-eval-all``.
GEN_ROLLOUT: Final = "geno-lewm-rollout"
#: Generators whose payloads the report renderer accepts.
RENDERABLE_GENERATORS: Final = frozenset({GEN_EVAL, GEN_EVAL_ALL})

#: Name of the always-reported "return the source state" baseline (a constant score of 0).
SOURCE_STATE_BASELINE: Final = "source_state_constant"
#: Conventional name of the Carbon zero-shot baseline (``--baseline-name``).
CARBON_BASELINE: Final = "carbon_zero_shot"

#: Metric modes of ``geno-lewm-eval`` and the metrics each computes.
MODE_METRICS: Final[dict[str, tuple[str, ...]]] = {"binary": ("auroc", "auprc"), "spearman": ("spearman_rho",)}

#: v0.2 variant-effect benchmark rows and the metric mode each must use.
V02_VEP_BENCHMARKS: Final[dict[str, str]] = {
    "clinvar_coding": "binary",
    "clinvar_noncoding": "binary",
    "brca2_saturation": "spearman",
    "traitgym_mendelian": "spearman",
}
#: v0.2 rollout tracks and the benchmark name each is reported under.
V02_ROLLOUT_TRACKS: Final[dict[str, str]] = {
    "phased_haplotype": "rollout_phased_haplotype",
    "synthetic_edit_chain": "rollout_synthetic_edit_chain",
}
#: Metrics every rollout track must carry.
ROLLOUT_METRICS: Final = ("cosine", "l2", "recall_at_k")
#: Whether a larger value of a metric is better (used for deltas and findings).
HIGHER_IS_BETTER: Final[dict[str, bool]] = {
    "auroc": True,
    "auprc": True,
    "spearman_rho": True,
    "cosine": True,
    "l2": False,
    "recall_at_k": True,
    "mse": False,
}
