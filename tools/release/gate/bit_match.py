"""INV-REL-2 — re-scoring a published model is bit for bit: the check and the baseline update.

Declared as the release step ``python -m tools.release.bit_match_baseline``.

Re-scores the committed fixed input (``examples/mt_known_variants.vcf`` + ``examples/rCRS_chrM.fa``)
with the **committed model package** ``tests/baselines/bit_match/model/`` (the tiny stand-in, a
few MB of safetensors, manifest, calibration and encoder files) under **reproducible numerics**
(``geno-lewm-score --numerics reproducible``, in a fresh process so the kernel pins apply before
torch loads) and compares, byte for byte, the score rows and the receipts' output commitments with
the committed baseline beside it:

``model/``                      the published model package the contract is about
``baseline.json``               what the baseline was made from: input identities, the model
                                (``model_id``, manifest, how it was built), numerics mode,
                                environment, and the identities of the two files below
``scores.jsonl``                the exact score-row bytes ``geno-lewm-score`` wrote
``output_commitments.jsonl``    one canonical line per receipt: ``{variant, output_commitment}``

This is what the release page promises: the same published model, re-scored later on any x86-64
machine, gives the same bytes. Whether *training* rebuilds that package bit for bit is a weaker,
same-machine property, tested separately (tests/release_gate/test_bit_match.py), never by this gate.

``--model-dir`` scores with another copy of the package (it must have the baseline's ``model_id``).
A difference fails with ``RELEASE.BIT_MATCH`` naming the first differing variant and field; a
package that is not the baseline's fails with ``RELEASE.BIT_MATCH_MODEL`` naming the manifest
fields and artifacts that moved.

``--update-baseline`` rewrites the baseline (only when asked; ``--rebuild-model`` first rebuilds
the package from :data:`tools.release.gate.bit_match_model.RECIPE`) and is recorded in the ledger as its
own step, ``bit_match_baseline.update``; the check is recorded as step ``bit_match_baseline``.
Importable here: :func:`check_bit_match`, :func:`update_baseline`, :func:`rescore`, :func:`first_difference`.
See docs/numerical-contract.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ledger.canonical import canonical_json
from ledger.errors import ReleaseError
from ledger.fsutil import atomic_write_bytes
from ledger.identity import file_identity, relative_or_name

from tools.release.engine.context import ReleaseContext
from tools.release.engine.recording import StepRun

GENERATED_BY: Final = "tools.release.bit_match_baseline"
SCHEMA_VERSION: Final = "1.0.0"
STEP: Final = "bit_match_baseline"
UPDATE_STEP: Final = "bit_match_baseline.update"
#: Baseline folder, relative to the project root.
BASELINE_DIR: Final = "tests/baselines/bit_match"
META_NAME: Final = "baseline.json"
SCORES_NAME: Final = "scores.jsonl"
COMMITMENTS_NAME: Final = "output_commitments.jsonl"
#: The committed model package, inside the baseline folder.
PACKAGE_NAME: Final = "model"
#: Numerics mode the baseline is made and checked with.
NUMERICS: Final = "reproducible"
#: The fixed input, relative to the project root.
INPUT_VCF: Final = "examples/mt_known_variants.vcf"
INPUT_FASTA: Final = "examples/rCRS_chrM.fa"
STAND_IN_NOTE: Final = "Baseline made with the tiny stand-in encoder: it pins numbers, not biological skill."


@dataclass(frozen=True)
class Rescored:
    """The outputs of one re-scoring run that the contract pins."""

    model_id: str  # model package id
    scores: bytes  # score rows JSONL, exactly as written
    commitments: bytes  # one canonical {variant, output_commitment} line per receipt


@dataclass(frozen=True)
class Difference:
    """The first place re-scored outputs differ from the baseline."""

    file: str  # scores.jsonl or output_commitments.jsonl
    line: int  # 1-based line number
    variant: str  # chrom:pos:ref>alt (or "?" past the end)
    field: str  # first differing field ("(row count)" when one side has more lines)
    baseline: str  # the baseline's value (raw JSON token)
    current: str  # the re-scored value (raw JSON token)

    def describe(self) -> str:
        """One line naming the variant, the field and both values."""
        return f"{self.file} line {self.line}, variant {self.variant}: field {self.field} is {self.current} now, baseline {self.baseline}"


def _dirs(project_root: str | os.PathLike[str] | None, baseline_dir: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    """(project root, baseline folder): ``baseline_dir`` defaults to :data:`BASELINE_DIR` under the root."""
    from geno_lewm.resources import require_project_root

    root = require_project_root(project_root, "the bit-match baseline lives in a source checkout")
    return root, Path(baseline_dir) if baseline_dir is not None else root / BASELINE_DIR


def _variant_of(doc: dict[str, Any]) -> str:
    v = doc.get("variant", doc)
    return f"{v.get('chrom')}:{v.get('pos')}:{v.get('ref')}>{v.get('alt')}"


# --------------------------------------------------------------------------------------------
# Re-scoring and comparing
# --------------------------------------------------------------------------------------------


def rescore(
    model_dir: str | os.PathLike[str], vcf: str | os.PathLike[str], fasta: str | os.PathLike[str], *, threads: int | None = None, numerics: str = NUMERICS
) -> Rescored:
    """Score ``vcf`` against ``fasta`` with ``model_dir`` on CPU in a fresh process; return the pinned outputs.

    Runs ``geno-lewm-score --numerics NUMERICS`` (``python -m geno_lewm.cli.score``) in a temporary
    directory on private copies of the inputs (so no index lands next to them): a fresh process, so
    reproducible numerics pin the kernels before torch loads whatever this process has loaded.
    ``threads`` is passed as ``--threads`` (reproducible numerics always use one thread). A failed
    run raises ``RELEASE.BIT_MATCH_RESCORE`` with the command's error line.
    """
    import subprocess

    from geno_lewm.package import model_id_of

    with tempfile.TemporaryDirectory(prefix="geno-lewm-bitmatch-") as tmp:
        work = Path(tmp)
        shutil.copyfile(vcf, work / "input.vcf")
        shutil.copyfile(fasta, work / "input.fa")
        from geno_lewm.cli.score import score_argv

        cmd = [sys.executable, "-m", "geno_lewm.cli.score"]
        cmd += score_argv(Path(model_dir).resolve(), "input.vcf", "input.fa", SCORES_NAME, "receipts.jsonl", device="cpu", numerics=numerics, threads=threads)
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            last = next((ln for ln in reversed(proc.stderr.splitlines()) if ln.strip()), "no error output")
            raise ReleaseError(
                "BIT_MATCH_RESCORE",
                f"re-scoring the fixed input failed (exit {proc.returncode}): {last}",
                "run geno-lewm-score on the baseline package by hand with --debug to see why",
            )
        scores = (work / SCORES_NAME).read_bytes()
        lines = []
        for raw in (work / "receipts.jsonl").read_bytes().splitlines():
            if raw.strip():
                doc = json.loads(raw)
                lines.append(canonical_json({"variant": doc["variant"], "output_commitment": doc["output_commitment"]}) + b"\n")
    return Rescored(model_id=model_id_of(model_dir), scores=scores, commitments=b"".join(lines))


def _tokens(line: bytes) -> dict[str, Any]:
    """A JSON line with numbers kept as their exact source tokens (strings)."""
    return json.loads(line, parse_float=lambda s: s, parse_int=lambda s: s)


def _token(value: Any) -> str:
    """Display form: numbers and strings as read (numbers are already their source tokens)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _first_in_file(name: str, base: bytes, cur: bytes, fields: tuple[str, ...]) -> Difference | None:
    b_lines, c_lines = base.splitlines(), cur.splitlines()
    for i, (b, c) in enumerate(zip(b_lines, c_lines, strict=False), start=1):
        if b == c:
            continue
        bd, cd = _tokens(b), _tokens(c)
        order = list(fields) + sorted((set(bd) | set(cd)) - set(fields))
        for f in order:
            if bd.get(f, "<absent>") != cd.get(f, "<absent>") or type(bd.get(f)) is not type(cd.get(f)):
                return Difference(name, i, _variant_of(bd), f, _token(bd.get(f, "<absent>")), _token(cd.get(f, "<absent>")))
        return Difference(name, i, _variant_of(bd), "(bytes)", b.decode("utf-8", "replace"), c.decode("utf-8", "replace"))
    if len(b_lines) != len(c_lines):
        n = min(len(b_lines), len(c_lines))
        longer = b_lines if len(b_lines) > n else c_lines
        return Difference(name, n + 1, _variant_of(_tokens(longer[n])), "(row count)", str(len(b_lines)), str(len(c_lines)))
    if base != cur:  # same lines, different framing (trailing newline)
        return Difference(name, len(b_lines), "?", "(bytes)", repr(base[-1:]), repr(cur[-1:]))
    return None


