"""The step registry: every release step by name, derived from the step declarations.

Two kinds of step:

- ``release`` — a ``tools.release.<name>`` module declaring a :class:`tools.release.engine.declare.Step`
  (its flags, gate, purpose and body); it records itself in the ledger;
- ``command`` — any other command (``geno-lewm-train``, ``geno-lewm-score``, ``bench.inference`` …),
  declared here as a :class:`StepSpec` and run through
  :func:`tools.release.engine.recording.record_command`; the declaration names which of its flags are
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
    """A step that wraps an existing command (recorded by :func:`tools.release.engine.recording.record_command`)."""

    name: str  # step name as recorded in the ledger and listed in gates.toml
    module: str  # module holding ``main(argv) -> int`` and ``build_parser()``
    description: str  # one line for humans (status, cockpit, docs)
    kind: str = "command"  # always "command" (declared release steps are tools.release.engine.declare.Step)
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
        from tools.release.engine.declare import flags_from_parser

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


def command_step(name: str, gate: str, command: str, io: str, purpose: str, *, siblings: tuple[str, ...] = ()) -> StepSpec:
    """A command step declared in one row.

    ``command`` is ``"MODULE [FIXED ARGS…]"``; ``io`` is ``"INPUT FLAGS… -> OUTPUT FLAGS…"`` (the flags
    whose values the ledger records as inputs and outputs); ``siblings`` are files the command writes
    beside its first output.
    """
    module, *fixed = command.split()
    inputs, _, outputs = io.partition("->")
    return StepSpec(
        name,
        module,
        purpose,
        gate=gate,
        fixed_args=tuple(fixed),
        input_flags=tuple(inputs.split()),
        output_flags=tuple(outputs.split()),
        sibling_outputs=siblings,
    )


#: The trainer's recorded inputs and output (both modes).
_TRAINER_IO = "--dataset-dir --carbon-model-dir --training-config -> --run-dir"
#: What every command scoring the eval split reads: the model package, the VCF and its reference.
_SCORING_INPUTS = "--model-dir --vcf --fasta"
#: The effective eval config the eval commands write beside their metrics.
_EVAL_CONFIG = ("eval_config.effective.yaml",)

_COMMANDS: list[StepSpec] = [
    command_step(
        "training_preflight",
        "training",
        "geno_lewm.cli.train --carbon-preflight",
        _TRAINER_IO,
        "preflight the training inputs (geno-lewm-train --carbon-preflight)",
    ),
    command_step("train", "training", "geno_lewm.cli.train --carbon-train", _TRAINER_IO, "train the predictor (geno-lewm-train --carbon-train)"),
    command_step(
        "calibrate", "evaluation", "geno_lewm.cli.calibrate", "--fasta --exclude-vcf -> --model-dir", "fit the score calibration table (geno-lewm-calibrate)"
    ),
    command_step(
        "score",
        "evaluation",
        "geno_lewm.cli.score",
        f"{_SCORING_INPUTS} -> --output-scores --output-receipts --output-report --output-vcf --output-parquet",
        "score variants with receipts (geno-lewm-score)",
    ),
    command_step(
        "carbon_baseline",
        "evaluation",
        "geno_lewm.cli.carbon_baseline",
        "--vcf --fasta --carbon-model-dir -> --output-scores --logp-cache-jsonl --output-summary",
        "Carbon zero-shot baseline scores (geno-lewm-carbon-baseline)",
    ),
    command_step(
        "rollout", "evaluation", "geno_lewm.cli.rollout", "--model-dir --fasta --vcf -> --output-json", "rollout fidelity metrics (geno-lewm-rollout)"
    ),
    command_step(
        "eval",
        "evaluation",
        "geno_lewm.cli.eval",
        "--scores-jsonl --labels --baseline-scores-jsonl -> --output-metrics",
        "evaluate scores against labels and the baseline (geno-lewm-eval)",
        siblings=_EVAL_CONFIG,
    ),
    command_step(
        "eval_all",
        "evaluation",
        "geno_lewm.cli.eval_all",
        "--metrics-json -> --output-metrics --output-report",
        "aggregate metrics into eval_metrics.json and eval_report.md (geno-lewm-eval-all)",
        siblings=_EVAL_CONFIG,
    ),
    command_step(
        "bench_inference",
        "efficiency",
        "bench.inference --release-efficiency",
        f"{_SCORING_INPUTS} -> --output-json",
        "measure latency/throughput/memory (python -m bench.inference --release-efficiency)",
    ),
    command_step(
        "terminal_demo",
        "demo",
        "tools.demo.terminal_inference",
        f"{_SCORING_INPUTS} -> --output-dir",
        "terminal demo transcript + manifest from the real score command",
    ),
]


def _declared() -> list[Any]:
    """Every :class:`tools.release.engine.declare.Step` declared by a module of ``tools.release``."""
    import tools.release
    from tools.release.engine.declare import Step

    found: list[Any] = []
    for info in pkgutil.iter_modules(tools.release.__path__):
        if info.ispkg:
            continue
        mod = importlib.import_module(f"tools.release.{info.name}")
        found += [v for v in vars(mod).values() if isinstance(v, Step) and v.module == mod.__name__]
    return found


@cache
def _registry() -> dict[str, Any]:
    from tools.release.gate.states import load_gates

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
    """name -> declaration (:class:`tools.release.engine.declare.Step` or :class:`StepSpec`), in release order."""
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
