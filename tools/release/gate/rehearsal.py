"""``geno-lewm-release rehearse``: the whole release, offline, on the example data (a fixture rehearsal).

:func:`rehearse` stages the bundled examples and the committed dataset snapshot spec into a
working directory and runs the ordered :data:`PLAN` — each entry a registered step name plus a
function building its argv from the :class:`Layout` — through :func:`tools.release.engine.runner.run_step`,
so every step is recorded in the workdir's ledger. It stops at the first failure (or after
``until``), then derives gate states. Everything it produces is a fixture: the tiny stand-in
encoder, a demo dataset snapshot, CPU training; the summary says so.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import ReleaseError

from tools.release.engine.context import Log, ReleaseContext
from tools.release.gate.states import GateState
from tools.release.engine.runner import StepOutcome, run_step
from tools.release.engine.registry import all_steps

FIXTURE_NOTICE = (
    "This was a FIXTURE REHEARSAL: tiny stand-in encoder, demo dataset snapshot (17 demo-labelled "
    "mtDNA variants), CPU training. It exercises every release step and gate; it is not a release "
    "and supports no model-quality claim."
)
#: Said whenever the phased-haplotype rollout track ran on synthesized genotypes.
SYNTHETIC_PHASING_NOTICE = (
    "The phased_haplotype rollout track ran on SYNTHESIZED phased genotypes: the demo VCF is "
    "sites-only, so the rehearsal drew seeded random phased genotypes for {samples} synthetic "
    "samples over the eval-split demo sites ({vcf}); they describe no real individual."
)
SYNTHETIC_SAMPLES = 4  # synthetic samples drawn when the eval VCF carries no phased genotypes
SYNTHETIC_SEED = "geno-lewm-rehearsal-phasing:0"  # seed of the synthesized genotypes
REHEARSAL_RELEASE_ID = "geno-lewm-v0.1.0-tiny-carbon-r1"  # fallback when the run has no manifest
GATES_UP_TO_PAPER = ("dataset", "training", "evaluation", "efficiency", "model_package", "demo", "paper")


#: Edits per fidelity track in the rehearsal's eval report (small: a fixture, not a measurement).
FIDELITY_EDITS = 100
#: The training config the rehearsal model uses: the learning recipe (rfcs/RFC-0014-world-model-fidelity.md).
RECIPE_CONFIG = "train-tiny-cpu-context.yaml"


class _Under:
    """A :class:`Layout` path: ``parts`` joined under another of its paths (``base``); ``doc`` says what it holds."""

    def __init__(self, base: str, *parts: str, doc: str) -> None:
        self.base, self.parts, self.__doc__ = base, parts, doc

    def __get__(self, layout: Layout | None, owner: type | None = None) -> Any:
        if layout is None:
            return self
        return Path(getattr(layout, self.base), *self.parts)


@dataclass(frozen=True)
class Layout:
    """Where the rehearsal puts everything (all under ``workdir``, which is also the artifact root)."""

    workdir: Path  # release working directory (workspace + artifact root)

    upstream = _Under("workdir", "upstream", doc="Staged upstream inputs (``--inputs-dir``).")
    spec = _Under("workdir", "specs", "dataset-snapshot-snv.json", doc="Staged copy of the dataset snapshot spec.")
    recipe_config = _Under(
        "workdir", "configs", RECIPE_CONFIG, doc="The recipe config staged inside the working directory (the ledger records inputs under its root)."
    )
    dataset = _Under("workdir", "dataset", doc="Dataset package directory.")
    encoder = _Under("workdir", "carbon-tiny", doc="Tiny stand-in Carbon checkpoint.")
    run = _Under("workdir", "run", doc="Training run directory.")
    model = _Under("workdir", "model", doc="Model package directory (a copy of the packaged run, then calibrated and evaluated).")
    eval = _Under("workdir", "eval", doc="Per-benchmark scores and metrics.")
    demo = _Under("workdir", "demo", doc="Terminal demo output directory.")
    meta = _Under("workdir", "metadata", doc="Release metadata JSON files written by the driver.")
    paper = _Under("workdir", "paper", "paper_draft.md", doc="Paper draft path.")
    eval_vcf = _Under("model", "eval", "inputs", "eval.vcf", doc="Eval-split VCF staged inside the model package.")
    eval_fasta = _Under("model", "eval", "inputs", "rCRS_chrM.fa", doc="Reference staged inside the model package.")
    phased_vcf = _Under(
        "model", "eval", "inputs", "phased_haplotypes.vcf", doc="Phased-genotype VCF for the phased_haplotype rollout track (inside the model package)."
    )
    fidelity_json = _Under("model", "eval", "fidelity.json", doc="World-model fidelity on held-out edits (python -m bench.fidelity's document), for eval_all.")
    rollout_json = _Under("model", "eval", "rollout_metrics.json", doc="Rollout metrics (both tracks).")
    fasta = _Under("dataset", "reference", "rCRS_chrM.fa", doc="Reference FASTA inside the dataset package.")


@dataclass(frozen=True)
class PlanEntry:
    """One rehearsal step: a registered step name, its argv builder and an optional preparation."""

    step: str  # name in tools.release.engine.registry.STEPS
    args: Callable[[Layout], list[str]]  # argv for the step (after its fixed args)
    prepare: Callable[[Layout], None] | None = None  # driver work before the step (staging, metadata)


def _stage(l: Layout) -> None:
    from geno_lewm.resources import config_path, example_path

    (l.upstream / "examples").mkdir(parents=True, exist_ok=True)
    for name in ("rCRS_chrM.fa", "mt_known_variants.vcf"):
        shutil.copyfile(example_path(name), l.upstream / "examples" / name)
    l.spec.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config_path("first_experiment", "dataset-snapshot-snv.json"), l.spec)
    l.recipe_config.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config_path(RECIPE_CONFIG), l.recipe_config)


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    from ledger.fsutil import atomic_write_text

    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _build_encoder(l: Layout) -> None:
    if not (l.encoder / "config.json").is_file():
        from geno_lewm.cli.train import main as train_main

        rc = train_main(["--build-tiny-encoder", str(l.encoder), "--pretrain-steps", "0", "--no-progress"])
        if rc:
            raise ReleaseError("REHEARSAL_SETUP", "could not build the tiny stand-in encoder")


def _release_id(l: Layout) -> str:
    """The release id the trainer wrote into the run's manifest (the rehearsal must not invent another)."""
    man = l.run / "manifest.json"
    if man.is_file():
        return str(json.loads(man.read_text(encoding="utf-8")).get("release_id") or REHEARSAL_RELEASE_ID)
    return REHEARSAL_RELEASE_ID


