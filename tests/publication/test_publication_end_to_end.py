"""Plan → publish (loopback Hub + GitHub) → fixture candidate → clean-machine replay → evidence, and how each fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATASET_REPO, GH_REPO, REPO, TAG, target_args
from fake_services import FakeGitHub, FakeHub

from tools.release import clean_machine_demo, hub_publish, hub_release, publication_assets, publication_report, release_candidate
from tools.release.publication import hub_plan, hub_upload
from tools.release.publication import decision
from ledger.artifacts import read_sums
from ledger.reports import private_paths

HF_TOKEN = "hf_SECRETtokenVALUE0123456789"
GH_TOKEN = "ghs_SECRETtokenVALUE9876543210"


def _load(p: Path) -> dict:
    return json.loads(p.read_text(encoding="utf-8"))


def _assert_public(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert HF_TOKEN not in text and GH_TOKEN not in text, path.name
    assert private_paths(json.loads(text)) == [], path.name
    assert str(Path.home()) not in text and "/tmp/" not in text, path.name


@pytest.fixture(scope="module")
def published(release_workdir, tmp_path_factory):
    """Publish the fixture release to loopback services (the stand-in refusal bypassed for the transport)."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("services")
    hub, gh = FakeHub(root / "hub"), FakeGitHub(root / "gh")
    out = release_workdir / "published"
    mp.setenv("HF_TOKEN", HF_TOKEN)
    mp.setenv("GITHUB_TOKEN", GH_TOKEN)
    args = target_args(release_workdir, hub, gh)
    files = {k: out / f"{k}.json" for k in ("plan", "candidate0", "publish")}
    argv = args + ["--plan-output", str(files["plan"]), "--candidate-output", str(files["candidate0"]), "--publish-output", str(files["publish"])]
    refused = hub_publish.main(argv)
    requests_after_refusal = len(hub.requests) + len(gh.requests)
    heads_before = {k: hub.head(f"{k}s/{r}") for k, r in (("model", REPO), ("dataset", DATASET_REPO))}
    mp.setattr(hub_upload, "check_publishable", lambda plan: None)
    rc = hub_publish.main(argv)
    mp.undo()
    cand = out / "release_candidate_report.json"
    rc_cand = release_candidate.main(args + ["--plan", str(files["plan"]), "--allow-fixture-manifest", "--output", str(cand)])
    yield {
        "hub": hub,
        "gh": gh,
        "args": args,
        "files": files,
        "cand": cand,
        "rc": rc,
        "rc_cand": rc_cand,
        "refused": refused,
        "requests_after_refusal": requests_after_refusal,
        "heads_before": heads_before,
        "wd": release_workdir,
    }
    hub.close()
    gh.close()


def test_plan_lists_exact_checksummed_files(release_workdir, services):
    hub, gh = services
    out = release_workdir / "t_plan" / "hub_release_plan.json"
    assert hub_release.main(target_args(release_workdir, hub, gh) + ["--output", str(out)]) == 0
    plan = _load(out)
    assert (plan["schema_version"], plan["generated_by"], plan["dry_run"]) == ("1.0.0", "tools.release.hub_release", True)
    model_sums = read_sums(release_workdir / "model" / "SHA256SUMS")
    assert {f["path"] for f in plan["model"]["files"]} == set(model_sums) | {"SHA256SUMS"}
    assert {c["path"] for c in plan["model"]["checksum_files"]} == {"SHA256SUMS", "training_run_SHA256SUMS"}
    assert any("training_run_SHA256SUMS" in f["covered_by"] for f in plan["model"]["files"])
    assert {f["path"] for f in plan["dataset"]["files"]} == set(read_sums(release_workdir / "dataset" / "SHA256SUMS")) | {"SHA256SUMS"}
    names = [f["asset_name"] for f in plan["demo"]["files"]]
    assert len(names) == len(set(names)) and "terminal_demo_manifest.json" in names
    paper = plan["paper"]
    assert paper["name"] == "paper_draft.md" and paper["size"] == (release_workdir / "paper" / "paper_draft.md").stat().st_size
    # one exact-file command per published file, never a folder sync
    assert len(plan["commands"]) == plan["file_count"]
    planned = {(f["target"], f["destination"]) for f in hub_plan.planned_files(plan)}
    assert {(c["target"], c["destination"]) for c in plan["commands"]} == planned
    for c in plan["commands"]:  # each command names one file and its one destination
        assert c["kind"] in ("hf_upload_file", "github_release_asset") and not c["source"].endswith("/")
    _assert_public(out)


def test_paper_path_requires_paper_url(release_workdir, services, capsys):
    hub, gh = services
    args = target_args(release_workdir, hub, gh)
    i = args.index("--paper-url")
    assert hub_release.main(args[:i] + args[i + 2 :] + ["--no-ledger"]) == 2
    assert "error[INPUT.USAGE]" in capsys.readouterr().err


