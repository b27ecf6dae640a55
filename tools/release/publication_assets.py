"""``python -m tools.release.publication_assets``: bind and stage the publication-evidence release assets.

After ``publication_report`` passed, this step names what the protected workflow uploads to the demo
release tag: the five publication reports (plan, candidate, publish report, clean-machine report,
evidence report) and the clean-machine replay's transcript, manifest, score/receipt JSONL, runtime
preflight and batch receipt report. It checks every report against the identity the evidence
report bound, every replay file against the clean-machine report, gives each a unique flat asset
name, copies them under those names into ``--stage-dir`` and writes
``publication_evidence_assets.json`` (release target, exact upload command, asset identities).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from ledger.errors import InputError, ProvenanceError, ReleaseError
from ledger.identity import sha256_file

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from tools.release import publication_report
from tools.release.publication import clean_machine
from tools.release.publication.downloads import named_identity
from tools.release.publication.targets import EVIDENCE_FLAGS
from tools.release.publication.public_report import write_public_report
from tools.release.publication.readiness import refs
from tools.release.publication.targets import Endpoints, github_release
from ledger.reports import load_report

GENERATED_BY = "tools.release.publication_assets"
REPORT_NAME = "publication_evidence_assets.json"
REPLAY_PREFIX = "clean-machine-replay--"


def collect(evidence_path: Path, reports: dict[str, Path], cmd_dir: Path, release_url: str, endpoints: Endpoints, stage_dir: Path) -> dict[str, Any]:
    """Check, stage and describe the assets; return the assets document."""
    evidence = load_report(evidence_path, publication_report.GENERATED_BY)
    if evidence.get("ok") is not True or evidence.get("issues"):
        raise ReleaseError("PUBLICATION_EVIDENCE", "publication_evidence_report.json is not ok", "fix its issues before uploading the evidence assets")
    gh = github_release(release_url, endpoints)
    if gh is None:
        raise InputError("BAD_URL", "--release-url is not a GitHub release tag URL", "use https://github.com/<owner>/<repo>/releases/tag/<tag>")
    sources: list[tuple[str, Path]] = []
    for key, path in reports.items():
        ident = named_identity(path)
        bound = evidence["bound"].get(key)
        if not bound or (bound["name"], bound["sha256"], bound["size"]) != (ident["name"], ident["sha256"], ident["size"]):
            raise ProvenanceError(
                "EVIDENCE_MISMATCH",
                f"{path.name} is not the file the evidence report bound as {key}",
                "re-run python -m tools.release.publication_report on these files",
            )
        sources.append((path.name, path))
    sources.append((evidence_path.name, evidence_path))
    cmd = load_report(reports["clean_machine_demo_report"], clean_machine.GENERATED_BY)
    replay = cmd["replay"]
    for ident in [replay["transcript"], replay["manifest"], replay["runtime_preflight"], *replay["artifacts"].values()]:
        local = cmd_dir / ident["path"]
        if not local.is_file() or sha256_file(local) != (ident["sha256"], ident["size"]):
            raise ProvenanceError(
                "REPLAY_MISMATCH",
                f"replay file {ident['path']} differs from clean_machine_demo_report.json",
                "pass the clean-machine output directory that produced the report",
            )
        sources.append((REPLAY_PREFIX + Path(ident["path"]).name, local))
    names = [n for n, _ in sources]
    if len(set(names)) != len(names):
        raise ReleaseError("DUPLICATE_ASSET_NAME", "two publication assets share a release asset name", "rename the inputs")
    stage_dir.mkdir(parents=True, exist_ok=True)
    assets = []
    for name, src in sources:
        shutil.copyfile(src, stage_dir / name)
        digest, size = sha256_file(stage_dir / name)
        assets.append({"asset_name": name, "sha256": digest, "size": size})
    return {
        "kind": "publication_evidence_assets",
        "release_id": evidence.get("release_id"),
        "model_id": evidence.get("model_id"),
        "release": {"repo": gh[0], "tag": gh[1], "url": release_url},
        "evidence_report": named_identity(evidence_path),
        "assets": assets,
        "upload_command": ["gh", "release", "upload", gh[1], *[f"<stage-dir>/{a['asset_name']}" for a in assets], "--repo", gh[0]],
        "issue_refs": refs("publication_evidence"),
    }


def _body(call: StepCall) -> str:
    a = call.args
    reports = {
        "plan": Path(a.plan),
        "release_candidate": Path(a.release_candidate),
        "publish_report": Path(a.publish_report),
        "clean_machine_demo_report": Path(a.clean_machine_demo_report),
    }
    doc = collect(
        Path(a.evidence_report), reports, Path(a.clean_machine_demo_report).parent, a.release_url, Endpoints(github=a.github_url.rstrip("/")), Path(a.stage_dir)
    )
    write_public_report(a.output, doc, generated_by=GENERATED_BY)
    return f"publication assets staged: {len(doc['assets'])} assets for release {doc['release']['tag']} -> {Path(a.output).name}"


STEP = Step(
    "publication_assets",
    gate="publication",
    body=_body,
    purpose="bind the GitHub release target and publication-evidence asset identities",
    flags=(
        Flag("--evidence-report", "publication_evidence_report.json (ok)", required=True, role="input"),
        *EVIDENCE_FLAGS,
        Flag("--release-url", "GitHub release tag URL the assets go to (the demo release)", "str", required=True),
        Flag("--stage-dir", "directory the assets are copied into under their asset names", required=True, role="output"),
        Flag("--output", f"report path ({REPORT_NAME})", required=True, role="output"),
        common_flag("--github-url"),
    ),
    details="Bind and stage the publication-evidence assets for the demo release tag.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
