"""The Hub upload plan: exact files from the checksum lists, dataset, demo assets and paper, with exact-file commands.

Declared as the release step ``python -m tools.release.hub_release``.

The plan lists, with SHA-256 and size, exactly the files a release publishes:

- model files from the model package's ``SHA256SUMS`` (which must cover every file, including
  ``training_run_SHA256SUMS``); each entry says which checksum files cover it, and the plan
  records both checksum files' identities;
- dataset files from the dataset package's ``SHA256SUMS`` (plus that file);
- terminal-demo files with unique, flat GitHub release asset names;
- the paper (``--paper-path`` requires ``--paper-url``, whose last component must be the file name).

For recognised Hugging Face and GitHub URLs it emits exact-file publication commands: one command
per file and destination, never a folder sync. Nothing is uploaded; no credentials are read.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

from ledger.errors import ProvenanceError, ReleaseError

from ledger.artifacts import check_complete_sums, identity, list_files, read_sums
from tools.release.publication.targets import Targets, asset_url, file_url, github_release, hf_repo
from ledger.reports import load_report

GENERATED_BY = "tools.release.hub_release"
PLAN_NAME = "hub_release_plan.json"
SUMS = "SHA256SUMS"
RUN_SUMS = "training_run_SHA256SUMS"
DEMO_MANIFEST = "terminal_demo_manifest.json"
MODEL_REQUIRED = (
    "manifest.json",
    "model_package.json",
    "model_card.md",
    "eval_metrics.json",
    "eval_report.md",
    "efficiency_report.json",
    "training_preflight_report.json",
    RUN_SUMS,
)
DATASET_REQUIRED = ("dataset_package.json", "dataset_input_check_report.json", "dataset_snapshot_report.json")
_ASSET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,250}$")


def _covered_files(pkg: Path, what: str, require: tuple[str, ...]) -> list[dict[str, Any]]:
    """Identities of every file in ``pkg``, all of them checksum-verified by ``pkg/SHA256SUMS``."""
    sums = check_complete_sums(pkg / SUMS, pkg, require=require, what=what, hint=f"re-run the {what} packaging step so its checksums cover every file")
    return [identity(pkg / rel, pkg) for rel in sorted(sums)] + [identity(pkg / SUMS, pkg)]


def asset_name(path: str) -> str:
    """The flat GitHub release asset name of demo file ``path`` (``a/b.json`` → ``a__b.json``)."""
    name = path.replace("/", "__")
    if not _ASSET.match(name):
        raise ReleaseError(
            "BAD_ASSET_NAME", f"demo file {path!r} has no portable release asset name", "use ASCII letters, digits, '.', '_', '+' or '-' in demo file names"
        )
    return name


def _model_section(t: Targets) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    from geno_lewm.package import model_id_of, read_manifest

    files = _covered_files(t.model_dir, "model", MODEL_REQUIRED)
    run_sums = read_sums(t.model_dir / RUN_SUMS)
    package = load_report(t.model_dir / "model_package.json", "tools.release.model_package")
    manifest = read_manifest(t.model_dir)
    entries = []
    for f in files:
        covered = ["SHA256SUMS"] if f["path"] != SUMS else []
        if run_sums.get(f["path"]) == f["sha256"]:
            covered.append(RUN_SUMS)
        entries.append({**f, "destination": f["path"], "url": file_url(t.model_url, f["path"], t.endpoints), "covered_by": covered})
    hf = hf_repo(t.model_url, t.endpoints)
    section = {
        "repo_type": "model",
        "repo_id": t.repo_id,
        "hub": hf is not None,
        "url": t.model_url,
        "checksum_files": [identity(t.model_dir / SUMS, t.model_dir), identity(t.model_dir / RUN_SUMS, t.model_dir)],
        "training_run_files": len(run_sums),
        "files": entries,
    }
    if hf is not None and hf[1] != t.repo_id:
        raise ReleaseError("REPO_MISMATCH", f"--model-url names repo {hf[1]} but --repo-id is {t.repo_id}", "make --model-url the repo's URL or leave it out")
    info = {"model_id": model_id_of(t.model_dir), "release_id": package["release_id"], "stand_in": bool(manifest.stand_in)}
    return section, info, package


def _dataset_section(t: Targets) -> dict[str, Any]:
    files = _covered_files(t.dataset_dir, "dataset", DATASET_REQUIRED)
    hf = hf_repo(t.dataset_url, t.endpoints)
    if hf is not None and hf[0] != "dataset":
        raise ReleaseError(
            "DATASET_URL", f"--dataset-url points at a Hugging Face {hf[0]} repo, not a dataset", "use https://huggingface.co/datasets/<owner>/<name>"
        )
    return {
        "repo_type": "dataset",
        "repo_id": hf[1] if hf else None,
        "hub": hf is not None,
        "url": t.dataset_url,
        "checksum_files": [identity(t.dataset_dir / SUMS, t.dataset_dir)],
        "files": [
            {**f, "destination": f["path"], "url": file_url(t.dataset_url, f["path"], t.endpoints), "covered_by": ["SHA256SUMS"] if f["path"] != SUMS else []}
            for f in files
        ],
    }


def _demo_section(t: Targets, model_id: str) -> dict[str, Any]:
    manifest = load_report(t.demo_dir / DEMO_MANIFEST, "tools.demo.terminal_inference")
    if manifest.get("status") != "passed":
        raise ReleaseError("DEMO_NOT_PASSED", f"{DEMO_MANIFEST} has status {manifest.get('status')!r}", "re-run the terminal demo until it passes")
    if manifest.get("model_id") != model_id:
        raise ProvenanceError(
            "IDENTITY_MISMATCH",
            f"the demo ran model {str(manifest.get('model_id'))[:16]}…, the package is {model_id[:16]}…",
            "re-run the terminal demo on this model package",
        )
    files = [identity(f, t.demo_dir) for f in list_files(t.demo_dir)]
    seen: dict[str, str] = {}
    entries = []
    for f in files:
        name = asset_name(f["path"])
        if name in seen:
            raise ReleaseError(
                "DUPLICATE_ASSET_NAME", f"demo files {seen[name]} and {f['path']} share release asset name {name}", "rename one of the demo files"
            )
        seen[name] = f["path"]
        entries.append({**f, "asset_name": name, "url": asset_url(t.demo_url, name, t.endpoints)})
    gh = github_release(t.demo_url, t.endpoints)
    return {"url": t.demo_url, "release": {"repo": gh[0], "tag": gh[1]} if gh else None, "files": entries}


def _paper_section(t: Targets, demo: dict[str, Any]) -> dict[str, Any] | None:
    if t.paper_path is None:
        return None
    if not t.paper_path.is_file():
        raise ReleaseError("MISSING_PAPER", f"paper {t.paper_path.name} not found", "render it with python -m tools.release.paper_draft")
    ident = identity(t.paper_path, t.paper_path.parent)
    last = urllib.parse.unquote(urllib.parse.urlparse(t.paper_url or "").path.rstrip("/").rsplit("/", 1)[-1])
    if last != ident["path"]:
        raise ReleaseError(
            "PAPER_URL_NAME",
            f"--paper-url ends in {last!r}, not the paper file name {ident['path']!r}",
            "use the direct download URL of the paper file (…/releases/download/<tag>/<paper file>)",
        )
    gh = github_release(t.paper_url or "", t.endpoints)
    if demo["release"] and gh and gh[0] == demo["release"]["repo"] and gh[1] == demo["release"]["tag"]:
        if any(f["asset_name"] == ident["path"] for f in demo["files"]):
            raise ReleaseError(
                "DUPLICATE_ASSET_NAME", f"the paper and a demo file share release asset name {ident['path']}", "rename the paper or the demo file"
            )
    return {
        "name": ident["path"],
        "path": ident["path"],
        "sha256": ident["sha256"],
        "size": ident["size"],
        "url": t.paper_url,
        "release": {"repo": gh[0], "tag": gh[1]} if gh else None,
    }


def _commands(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One exact-file command per published file, for recognised Hugging Face / GitHub targets."""
    out: list[dict[str, Any]] = []
    for key, placeholder in (("model", "<model-dir>"), ("dataset", "<dataset-dir>")):
        sec = plan[key]
        if not sec["hub"]:
            continue
        for f in sec["files"]:
            out.append(
                {
                    "target": key,
                    "kind": "hf_upload_file",
                    "source": f"{placeholder}/{f['path']}",
                    "destination": f["destination"],
                    "sha256": f["sha256"],
                    "argv": [
                        "hf",
                        "upload",
                        sec["repo_id"],
                        f"{placeholder}/{f['path']}",
                        f["destination"],
                        "--repo-type",
                        sec["repo_type"],
                        "--revision",
                        "main",
                    ],
                }
            )
    rel = plan["demo"]["release"]
    if rel:
        for f in plan["demo"]["files"]:
            out.append(
                {
                    "target": "demo",
                    "kind": "github_release_asset",
                    "source": f"<demo-dir>/{f['path']}",
                    "destination": f["asset_name"],
                    "sha256": f["sha256"],
                    "argv": ["gh", "release", "upload", rel["tag"], f"<staged>/{f['asset_name']}", "--repo", rel["repo"]],
                }
            )
    paper = plan.get("paper")
    if paper and paper["release"]:
        out.append(
            {
                "target": "paper",
                "kind": "github_release_asset",
                "source": f"<paper-dir>/{paper['name']}",
                "destination": paper["name"],
                "sha256": paper["sha256"],
                "argv": ["gh", "release", "upload", paper["release"]["tag"], f"<paper-dir>/{paper['name']}", "--repo", paper["release"]["repo"]],
            }
        )
    return out