def _training_meta(l: Layout) -> None:
    _write_json(
        l.meta / "training_run.json",
        {"release_id": _release_id(l), "extra_files": ["training_preflight_report.json"], "notes": "Fixture rehearsal run (tiny stand-in encoder, CPU)."},
    )


def _assemble_model(l: Layout) -> None:
    if l.model.exists():
        shutil.rmtree(l.model)
    shutil.copytree(l.run, l.model, ignore=shutil.ignore_patterns("window_cache", ".*", "*.tmp"))


def _stage_eval_inputs(l: Layout) -> None:
    """Copy the eval VCF and the reference into the model package, so eval artifact paths stay inside it."""
    inputs = l.model / "eval" / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(l.dataset / "variants" / "eval.vcf", inputs / "eval.vcf")
    shutil.copyfile(l.fasta, inputs / l.fasta.name)


def has_phased_genotypes(vcf: Path) -> bool:
    """True when ``vcf`` has samples and at least one phased genotype call carrying an ALT allele."""
    import pysam

    quiet = pysam.set_verbosity(0)
    try:
        with pysam.VariantFile(str(vcf)) as vf:
            samples = list(vf.header.samples)
            if not samples:
                return False
            for rec in vf:
                for s in samples:
                    call = rec.samples[s]
                    if call.phased and any(a not in (None, 0) for a in call.get("GT") or ()):
                        return True
    finally:
        pysam.set_verbosity(quiet)
    return False


def synthesize_phased_vcf(src: Path, dst: Path, *, samples: int = SYNTHETIC_SAMPLES, seed: str = SYNTHETIC_SEED) -> int:
    """Write ``src``'s sites with seeded random phased genotypes for ``samples`` synthetic samples.

    Each haplotype carries each site's first ALT allele with probability 1/2. The header says the
    genotypes are synthetic (``##geno_lewm_synthetic_genotypes``) and the samples are named
    ``SYNTHETIC_<i>``. Returns the number of sites written.
    """
    import random

    from ledger.fsutil import atomic_write_text

    rng = random.Random(seed)
    meta, rows = [], []
    for line in src.read_text(encoding="utf-8").splitlines():
        if line.startswith("##"):
            if not line.startswith("##FORMAT=<ID=GT"):
                meta.append(line)
        elif line.startswith("#CHROM"):
            continue
        elif line.strip():
            cols = line.split("\t")[:8]
            gts = [f"{int(rng.random() < 0.5)}|{int(rng.random() < 0.5)}" for _ in range(samples)]
            rows.append("\t".join([*cols, "GT", *gts]))
    names = [f"SYNTHETIC_{i + 1}" for i in range(samples)]
    head = [
        *meta,
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        f"##geno_lewm_synthetic_genotypes=seeded random phased genotypes ({seed}) over the sites of {src.name}; no real individual",
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *names]),
    ]
    atomic_write_text(dst, "\n".join(head + rows) + "\n")
    return len(rows)