def first_difference(baseline: Rescored, current: Rescored) -> Difference | None:
    """The first differing score row field, else the first differing output commitment, else None."""
    from geno_lewm.scoring.rows import SCORE_ROW_FIELDS

    return _first_in_file(SCORES_NAME, baseline.scores, current.scores, SCORE_ROW_FIELDS) or _first_in_file(
        COMMITMENTS_NAME, baseline.commitments, current.commitments, ("variant", "output_commitment")
    )


# --------------------------------------------------------------------------------------------
# The committed baseline
# --------------------------------------------------------------------------------------------


def load_baseline(baseline_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], Rescored]:
    """``(meta, outputs)`` of a committed baseline; ``RELEASE.BASELINE_MISSING``/``..._CORRUPT`` on trouble."""
    d = Path(baseline_dir)
    try:
        meta = json.loads((d / META_NAME).read_text(encoding="utf-8"))
        scores = (d / SCORES_NAME).read_bytes()
        commitments = (d / COMMITMENTS_NAME).read_bytes()
    except FileNotFoundError as exc:
        raise ReleaseError(
            "BASELINE_MISSING",
            f"bit-match baseline file missing: {Path(exc.filename).name}",
            "create it with python -m tools.release.bit_match_baseline --update-baseline",
        ) from None
    except json.JSONDecodeError as exc:
        raise ReleaseError("BASELINE_CORRUPT", f"{META_NAME} is not valid JSON ({exc.msg})", "restore it from git") from None
    if not isinstance(meta, dict) or meta.get("generated_by") != GENERATED_BY or str(meta.get("schema_version", "")).split(".")[0] != "1":
        raise ReleaseError("BASELINE_CORRUPT", f"{META_NAME} is not a {GENERATED_BY} 1.x baseline", "restore it from git")
    from ledger.canonical import sha256_hex

    for name, data in ((SCORES_NAME, scores), (COMMITMENTS_NAME, commitments)):
        want = meta.get("files", {}).get(name, {}).get("sha256")
        if want != sha256_hex(data):
            raise ReleaseError(
                "BASELINE_CORRUPT",
                f"{name} does not match the sha256 recorded in {META_NAME}",
                "the baseline was edited by hand; restore it from git or regenerate it with --update-baseline",
            )
    return meta, Rescored(model_id=str(meta["model"]["model_id"]), scores=scores, commitments=commitments)


