"""v0.2 suite planning, readiness refusal of its own output, rollout-state examples and the rollout-speed re-scope."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from geno_lewm.resources import config_path
from tools.release import rollout_speed_scope, rollout_state_examples, rollout_state_rows, v02_benchmark_readiness, v02_benchmark_suite

CLAIM = "Rollout-speed timing evidence only; it is not model-quality, clinical, privacy or release-readiness evidence."

#: The values a plan-only suite run fills the template's placeholders with.
PLAN_VALUES = ("--set", "fasta=ref.fa", "--set", "carbon_model_dir=carbon", "--set", "logp_cache=cache.jsonl")


def _run_suite(tmp_path: Path, manifest: Path, *extra: str) -> tuple[int, Path]:
    """``v02_benchmark_suite`` on ``manifest``, ``tmp_path`` as workdir and model dir, plus ``extra``: (exit code, report path)."""
    out = tmp_path / "suite_report.json"
    rc = v02_benchmark_suite.main(["--workdir", str(tmp_path), "--manifest", str(manifest), "--model-dir", str(tmp_path), "--output-report", str(out), *extra])
    return rc, out


def test_plan_only_suite_report_is_never_ok(tmp_path):
    manifest = tmp_path / "suite.json"
    shutil.copyfile(config_path("first_experiment", "v0.2_benchmark_suite.template.json"), manifest)
    rc, out = _run_suite(tmp_path, manifest, *PLAN_VALUES)
    doc = json.loads(out.read_text())
    assert rc == 0 and doc["mode"] == "plan" and doc["ok"] is False and doc["generated_by"] == "tools.release.v02_benchmark_suite"
    assert all(s["status"] == "planned" for s in doc["steps"]) and doc["steps"][-1]["id"] == "aggregate.eval_all"
    assert doc["manifest"]["path"] == "suite.json" and str(tmp_path) not in out.read_text()
    score = next(s for s in doc["steps"] if s["id"] == "clinvar_coding.score")
    assert score["argv"][:2] == ["--model-dir", "."]  # absolute model dir made relative
    # readiness refuses a plan-only suite and never accepts its own output as evidence
    assert (
        v02_benchmark_readiness.main(
            ["--no-ledger", "--suite-report", str(out), "--metrics-json", "m.json", "--efficiency-report", "e.json", "--output", str(out)]
        )
        == 2
    )


@pytest.mark.parametrize("row_name", ["brca2_saturation", "traitgym_mendelian"])
@pytest.mark.parametrize("form", ["separate", "equals"])
def test_suite_refuses_binary_metric_mode_for_continuous_benchmarks(tmp_path, capsys, row_name, form):
    manifest = tmp_path / "suite.json"
    doc = json.loads(config_path("first_experiment", "v0.2_benchmark_suite.template.json").read_text())
    row = next(r for r in doc["rows"] if r["name"] == row_name)
    step = next(s for s in row["steps"] if s["command"] == "geno-lewm-eval")
    i = step["argv"].index("--metric-mode")
    assert step["argv"][i + 1] == "spearman"  # the checked template is right
    if form == "separate":
        step["argv"][i + 1] = "binary"
    else:
        step["argv"][i : i + 2] = ["--metric-mode=binary"]
    manifest.write_text(json.dumps(doc))
    rc, out = _run_suite(tmp_path, manifest, *PLAN_VALUES)
    err = capsys.readouterr().err
    assert rc != 0 and "error[CONFIG.SUITE_METRIC_MODE]" in err
    assert f"step {row_name}.eval" in err and "spearman" in err
    assert not out.exists()


def test_suite_refuses_spearman_for_clinvar_and_a_row_mode_that_disagrees(tmp_path, capsys):
    from ledger.errors import ConfigError
    from tools.release.benchmark.suite import plan_steps

    doc = json.loads(config_path("first_experiment", "v0.2_benchmark_suite.template.json").read_text())
    values = {"model_dir": str(tmp_path), "fasta": "ref.fa", "carbon_model_dir": "c", "logp_cache": "l.jsonl"}
    assert plan_steps(doc, values)  # the template itself plans
    clinvar = next(r for r in doc["rows"] if r["name"] == "clinvar_coding")
    ev = next(s for s in clinvar["steps"] if s["command"] == "geno-lewm-eval")
    ev["argv"][ev["argv"].index("--metric-mode") + 1] = "spearman"
    with pytest.raises(ConfigError, match="clinvar_coding.eval") as exc:
        plan_steps(doc, values)
    assert exc.value.code == "CONFIG.SUITE_METRIC_MODE"
    ev["argv"][ev["argv"].index("--metric-mode") + 1] = "binary"
    clinvar["metric_mode"] = "spearman"
    with pytest.raises(ConfigError, match="row metric_mode 'spearman'"):
        plan_steps(doc, values)


def test_execute_clears_outputs_and_fails_when_a_command_fails(tmp_path):
    manifest = tmp_path / "suite.json"
    (tmp_path / "stale.json").write_text("{}")
    manifest.write_text(
        json.dumps(
            {
                "schema_version": "1.0.0",
                "rows": [
                    {
                        "name": "r",
                        "steps": [
                            {
                                "id": "r.eval",
                                "command": "geno-lewm-eval",
                                "argv": [
                                    "--scores-jsonl",
                                    "missing.jsonl",
                                    "--labels",
                                    "missing.jsonl",
                                    "--metric-mode",
                                    "binary",
                                    "--output-metrics",
                                    "stale.json",
                                ],
                                "outputs": ["stale.json"],
                            }
                        ],
                    }
                ],
            }
        )
    )
    rc, out = _run_suite(tmp_path, manifest, "--execute")
    doc = json.loads(out.read_text())
    assert rc == 9 and doc["ok"] is False and doc["steps"][0]["status"] == "failed"
    assert not (tmp_path / "stale.json").exists()  # the declared output was cleared before the run


def _bench(tmp_path: Path, claim: str = CLAIM) -> Path:
    p = tmp_path / "rollout_speed.json"
    p.write_text(
        json.dumps(
            {
                "schema_version": "1.0.0",
                "generated_by": "bench.rollout",
                "model_id": "m" * 64,
                "claim_boundary": claim,
                "results": [{"k": 5, "measured_speedup": 3.5}, {"k": 20, "measured_speedup": 12.25}],
            }
        )
    )
    return p


def _scope_argv(tmp_path: Path, bench: Path, *extra: str) -> list[str]:
    return [
        "--workdir",
        str(tmp_path),
        "--rollout-speed-report",
        str(bench),
        "--output",
        str(tmp_path / "scope.json"),
        "--target-speedup",
        "10",
        "--accepted-by",
        "release-maintainers",
        "--accepted-at",
        "2026-01-31T12:00:00Z",
        "--decision-url",
        "https://github.com/o/r/issues/197#issuecomment-1",
        "--rationale",
        "K=5 chains are dominated by the source encode",
        "--replacement-target",
        ">=10x at K=20",
        *extra,
    ]


def test_rollout_speed_scope_stays_rescoped(tmp_path):
    bench = _bench(tmp_path)
    assert rollout_speed_scope.main(_scope_argv(tmp_path, bench, "--issue-ref", "#42", "--issue-ref", "#197")) == 0
    doc = json.loads((tmp_path / "scope.json").read_text())
    assert doc["state"] == "rescoped" and doc["passed"] is False
    assert doc["failed_targets"] == [{"k": 5, "measured_speedup": "3.5", "target_speedup": "10"}]
    assert doc["rollout_speed_report"]["sha256"] == hashlib.sha256(bench.read_bytes()).hexdigest()
    assert "NOT passing" in doc["claim_boundary"] and doc["negative_findings"]


def test_rollout_speed_scope_run_as_a_module_records_its_arguments_public_safe_and_no_ledger_claims_nothing(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    bench = _bench(tmp_path)
    argv = _scope_argv(tmp_path, bench, "--issue-ref", "#42", "--issue-ref", "#197", "--no-ledger")
    proc = subprocess.run([sys.executable, "-m", "tools.release.rollout_speed_scope", *argv], cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "scope.json").read_text())
    cmd = doc["command"]
    assert cmd[:3] == ["python", "-m", "tools.release.rollout_speed_scope"]
    assert cmd[cmd.index("--rollout-speed-report") + 1] == "rollout_speed.json"  # the path argument, relative to the artifact root
    assert cmd[cmd.index("--output") + 1] == "scope.json" and "--target-speedup" in cmd
    assert str(tmp_path) not in json.dumps(doc)
    # --no-ledger: nothing is recorded, so no step line claims a recorded run
    assert "(run " not in proc.stderr and "recorded)" not in proc.stderr
    assert "[rollout_speed_scope] passed (not recorded: --no-ledger)" in proc.stderr
    assert not (tmp_path / "ledger.duckdb").exists()


@pytest.mark.parametrize(("case", "code"), [("refs", "INPUT.ISSUE_REFS"), ("claim", "PROVENANCE.CLAIM_BOUNDARY"), ("met", "RELEASE.TARGET_MET")])
def test_rollout_speed_scope_refusals(tmp_path, capsys, case, code):
    bench = _bench(tmp_path, "Rollout timing." if case == "claim" else CLAIM)
    refs = ["--issue-ref", "#42"] if case == "refs" else ["--issue-ref", "#42", "--issue-ref", "#197"]
    argv = _scope_argv(tmp_path, bench, *refs)
    if case == "met":
        argv[argv.index("--target-speedup") + 1] = "2"
    assert rollout_speed_scope.main(argv) != 0
    assert f"error[{code}]" in capsys.readouterr().err and not (tmp_path / "scope.json").exists()


def test_rollout_state_examples_and_rows_refusals(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    key = "ab" + "c" * 62
    shard = tmp_path / "cache" / key[:2] / f"{key}.parquet"
    shard.parent.mkdir(parents=True)
    payload = b"\x00" * 4 * 3 * 2
    pq.write_table(
        pa.table(
            {
                "schema_version": ["1.0.0"],
                "key": [key],
                "payload": [payload],
                "payload_sha256": [hashlib.sha256(payload).hexdigest()],
                "tokens": [3],
                "hidden": [2],
            }
        ),
        shard,
    )
    spec = tmp_path / "spec.jsonl"
    state = {"key": key, "token_index": 1}
    spec.write_text(
        json.dumps(
            {
                "example_id": "e1",
                "track": "synthetic_edit_chain",
                "source": state,
                "target": state,
                "candidates": [state],
                "edits": [{"kind": "snv", "offset": 3, "ref": "A", "alt": "G"}],
            }
        )
        + "\n"
    )
    out = tmp_path / "examples.jsonl"

    def examples(report_name: str) -> int:
        """``rollout_state_examples`` on ``spec`` (as it stands) into ``out``, its report named ``report_name``; the exit code."""
        argv = ["--workdir", str(tmp_path), "--spec-jsonl", str(spec), "--cache-dir", str(tmp_path / "cache"), "--output", str(out)]
        return rollout_state_examples.main([*argv, "--report", str(tmp_path / report_name)])

    assert examples("ex_report.json") == 0
    row = json.loads(out.read_text())
    assert row["generated_by"] == "tools.release.rollout_state_examples" and row["source"]["shard"]["path"] == f"{key[:2]}/{key}.parquet"
    report = json.loads((tmp_path / "ex_report.json").read_text())
    assert report["cache_index"]["shards"][0]["sha256"] == hashlib.sha256(shard.read_bytes()).hexdigest()
    # the rows helper refuses examples without the generator marker or schema version
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**row, "generated_by": "hand"}) + "\n")
    assert (
        rollout_state_rows.main(
            [
                "--workdir",
                str(tmp_path),
                "--examples-jsonl",
                str(bad),
                "--model-dir",
                str(tmp_path),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--output",
                str(tmp_path / "rows.jsonl"),
                "--report",
                str(tmp_path / "rows.json"),
            ]
        )
        == 7
    )
    assert "error[PROVENANCE.ROLLOUT_EXAMPLES]" in capsys.readouterr().err
    # a missing cache key is named
    spec.write_text(
        json.dumps({"example_id": "e1", "track": "synthetic_edit_chain", "source": {"key": "f" * 64, "token_index": 1}, "target": state, "edits": [{}]}) + "\n"
    )
    assert examples("r2.json") == 2
    assert "error[INPUT.CACHE_KEY_MISSING]" in capsys.readouterr().err
