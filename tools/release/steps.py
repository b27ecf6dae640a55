"""The step registry: every release step by name, with its module and how to record it.

Two kinds of step:

- ``release`` — a ``tools.release.<name>`` module whose ``main(argv)`` records itself in the
  ledger (it accepts ``--workdir``/``--ledger``/``--key``/``--artifact-root``);
- ``command`` — any other command (``geno-lewm-train``, ``geno-lewm-score``, ``bench.inference`` …)
  run through :func:`tools.release.recording.record_command`; the registry names which of its
  flags are inputs and which are outputs, so the ledger records their identities.

``STEPS`` maps name → :class:`StepSpec`. Importing this module imports no step module and no torch.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StepSpec:
    """One registered step."""

    name: str  # step name as recorded in the ledger and listed in gates.toml
    module: str  # module holding ``main(argv) -> int``
    description: str  # one line for humans (status, cockpit, docs)
    kind: str = "release"  # "release" (records itself) or "command" (recorded by record_command)
    fixed_args: tuple[str, ...] = ()  # arguments always passed first (e.g. "--carbon-preflight")
    input_flags: tuple[str, ...] = ()  # command kind: flags whose values are recorded inputs
    output_flags: tuple[str, ...] = ()  # command kind: flags whose values are recorded outputs
    entry: str = "main"  # function name in ``module``
    sibling_outputs: tuple[str, ...] = ()  # command kind: files the command writes beside its first output

    def available(self) -> bool:
        """True when the step's module exists in this installation."""
        try:
            return importlib.util.find_spec(self.module) is not None
        except ModuleNotFoundError:
            return False

    def load(self) -> Callable[[list[str] | None], int]:
        """Import the module and return its entry function."""
        return getattr(importlib.import_module(self.module), self.entry)

    def args_builder(self) -> Callable[[Sequence[str]], list[str]]:
        """A function turning user argv into the full argv passed to ``main`` (fixed args first)."""
        return lambda argv: [*self.fixed_args, *argv]

    def io_paths(self, argv: Sequence[str]) -> tuple[list[Path], list[Path]]:
        """(inputs, outputs) named in ``argv`` by :attr:`input_flags` / :attr:`output_flags`."""
        outputs = _flag_values(argv, self.output_flags)
        if outputs and self.sibling_outputs:
            outputs += [outputs[0].parent / name for name in self.sibling_outputs]
        return _flag_values(argv, self.input_flags), outputs


