"""``python -m tools.release.publication_report``: bind the final publication evidence.

Binds ``hub_release_plan.json``, ``release_candidate_report.json``, ``hub_publish_report.json`` and
``clean_machine_demo_report.json`` by public-safe file name + SHA-256 + size, and checks that they
agree: the candidate's embedded plan is the plan file; readiness rows are all present and ok with
current issue refs; blockers are empty; public link and artifact checks are present and passing;
the publish report names this plan and this candidate and uploaded exactly the planned files; the
clean-machine replay names this candidate and downloaded exactly the planned files; the paper is the
planned paper; every uploaded artifact in the candidate's artifact table matches the plan and the
downloaded bytes. Each disagreement becomes an ``issues`` entry with ``issue_refs``; the report
(``publication_evidence_report.json``) is written either way and the step fails when ``ok=false``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ledger.errors import ProvenanceError, ReleaseError

from tools.release.engine.declare import Flag, Step, StepCall
from tools.release.publication import hub_upload
from tools.release.publication import clean_machine
from tools.release.publication import hub_plan
from tools.release.publication import decision
from tools.release.publication.downloads import named_identity
from tools.release.publication.targets import EVIDENCE_FLAGS
from tools.release.publication.public_report import write_public_report
from tools.release.publication.readiness import PUBLICATION_ISSUES, refs, row
from ledger.reports import load_report

GENERATED_BY = "tools.release.publication_report"
REPORT_NAME = "publication_evidence_report.json"


def _planned(plan: dict[str, Any], targets: tuple[str, ...]) -> set[tuple[str, str, str, int]]:
    return {(f["target"], f["path"], f["sha256"], f["size"]) for f in hub_plan.planned_files(plan) if f["target"] in targets}


def _need(cond: bool, code: str, message: str) -> None:
    if not cond:
        raise ProvenanceError(code, message, "regenerate the publication reports from one publish run")


def _same_ident(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("sha256"), a.get("size")) == (b.get("sha256"), b.get("size"))


def bind(plan_path: Path, cand_path: Path, publish_path: Path, cmd_path: Path) -> dict[str, Any]:
    """The publication evidence document (``ok`` and ``issues``) for the four reports. Writes nothing."""
    plan = load_report(plan_path, hub_plan.GENERATED_BY)
    cand = load_report(cand_path, decision.GENERATED_BY)
    pub = load_report(publish_path, hub_upload.GENERATED_BY)
    cmd = load_report(cmd_path, clean_machine.GENERATED_BY)
    ids = {
        "plan": named_identity(plan_path),
        "release_candidate": named_identity(cand_path),
        "publish_report": named_identity(publish_path),
        "clean_machine_demo_report": named_identity(cmd_path),
    }

    def candidate() -> dict[str, Any]:
        embedded = clean_machine.check_candidate(cand)
        _need(embedded == plan, "PLAN_MISMATCH", "the candidate's embedded Hub plan is not hub_release_plan.json")
        for r in cand["readiness"]:
            _need(
                list(r.get("issue_refs", [])) == refs(r["name"]),
                "STALE_ISSUE_REFS",
                f"readiness row {r['name']} cites {r.get('issue_refs')}, expected {refs(r['name'])}",
            )
        return {}

    def publish() -> dict[str, Any]:
        _need(_same_ident(pub["plan"], ids["plan"]), "PUBLISH_PLAN", "the publish report was made from a different hub_release_plan.json")
        _need(_same_ident(pub["candidate"], ids["release_candidate"]), "PUBLISH_CANDIDATE", "the publish report regenerated a different release candidate")
        sent = {(c["target"], f["path"], f["sha256"], f["size"]) for c in pub["hub_commits"] for f in c["files"]}
        _need(sent == _planned(plan, ("model", "dataset")), "PUBLISH_SET_MISMATCH", "the Hub commits did not carry exactly the planned model and dataset files")
        _need(all(c.get("parent_commit") for c in pub["hub_commits"]), "PUBLISH_PARENT", "a Hub commit was made without parent_commit")
        assets = {(a["asset_name"], a["sha256"], a["size"]) for g in pub["github_assets"] for a in g["assets"]}
        want = {(f["destination"], f["sha256"], f["size"]) for f in hub_plan.planned_files(plan) if f["target"] in ("demo", "paper")}
        _need(assets == want, "PUBLISH_SET_MISMATCH", "the release assets are not exactly the planned demo and paper files")
        return {}

    def replay() -> dict[str, Any]:
        rc = cmd["release_candidate"]
        _need(
            rc.get("name") == cand_path.name and _same_ident(rc, ids["release_candidate"]),
            "REPLAY_CANDIDATE",
            "the clean-machine replay used a different release candidate",
        )
        _need(cmd.get("hub_plan_sha256") == cand.get("hub_plan_sha256"), "REPLAY_PLAN", "the clean-machine replay used a different Hub plan")
        _need(cmd.get("ok") is True and cmd.get("model_id") == cand.get("model_id"), "REPLAY_MODEL", "the replay did not pass on the candidate's model id")
        got = {(d["target"], d["path"].split("/", 1)[1], d["sha256"], d["size"]) for d in cmd["downloaded"]}
        _need(
            got == _planned(plan, clean_machine.TARGETS),
            "REPLAY_SET_MISMATCH",
            "the replay did not download exactly the planned model, dataset and demo files",
        )
        return {}

    def paper() -> dict[str, Any]:
        p, inv = plan.get("paper"), cand["upload_inventories"].get("paper")
        _need(bool(p) and inv == {k: p[k] for k in ("name", "sha256", "size", "url")}, "PAPER_MISMATCH", "the candidate's paper is not the planned paper")
        return {}

    def artifacts() -> dict[str, Any]:
        planned = {(f["target"], f["path"]): f for f in hub_plan.planned_files(plan)}
        downloaded = {(d["target"], d["path"].split("/", 1)[1]): d for d in cmd["downloaded"]}
        for a in cand["artifacts"]:
            key = (a["package"], a["path"] if a["package"] != "paper" else a["path"])
            if key in planned:
                _need(_same_ident(a, planned[key]), "ARTIFACT_MISMATCH", f"{a['package']}/{a['path']} differs between the candidate and the plan")
                if key in downloaded:
                    _need(
                        _same_ident(a, downloaded[key]),
                        "ARTIFACT_MISMATCH",
                        f"{a['package']}/{a['path']} differs between the candidate and the downloaded bytes",
                    )
        return {}

    checks = [
        row("hub_plan", candidate),
        row("publish", publish),
        row("clean_machine_demo", replay),
        row("paper", paper),
        row("publication_evidence", artifacts),
    ]
    issues = [{"check": c["name"], "code": c["code"], "message": c["message"], "issue_refs": c["issue_refs"]} for c in checks if not c["ok"]]
    planned = {(f["target"], f["path"]) for f in hub_plan.planned_files(plan)}
    down = {(d["target"], d["path"].split("/", 1)[1]) for d in cmd.get("downloaded", [])}
    return {
        "kind": "publication_evidence",
        "ok": not issues,
        "release_id": cand.get("release_id"),
        "model_id": cand.get("model_id"),
        "commit_sha": cand.get("commit_sha"),
        "bound": ids,
        "clean_machine_release_candidate": cmd.get("release_candidate"),
        "paper": {k: (plan.get("paper") or {}).get(k) for k in ("name", "url", "sha256", "size")},
        "artifacts": [
            {**a, "uploaded": (a["package"], a["path"]) in planned, "downloaded": (a["package"], a["path"]) in down} for a in cand.get("artifacts", [])
        ],
        "readiness": [{"name": r["name"], "ok": r.get("ok"), "issue_refs": r.get("issue_refs", [])} for r in cand.get("readiness", [])],
        "public_links": [{"target": c["target"], "ok": c["ok"], "url": c.get("url")} for c in (cand.get("public_links") or {}).get("checks", [])],
        "public_artifacts": [
            {k: c.get(k) for k in ("target", "ok", "files", "verified", "listing")} for c in (cand.get("public_artifacts") or {}).get("checks", [])
        ],
        "replay": {
            k: (cmd.get("replay") or {}).get(k)
            for k in ("model_id", "model_manifest", "inputs", "runtime_preflight", "score_receipt_batch", "manifest", "transcript")
        },
        "checks": [{"name": c["name"], "ok": c["ok"]} for c in checks],
        "issues": issues,
        "issue_refs": list(PUBLICATION_ISSUES),
    }


def _body(call: StepCall) -> str:
    a = call.args
    doc = bind(Path(a.plan), Path(a.release_candidate), Path(a.publish_report), Path(a.clean_machine_demo_report))
    write_public_report(a.output, doc, generated_by=GENERATED_BY)
    if not doc["ok"]:
        first = doc["issues"][0]
        raise ReleaseError(
            "PUBLICATION_EVIDENCE",
            f"{len(doc['issues'])} publication issue(s); first {first['check']}: {first['code']}: {first['message']} ({' '.join(first['issue_refs'])})",
            "see the issues in the evidence report",
        )
    return f"publication evidence bound: {len(doc['checks'])} checks passed -> {Path(a.output).name}"


STEP = Step(
    "publication_report",
    gate="publication",
    body=_body,
    purpose="bind plan, candidate, publish report and replay into publication evidence",
    flags=(
        *EVIDENCE_FLAGS,
        Flag("--output", f"report path ({REPORT_NAME})", required=True, role="output"),
    ),
    details="Bind plan, candidate, publish report and clean-machine replay; fail on any disagreement.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