def _stage_rollout_inputs(l: Layout) -> None:
    """The phased VCF: the eval split itself when it has phased genotypes, else synthesized ones (said so)."""
    if has_phased_genotypes(l.eval_vcf):
        shutil.copyfile(l.eval_vcf, l.phased_vcf)
        return
    synthesize_phased_vcf(l.eval_vcf, l.phased_vcf)


def _fidelity_metrics(l: Layout) -> None:
    """World-model fidelity on held-out edits of the eval reference (RFC-0014), for the eval report."""
    from geno_lewm.eval.fidelity import run_fidelity
    from geno_lewm.package import ModelPackage

    pkg = ModelPackage.load(l.model, device="cpu")
    _write_json(l.fidelity_json, run_fidelity(pkg, l.eval_fasta, n_edits=FIDELITY_EDITS, seed=0, resamples=200))


def _stage_demo_inputs(l: Layout) -> None:
    """The demo package carries its own inputs, so its recorded VCF/FASTA identities resolve inside it."""
    inputs = l.demo / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(l.eval_vcf, inputs / "eval.vcf")
    shutil.copyfile(l.eval_fasta, inputs / l.fasta.name)


def _model_meta(l: Layout) -> None:
    _write_json(
        l.meta / "model_package.json",
        {
            "release_id": _release_id(l),
            "commit": _commit(),
            "title": "Fixture rehearsal model (tiny stand-in encoder)",
            "extra_files": ["training_preflight_report.json", "training_run_manifest.json", "training_run_card.md", "training_run_SHA256SUMS"],
            "limitations": ["Fixture rehearsal: tiny stand-in encoder and 17 demo-labelled variants; no model-quality claim."],
        },
    )


def _commit() -> str:
    import subprocess

    from geno_lewm.resources import project_root

    root = project_root()
    if root is not None:
        proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    return "0" * 40


def argv(*template: str) -> Callable[[Layout], list[str]]:
    """An argv builder for a :class:`PlanEntry`: the words of ``template``, each formatted with the layout as ``l``.

    ``argv("--model-dir {l.model}", "--output {l.model}/report.json")`` gives, for a layout ``l``,
    ``["--model-dir", str(l.model), "--output", f"{l.model}/report.json"]``. Words split on
    whitespace before formatting, so a workdir with spaces stays one argument.
    """
    words = " ".join(template).split()
    return lambda l: [w.format(l=l) for w in words]


#: Flags of every step that reads the staged eval inputs from the model package.
_EVAL_INPUTS = "--model-dir {l.model} --vcf {l.eval_vcf} --fasta {l.eval_fasta}"
#: Flags shared by the trainer's preflight and training modes.
_TRAINER = "--dataset-dir {l.dataset} --carbon-model-dir {l.encoder} --run-dir {l.run} --training-config {l.recipe_config}"
#: Flags shared by the paper draft and the paper package.
_PAPER_INPUTS = "--model-dir {l.model} --dataset-dir {l.dataset} --demo-dir {l.demo}"

