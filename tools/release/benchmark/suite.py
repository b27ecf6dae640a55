"""The benchmark command graph: plan its steps from a suite manifest and execute them.

Declared as the release step ``python -m tools.release.v02_benchmark_suite``.

The manifest (``configs/first_experiment/v0.2_benchmark_suite.template.json`` filled in, or the
template itself with ``--set name=value`` for its ``{placeholders}``) lists, per benchmark row,
scoring, Carbon-baseline, eval and rollout steps, then the aggregate ``geno-lewm-eval-all`` step.
Steps whose ``argv`` is null are filled in from the model package (score: ``--model-dir {model_dir}
--vcf <row vcf> --fasta {fasta} --output-scores <output>``; rollout: ``--model-dir {model_dir}
--fasta {fasta} --output-json <output>``). Commands run in-process (their console-script or module
``main``) with the model directory as working directory.

- plan mode (default): resolves every step, writes the report with ``ok=false`` (a plan is never
  evidence);
- ``--execute``: for each step in order, clears its declared outputs, runs it, requires exit 0 and
  every declared output written again, and records output identities (model-dir-relative path,
  SHA-256, size). The first failure stops the graph (later steps ``not_run``), and ``ok=false``.

Every ``geno-lewm-eval`` step of a v0.2 variant-effect row (named by its ``--benchmark`` flag, else by
the row name) must use that benchmark's metric mode: ``spearman`` for BRCA2 saturation and TraitGym
Mendelian (continuous labels), ``binary`` for the ClinVar rows; any other mode, or a row whose
``metric_mode`` disagrees, is refused with ``CONFIG.SUITE_METRIC_MODE`` naming the step.

A manifest ``readiness`` entry (the final ``v02_benchmark_readiness`` command, which consumes this
suite report) is never run by the suite itself: the report being written is not evidence yet.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError, GenoError, InputError

from geno_lewm.eval.schema import V02_VEP_BENCHMARKS
from ledger.artifacts import identity, public_argv
from tools.release.engine.recording import capture_output
from ledger.reports import load_json

GENERATED_BY = "tools.release.v02_benchmark_suite"
CLAIM = (
    "Suite execution evidence only: it shows which benchmark commands ran and which files they wrote. "
    "Measured model-quality claims depend on the downstream validators (geno-lewm-eval-all coverage checks, "
    "v02_benchmark_readiness) and the generated eval report."
)


def resolve_command(command: str):
    """The ``main(argv)`` of a console script (``geno-lewm-*``) or of ``python -m <module>``."""
    if command.startswith("python -m "):
        return importlib.import_module(command.split(" ", 2)[2]).main
    for ep in entry_points(group="console_scripts"):
        if ep.name == command:
            return ep.load()
    raise ConfigError("SUITE_COMMAND", f"unknown suite command {command!r}", "use a geno-lewm console script or 'python -m <module>'")


def _fill(values: dict[str, str], token: str, where: str) -> str:
    try:
        return token.format(**values) if "{" in token else token
    except KeyError as exc:
        raise ConfigError("SUITE_PLACEHOLDER", f"{where}: placeholder {exc} has no value", "pass --set NAME=VALUE") from None


def _default_argv(row: dict[str, Any], step: dict[str, Any]) -> list[str] | None:
    outs = step.get("outputs") or []
    if step["command"] == "geno-lewm-score" and row.get("inputs", {}).get("vcf") and outs:
        return ["--model-dir", "{model_dir}", "--vcf", row["inputs"]["vcf"], "--fasta", "{fasta}", "--output-scores", outs[0], "--quiet"]
    if step["command"] == "geno-lewm-rollout" and outs:
        return ["--model-dir", "{model_dir}", "--fasta", "{fasta}", "--output-json", outs[0]]
    return None


def flag_value(argv: list[Any], flag: str) -> str | None:
    """The value given to ``flag`` in ``argv`` (``--flag VALUE`` or ``--flag=VALUE``; the last one wins)."""
    value = None
    for i, arg in enumerate(argv):
        arg = str(arg)
        if arg == flag and i + 1 < len(argv):
            value = str(argv[i + 1])
        elif arg.startswith(flag + "="):
            value = arg.split("=", 1)[1]
    return value


def check_metric_mode(row: dict[str, Any], step: dict[str, Any], argv: list[Any]) -> None:
    """Refuse a ``geno-lewm-eval`` step of a v0.2 VEP benchmark that uses the wrong ``--metric-mode``.

    The benchmark is the step's ``--benchmark`` value, else the row name; rows outside
    :data:`geno_lewm.eval.schema.V02_VEP_BENCHMARKS` are not constrained. Raises
    ``CONFIG.SUITE_METRIC_MODE`` naming the step.
    """
    if step.get("command") != "geno-lewm-eval":
        return
    benchmark = flag_value(argv, "--benchmark") or str(row.get("name", ""))
    required = V02_VEP_BENCHMARKS.get(benchmark)
    if required is None:
        return
    mode = flag_value(argv, "--metric-mode")
    declared = row.get("metric_mode")
    if mode != required or declared not in (None, required):
        got = f"--metric-mode {mode}" if mode is not None else "no --metric-mode"
        if mode == required:
            got = f"row metric_mode {declared!r}"
        raise ConfigError(
            "SUITE_METRIC_MODE",
            f"step {step.get('id')} evaluates {benchmark} with {got}; the v0.2 suite requires --metric-mode {required} for {benchmark}",
            "BRCA2 saturation and TraitGym Mendelian use spearman over continuous labels, ClinVar rows use binary; fix the step's argv (and the row's metric_mode) in the manifest",
        )


def plan_steps(manifest: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    """Every step of the graph, in order, with its filled argv and declared outputs."""
    if not isinstance(manifest.get("rows"), list) or not manifest["rows"]:
        raise ConfigError("SUITE_MANIFEST", "the suite manifest has no rows")
    steps = []
    for row in manifest["rows"]:
        for st in [*row.get("state_steps", []), *row.get("steps", [])]:
            steps.append((row, st))
    if manifest.get("aggregate"):
        steps.append(({}, manifest["aggregate"]))
    out = []
    seen: set[str] = set()
    for row, st in steps:
        sid = st.get("id")
        if not isinstance(sid, str) or sid in seen:
            raise ConfigError("SUITE_MANIFEST", f"step id {sid!r} missing or repeated")
        seen.add(sid)
        argv = st.get("argv")
        if argv is None:
            argv = _default_argv(row, st)
        if argv is None:
            raise ConfigError("SUITE_ARGV", f"step {sid} has no argv and none can be derived", "give the step's argv in the manifest")
        check_metric_mode(row, st, argv)
        outs = [_fill(values, o, sid) for o in st.get("outputs") or []]
        for o in outs:
            if os.path.isabs(o) or ".." in Path(o).parts:
                raise ConfigError("SUITE_MANIFEST", f"step {sid}: output {o!r} must be model-dir-relative")
        out.append(
            {"id": sid, "row": row.get("name", "aggregate"), "command": st["command"], "argv": [_fill(values, str(a), sid) for a in argv], "outputs": outs}
        )
    return out


@contextlib.contextmanager
def _cwd(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_steps(steps: list[dict[str, Any]], model_dir: Path, log) -> list[dict[str, Any]]:
    """Run the steps in order (see the module docstring); return per-step results."""
    results = []
    failed = False
    for st in steps:
        res: dict[str, Any] = {
            "id": st["id"],
            "row": st["row"],
            "command": st["command"],
            "argv": public_argv(st["argv"], model_dir),
            "declared_outputs": st["outputs"],
        }
        if failed:
            results.append({**res, "status": "not_run"})
            continue
        for o in st["outputs"]:
            with contextlib.suppress(FileNotFoundError):
                (model_dir / o).unlink()
        try:
            main = resolve_command(st["command"])
            with _cwd(model_dir), capture_output(log) as writer:
                rc = main(list(st["argv"]))
            if rc:
                code, message = writer.last_error or ("RELEASE.COMMAND_FAILED", f"exit {rc}")
                raise GenoError(code if code.split(".")[0] else "RELEASE.COMMAND_FAILED", message)
            missing = [o for o in st["outputs"] if not (model_dir / o).is_file()]
            if missing:
                raise InputError("SUITE_OUTPUT_MISSING", f"{st['id']} did not write {', '.join(missing)}")
            res.update(status="passed", exit_code=0, outputs=[identity(model_dir / o, model_dir) for o in st["outputs"]])
        except GenoError as err:
            failed = True
            res.update(status="failed", code=err.code, message=err.message)
        results.append(res)
    return results


def placeholder_values(args) -> dict[str, str]:
    """The ``{placeholder}`` values: ``model_dir`` (absolute) plus each ``--set NAME=VALUE`` (``INPUT.USAGE`` if malformed)."""
    values = {"model_dir": str(Path(args.model_dir).absolute())}
    for kv in args.set:
        if "=" not in kv:
            raise InputError("USAGE", f"--set {kv!r} is not NAME=VALUE")
        k, v = kv.split("=", 1)
        values[k] = v
    return values


def run_suite(manifest_path: Path, model_dir: Path, values: dict[str, str], *, execute: bool, log) -> dict[str, Any]:
    """Plan (or, with ``execute``, run) the manifest's command graph in ``model_dir``; return the suite report document."""
    manifest = load_json(manifest_path)
    steps = plan_steps(manifest, values)
    if execute:
        results = run_steps(steps, model_dir, log)
    else:
        results = [
            {
                "id": s["id"],
                "row": s["row"],
                "command": s["command"],
                "argv": public_argv(s["argv"], model_dir),
                "declared_outputs": s["outputs"],
                "status": "planned",
            }
            for s in steps
        ]
    passed = execute and all(r["status"] == "passed" for r in results)
    return {
        "kind": "v02_benchmark_suite",
        "mode": "execute" if execute else "plan",
        "ok": bool(passed),
        "manifest": identity(manifest_path, manifest_path.parent) | {"name": manifest_path.name},
        "steps": results,
        "metrics_outputs": [r.get("metrics_json") for r in manifest["rows"] if r.get("metrics_json")],
        "readiness": {"deferred": True, "note": "the readiness command consumes this report after it is written; it is never run by the suite"}
        if manifest.get("readiness")
        else None,
        "negative_findings": [f"{r['id']}: {r.get('code')}: {r.get('message')}" for r in results if r["status"] == "failed"]
        + ([] if execute else ["plan only: no command ran, so this report is not benchmark evidence"]),
        "claim_boundary": CLAIM,
    }