def build_plan(t: Targets) -> dict[str, Any]:
    """The plan document (deterministic: no timestamps), after verifying every package checksum. Writes nothing."""
    model, info, package = _model_section(t)
    dataset = _dataset_section(t)
    demo = _demo_section(t, info["model_id"])
    paper = _paper_section(t, demo)
    plan: dict[str, Any] = {
        "schema_version": "1.0.0",
        "kind": "hub_release_plan",
        "dry_run": True,
        "commit_sha": t.commit_sha,
        "release_id": info["release_id"],
        "model_id": info["model_id"],
        "dataset_snapshot": package.get("dataset_snapshot", ""),
        "stand_in": info["stand_in"],
        "repo_id": t.repo_id,
        "model": model,
        "dataset": dataset,
        "demo": demo,
        "paper": paper,
        "generated_by": GENERATED_BY,
    }
    plan["commands"] = _commands(plan)
    plan["file_count"] = len(model["files"]) + len(dataset["files"]) + len(demo["files"]) + (1 if paper else 0)
    return plan


def planned_files(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every planned file as ``{target, path, destination, sha256, size, url}`` (paper target path = its name)."""
    out = [
        {"target": k, "path": f["path"], "destination": f["destination"], "sha256": f["sha256"], "size": f["size"], "url": f["url"]}
        for k in ("model", "dataset")
        for f in plan[k]["files"]
    ]
    out += [
        {"target": "demo", "path": f["path"], "destination": f["asset_name"], "sha256": f["sha256"], "size": f["size"], "url": f["url"]}
        for f in plan["demo"]["files"]
    ]
    if plan.get("paper"):
        p = plan["paper"]
        out.append({"target": "paper", "path": p["name"], "destination": p["name"], "sha256": p["sha256"], "size": p["size"], "url": p["url"]})
    return out