def test_publish_refuses_fixture_then_commits_exactly_the_plan(published):
    hub, gh, files = published["hub"], published["gh"], published["files"]
    assert published["refused"] == 9 and published["requests_after_refusal"] == 0  # stand-in refused before any request
    plan = _load(files["plan"])
    commits = [r["commit"] for r in hub.requests if "commit" in r]
    assert len(commits) == 2  # one commit per repo
    by_files = {frozenset(c["files"]): c for c in commits}
    model_set = frozenset(f["destination"] for f in plan["model"]["files"])
    data_set = frozenset(f["destination"] for f in plan["dataset"]["files"])
    assert set(by_files) == {model_set, data_set}
    assert by_files[model_set]["parent_commit"] == published["heads_before"]["model"]
    assert by_files[data_set]["parent_commit"] == published["heads_before"]["dataset"]
    uploaded = {p.name for p in gh.release_dir(GH_REPO, TAG).iterdir()}
    assert uploaded == {f["asset_name"] for f in plan["demo"]["files"]} | {"paper_draft.md"}
    # the regenerated candidate checked the public bytes but blocks on the fixture manifest
    assert published["rc"] == 9
    cand0 = _load(files["candidate0"])
    assert cand0["ready"] is False and [b["name"] for b in cand0["blockers"]] == ["fixture_manifest"]
    assert {r["name"]: r["ok"] for r in cand0["readiness"]}["public_artifacts"] is True
    pub = _load(files["publish"])
    assert pub["uploaded_files"] == plan["file_count"] and all(c["parent_commit"] for c in pub["hub_commits"])
    for p in files.values():
        _assert_public(p)


def test_moved_branch_fails_the_commit(published, monkeypatch):
    hub = published["hub"]
    from tools.release.publication.targets import targets_from_args

    t = targets_from_args(hub_release.build_parser().parse_args(published["args"]))
    plan = hub_plan.build_plan(t)
    original = hub.handle

    def moving(h, method, body):  # the branch moves right after the publisher read its head
        original(h, method, body)
        if "/revision/" in h.path:
            hub.heads[f"models/{REPO}"] = "f" * 40

    monkeypatch.setattr(hub, "handle", moving)
    from ledger.errors import ReleaseError

    with pytest.raises(ReleaseError) as exc:
        hub_upload.commit_repo(t, plan, "model", HF_TOKEN)
    assert exc.value.code == "RELEASE.HUB_COMMIT_FAILED" and "412" in exc.value.message and HF_TOKEN not in exc.value.message


def test_fixture_candidate_then_clean_machine_replay(published):
    wd = published["wd"]
    assert published["rc_cand"] == 0
    cand = _load(published["cand"])
    assert cand["ready"] is True and cand["fixture"] is True and cand["blockers"] == []
    rows = {r["name"]: r for r in cand["readiness"]}
    assert set(rows) == set(decision.EXPECTED_ROWS) and all(r["issue_refs"] for r in rows.values())
    assert {c["target"] for c in cand["public_artifacts"]["checks"]} == {"model", "dataset", "demo", "paper"}
    bound = {(a["package"], a["path"]) for a in cand["artifacts"]}
    for need in [
        ("dataset", "dataset_package.json"),
        ("model", "model_package.json"),
        ("model", "eval_metrics.json"),
        ("model", "eval_report.md"),
        ("model", "efficiency_report.json"),
        ("model", "training_preflight_report.json"),
        ("model", "training_run_SHA256SUMS"),
    ]:
        assert need in bound
    out = wd / "t_cm" / "clean"
    assert clean_machine_demo.main(["--workdir", str(wd), "--release-candidate-report", str(published["cand"]), "--output-dir", str(out)]) == 0
    rep = _load(out / "clean_machine_demo_report.json")
    plan = cand["hub_plan"]
    assert rep["ok"] is True and len(rep["downloaded"]) == len(plan["model"]["files"]) + len(plan["dataset"]["files"]) + len(plan["demo"]["files"])
    assert rep["release_candidate"]["name"] == "release_candidate_report.json"
    assert all(not d["path"].startswith("/") for d in rep["downloaded"])
    assert rep["replay"]["model_id"] == cand["model_id"]
    _assert_public(out / "clean_machine_demo_report.json")
    _assert_public(published["cand"])
    # the evidence binder names the disagreement: the publish run regenerated a different candidate
    ev = wd / "t_cm" / "publication_evidence_report.json"
    f = published["files"]
    # the four inputs the evidence binder and the assets step both take
    evidence_inputs = ["--plan", str(f["plan"]), "--release-candidate", str(published["cand"]), "--publish-report", str(f["publish"])]
    evidence_inputs += ["--clean-machine-demo-report", str(out / "clean_machine_demo_report.json")]
    assert publication_report.main(["--workdir", str(wd), *evidence_inputs, "--output", str(ev)]) == 9
    evidence = _load(ev)
    assert evidence["ok"] is False and [i["code"] for i in evidence["issues"]] == ["PROVENANCE.PUBLISH_CANDIDATE"]
    assert evidence["issues"][0]["issue_refs"] == ["#166", "#167", "#101"]
    _assert_public(ev)
    # and the assets step refuses evidence that is not ok
    assert (
        publication_assets.main(
            [
                "--workdir",
                str(wd),
                "--evidence-report",
                str(ev),
                *evidence_inputs,
                "--release-url",
                f"https://github.com/{GH_REPO}/releases/tag/{TAG}",
                "--stage-dir",
                str(wd / "t_cm" / "stage"),
                "--output",
                str(wd / "t_cm" / "assets.json"),
            ]
        )
        == 9
    )


