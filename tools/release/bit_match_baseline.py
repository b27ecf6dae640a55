"""``python -m tools.release.bit_match_baseline``: INV-REL-2 — re-scoring a fixed input is bit for bit.

Re-scores the committed fixed input (``examples/mt_known_variants.vcf`` + ``examples/rCRS_chrM.fa``)
with a model package on CPU and compares, byte for byte, the score rows and the receipts' output
commitments with the committed baseline in ``tests/baselines/bit_match/``:

``baseline.json``               what the baseline was made from: input identities, the model
                                (``model_id``, manifest, and the recipe that rebuilds it),
                                environment, and the identities of the two files below
``scores.jsonl``                the exact score-row bytes ``geno-lewm-score`` wrote
``output_commitments.jsonl``    one canonical line per receipt: ``{variant, output_commitment}``

Without ``--model-dir`` the model is rebuilt from the baseline's recipe
(:mod:`tools.release.baseline_model`); with it, the package must be the baseline's model (same
``model_id``). A difference fails with ``RELEASE.BIT_MATCH`` naming the first differing variant
and field; a model that does not rebuild to the baseline's ``model_id`` fails with
``RELEASE.BIT_MATCH_MODEL`` naming the manifest fields and artifacts that moved.

``--update-baseline`` rewrites the baseline (only when asked) and is recorded in the ledger as its
own step, ``bit_match_baseline.update``; the check is recorded as step ``bit_match_baseline``.
Importable: :func:`check_bit_match`, :func:`update_baseline`, :func:`rescore`, :func:`first_difference`.
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
from ledger.errors import InputError, ReleaseError
from ledger.fsutil import atomic_write_bytes
from ledger.identity import file_identity

from tools.release.declare import Flag, Step, StepCall
from tools.release.context import ReleaseContext
from tools.release.recording import StepRun

GENERATED_BY: Final = "tools.release.bit_match_baseline"
SCHEMA_VERSION: Final = "1.0.0"
STEP: Final = "bit_match_baseline"
UPDATE_STEP: Final = "bit_match_baseline.update"
#: Baseline folder, relative to the project root.
BASELINE_DIR: Final = "tests/baselines/bit_match"
META_NAME: Final = "baseline.json"
SCORES_NAME: Final = "scores.jsonl"
COMMITMENTS_NAME: Final = "output_commitments.jsonl"
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


def rescore(model_dir: str | os.PathLike[str], vcf: str | os.PathLike[str], fasta: str | os.PathLike[str], *, threads: int | None = None) -> Rescored:
    """Score ``vcf`` against ``fasta`` with ``model_dir`` on CPU; return the pinned outputs.

    Scores in a temporary directory (private copies of the inputs, so no index lands next to
    them) through :func:`geno_lewm.scoring.run.score_vcf`, exactly the ``geno-lewm-score`` path.
    """
    from geno_lewm.scoring.run import score_vcf

    with tempfile.TemporaryDirectory(prefix="geno-lewm-bitmatch-") as tmp:
        work = Path(tmp)
        shutil.copyfile(vcf, work / "input.vcf")
        shutil.copyfile(fasta, work / "input.fa")
        summary = score_vcf(model_dir, work / "input.vcf", work / "input.fa", output_scores=work / SCORES_NAME, output_receipts=work / "receipts.jsonl", device="cpu", threads=threads, progress=False)
        scores = (work / SCORES_NAME).read_bytes()
        lines = []
        for raw in (work / "receipts.jsonl").read_bytes().splitlines():
            if raw.strip():
                doc = json.loads(raw)
                lines.append(canonical_json({"variant": doc["variant"], "output_commitment": doc["output_commitment"]}) + b"\n")
    return Rescored(model_id=summary.model_id, scores=scores, commitments=b"".join(lines))


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

    return _first_in_file(SCORES_NAME, baseline.scores, current.scores, SCORE_ROW_FIELDS) or _first_in_file(COMMITMENTS_NAME, baseline.commitments, current.commitments, ("variant", "output_commitment"))


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
        raise ReleaseError("BASELINE_MISSING", f"bit-match baseline file missing: {Path(exc.filename).name}", "create it with python -m tools.release.bit_match_baseline --update-baseline") from None
    except json.JSONDecodeError as exc:
        raise ReleaseError("BASELINE_CORRUPT", f"{META_NAME} is not valid JSON ({exc.msg})", "restore it from git") from None
    if not isinstance(meta, dict) or meta.get("generated_by") != GENERATED_BY or str(meta.get("schema_version", "")).split(".")[0] != "1":
        raise ReleaseError("BASELINE_CORRUPT", f"{META_NAME} is not a {GENERATED_BY} 1.x baseline", "restore it from git")
    from ledger.canonical import sha256_hex

    for name, data in ((SCORES_NAME, scores), (COMMITMENTS_NAME, commitments)):
        want = meta.get("files", {}).get(name, {}).get("sha256")
        if want != sha256_hex(data):
            raise ReleaseError("BASELINE_CORRUPT", f"{name} does not match the sha256 recorded in {META_NAME}", "the baseline was edited by hand; restore it from git or regenerate it with --update-baseline")
    return meta, Rescored(model_id=str(meta["model"]["model_id"]), scores=scores, commitments=commitments)


def _check_inputs(meta: dict[str, Any], root: Path) -> tuple[Path, Path]:
    from ledger.identity import check_identity

    paths = []
    for role in ("vcf", "fasta"):
        ident = meta["inputs"][role]
        try:
            check_identity(ident, root)
        except Exception as exc:  # noqa: BLE001 - re-typed below with the role named
            raise ReleaseError("BASELINE_INPUT_CHANGED", f"the fixed {role} input {ident['path']} is not the file the baseline was made from ({exc})", "restore the example file, or regenerate the baseline with --update-baseline if the change is intended") from None
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
    """What the pinned numbers depend on besides the code: python, torch, transformers, machine."""
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "machine": platform.machine(),
        "device": "cpu",
    }


def _resolve_model(meta: dict[str, Any] | None, model_dir: str | os.PathLike[str] | None, work: Path, recipe: dict[str, Any] | None = None) -> tuple[Path, str]:
    """The model package to score with: ``model_dir`` or one rebuilt from the recipe into ``work``."""
    from geno_lewm.package import model_id_of

    if model_dir is not None:
        return Path(model_dir), model_id_of(model_dir)
    from tools.release.baseline_model import RECIPE, build_baseline_model

    rec = recipe if recipe is not None else (meta or {}).get("model", {}).get("recipe") or (RECIPE if meta is None else None)
    if rec is None:
        raise InputError("NEEDS_MODEL_DIR", "the baseline was made from a given model package, not a recipe", "pass --model-dir with that package")
    out = work / "baseline-model"
    return out, build_baseline_model(out, rec)


def check_bit_match(
    project_root: str | os.PathLike[str] | None = None,
    *,
    model_dir: str | os.PathLike[str] | None = None,
    baseline_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Re-score the fixed input and compare with the baseline; return a summary or raise.

    Raises ``RELEASE.BIT_MATCH`` (first differing variant and field), ``RELEASE.BIT_MATCH_MODEL``
    (the model is not the baseline's), ``RELEASE.BASELINE_*`` (baseline or inputs changed).
    """
    root, bdir = _dirs(project_root, baseline_dir)
    meta, base = load_baseline(bdir)
    vcf, fasta = _check_inputs(meta, root)
    with tempfile.TemporaryDirectory(prefix="geno-lewm-bitmatch-model-") as tmp:
        mdir, model_id = _resolve_model(meta, model_dir, Path(tmp))
        if model_id != base.model_id:
            from geno_lewm.package import read_manifest
            import msgspec

            drift = _manifest_drift(meta["model"]["manifest"], msgspec.to_builtins(read_manifest(mdir)))
            env_now, env_then = environment(), meta.get("environment", {})
            env = [f"{k} {env_then.get(k)} -> {v}" for k, v in env_now.items() if env_then.get(k) != v]
            how = "was rebuilt from the baseline's recipe" if model_dir is None else "was given"
            raise ReleaseError(
                "BIT_MATCH_MODEL",
                f"the model package {how} with model_id {model_id[:12]}…, not the baseline's {base.model_id[:12]}…; differs in: {', '.join(drift) or 'nothing listed'}" + (f"; environment: {'; '.join(env)}" if env else ""),
                "the model build is not reproducible here (see docs/numerical-contract.md); if the change is intended (not in a PATCH), regenerate with --update-baseline",
            )
        got = rescore(mdir, vcf, fasta, threads=threads)
    diff = first_difference(base, got)
    if diff is not None:
        raise ReleaseError("BIT_MATCH", f"re-scoring the fixed input differs from the baseline: {diff.describe()}", "a PATCH must not change scoring outputs (INV-REL-2); fix the numerical change, or regenerate the baseline with --update-baseline in a MINOR/MAJOR")
    rows = len(base.scores.splitlines())
    return {"ok": True, "model_id": model_id, "rows": rows, "commitments": len(base.commitments.splitlines()), "baseline": bdir.name}


