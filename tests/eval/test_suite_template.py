"""The committed v0.2 benchmark-suite template names the six required rows with the right modes."""

from __future__ import annotations

import json

from geno_lewm.eval.schema import V02_ROLLOUT_TRACKS, V02_VEP_BENCHMARKS
from geno_lewm.resources import config_path
from ledger.identity import check_public_path


def test_template_names_the_six_rows_with_their_metric_modes():
    doc = json.loads(config_path("first_experiment", "v0.2_benchmark_suite.template.json").read_text())
    rows = {r["name"]: r for r in doc["rows"]}
    assert set(rows) == set(V02_VEP_BENCHMARKS) | set(V02_ROLLOUT_TRACKS.values())
    for name, mode in V02_VEP_BENCHMARKS.items():
        assert rows[name]["metric_mode"] == mode
        eval_step = next(s for s in rows[name]["steps"] if s["command"] == "geno-lewm-eval")
        argv = eval_step["argv"]
        assert argv[argv.index("--metric-mode") + 1] == mode
        assert argv[argv.index("--baseline-name") + 1] == "carbon_zero_shot"
        for p in eval_step["outputs"]:
            check_public_path(p)
    for track, name in V02_ROLLOUT_TRACKS.items():
        assert rows[name]["track"] == track and rows[name]["required_metrics"] == ["cosine", "l2", "recall_at_k"]
    agg = doc["aggregate"]["argv"]
    assert "--require-v02-vep-metrics" in agg and "--require-v02-rollout-metrics" in agg
    assert agg.count("--metrics-json") == 6
