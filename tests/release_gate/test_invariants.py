"""INV-REL-1/3/5/6 on temporary git repositories, and `gate-check` recording each verdict in the ledger."""

from __future__ import annotations

import tarfile

import pytest

from tests.release_gate.conftest import ROOT, commit, git, set_snapshot, set_version_text

OLD = "geno_lewm.versioning.old_helper"


def _tag(repo, version, symbols, deprecated=None):
    set_version_text(repo, version)
    set_snapshot(repo, symbols, deprecated)
    commit(repo, f"Release {version}")
    git(repo, "tag", f"v{version}")


def test_removing_a_symbol_without_deprecation_fails_inv_rel_5(repo, live_snapshot):
    from tools.release.gate.invariants import check_deprecations

    _tag(repo, "0.1.0", {**live_snapshot, OLD: "def()"})
    v = check_deprecations(repo, version="0.2.0", current=live_snapshot)
    assert not v.ok and v.code == "RELEASE.INV_REL_5"
    assert any(d.startswith(f"{OLD}: removed without a deprecation") for d in v.details)


def test_removal_after_a_minor_of_deprecation_passes_inv_rel_5_but_not_within_it(repo, live_snapshot):
    from tools.release.gate.invariants import check_deprecations

    _tag(repo, "0.1.0", {**live_snapshot, OLD: "def()"}, {OLD: "use new_helper"})
    assert check_deprecations(repo, version="0.2.0", current=live_snapshot).ok
    same_minor = check_deprecations(repo, version="0.1.1", current=live_snapshot)
    assert not same_minor.ok and "within the same MINOR" in same_minor.details[0]


def test_inv_rel_1_refuses_breaking_changes_in_a_minor_and_reads_the_tag_not_the_worktree(repo, live_snapshot):
    from tools.release.gate.invariants import check_public_api

    _tag(repo, "0.1.0", {**live_snapshot, OLD: "def()"})
    set_snapshot(repo, live_snapshot)  # the working tree's snapshot no longer lists it: the tag's does
    v = check_public_api(repo, version="0.2.0", current=live_snapshot)
    assert not v.ok and f"removed: {OLD}" in v.details and "v0.1.0" in v.message
    assert check_public_api(repo, version="1.0.0", current=live_snapshot).ok  # a MAJOR may break
    assert check_public_api(repo, version="0.2.0", current={**live_snapshot, OLD: "def()", "geno_lewm.versioning.new": "def()"}).ok


def test_without_a_tag_inv_rel_1_compares_with_the_committed_snapshot_and_says_so(repo, live_snapshot):
    from tools.release.gate.invariants import check_public_api

    set_snapshot(repo, live_snapshot)
    v = check_public_api(repo, version="0.1.0", current=live_snapshot)
    assert v.ok and "committed snapshot (no v* release tag yet)" in v.message


def test_a_missing_changelog_section_fails_inv_rel_3(repo):
    from tools.release.gate.invariants import check_changelog

    v = check_changelog(repo, version="0.3.0")
    assert not v.ok and v.code == "RELEASE.INV_REL_3" and "0.3.0" in v.message
    assert check_changelog(repo, version="0.4.0rc1").ok  # a pre-release may still use [Unreleased]
    text = (repo / "CHANGELOG.md").read_text()
    (repo / "CHANGELOG.md").write_text(text.replace("## [Unreleased]", "## [Unreleased]\n\n## [0.3.0] - 2026-01-01\n\n### Fixed\n- A fix.\n", 1))
    assert check_changelog(repo, version="0.3.0").ok
    assert not check_changelog(repo, version="0.4.0rc1").ok  # [Unreleased] is empty now


def test_inv_rel_6_names_missing_assets_of_an_sdist(tmp_path):
    from tools.release.gate.invariants import check_sdist

    src = tmp_path / "geno_lewm-0.0.0"
    (src / "tools").mkdir(parents=True)
    (src / "tools" / "x.py").write_text("")
    (src / "README.md").write_text("")
    archive = tmp_path / "geno_lewm-0.0.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src, arcname=src.name)
    v = check_sdist(ROOT, sdist=archive)
    assert not v.ok and v.code == "RELEASE.SDIST_ASSETS" and "bench/" in v.message and "AGENTS.md" in v.message