def _candidate_rows(published, name: str) -> dict:
    out = published["wd"] / f"t_{name}" / "candidate.json"
    rc = release_candidate.main(published["args"] + ["--allow-fixture-manifest", "--output", str(out)])
    doc = _load(out)
    assert rc == 9 and doc["ready"] is False
    return {r["name"]: r for r in doc["readiness"]}


def _flip_byte(f, data: bytes) -> None:
    f.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])


@pytest.mark.parametrize(
    ("kind", "name", "damage", "code"),
    [
        ("model", "predictor.safetensors", _flip_byte, "PROVENANCE.PUBLIC_HASH_MISMATCH"),
        ("dataset", "data_card.md", lambda f, data: f.unlink(), "PROVENANCE.PUBLIC_FILE_MISSING"),
    ],
)
def test_damaged_public_file_fails_the_public_check(published, kind, name, damage, code):
    f = published["hub"].repo_dir(kind, REPO if kind == "model" else DATASET_REPO) / name
    data = f.read_bytes()
    damage(f, data)
    try:
        rows = _candidate_rows(published, f"damaged_{kind}")
    finally:
        f.write_bytes(data)
    assert rows["public_artifacts"]["code"] == code and name in rows["public_artifacts"]["message"]


def test_extra_file_fails_the_public_check(published):
    f = published["hub"].repo_dir("model", REPO) / "unexpected.bin"
    f.write_bytes(b"not in the plan")
    try:
        rows = _candidate_rows(published, "extra")
    finally:
        f.unlink()
    assert rows["public_artifacts"]["code"] == "PROVENANCE.PUBLIC_FILE_SET" and "unexpected.bin" in rows["public_artifacts"]["message"]


def _tampered_candidate(published, name: str, edit) -> Path:
    doc = _load(published["cand"])
    edit(doc["hub_plan"])
    doc["hub_plan_sha256"] = decision.plan_sha256(doc["hub_plan"])
    p = published["wd"] / f"t_{name}" / "release_candidate_report.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("name", "edit", "code"),
    [
        ("dotdot", lambda plan: plan["model"]["files"][0].update(path="../escape.bin"), "INPUT.PRIVATE_PATH"),  # refused as the report is read
        ("unsafe", lambda plan: plan["model"]["files"][0].update(path="..\\escape.bin"), "INPUT.UNSAFE_PATH"),  # refused as a destination
        ("digest", lambda plan: plan["dataset"]["files"][0].update(sha256="ABC"), "PROVENANCE.BAD_DIGEST"),
    ],
)
def test_clean_machine_refuses_bad_plan_entries_before_downloading(published, capsys, name, edit, code):
    cand = _tampered_candidate(published, name, edit)
    out = published["wd"] / f"t_{name}" / "clean"
    rc = clean_machine_demo.main(["--workdir", str(published["wd"]), "--release-candidate-report", str(cand), "--output-dir", str(out)])
    assert rc != 0 and f"error[{code}]" in capsys.readouterr().err
    assert not [p for p in out.rglob("*") if p.is_file()]  # nothing was downloaded


def test_clean_machine_rejects_changed_public_bytes(published, capsys):
    f = published["gh"].release_dir(GH_REPO, TAG) / "terminal_demo_manifest.json"
    data = f.read_bytes()
    f.write_bytes(data.replace(b'"passed"', b'"failed"', 1))
    out = published["wd"] / "t_cmflip" / "clean"
    try:
        rc = clean_machine_demo.main(["--workdir", str(published["wd"]), "--release-candidate-report", str(published["cand"]), "--output-dir", str(out)])
    finally:
        f.write_bytes(data)
    assert rc == 7 and "error[PROVENANCE.PUBLIC_HASH_MISMATCH]" in capsys.readouterr().err
    assert not (out / "clean_machine_demo_report.json").exists()


def test_skip_public_check_needs_fixture_allowance(published, capsys):
    out = published["wd"] / "t_skip" / "candidate.json"
    assert release_candidate.main(published["args"] + ["--skip-public-link-check", "--output", str(out)]) == 2
    assert "--allow-fixture-manifest" in capsys.readouterr().err and not out.exists()
    assert release_candidate.main(published["args"] + ["--skip-public-link-check", "--allow-fixture-manifest", "--output", str(out)]) == 0
    doc = _load(out)
    assert doc["public_checks_skipped"] is True and doc["fixture"] is True
    # a skipped candidate is never replayed
    rc = clean_machine_demo.main(["--workdir", str(published["wd"]), "--release-candidate-report", str(out), "--output-dir", str(out.parent / "clean")])
    assert rc == 9 and "RELEASE.CANDIDATE_READINESS" in capsys.readouterr().err