def _flag_values(argv: Sequence[str], flags: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    args = list(argv)
    for i, a in enumerate(args):
        for f in flags:
            if a == f and i + 1 < len(args):
                out.append(Path(args[i + 1]))
            elif a.startswith(f + "="):
                out.append(Path(a.split("=", 1)[1]))
    return out


def _r(name: str, description: str) -> StepSpec:
    return StepSpec(name, f"tools.release.{name}", description)


_LIST: list[StepSpec] = [
    StepSpec("dataset_spec_check", "tools.release.dataset_snapshot", "validate the dataset snapshot spec (--check-spec)", fixed_args=("--check-spec",)),
    StepSpec("dataset_input_check", "tools.release.dataset_snapshot", "check staged upstream inputs against the spec (--check-inputs)", fixed_args=("--check-inputs",)),
    _r("dataset_snapshot", "build the dataset snapshot package from the spec and staged inputs"),
    _r("dataset_package", "normalise dataset metadata; write data card, manifest, split integrity, SHA256SUMS"),
    _r("dataset_integrity", "train/eval leakage evidence and observed class balance (split_integrity.json)"),
    StepSpec("training_preflight", "geno_lewm.cli.train", "preflight the training inputs (geno-lewm-train --carbon-preflight)", "command",
             fixed_args=("--carbon-preflight",), input_flags=("--dataset-dir", "--carbon-model-dir", "--training-config"), output_flags=("--run-dir",)),
    StepSpec("train", "geno_lewm.cli.train", "train the predictor (geno-lewm-train --carbon-train)", "command",
             fixed_args=("--carbon-train",), input_flags=("--dataset-dir", "--carbon-model-dir", "--training-config"), output_flags=("--run-dir",)),
    _r("training_run", "package a completed training run (manifest, card, training_run_SHA256SUMS)"),
    StepSpec("calibrate", "geno_lewm.cli.calibrate", "fit the score calibration table (geno-lewm-calibrate)", "command",
             input_flags=("--fasta", "--exclude-vcf"), output_flags=("--model-dir",)),
    StepSpec("score", "geno_lewm.cli.score", "score variants with receipts (geno-lewm-score)", "command",
             input_flags=("--model-dir", "--vcf", "--fasta"), output_flags=("--output-scores", "--output-receipts", "--output-report", "--output-vcf", "--output-parquet")),
    _r("cluster_score", "score variants on a Ray cluster (geno-lewm-score --engine ray); one shard_scored event per shard"),
    StepSpec("carbon_baseline", "geno_lewm.cli.carbon_baseline", "Carbon zero-shot baseline scores (geno-lewm-carbon-baseline)", "command",
             input_flags=("--vcf", "--fasta", "--carbon-model-dir"), output_flags=("--output-scores", "--logp-cache-jsonl", "--output-summary")),
    StepSpec("rollout", "geno_lewm.cli.rollout", "rollout fidelity metrics (geno-lewm-rollout)", "command",
             input_flags=("--model-dir", "--fasta", "--vcf"), output_flags=("--output-json",)),
    StepSpec("eval", "geno_lewm.cli.eval", "evaluate scores against labels and the baseline (geno-lewm-eval)", "command",
             input_flags=("--scores-jsonl", "--labels", "--baseline-scores-jsonl"), output_flags=("--output-metrics",), sibling_outputs=("eval_config.effective.yaml",)),
    StepSpec("eval_all", "geno_lewm.cli.eval_all", "aggregate metrics into eval_metrics.json and eval_report.md (geno-lewm-eval-all)", "command",
             input_flags=("--metrics-json",), output_flags=("--output-metrics", "--output-report"), sibling_outputs=("eval_config.effective.yaml",)),
    StepSpec("bench_inference", "bench.inference", "measure latency/throughput/memory (python -m bench.inference --release-efficiency)", "command",
             fixed_args=("--release-efficiency",), input_flags=("--model-dir", "--vcf", "--fasta"), output_flags=("--output-json",)),
    _r("efficiency_report", "normalise bench output into efficiency_report.json"),
    _r("model_package", "normalised model_package.json, model_card.md and SHA256SUMS for a model dir"),
    StepSpec("terminal_demo", "tools.demo.terminal_inference", "terminal demo transcript + manifest from the real score command", "command",
             input_flags=("--model-dir", "--vcf", "--fasta"), output_flags=("--output-dir",)),
    _r("paper_draft", "render the paper draft from model, dataset and demo artifacts"),
    _r("paper_package", "re-render and verify the paper draft and model card"),
    _r("check_sdist_assets", "build the sdist and check it carries the release assets (INV-REL-6)"),
    _r("changelog", "draft CHANGELOG sections from git history"),
    _r("hub_release", "dry-run Hub upload plan: exact files from SHA256SUMS, dataset, demo assets, paper"),
    _r("hub_publish", "upload exactly the planned files (one Hub commit per repo, GitHub release assets)"),
    _r("release_candidate", "publication decision: readiness rows, issue refs, public link and byte checks"),
    _r("clean_machine_demo", "replay the terminal demo from the public bytes of a ready candidate"),
    _r("publication_report", "bind plan, candidate, publish report and replay into publication evidence"),
    _r("publication_assets", "bind the GitHub release target and publication-evidence asset identities"),
    _r("v02_benchmark_suite", "plan or execute the v0.2 benchmark command graph"),
    _r("v02_benchmark_readiness", "release-input readiness from an executed passing suite report"),
    _r("rollout_state_examples", "resolve cache-keyed measured latent examples for rollout benchmarks"),
    _r("rollout_state_rows", "predictor rollout-state rows from measured latent examples"),
    _r("rollout_speed_scope", "record an accepted re-scope of a failed rollout-speed target (stays rescoped)"),
    _r("bit_match_baseline", "re-score the fixed input bit for bit against tests/baselines/bit_match (INV-REL-2)"),
    _r("gate_check", "run the release invariants INV-REL-1/2/3/5/6, one ledger step each"),
]

#: name -> StepSpec, in release order.
STEPS: dict[str, StepSpec] = {s.name: s for s in _LIST}


def step(name: str) -> StepSpec:
    """The registered step ``name`` (``RELEASE.UNKNOWN_STEP`` if none)."""
    from ledger.errors import ReleaseError

    try:
        return STEPS[name]
    except KeyError:
        raise ReleaseError("UNKNOWN_STEP", f"no release step named {name!r}", f"known steps: {', '.join(STEPS)}") from None
