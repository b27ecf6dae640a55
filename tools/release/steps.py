"""The step registry: every release step by name, derived from the step declarations.

Two kinds of step:

- ``release`` — a ``tools.release.<name>`` module declaring a :class:`tools.release.declare.Step`
  (its flags, gate, purpose and body); it records itself in the ledger;
- ``command`` — any other command (``geno-lewm-train``, ``geno-lewm-score``, ``bench.inference`` …),
  declared here as a :class:`StepSpec` and run through
  :func:`tools.release.recording.record_command`; the declaration names which of its flags are
  inputs and which are outputs, so the ledger records their identities. Its flags come from the
  command's own ``build_parser()``.

``STEPS`` maps name → declaration, in release order (the order of ``configs/release/gates.toml``,
then the steps outside gates by name). Importing this module imports no step module and no
torch; the first use of ``STEPS`` imports the declaring modules (still no torch).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StepSpec:
    """A step that wraps an existing command (recorded by :func:`tools.release.recording.record_command`)."""

    name: str  # step name as recorded in the ledger and listed in gates.toml
    module: str  # module holding ``main(argv) -> int`` and ``build_parser()``
    description: str  # one line for humans (status, cockpit, docs)
    kind: str = "command"  # always "command" (declared release steps are tools.release.declare.Step)
    gate: str = ""  # the gate (configs/release/gates.toml) whose steps include it
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

    @property
    def purpose(self) -> str:
        """The one-line purpose (same as ``description``)."""
        return self.description

    def parser(self) -> Any:
        """The command's own argument parser (its module's ``build_parser()``)."""
        return importlib.import_module(self.module).build_parser()

    def flag_rows(self) -> list[dict[str, Any]]:
        """The command's flags as ``{name, type, required, default, help}`` rows (from its ``build_parser()``)."""
        from tools.release.declare import flags_from_parser

        roles = {f: "input" for f in self.input_flags} | {f: "output" for f in self.output_flags}
        parser = self.parser()
        return [f.to_dict() for f in flags_from_parser(parser, roles) if f.name not in self.fixed_args]

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


_COMMANDS: list[StepSpec] = [
    StepSpec(
        "training_preflight",
        "geno_lewm.cli.train",
        "preflight the training inputs (geno-lewm-train --carbon-preflight)",
        gate="training",
        fixed_args=("--carbon-preflight",),
        input_flags=("--dataset-dir", "--carbon-model-dir", "--training-config"),
        output_flags=("--run-dir",),
    ),
    StepSpec(
        "train",
        "geno_lewm.cli.train",
        "train the predictor (geno-lewm-train --carbon-train)",
        gate="training",
        fixed_args=("--carbon-train",),
        input_flags=("--dataset-dir", "--carbon-model-dir", "--training-config"),
        output_flags=("--run-dir",),
    ),
    StepSpec(
        "calibrate",
        "geno_lewm.cli.calibrate",
        "fit the score calibration table (geno-lewm-calibrate)",
        gate="evaluation",
        input_flags=("--fasta", "--exclude-vcf"),
        output_flags=("--model-dir",),
    ),
    StepSpec(
        "score",
        "geno_lewm.cli.score",
        "score variants with receipts (geno-lewm-score)",
        gate="evaluation",
        input_flags=("--model-dir", "--vcf", "--fasta"),
        output_flags=("--output-scores", "--output-receipts", "--output-report", "--output-vcf", "--output-parquet"),
    ),
    StepSpec(
        "carbon_baseline",
        "geno_lewm.cli.carbon_baseline",
        "Carbon zero-shot baseline scores (geno-lewm-carbon-baseline)",
        gate="evaluation",
        input_flags=("--vcf", "--fasta", "--carbon-model-dir"),
        output_flags=("--output-scores", "--logp-cache-jsonl", "--output-summary"),
    ),
    StepSpec(
        "rollout",
        "geno_lewm.cli.rollout",
        "rollout fidelity metrics (geno-lewm-rollout)",
        gate="evaluation",
        input_flags=("--model-dir", "--fasta", "--vcf"),
        output_flags=("--output-json",),
    ),
    StepSpec(
        "eval",
        "geno_lewm.cli.eval",
        "evaluate scores against labels and the baseline (geno-lewm-eval)",
        gate="evaluation",
        input_flags=("--scores-jsonl", "--labels", "--baseline-scores-jsonl"),
        output_flags=("--output-metrics",),
        sibling_outputs=("eval_config.effective.yaml",),
    ),
    StepSpec(
        "eval_all",
        "geno_lewm.cli.eval_all",
        "aggregate metrics into eval_metrics.json and eval_report.md (geno-lewm-eval-all)",
        gate="evaluation",
        input_flags=("--metrics-json",),
        output_flags=("--output-metrics", "--output-report"),
        sibling_outputs=("eval_config.effective.yaml",),
    ),
    StepSpec(
        "bench_inference",
        "bench.inference",
        "measure latency/throughput/memory (python -m bench.inference --release-efficiency)",
        gate="efficiency",
        fixed_args=("--release-efficiency",),
        input_flags=("--model-dir", "--vcf", "--fasta"),
        output_flags=("--output-json",),
    ),
    StepSpec(
        "terminal_demo",
        "tools.demo.terminal_inference",
        "terminal demo transcript + manifest from the real score command",
        gate="demo",
        input_flags=("--model-dir", "--vcf", "--fasta"),
        output_flags=("--output-dir",),
    ),
]


def _declared() -> list[Any]:
    """Every :class:`tools.release.declare.Step` declared by a module of ``tools.release``."""
    import tools.release
    from tools.release.declare import Step

    found: list[Any] = []
    for info in pkgutil.iter_modules(tools.release.__path__):
        if info.ispkg:
            continue
        mod = importlib.import_module(f"tools.release.{info.name}")
        found += [v for v in vars(mod).values() if isinstance(v, Step) and v.module == mod.__name__]
    return found


@cache
def _registry() -> dict[str, Any]:
    from tools.release.gates import load_gates

    order: dict[str, tuple[int, int]] = {}
    for gi, g in enumerate(load_gates()):
        for si, name in enumerate(g.steps):
            order[name] = (gi, si)
    entries = [*_COMMANDS, *_declared()]
    entries.sort(key=lambda s: (*order.get(s.name, (len(order) + 1, 0)), s.name))
    return {s.name: s for s in entries}


def __getattr__(name: str) -> Any:
    if name == "STEPS":  # built on first use: it imports the declaring modules
        return _registry()
    raise AttributeError(name)


def all_steps() -> dict[str, Any]:
    """name -> declaration (:class:`tools.release.declare.Step` or :class:`StepSpec`), in release order."""
    return _registry()


def step_flags(name: str) -> list[dict[str, Any]]:
    """The flags step ``name`` accepts, as ``{name, type, required, default, help}`` rows (the cockpit's step form)."""
    return step(name).flag_rows()


def step(name: str) -> StepSpec:
    """The registered step ``name`` (``RELEASE.UNKNOWN_STEP`` if none)."""
    from ledger.errors import ReleaseError

    steps = _registry()
    try:
        return steps[name]
    except KeyError:
        raise ReleaseError("UNKNOWN_STEP", f"no release step named {name!r}", f"known steps: {', '.join(steps)}") from None
