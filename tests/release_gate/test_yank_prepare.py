"""Yanking (ledger event → revocation list → verify-receipts warns, still verifies) and `prepare` on a repo copy."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from tests.release_gate.conftest import ROOT, commit, git, set_snapshot, set_version_text


@pytest.fixture(scope="module")
def scored(baseline_model, tmp_path_factory):
    """Scores and receipts of the example VCF with the baseline model."""
    from geno_lewm.resources import example_path
    from geno_lewm.scoring.run import score_vcf

    d = tmp_path_factory.mktemp("scored")
    for name in ("rCRS_chrM.fa", "mt_known_variants.vcf"):
        shutil.copyfile(example_path(name), d / name)
    score_vcf(
        baseline_model,
        d / "mt_known_variants.vcf",
        d / "rCRS_chrM.fa",
        output_scores=d / "scores.jsonl",
        output_receipts=d / "receipts.jsonl",
        device="cpu",
        progress=False,
    )
    return d


def test_yank_records_the_event_writes_the_list_and_changelog_and_verify_warns(baseline_model, scored, tmp_path, capsys):
    from geno_lewm.cli.verify_receipts import main as verify_main
    from geno_lewm.package import model_id_of
    from ledger.store import Ledger
    from tools.release.yank import main as yank_main

    work = tmp_path / "w"
    work.mkdir()
    shutil.copyfile(ROOT / "CHANGELOG.md", work / "CHANGELOG.md")
    mid = model_id_of(baseline_model)
    up = "a" * 64
    assert yank_main(["--model-id", mid, "--reason", "calibration table built from leaked variants", "--upgrade-to", up, "--workdir", str(work)]) == 0
    led = Ledger.open(work / "ledger.duckdb", read_only=True)
    yanks = [e.data for e in led.events(kinds=["model_yanked"])]
    cols, rows = led.sql("SELECT count(*) FROM v_yanked")
    led.close()
    assert [(y["model_id"], y["upgrade_to"]) for y in yanks] == [(mid, up)] and rows[0][0] == 1
    doc = json.loads((work / "revocation-list.json").read_text())
    assert doc == {
        "schema_version": "1.0.0",
        "generated_by": "tools.release.yank",
        "yanked": [{"model_id": mid, "reason": "calibration table built from leaked variants", "upgrade_to": up}],
    }
    changelog = (work / "CHANGELOG.md").read_text()
    unreleased = changelog.split("## [Unreleased]", 1)[1].split("\n## ", 1)[0]
    assert "### Removed" in unreleased and f"Yanked model `{mid}`" in unreleased and up in unreleased
    capsys.readouterr()
    rc = verify_main(
        [
            "--model-dir",
            str(baseline_model),
            "--receipts",
            str(scored / "receipts.jsonl"),
            "--scores",
            str(scored / "scores.jsonl"),
            "--revocation-list",
            str(work / "revocation-list.json"),
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0 and "warning[model_yanked]" in err
    res = json.loads(out)
    assert res["ok"] and res["receipts"] > 0 and [w["code"] for w in res["warnings"]] == ["model_yanked"]
    assert yank_main(["--model-id", mid, "--reason", "again", "--workdir", str(work)]) == 2  # INPUT.ALREADY_YANKED


def test_yank_refuses_a_malformed_model_id(tmp_path):
    from tools.release.yank import main as yank_main

    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n")
    assert yank_main(["--model-id", "not-a-hash", "--reason", "x", "--workdir", str(tmp_path)]) == 2
    assert not (tmp_path / "revocation-list.json").exists()


def _digest(paths):
    return {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in paths}


def test_prepare_bumps_version_drafts_changelog_and_records_on_a_repo_copy(repo, tmp_path, live_snapshot, capsys):
    from ledger.store import Ledger
    from tools.release.prepare import main

    real = _digest(["geno_lewm/__init__.py", "pyproject.toml", "CHANGELOG.md"])
    set_snapshot(repo, live_snapshot)
    commit(repo, "Snapshot")
    git(repo, "tag", "v0.1.0")
    commit(repo, "feat: add a rollout fidelity report")
    commit(repo, "fix: reject empty VCF files")
    rc = main(["--version", "0.2.0", "--project-root", str(repo), "--workdir", str(repo)])
    out, _ = capsys.readouterr()
    assert rc == 0
    assert '__version__ = "0.2.0"' in (repo / "geno_lewm" / "__init__.py").read_text()
    assert '\nversion = "0.2.0"\n' in (repo / "pyproject.toml").read_text()
    text = (repo / "CHANGELOG.md").read_text()
    section = text.split("## [0.2.0] - ", 1)[1].split("\n## ", 1)[0]
    fixed = section.split("### Fixed\n", 1)[1].split("\n### ", 1)[0]  # the curated Unreleased may already hold a Fixed section
    assert "- add a rollout fidelity report" in section and "- reject empty VCF files" in fixed
    assert "Versioning contract" in section and section.count("### Fixed") == 1  # curated Unreleased entries rolled in, one section per kind
    assert text.index("## [Unreleased]") < text.index("## [0.2.0]")
    assert "# Release v0.2.0" in out and "minor since v0.1.0" in out and "Gate states" in out
    led = Ledger.open(repo / "ledger.duckdb", read_only=True)
    passed = [e.data["step"] for e in led.events(kinds=["step_passed"])]
    outs = {e.data["path"] for e in led.events(kinds=["artifact_recorded"])}
    led.close()
    assert passed == ["prepare"] and {"CHANGELOG.md", "pyproject.toml", "geno_lewm/__init__.py"} <= outs
    assert _digest(list(real)) == real  # the real checkout is untouched


def test_prepare_refuses_a_breaking_minor_and_an_additive_patch_without_writing(repo, live_snapshot):
    from ledger.errors import ReleaseError
    from tools.release.versioning.version_bump import prepare

    set_snapshot(repo, {**live_snapshot, "geno_lewm.versioning.gone": "def()"})
    commit(repo, "Snapshot")
    git(repo, "tag", "v0.1.0")
    before = (repo / "pyproject.toml").read_text(), (repo / "CHANGELOG.md").read_text()
    with pytest.raises(ReleaseError) as err:
        prepare(None, repo, "0.2.0", current=live_snapshot)
    assert err.value.code == "RELEASE.SEMVER" and "strictly additive" in err.value.hint
    with pytest.raises(ReleaseError) as err:
        prepare(None, repo, "0.1.1", current={**live_snapshot, "geno_lewm.versioning.gone": "def()", "geno_lewm.versioning.new": "def()"})
    assert "additive changes need a MINOR" in err.value.hint
    assert ((repo / "pyproject.toml").read_text(), (repo / "CHANGELOG.md").read_text()) == before
    assert prepare(None, repo, "1.0.0", current=live_snapshot).bump == "major"
    set_version_text(repo, "1.0.0")


def test_bump_kind_and_pre_releases():
    from tools.release.versioning.version_bump import bump_kind, check_semver

    assert [bump_kind("0.1.0", v) for v in ("1.0.0", "0.2.0", "0.1.1", "0.1.0rc1")] == ["major", "minor", "patch", "prerelease"]
    from ledger.errors import ReleaseError

    with pytest.raises(ReleaseError):
        check_semver("0.1.0", previous="0.1.0", last_release="0.1.0", breaking=[], additions=[])
