"""The final publication decision: readiness rows, blockers with issue refs, public link and byte checks.

Declared as the release step ``python -m tools.release.release_candidate``.

``ready=true`` only when every readiness row holds:

| row | checks (issue refs) |
|---|---|
| ``dataset_package`` | dataset package verifier; binds dataset_package.json, input-check and snapshot reports (#163) |
| ``training_run`` | checksum-covered, ok training preflight report and ``training_run_SHA256SUMS`` (#164) |
| ``evaluation`` / ``efficiency`` | ``eval_metrics.json`` + its exact render ``eval_report.md``; ``efficiency_report.json`` (#165) |
| ``model_package`` | model package verifier; binds model_package.json and manifest-backed artifacts (#166) |
| ``fixture_manifest`` | a stand-in (fixture) model needs ``--allow-fixture-manifest`` (#166) |
| ``demo`` | passed terminal demo of this model id, artifacts unchanged (#167) |
| ``paper`` | the paper verifier (re-render from the packages) (#101) |
| ``hub_plan`` | the embedded plan is the plan of these packages (and equals ``--plan`` when given) (#166, #167) |
| ``public_links`` / ``public_artifacts`` | reachability, then exact file set, SHA-256 and size of the fetched public bytes (all) |

``--skip-public-link-check`` is accepted only with ``--allow-fixture-manifest``; a non-fixture
candidate is then ``ready=false``. Blockers are the rows that do not hold, with their issue refs.
The report is always written; the step exits ``RELEASE.NOT_READY`` (9) when the candidate is not ready.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from ledger.canonical import canonical_json
from ledger.errors import GenoError, InputError, ProvenanceError, ReleaseError
from ledger.identity import sha256_file

from tools.release.publication import hub_plan
from ledger.artifacts import identity, read_sums
from tools.release.publication.downloads import fetch_digest
from tools.release.publication.readiness import PUBLICATION_ISSUES, blockers_of, refs, row
from tools.release.publication.targets import Endpoints, Targets, github_release, hf_repo
from ledger.reports import load_report

GENERATED_BY = "tools.release.release_candidate"
REPORT_NAME = "release_candidate_report.json"
EXPECTED_ROWS = (
    "dataset_package",
    "training_run",
    "evaluation",
    "efficiency",
    "model_package",
    "fixture_manifest",
    "demo",
    "paper",
    "hub_plan",
    "public_links",
    "public_artifacts",
)
DATASET_BOUND = ("dataset_package.json", "dataset_input_check_report.json", "dataset_snapshot_report.json", "SHA256SUMS")
MANIFEST_ROLES = ("predictor", "action_encoder", "calibration", "config")


def plan_sha256(plan: dict[str, Any]) -> str:
    """SHA-256 of the plan's canonical JSON bytes (how a candidate pins its embedded plan)."""
    import hashlib

    return hashlib.sha256(canonical_json(plan)).hexdigest()