def test_gate_check_records_every_verdict_and_exits_naming_failed_invariants(source_repo, tmp_path, capsys, live_snapshot):
    from ledger.store import Ledger
    from tools.release.gate_check import main

    _tag(source_repo, "0.1.0", {**live_snapshot, OLD: "def()"})
    set_version_text(source_repo, "0.2.0")
    commit(source_repo, "feat: next")
    work = tmp_path / "w"
    rc = main(["--project-root", str(source_repo), "--workdir", str(work), "--skip", "INV-REL-2", "--skip", "INV-REL-6"])
    out, err = capsys.readouterr()
    assert rc == 9
    assert "error[RELEASE.GATE_CHECK]" in err
    for inv in ("INV-REL-1", "INV-REL-3", "INV-REL-5"):
        assert inv in err.split("error[RELEASE.GATE_CHECK]")[1], inv
    assert "✗ INV-REL-5" in out
    led = Ledger.open(work / "ledger.duckdb", read_only=True)
    outcomes = {e.data["step"]: (e.kind, e.data.get("code")) for e in led.events(kinds=["step_passed", "step_failed"])}
    led.close()
    assert outcomes == {
        "inv_rel_1": ("step_failed", "RELEASE.INV_REL_1"),
        "inv_rel_3": ("step_failed", "RELEASE.INV_REL_3"),
        "inv_rel_5": ("step_failed", "RELEASE.INV_REL_5"),
    }


def test_gate_check_inspects_the_given_checkouts_source_not_the_installed_package(source_repo, tmp_path, capsys, monkeypatch, live_snapshot):
    """A clone that removes a public symbol without a deprecation fails INV-REL-1 and INV-REL-5, with no PYTHONPATH."""
    from ledger.store import Ledger
    from tools.release.gate_check import main

    monkeypatch.delenv("PYTHONPATH", raising=False)
    _tag(source_repo, "0.1.0", live_snapshot)
    removed = "geno_lewm.versioning.register_migration"
    src = source_repo / "geno_lewm" / "versioning.py"
    text = src.read_text()
    assert "def register_migration(" in text
    src.write_text(text.replace("def register_migration(", "def _register_migration("))  # gone, never deprecated
    set_version_text(source_repo, "0.2.0")
    commit(source_repo, "feat: drop register_migration")
    work = tmp_path / "w"
    rc = main(["--project-root", str(source_repo), "--workdir", str(work), "--skip", "INV-REL-2", "--skip", "INV-REL-3", "--skip", "INV-REL-6"])
    out, err = capsys.readouterr()
    assert rc == 9, out + err
    assert "✗ INV-REL-1" in out and "✗ INV-REL-5" in out
    assert f"removed: {removed}" in out and f"{removed}: removed without a deprecation" in out
    led = Ledger.open(work / "ledger.duckdb", read_only=True)
    outcomes = {e.data["step"]: e.data.get("code") for e in led.events(kinds=["step_failed"])}
    led.close()
    assert outcomes == {"inv_rel_1": "RELEASE.INV_REL_1", "inv_rel_5": "RELEASE.INV_REL_5"}
    # the installed package still has the symbol: the verdict came from the clone's source
    import geno_lewm.versioning

    assert hasattr(geno_lewm.versioning, "register_migration")


def test_source_snapshot_refuses_a_checkout_without_an_importable_api(repo):
    from ledger.errors import ReleaseError
    from tools.release.gate.invariants import check_public_api

    with pytest.raises(ReleaseError) as exc:
        check_public_api(repo, version="0.2.0")  # the repo holds no geno_lewm/api.py: never fall back to the installed one
    assert exc.value.code == "RELEASE.API_SNAPSHOT"


def test_gate_check_on_this_checkout_passes_api_changelog_and_sdist(tmp_path):
    from tools.release.engine.context import ReleaseContext
    from tools.release.gate_check import gate_check

    ctx = ReleaseContext.for_workdir(tmp_path / "w", log=lambda line: None)
    verdicts = gate_check(ctx, ROOT, skip=("INV-REL-2",))
    ctx.close()
    bad = [(v.invariant, v.message) for v in verdicts if not v.ok]
    assert not bad, bad
    assert [v.invariant for v in verdicts] == ["INV-REL-1", "INV-REL-3", "INV-REL-5", "INV-REL-6"]


def test_unknown_skip_is_a_usage_error(tmp_path):
    from ledger.errors import InputError
    from tools.release.engine.context import ReleaseContext
    from tools.release.gate_check import gate_check

    with pytest.raises(InputError):
        gate_check(ReleaseContext.for_workdir(tmp_path), ROOT, skip=("INV-REL-9",))