def _check_inputs(meta: dict[str, Any], root: Path) -> tuple[Path, Path]:
    from ledger.identity import check_identity

    paths = []
    for role in ("vcf", "fasta"):
        ident = meta["inputs"][role]
        try:
            check_identity(ident, root)
        except Exception as exc:  # noqa: BLE001 - re-typed below with the role named
            raise ReleaseError(
                "BASELINE_INPUT_CHANGED",
                f"the fixed {role} input {ident['path']} is not the file the baseline was made from ({exc})",
                "restore the example file, or regenerate the baseline with --update-baseline if the change is intended",
            ) from None
        paths.append(root / ident["path"])
    return paths[0], paths[1]


def _manifest_drift(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(want) | set(got)):
        if key == "artifacts":
            continue
        if want.get(key) != got.get(key):
            out.append(f"manifest.{key}")
    wa = {a["path"]: a["sha256"] for a in want.get("artifacts", [])}
    ga = {a["path"]: a["sha256"] for a in got.get("artifacts", [])}
    for path in sorted(set(wa) | set(ga)):
        if wa.get(path) != ga.get(path):
            out.append(path)
    return out


def environment() -> dict[str, str]:
    """What the pinned numbers depend on besides the code: python, torch, transformers, machine, numerics."""
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "machine": platform.machine(),
        "device": "cpu",
        "numerics": NUMERICS,
    }


def package_dir(baseline_dir: str | os.PathLike[str]) -> Path:
    """The committed model package of a baseline folder."""
    return Path(baseline_dir) / PACKAGE_NAME