def _bind(pkg: Path, package: str, names: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    return [{"package": package, **identity(pkg / n, pkg)} for n in names]


# ---------------------------------------------------------------------------------------------
# Local readiness rows
# ---------------------------------------------------------------------------------------------


def _dataset_row(t: Targets) -> dict[str, Any]:
    from geno_lewm.datasets import verify_dataset

    verify_dataset(t.dataset_dir)
    return {"evidence": _bind(t.dataset_dir, "dataset", DATASET_BOUND)}


def _training_row(t: Targets) -> dict[str, Any]:
    from tools.release.training_run import PREFLIGHT, check_preflight

    check_preflight(t.model_dir / PREFLIGHT)
    n = len(read_sums(t.model_dir / hub_plan.RUN_SUMS))
    return {"evidence": _bind(t.model_dir, "model", [PREFLIGHT, hub_plan.RUN_SUMS]), "training_run_files": n}


def _model_row(t: Targets) -> dict[str, Any]:
    from tools.release.model.packaging import verify_model_package

    doc = verify_model_package(t.model_dir)
    from geno_lewm.package import read_manifest

    man = read_manifest(t.model_dir)
    backed = [{"package": "model", "role": a.role, "path": a.path, "sha256": a.sha256, "size": a.size} for a in man.artifacts if a.role in MANIFEST_ROLES]
    if not any(a["role"] == "predictor" for a in backed):
        raise ProvenanceError("MANIFEST_ARTIFACTS", "manifest.json lists no predictor artifact", "package a trained model")
    return {"evidence": _bind(t.model_dir, "model", ["model_package.json", "model_card.md", "manifest.json"]) + backed, "release_id": doc["release_id"]}


def _eval_row(t: Targets) -> dict[str, Any]:
    from tools.release.model.packaging import EVAL_GENERATORS, render_eval_report
    from ledger.reports import check_rendered

    metrics = load_report(t.model_dir / "eval_metrics.json", EVAL_GENERATORS)
    check_rendered(t.model_dir / "eval_report.md", lambda: render_eval_report(metrics))
    return {"evidence": _bind(t.model_dir, "model", ["eval_metrics.json", "eval_report.md"])}


def _efficiency_row(t: Targets) -> dict[str, Any]:
    load_report(t.model_dir / "efficiency_report.json", "tools.release.efficiency_report")
    return {"evidence": _bind(t.model_dir, "model", ["efficiency_report.json"])}


def _fixture_row(stand_in: bool, allow: bool) -> dict[str, Any]:
    if stand_in and not allow:
        raise ReleaseError(
            "FIXTURE_MANIFEST",
            "the model package was built with the tiny stand-in encoder (a fixture manifest)",
            "publish a real model; pass --allow-fixture-manifest only for offline rehearsals",
        )
    return {"fixture": stand_in}


def _demo_row(t: Targets, model_id: str) -> dict[str, Any]:
    man = load_report(t.demo_dir / hub_plan.DEMO_MANIFEST, "tools.demo.terminal_inference")
    if man.get("status") != "passed":
        raise ReleaseError("DEMO_NOT_PASSED", f"terminal demo status is {man.get('status')!r}", "re-run the terminal demo")
    if man.get("model_id") != model_id:
        raise ProvenanceError("IDENTITY_MISMATCH", "the terminal demo ran a different model id", "re-run the terminal demo on this model package")
    if (man.get("runtime_preflight") or {}).get("fixture_manifest_allowed"):
        raise ProvenanceError(
            "DEMO_FIXTURE_PREFLIGHT", "the demo's runtime preflight allowed fixture manifests", "re-run the terminal demo without fixture allowance"
        )
    for name, ident in sorted((man.get("artifacts") or {}).items()):
        local = t.demo_dir / Path(ident["path"]).name
        if not local.is_file() or sha256_file(local) != (ident["sha256"], ident["size"]):
            raise ProvenanceError("STALE_ARTIFACT", f"demo artifact {name} no longer matches terminal_demo_manifest.json", "re-run the terminal demo")
    return {"evidence": _bind(t.demo_dir, "demo", [hub_plan.DEMO_MANIFEST])}


def _paper_row(t: Targets) -> dict[str, Any]:
    if t.paper_path is None:
        raise ReleaseError("MISSING_PAPER", "no --paper-path was given", "publish the paper with --paper-path and --paper-url")
    from tools.release.paper_package import verify_paper

    verify_paper(t.model_dir, t.dataset_dir, t.demo_dir, t.paper_path)
    return {"evidence": [{"package": "paper", **identity(t.paper_path, t.paper_path.parent)}]}


# ---------------------------------------------------------------------------------------------
# Public checks
# ---------------------------------------------------------------------------------------------


def _index_file(plan: dict[str, Any], target: str) -> dict[str, Any]:
    files = [f for f in hub_plan.planned_files(plan) if f["target"] == target]
    prefer = {"model": hub_plan.SUMS, "dataset": hub_plan.SUMS, "demo": hub_plan.DEMO_MANIFEST}.get(target)
    for f in files:
        if f["path"] == prefer:
            return f
    return files[0]


def _targets_of(plan: dict[str, Any]) -> list[str]:
    return ["model", "dataset", "demo"] + (["paper"] if plan.get("paper") else [])


def check_links(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Reachability of each public target (its index file: SHA256SUMS, the demo manifest, the paper)."""
    from geno_lewm.distribution.fetch import public_url

    out = []
    for target in _targets_of(plan):
        f = _index_file(plan, target)
        entry = {"target": target, "url": public_url(f["url"]), "probe": f["destination"]}
        try:
            fetch_digest(f["url"])
        except GenoError as err:
            entry.update(ok=False, code=err.code, message=err.message)
        else:
            entry.update(ok=True)
        out.append(entry)
    return out


def _listing(plan: dict[str, Any], target: str, endpoints: Endpoints) -> tuple[str, set[str] | None]:
    """(listing kind, published names) for a target, or (kind, None) when the host cannot list."""
    if target in ("model", "dataset"):
        sec = plan[target]
        hf = hf_repo(sec["url"], endpoints)
        if hf is not None:
            from huggingface_hub import HfApi

            try:
                names = HfApi(endpoint=endpoints.hub, token=False).list_repo_files(hf[1], repo_type=hf[0])
            except Exception as exc:  # noqa: BLE001 - any hub failure is a failed public check
                raise ProvenanceError(
                    "PUBLIC_LISTING", f"could not list {target} repo {hf[1]}: {type(exc).__name__}", "check the repo exists and is public"
                ) from None
            return "hub-tree", {n for n in names if n != ".gitattributes"}
        return "checksum-file", None
    url = plan["demo"]["url"] if target == "demo" else plan["paper"]["url"]
    gh = github_release(url, endpoints)
    if gh is None:
        return "planned", None
    from geno_lewm.distribution.fetch import fetch_bytes

    tag = urllib.parse.quote(gh[1], safe="")
    doc = json.loads(fetch_bytes(f"{endpoints.github_api}/repos/{gh[0]}/releases/tags/{tag}"))
    return "github-release", {a["name"] for a in doc.get("assets", [])}


def _expected_names(plan: dict[str, Any], target: str, endpoints: Endpoints) -> set[str]:
    files = hub_plan.planned_files(plan)
    names = {f["destination"] for f in files if f["target"] == target}
    if target in ("demo", "paper"):  # demo and paper may share one release tag
        mine = github_release(plan["demo"]["url"] if target == "demo" else plan["paper"]["url"], endpoints)
        other = "paper" if target == "demo" else "demo"
        if other in _targets_of(plan):
            theirs = github_release(plan["demo"]["url"] if other == "demo" else plan["paper"]["url"], endpoints)
            if mine and theirs and mine == theirs:
                names |= {f["destination"] for f in files if f["target"] == other}
        names |= set(plan.get("extra_release_assets", []))
    return names


def check_artifacts(plan: dict[str, Any], endpoints: Endpoints) -> list[dict[str, Any]]:
    """Fetch every planned public file and compare SHA-256 and size; compare the published file set."""
    from geno_lewm.distribution.fetch import public_url

    out = []
    files = hub_plan.planned_files(plan)
    for target in _targets_of(plan):
        mine = [f for f in files if f["target"] == target]
        res: dict[str, Any] = {"target": target, "files": len(mine), "verified": 0, "missing": [], "mismatched": [], "unexpected": []}
        for f in mine:
            try:
                digest, size = fetch_digest(f["url"])
            except GenoError as err:
                if err.code == "PROVENANCE.PUBLIC_FILE_MISSING":
                    res["missing"].append(f["destination"])
                    continue
                res.update(ok=False, code=err.code, message=err.message)
                break
            if (digest, size) != (f["sha256"], f["size"]):
                res["mismatched"].append(
                    {
                        "destination": f["destination"],
                        "url": public_url(f["url"]),
                        "sha256": digest,
                        "size": size,
                        "expected_sha256": f["sha256"],
                        "expected_size": f["size"],
                    }
                )
            else:
                res["verified"] += 1
        if "code" not in res:
            try:
                kind, names = _listing(plan, target, endpoints)
            except GenoError as err:
                kind, names = "failed", None
                res.update(code=err.code, message=err.message)
            res["listing"] = kind
            if names is not None:
                expected = _expected_names(plan, target, endpoints)
                res["unexpected"] = sorted(names - expected)
                res["missing"] = sorted(set(res["missing"]) | (expected & {f["destination"] for f in mine}) - names)
        if "code" not in res:
            if res["missing"]:
                res.update(code="PROVENANCE.PUBLIC_FILE_MISSING", message=f"{target}: planned files not published: {', '.join(res['missing'][:5])}")
            elif res["mismatched"]:
                res.update(
                    code="PROVENANCE.PUBLIC_HASH_MISMATCH",
                    message=f"{target}: published bytes differ for {', '.join(m['destination'] for m in res['mismatched'][:5])}",
                )
            elif res["unexpected"]:
                res.update(code="PROVENANCE.PUBLIC_FILE_SET", message=f"{target}: unexpected published files: {', '.join(res['unexpected'][:5])}")
        res["ok"] = "code" not in res and res["verified"] == len(mine)
        out.append(res)
    return out


def _public_row(name: str, checks: list[dict[str, Any]]) -> dict[str, Any]:
    bad = [c for c in checks if not c.get("ok")]
    if bad:
        code = bad[0].get("code", "PROVENANCE.PUBLIC_CHECK")
        return {
            "name": name,
            "ok": False,
            "code": code,
            "message": "; ".join(f"{c['target']}: {c.get('message', 'failed')}" for c in bad),
            "issue_refs": refs(name),
        }
    return {"name": name, "ok": True, "targets": [c["target"] for c in checks], "issue_refs": refs(name)}


# ---------------------------------------------------------------------------------------------
# The candidate
# ---------------------------------------------------------------------------------------------


def build_candidate(t: Targets, *, plan_path: Path | None = None, allow_fixture: bool = False, skip_public: bool = False) -> dict[str, Any]:
    """The release-candidate document (pure given the packages and the public bytes). Writes nothing."""
    if skip_public and not allow_fixture:
        raise InputError(
            "USAGE",
            "--skip-public-link-check is valid only together with --allow-fixture-manifest",
            "run the public checks, or rehearse with --allow-fixture-manifest",
        )
    plan = hub_plan.build_plan(t)
    stand_in = bool(plan["stand_in"])

    def plan_check() -> dict[str, Any]:
        if plan_path is not None:
            given = load_report(plan_path, hub_plan.GENERATED_BY)
            if given != plan:
                diff = sorted(k for k in set(given) | set(plan) if given.get(k) != plan.get(k))
                raise ProvenanceError(
                    "STALE_PLAN",
                    f"{plan_path.name} is not the plan of these packages (differs in {', '.join(diff)})",
                    "re-run python -m tools.release.hub_release",
                )
            return {"plan": {"name": plan_path.name, **dict(zip(("sha256", "size"), sha256_file(plan_path)))}}
        return {}

    rows = [
        row("dataset_package", lambda: _dataset_row(t)),
        row("training_run", lambda: _training_row(t)),
        row("evaluation", lambda: _eval_row(t)),
        row("efficiency", lambda: _efficiency_row(t)),
        row("model_package", lambda: _model_row(t)),
        row("fixture_manifest", lambda: _fixture_row(stand_in, allow_fixture)),
        row("demo", lambda: _demo_row(t, plan["model_id"])),
        row("paper", lambda: _paper_row(t)),
        row("hub_plan", plan_check),
    ]
    if skip_public:
        links: dict[str, Any] = {"skipped": True, "checks": []}
        arts: dict[str, Any] = {"skipped": True, "checks": []}
        for name in ("public_links", "public_artifacts"):
            if stand_in:
                rows.append({"name": name, "ok": True, "skipped": True, "issue_refs": refs(name)})
            else:
                rows.append(
                    {
                        "name": name,
                        "ok": False,
                        "skipped": True,
                        "code": "RELEASE.PUBLIC_CHECK_SKIPPED",
                        "message": "public checks were skipped for a non-fixture candidate",
                        "issue_refs": refs(name),
                    }
                )
    else:
        link_checks = check_links(plan)
        links = {"skipped": False, "checks": link_checks}
        rows.append(_public_row("public_links", link_checks))
        art_checks = check_artifacts(plan, t.endpoints) if all(c["ok"] for c in link_checks) else []
        arts = {"skipped": False, "checks": art_checks}
        rows.append(
            _public_row("public_artifacts", art_checks)
            if art_checks
            else {
                "name": "public_artifacts",
                "ok": False,
                "code": "PROVENANCE.PUBLIC_LINK",
                "message": "public links are not reachable",
                "issue_refs": refs("public_artifacts"),
            }
        )
    blockers = blockers_of(rows)
    evidence = [e for r in rows for e in r.get("evidence", [])]
    return {
        "kind": "release_candidate",
        "ready": not blockers,
        "fixture": stand_in,
        "allow_fixture_manifest": allow_fixture,
        "public_checks_skipped": skip_public,
        "release_id": plan["release_id"],
        "model_id": plan["model_id"],
        "commit_sha": t.commit_sha,
        "repo_id": t.repo_id,
        "urls": {"model": plan["model"]["url"], "dataset": plan["dataset"]["url"], "demo": plan["demo"]["url"], "paper": (plan["paper"] or {}).get("url")},
        "artifacts": evidence,
        "upload_inventories": {
            "model": [{k: f[k] for k in ("path", "destination", "sha256", "size")} for f in plan["model"]["files"]],
            "dataset": [{k: f[k] for k in ("path", "destination", "sha256", "size")} for f in plan["dataset"]["files"]],
            "demo": [{k: f[k] for k in ("path", "asset_name", "sha256", "size")} for f in plan["demo"]["files"]],
            "paper": {k: plan["paper"][k] for k in ("name", "sha256", "size", "url")} if plan["paper"] else None,
        },
        "readiness": rows,
        "blockers": blockers,
        "issue_refs": {"publication": list(PUBLICATION_ISSUES), **{r["name"]: r["issue_refs"] for r in rows}},
        "public_links": links,
        "public_artifacts": arts,
        "hub_plan": plan,
        "hub_plan_sha256": plan_sha256(plan),
    }
