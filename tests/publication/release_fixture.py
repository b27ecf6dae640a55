"""Build a small but real fixture release (dataset, model package, demo, paper) through the rehearsal plan.

The rehearsal's ordered plan (``tools.release.gate.rehearsal.PLAN``) runs every release step through the
step runner, recorded in the workdir's ledger. Two changes keep it fast and self-contained here:
training uses a shrunken copy of the tiny CPU config (a handful of steps), and the Carbon baseline and
eval steps read copies of the eval inputs placed under the model directory (their artifact root),
eval uses 50 bootstrap resamples, the aggregate leaves out the (tiny, empty) rollout metrics, the
model metadata takes the manifest's release id, and the FASTA index pysam writes into the dataset
package is removed before the paper steps verify the package, and the demo directory carries a copy
of the demo VCF (the paper verifier checks the demo input identity there).
"""

from __future__ import annotations

import shutil
from pathlib import Path

SMALL = {
    "steps: 120": "steps: 6",
    "warmup_steps: 10": "warmup_steps: 2",
    "synthetic_snvs: 192": "synthetic_snvs: 24",
    "synthetic_indels: 48": "synthetic_indels: 8",
    "synthetic_mnvs: 24": "synthetic_mnvs: 4",
    "every_steps: 40": "every_steps: 6",
    "log_every: 10": "log_every: 3",
    "d_model: 96": "d_model: 32",
    "dim: 64": "dim: 32",
    "batch_size: 32": "batch_size: 16",
}


def _small_config(workdir: Path) -> Path:
    from geno_lewm.resources import config_path

    text = config_path("train-tiny-cpu.yaml").read_text(encoding="utf-8")
    for a, b in SMALL.items():
        assert a in text, a
        text = text.replace(a, b)
    out = workdir / "configs" / "train-small.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def _eval_inputs(l) -> None:
    d = l.model / "eval" / "inputs"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(l.dataset / "variants" / "eval.vcf", d / "eval.vcf")
    shutil.copyfile(l.fasta, d / "rCRS_chrM.fa")


def _swap(args, old: str, new: str):
    return lambda l: [
        new if a == old else a
        for a in (
            x.replace(str(l.dataset / "variants" / "eval.vcf"), str(l.model / "eval" / "inputs" / "eval.vcf")).replace(
                str(l.fasta), str(l.model / "eval" / "inputs" / "rCRS_chrM.fa")
            )
            for x in args(l)
        )
    ]


def _chain(first, then):
    """A preparation running the rehearsal's own (if any), then ours."""

    def prepare(l) -> None:
        if first is not None:
            first(l)
        then(l)

    return prepare


def _model_meta(l) -> None:
    """The rehearsal's model metadata, with the release id the packaged manifest carries."""
    import json

    meta_path = l.meta / "model_package.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["release_id"] = json.loads((l.model / "manifest.json").read_text(encoding="utf-8"))["release_id"]
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _demo_vcf(l) -> None:
    """The paper verifier checks the demo VCF identity inside the demo directory: ship a copy there."""
    l.demo.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(l.dataset / "variants" / "eval.vcf", l.demo / "eval.vcf")


def _drop_fai(l) -> None:
    """pysam may leave ``<fasta>.fai`` beside the dataset FASTA; the dataset package must stay exactly its checksummed files."""
    from ledger.artifacts import read_sums

    listed = read_sums(l.dataset / "SHA256SUMS")
    for fai in (l.dataset / "reference").glob("*.fai"):
        if fai.relative_to(l.dataset).as_posix() not in listed:
            fai.unlink()


def _drop_rollout(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for i, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a == "--metrics-json" and i + 1 < len(argv) and argv[i + 1].endswith("rollout_metrics.json"):
            skip = True
            continue
        out.append(a)
    return out


def fixture_plan(workdir: Path):
    """The rehearsal plan with the small training config and eval inputs under the model directory."""
    from tools.release.gate.rehearsal import PLAN, PlanEntry

    small = str(_small_config(workdir))
    plan = []
    for e in PLAN:
        if e.step in ("train", "training_preflight"):
            e = PlanEntry(e.step, (lambda f: lambda l: f(l) + ["--training-config", small])(e.args), e.prepare)
        elif e.step == "carbon_baseline":
            e = PlanEntry(e.step, _swap(e.args, "", ""), _chain(e.prepare, _eval_inputs))
        elif e.step == "eval":
            e = PlanEntry(e.step, (lambda f: lambda l: f(l) + ["--bootstrap", "50"])(_swap(e.args, "", "")), e.prepare)
        elif e.step == "model_package":
            e = PlanEntry(e.step, e.args, _chain(e.prepare, _model_meta))
        elif e.step == "terminal_demo" and e.prepare is None:
            e = PlanEntry(e.step, e.args, _demo_vcf)
        elif e.step == "paper_draft":
            e = PlanEntry(e.step, e.args, _chain(e.prepare, _drop_fai))
        elif e.step == "eval_all":
            e = PlanEntry(e.step, (lambda f: lambda l: _drop_rollout(f(l)))(e.args), e.prepare)
        plan.append(e)
    return plan


def build_fixture_release(workdir: Path, log=None):
    """Run the fixture plan in ``workdir``; return the rehearsal result (``ok`` when every step passed)."""
    from tools.release.gate.rehearsal import rehearse

    workdir.mkdir(parents=True, exist_ok=True)
    return rehearse(workdir, progress=log, plan=fixture_plan(workdir))