def update_baseline(
    project_root: str | os.PathLike[str] | None = None,
    *,
    model_dir: str | os.PathLike[str] | None = None,
    baseline_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Write a new baseline (``baseline.json`` last, each file atomically); return its summary.

    Without ``model_dir`` the model is built from :data:`tools.release.baseline_model.RECIPE`.
    """
    import msgspec

    from geno_lewm.numerics import SIGNIFICANT_DIGITS
    from geno_lewm.package import read_manifest
    from ledger.canonical import sha256_hex

    root, bdir = _dirs(project_root, baseline_dir)
    vcf, fasta = root / INPUT_VCF, root / INPUT_FASTA
    with tempfile.TemporaryDirectory(prefix="geno-lewm-bitmatch-model-") as tmp:
        from tools.release.baseline_model import RECIPE

        mdir, model_id = _resolve_model(None, model_dir, Path(tmp), recipe=None if model_dir is not None else dict(RECIPE))
        manifest = msgspec.to_builtins(read_manifest(mdir))
        got = rescore(mdir, vcf, fasta, threads=threads)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "stand_in": bool(manifest.get("stand_in")),
        **({"stand_in_note": STAND_IN_NOTE} if manifest.get("stand_in") else {}),
        "numerical_contract": {"significant_digits": SIGNIFICANT_DIGITS, "document": "docs/numerical-contract.md"},
        "inputs": {"vcf": file_identity(vcf, root), "fasta": file_identity(fasta, root)},
        "model": {"model_id": model_id, "release_id": manifest["release_id"], "source": "recipe" if model_dir is None else "model_dir", "recipe": dict(RECIPE) if model_dir is None else None, "manifest": manifest},
        "environment": environment(),
        "files": {
            SCORES_NAME: {"sha256": sha256_hex(got.scores), "size": len(got.scores), "lines": len(got.scores.splitlines())},
            COMMITMENTS_NAME: {"sha256": sha256_hex(got.commitments), "size": len(got.commitments), "lines": len(got.commitments.splitlines())},
        },
    }
    bdir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(bdir / SCORES_NAME, got.scores)
    atomic_write_bytes(bdir / COMMITMENTS_NAME, got.commitments)
    atomic_write_bytes(bdir / META_NAME, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return {"ok": True, "updated": True, "model_id": model_id, "rows": len(got.scores.splitlines()), "commitments": len(got.commitments.splitlines()), "baseline": bdir.name}


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def run_recorded(ctx: ReleaseContext, argv: list[str], *, project_root: str | os.PathLike[str] | None = None, model_dir: str | os.PathLike[str] | None = None, baseline_dir: str | os.PathLike[str] | None = None, threads: int | None = None, update: bool = False) -> dict[str, Any]:
    """Check (step ``bit_match_baseline``) or update (step ``bit_match_baseline.update``) with ledger recording.

    Baseline files, the fixed inputs and a given model manifest are recorded as inputs (an update
    records the new baseline files as outputs) when they lie under the context's artifact root.
    """
    root, bdir = _dirs(project_root, baseline_dir)
    with StepRun(ctx, UPDATE_STEP if update else STEP, ["python", "-m", "tools.release.bit_match_baseline", *argv]) as run:
        inputs = [root / INPUT_VCF, root / INPUT_FASTA] + ([Path(model_dir) / "manifest.json"] if model_dir else [])
        if not update:
            inputs += [bdir / META_NAME, bdir / SCORES_NAME, bdir / COMMITMENTS_NAME]
        for p in inputs:
            if p.is_file() and ctx.holds(p):
                run.input(p)
        if update:
            result = update_baseline(root, model_dir=model_dir, baseline_dir=bdir, threads=threads)
            for name in (META_NAME, SCORES_NAME, COMMITMENTS_NAME):
                if ctx.holds(bdir / name):
                    run.output(bdir / name)
        else:
            result = check_bit_match(root, model_dir=model_dir, baseline_dir=bdir, threads=threads)
    return result


def _check(args) -> None:
    if args.threads is not None and args.threads < 1:
        raise InputError("USAGE", "python -m tools.release.bit_match_baseline: --threads must be at least 1", "run `python -m tools.release.bit_match_baseline --help` for usage")


def _body(call: StepCall) -> None:
    a = call.args
    result = run_recorded(call.ctx, call.argv, project_root=a.project_root, model_dir=a.model_dir, baseline_dir=a.baseline_dir, threads=a.threads, update=a.update_baseline)
    if a.json:
        call.say(json.dumps(result, indent=2, sort_keys=True))
    verb = "wrote a new baseline" if result.get("updated") else "bit match"
    call.say(f"{verb}: {result['rows']} score rows and {result['commitments']} output commitments (model {result['model_id'][:12]}…)", err=True)


DECLARED = Step(STEP, gate="reproducibility", body=_body, check=_check, records="self", purpose="re-score the fixed input bit for bit against tests/baselines/bit_match (INV-REL-2)", flags=(
    Flag("--model-dir", "model package to score with (default: rebuild the baseline's model from its recipe)"),
    Flag("--baseline-dir", f"baseline folder (default: {BASELINE_DIR} in the project root)"),
    Flag("--project-root", "source checkout holding examples/ and the baseline (default: this checkout)"),
    Flag("--threads", "torch CPU threads while scoring (default: torch's)", "int"),
    Flag("--update-baseline", "write a new baseline instead of checking (recorded as step bit_match_baseline.update)", "bool"),
    Flag("--json", "print the result as JSON on stdout", "bool"),
), details="INV-REL-2: re-score the fixed input and compare score rows and output commitments byte for byte with the committed baseline.")
main = DECLARED.main


__all__ = ["Difference", "Rescored", "check_bit_match", "environment", "first_difference", "load_baseline", "main", "rescore", "run_recorded", "update_baseline"]

if __name__ == "__main__":
    sys.exit(main())