#: The ordered rehearsal. Steps whose modules are owned by other layers are run through their
#: public CLI ``main(argv)`` (recorded by ``record_command``).
PLAN: list[PlanEntry] = [
    PlanEntry("dataset_spec_check", argv("--spec-json {l.spec}"), _stage),
    PlanEntry("dataset_input_check", argv("--spec-json {l.spec} --inputs-dir {l.upstream}")),
    PlanEntry("dataset_snapshot", argv("--spec-json {l.spec} --inputs-dir {l.upstream} --dataset-dir {l.dataset} --overwrite")),
    PlanEntry("dataset_package", argv("--dataset-dir {l.dataset} --metadata-json {l.dataset}/dataset_metadata.json")),
    PlanEntry("dataset_integrity", argv("--dataset-dir {l.dataset}")),
    PlanEntry("training_preflight", argv(_TRAINER, "--allow-cpu"), _build_encoder),
    PlanEntry("train", argv(_TRAINER, "--device cpu --no-progress")),
    PlanEntry("training_run", argv("--run-dir {l.run} --metadata-json {l.meta}/training_run.json"), _training_meta),
    PlanEntry(
        "calibrate",
        argv("--model-dir {l.model} --fasta {l.fasta} --exclude-vcf {l.dataset}/variants/eval.vcf --n-null 300 --device cpu"),
        _assemble_model,
    ),
    PlanEntry(
        "score",
        argv(_EVAL_INPUTS, "--output-scores {l.model}/eval/scores.jsonl --output-receipts {l.model}/eval/receipts.jsonl --quiet"),
        _stage_eval_inputs,
    ),
    PlanEntry(
        "carbon_baseline",
        argv(
            "--artifact-root {l.model} --vcf {l.eval_vcf} --fasta {l.eval_fasta} --carbon-model-dir {l.model}/encoder",
            "--output-scores {l.model}/eval/baseline.jsonl --logp-cache-jsonl {l.model}/eval/logp_cache.jsonl --device cpu",
        ),
    ),
    PlanEntry(
        "rollout",
        argv(
            "--model-dir {l.model} --fasta {l.eval_fasta} --vcf {l.phased_vcf} --synthetic-chains 8 --split eval --device cpu",
            "--output-json {l.rollout_json}",
        ),
        _stage_rollout_inputs,
    ),
    PlanEntry(
        "eval",
        argv(
            "--scores-jsonl {l.model}/eval/scores.jsonl --labels {l.eval_vcf} --metric-mode binary",
            "--baseline-scores-jsonl {l.model}/eval/baseline.jsonl --baseline-score-field carbon_zero_shot_score --baseline-name carbon_zero_shot",
            "--label-source demo --split eval --stand-in --artifact-root {l.model} --output-metrics {l.model}/eval/metrics_demo.json",
        ),
    ),
    PlanEntry(
        "eval_all",
        argv(
            "--metrics-json {l.model}/eval/metrics_demo.json --metrics-json {l.rollout_json} --metrics-json {l.fidelity_json}",
            "--stand-in --artifact-root {l.model} --output-metrics {l.model}/eval_metrics.json --output-report {l.model}/eval_report.md",
        ),
        _fidelity_metrics,
    ),
    PlanEntry(
        "bench_inference",
        argv(_EVAL_INPUTS, "--samples 3 --warmup 1 --device cpu --output-json {l.model}/efficiency_report.json"),
    ),
    PlanEntry("efficiency_report", argv("--bench-json {l.model}/efficiency_report.json --model-dir {l.model}")),
    PlanEntry("model_package", argv("--model-dir {l.model} --metadata-json {l.meta}/model_package.json"), _model_meta),
    PlanEntry(
        "terminal_demo",
        argv(
            "--model-dir {l.model} --vcf {l.demo}/inputs/eval.vcf --fasta {l.demo}/inputs/{l.fasta.name}",
            "--output-dir {l.demo} --artifact-root {l.demo} --device cpu",
        ),
        _stage_demo_inputs,
    ),
    PlanEntry("paper_draft", argv(_PAPER_INPUTS, "--output {l.paper}")),
    PlanEntry("paper_package", argv(_PAPER_INPUTS, "--paper-path {l.paper}")),
]


@dataclass(frozen=True)
class StepProgress:
    """One structured progress event of the rehearsal: a step started, passed or failed.

    ``index`` is 1-based among the ``total`` steps this rehearsal will run (``until`` counted).
    A failure carries the error ``code``, ``message`` and ``hint``; ``seconds`` is the step's
    wall time (0 when it started).
    """

    step: str  # step name (tools.release.engine.registry.STEPS)
    index: int  # 1-based position in this rehearsal
    total: int  # steps this rehearsal runs (up to ``until``)
    outcome: str  # "started" | "passed" | "failed"
    code: str = ""  # error code when failed
    message: str = ""  # error message when failed
    hint: str = ""  # what to do, when failed
    seconds: float = 0.0  # wall time of the step (passed/failed events)


StepCallback = Callable[[StepProgress], None]