def check_bit_match(
    project_root: str | os.PathLike[str] | None = None,
    *,
    model_dir: str | os.PathLike[str] | None = None,
    baseline_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Re-score the fixed input with the committed package (or ``model_dir``) and compare with the baseline.

    Returns a summary or raises ``RELEASE.BIT_MATCH`` (first differing variant and field),
    ``RELEASE.BIT_MATCH_MODEL`` (the package is not the baseline's), ``RELEASE.BASELINE_*``
    (baseline or inputs changed), ``PROVENANCE.*`` (a package file does not match its manifest).
    """
    import msgspec

    from geno_lewm.package import model_id_of, read_manifest, verify_package

    root, bdir = _dirs(project_root, baseline_dir)
    meta, base = load_baseline(bdir)
    vcf, fasta = _check_inputs(meta, root)
    mdir = Path(model_dir) if model_dir is not None else package_dir(bdir)
    if not (mdir / "manifest.json").is_file():
        raise ReleaseError(
            "BASELINE_MISSING",
            f"the baseline's model package is missing ({relative_or_name(mdir, root)}/manifest.json)",
            "restore it from git, or regenerate the baseline with --update-baseline --rebuild-model",
        )
    verify_package(mdir)
    model_id = model_id_of(mdir)
    if model_id != base.model_id:
        drift = _manifest_drift(meta["model"]["manifest"], msgspec.to_builtins(read_manifest(mdir)))
        raise ReleaseError(
            "BIT_MATCH_MODEL",
            f"the model package has model_id {model_id[:12]}…, not the baseline's {base.model_id[:12]}…; differs in: {', '.join(drift) or 'nothing listed'}",
            "score with the baseline's committed package; if the change is intended (not in a PATCH), regenerate with --update-baseline",
        )
    got = rescore(mdir, vcf, fasta, threads=threads)
    diff = first_difference(base, got)
    if diff is not None:
        raise ReleaseError(
            "BIT_MATCH",
            f"re-scoring the fixed input differs from the baseline: {diff.describe()}",
            "a PATCH must not change scoring outputs (INV-REL-2); fix the numerical change, or regenerate the baseline with --update-baseline in a MINOR/MAJOR",
        )
    rows = len(base.scores.splitlines())
    return {"ok": True, "model_id": model_id, "rows": rows, "commitments": len(base.commitments.splitlines()), "baseline": bdir.name, "numerics": NUMERICS}


def _copy_package(src: Path, dest: Path) -> None:
    """Copy the manifest and the artifacts it lists from ``src`` into ``dest`` (replaced atomically via a sibling)."""
    from geno_lewm.package import verify_package

    manifest = verify_package(src)
    stage = dest.parent / f".{dest.name}.new"
    shutil.rmtree(stage, ignore_errors=True)
    for rel in [a["path"] for a in manifest["artifacts"]] + ["manifest.json"]:
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, stage / rel)
    old = dest.parent / f".{dest.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    stage.rename(dest)
    shutil.rmtree(old, ignore_errors=True)


def update_baseline(
    project_root: str | os.PathLike[str] | None = None,
    *,
    model_dir: str | os.PathLike[str] | None = None,
    baseline_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    rebuild_model: bool = False,
) -> dict[str, Any]:
    """Write a new baseline (package first, ``baseline.json`` last, each file atomically); return its summary.

    The package is ``model_dir`` when given (copied into the baseline), else one rebuilt from
    :data:`tools.release.gate.bit_match_model.RECIPE` with ``rebuild_model``, else the committed one.
    """
    import msgspec

    from geno_lewm.numerics import SIGNIFICANT_DIGITS
    from geno_lewm.numerics_mode import PINNED_ENV
    from geno_lewm.package import model_id_of, read_manifest
    from ledger.canonical import sha256_hex
    from tools.release.gate.bit_match_model import RECIPE

    root, bdir = _dirs(project_root, baseline_dir)
    vcf, fasta = root / INPUT_VCF, root / INPUT_FASTA
    bdir.mkdir(parents=True, exist_ok=True)
    pkg = package_dir(bdir)
    source = "committed"
    with tempfile.TemporaryDirectory(prefix="geno-lewm-bitmatch-model-") as tmp:
        if model_dir is not None:
            _copy_package(Path(model_dir), pkg)
            source = "model_dir"
        elif rebuild_model:
            from tools.release.gate.bit_match_model import build_baseline_model

            build_baseline_model(Path(tmp) / "model", dict(RECIPE))
            _copy_package(Path(tmp) / "model", pkg)
            source = "recipe"
        elif not (pkg / "manifest.json").is_file():
            raise ReleaseError(
                "BASELINE_MISSING", "the baseline has no committed model package yet", "pass --rebuild-model (or --model-dir DIR) with --update-baseline"
            )
    model_id = model_id_of(pkg)
    manifest = msgspec.to_builtins(read_manifest(pkg))
    got = rescore(pkg, vcf, fasta, threads=threads)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "stand_in": bool(manifest.get("stand_in")),
        **({"stand_in_note": STAND_IN_NOTE} if manifest.get("stand_in") else {}),
        "numerical_contract": {
            "significant_digits": SIGNIFICANT_DIGITS,
            "numerics": NUMERICS,
            "pinned_environment": dict(PINNED_ENV),
            "document": "docs/numerical-contract.md",
        },
        "inputs": {"vcf": file_identity(vcf, root), "fasta": file_identity(fasta, root)},
        "model": {
            "model_id": model_id,
            "release_id": manifest["release_id"],
            "package": PACKAGE_NAME,
            "source": source,
            "recipe": dict(RECIPE) if source == "recipe" else None,
            "manifest": manifest,
        },
        "environment": environment(),
        "files": {
            SCORES_NAME: {"sha256": sha256_hex(got.scores), "size": len(got.scores), "lines": len(got.scores.splitlines())},
            COMMITMENTS_NAME: {"sha256": sha256_hex(got.commitments), "size": len(got.commitments), "lines": len(got.commitments.splitlines())},
        },
    }
    if source == "committed":  # keep how the committed package was built
        try:
            old = json.loads((bdir / META_NAME).read_text(encoding="utf-8"))
            if old.get("model", {}).get("model_id") == model_id:
                meta["model"]["source"], meta["model"]["recipe"] = old["model"].get("source", source), old["model"].get("recipe")
        except (FileNotFoundError, json.JSONDecodeError):
            pass
    atomic_write_bytes(bdir / SCORES_NAME, got.scores)
    atomic_write_bytes(bdir / COMMITMENTS_NAME, got.commitments)
    atomic_write_bytes(bdir / META_NAME, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return {
        "ok": True,
        "updated": True,
        "model_id": model_id,
        "rows": len(got.scores.splitlines()),
        "commitments": len(got.commitments.splitlines()),
        "baseline": bdir.name,
        "numerics": NUMERICS,
    }


def run_recorded(
    ctx: ReleaseContext,
    argv: list[str],
    *,
    project_root: str | os.PathLike[str] | None = None,
    model_dir: str | os.PathLike[str] | None = None,
    baseline_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    update: bool = False,
    rebuild_model: bool = False,
) -> dict[str, Any]:
    """Check (step ``bit_match_baseline``) or update (step ``bit_match_baseline.update``) with ledger recording.

    Baseline files, the fixed inputs and a given model manifest are recorded as inputs (an update
    records the new baseline files as outputs) when they lie under the context's artifact root.
    """
    root, bdir = _dirs(project_root, baseline_dir)
    with StepRun(ctx, UPDATE_STEP if update else STEP, ["python", "-m", "tools.release.bit_match_baseline", *argv]) as run:
        inputs = [root / INPUT_VCF, root / INPUT_FASTA] + (
            [Path(model_dir) / "manifest.json"] if model_dir else [package_dir(bdir) / "manifest.json"] if not update else []
        )
        if not update:
            inputs += [bdir / META_NAME, bdir / SCORES_NAME, bdir / COMMITMENTS_NAME]
        for p in inputs:
            if p.is_file() and ctx.holds(p):
                run.input(p)
        if update:
            result = update_baseline(root, model_dir=model_dir, baseline_dir=bdir, threads=threads, rebuild_model=rebuild_model)
            for name in (META_NAME, SCORES_NAME, COMMITMENTS_NAME, f"{PACKAGE_NAME}/manifest.json"):
                if ctx.holds(bdir / name):
                    run.output(bdir / name)
        else:
            result = check_bit_match(root, model_dir=model_dir, baseline_dir=bdir, threads=threads)
    return result