@dataclass
class RehearsalResult:
    """What a rehearsal did: step outcomes, unavailable steps, final gate states, timing."""

    ok: bool  # every planned step (up to ``until``) passed
    steps: list[StepOutcome] = field(default_factory=list)  # outcomes in order
    gates: list[GateState] = field(default_factory=list)  # gate states after the run
    seconds: float = 0.0  # wall time
    stopped_at: str = ""  # step that failed or was unavailable ("" when all passed)
    notice: str = FIXTURE_NOTICE  # the fixture statement

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "ok": self.ok,
            "fixture_rehearsal": True,
            "notice": self.notice,
            "seconds": f"{self.seconds:.1f}",
            "stopped_at": self.stopped_at,
            "steps": [{"name": s.name, "ok": s.ok, "code": s.code, "message": s.message, "hint": s.hint} for s in self.steps],
            "gates": [g.to_dict() for g in self.gates],
        }

    def render(self) -> str:
        """Human summary: steps, gate status, the fixture notice."""
        from tools.release.gate.status import render_text

        lines = ["Rehearsal steps"]
        for s in self.steps:
            lines.append(f"  {'✓' if s.ok else '✗'} {s.name}" + ("" if s.ok else f"  {s.code}: {s.message}"))
        lines.append("")
        text = "\n".join(lines) + "\n" + render_text(self.gates)
        return text + f"\n{self.notice}\nTook {self.seconds:.1f} s.\n"


def rehearse(
    workdir: str | os.PathLike[str],
    progress: Log | None = None,
    *,
    on_step: StepCallback | None = None,
    until: str | None = None,
    plan: list[PlanEntry] | None = None,
) -> RehearsalResult:
    """Run the fixture rehearsal in ``workdir`` (created if missing); return a :class:`RehearsalResult`.

    ``progress`` receives every log line (step output included; each step is announced with a
    ``== <step>`` line). ``on_step`` receives a :class:`StepProgress` when each step starts and
    when it passes or fails (with its error code and hint). ``until`` stops after that step. A
    step whose module is not installed stops the rehearsal with ``RELEASE.STEP_UNAVAILABLE``.
    """
    from tools.release.gate.status import gate_states

    log = progress or (lambda line: None)
    notify = on_step or (lambda event: None)
    t0 = time.perf_counter()
    wd = Path(workdir).absolute()
    wd.mkdir(parents=True, exist_ok=True)
    layout = Layout(wd)
    entries = plan if plan is not None else PLAN
    names = [e.step for e in entries]
    if until is not None and until not in names:
        raise ReleaseError("UNKNOWN_STEP", f"--until {until!r} is not a rehearsal step", f"rehearsal steps: {', '.join(names)}")
    total = names.index(until) + 1 if until is not None else len(entries)
    ctx = ReleaseContext.for_workdir(wd, log=log)
    result = RehearsalResult(ok=True)
    log("fixture rehearsal: " + FIXTURE_NOTICE)
    try:
        for index, entry in enumerate(entries[:total], start=1):
            if entry.step not in all_steps():
                raise ReleaseError("UNKNOWN_STEP", f"rehearsal plan names unknown step {entry.step!r}")
            started = time.perf_counter()
            notify(StepProgress(entry.step, index, total, "started"))
            try:
                if entry.prepare is not None:
                    entry.prepare(layout)
                argv = entry.args(layout)
            except Exception as exc:  # noqa: BLE001 - a preparation failure ends the rehearsal, typed
                code = getattr(exc, "code", "RELEASE.REHEARSAL_SETUP")
                hint = getattr(exc, "hint", "") or "see the rehearsal log; the step's preparation (staging, metadata) failed"
                outcome = StepOutcome(entry.step, False, 9, code, f"preparation failed: {getattr(exc, 'message', exc)}", hint)
                log(f"error[{code}]: {outcome.message}")
            else:
                log(f"== {entry.step}")
                outcome = run_step(entry.step, argv, ctx)
            seconds = time.perf_counter() - started
            notify(StepProgress(entry.step, index, total, "passed" if outcome.ok else "failed", outcome.code, outcome.message, outcome.hint, seconds))
            result.steps.append(outcome)
            if not outcome.ok:
                result.ok, result.stopped_at = False, entry.step
                break
        if ctx.resolved_ledger_path.exists():  # every event of the rehearsal gets an inclusion proof against a signed head
            cp = ctx.checkpoint()
            log(f"checkpoint of {cp['size']} events written to checkpoints/{cp['file']}")
    finally:
        ctx.close()
    if (
        any(o.name == "rollout" for o in result.steps)
        and layout.phased_vcf.is_file()
        and "##geno_lewm_synthetic_genotypes" in layout.phased_vcf.read_text(encoding="utf-8")
    ):
        note = SYNTHETIC_PHASING_NOTICE.format(samples=SYNTHETIC_SAMPLES, vcf=layout.phased_vcf.relative_to(wd).as_posix())
        result.notice = f"{result.notice} {note}"
        log(note)
    result.gates = gate_states(wd)
    result.seconds = time.perf_counter() - t0
    return result
