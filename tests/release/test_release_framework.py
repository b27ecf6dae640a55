"""The shared release library: identities, public paths, SHA256SUMS, generated_by, renders, recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import InputError, ProvenanceError, ReleaseError
from ledger.artifacts import check_sums, public_argv, read_sums, render_sums, write_sums
from tools.release.engine.context import ReleaseContext
from tools.release.engine.recording import record_command
from ledger.reports import check_generated_by, check_rendered, load_report, private_paths, write_report
from tools.release.gate.status import gate_states

HEX = "a" * 64


def test_sums_round_trip_and_reject_bad_digest_and_duplicates(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    write_sums(tmp_path / "SHA256SUMS", [tmp_path / "a.txt", tmp_path / "sub" / "b.txt"], tmp_path)
    assert set(check_sums(tmp_path / "SHA256SUMS", tmp_path)) == {"a.txt", "sub/b.txt"}
    bad = tmp_path / "BAD"
    bad.write_text(f"{HEX}  a.txt\n{HEX}  a.txt\n")
    with pytest.raises(ProvenanceError, match="duplicate path a.txt"):
        read_sums(bad)
    bad.write_text("abc  a.txt\n")
    with pytest.raises(ProvenanceError, match="invalid sha256"):
        read_sums(bad)
    bad.write_text(f"{HEX}  /etc/passwd\n")
    with pytest.raises(ProvenanceError, match="not public-safe"):
        read_sums(bad)
    with pytest.raises(InputError) as exc:
        render_sums([{"path": "x", "sha256": HEX, "size": 1}, {"path": "x", "sha256": HEX, "size": 1}])
    assert exc.value.code == "INPUT.DUPLICATE_CHECKSUM_PATH"
    (tmp_path / "a.txt").write_text("changed")
    with pytest.raises(ProvenanceError) as exc:
        check_sums(tmp_path / "SHA256SUMS", tmp_path)
    assert exc.value.code == "PROVENANCE.STALE_ARTIFACT" and "a.txt" in exc.value.message


def test_generated_by_and_private_paths_are_refused(tmp_path):
    write_report(tmp_path / "r.json", {"kind": "x", "path": "sub/file"}, generated_by="tools.release.x")
    assert load_report(tmp_path / "r.json", "tools.release.x")["kind"] == "x"
    with pytest.raises(ProvenanceError) as exc:
        load_report(tmp_path / "r.json", "tools.release.y")
    assert exc.value.code == "PROVENANCE.GENERATED_BY"
    with pytest.raises(InputError) as exc:
        write_report(tmp_path / "p.json", {"inputs": [{"path": "/home/alice/data.vcf"}]}, generated_by="tools.release.x")
    assert exc.value.code == "INPUT.PRIVATE_PATH"
    assert not (tmp_path / "p.json").exists()
    with pytest.raises(ProvenanceError):
        check_generated_by({"generated_by": "hand"}, ("geno-lewm-eval", "geno-lewm-eval-all"), "eval_metrics.json")


def test_check_rendered_names_the_stale_file(tmp_path):
    p = tmp_path / "card.md"
    p.write_text("# A\n")
    check_rendered(p, lambda: "# A\n")
    p.write_text("# B\n")
    with pytest.raises(ProvenanceError) as exc:
        check_rendered(p, lambda: "# A\n")
    assert exc.value.code == "PROVENANCE.STALE_RENDER" and "card.md" in exc.value.message


def test_public_argv_rewrites_absolute_paths(tmp_path):
    argv = ["--run-dir", str(tmp_path / "run"), f"--out={tmp_path / 'o.json'}", "/etc/hosts", "~/secret", "plain"]
    out = public_argv(argv, tmp_path)
    assert out == ["--run-dir", "run", "--out=o.json", "<outside-root>/hosts", "<home>/secret", "plain"]
    assert not private_paths(out)


_segment = st.text(alphabet=st.sampled_from("abcdefghij._-/~ "), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(_segment, min_size=1, max_size=4), home=st.sampled_from(["/home/u", "/Users/u", "/root", "/tmp/x", "~"]))
def test_property_generated_reports_never_carry_private_paths(tmp_path, parts, home):
    """Whatever path-like strings a step is handed, a report either refuses them or stays public-safe."""
    private = home + "/" + "/".join(parts)
    doc = {"inputs": [{"path": private, "sha256": HEX, "size": 1}], "argv": public_argv(["--x", private], tmp_path)}
    target = tmp_path / "report.json"
    target.unlink(missing_ok=True)
    try:
        write_report(target, doc, generated_by="tools.release.x")
    except InputError as err:
        assert err.code == "INPUT.PRIVATE_PATH"
        assert not target.exists()
    else:
        text = target.read_text()
        assert not private_paths(json.loads(text))
        assert "/home/" not in text and "/Users/" not in text


def test_generated_dataset_reports_are_public_safe(dataset_workdir):
    d = dataset_workdir / "dataset"
    for p in d.glob("*.json"):
        doc = json.loads(p.read_text())
        assert not private_paths(doc), p.name
        assert str(dataset_workdir) not in p.read_text()


def test_record_command_records_inputs_outputs_and_failures(tmp_path):
    ctx = ReleaseContext.for_workdir(tmp_path, log=lambda line: None)
    src = tmp_path / "in.txt"
    src.write_text("input")
    out = tmp_path / "out" / "result.txt"

    def ok() -> int:
        out.parent.mkdir(exist_ok=True)
        out.write_text("done")
        print("working")
        return 0

    idents = record_command("score", ["--in", str(src)], [src], [out], ok, context=ctx)
    assert [i["path"] for i in idents] == ["out/result.txt"]

    def bad() -> int:
        import sys

        print("error[EVAL.NAN_SCORE]: a score is NaN\n\nhint: fix it", file=sys.stderr)
        return 6

    with pytest.raises(Exception) as exc:
        record_command("eval", [], [src], [], bad, context=ctx)
    assert getattr(exc.value, "code", "") == "EVAL.NAN_SCORE"
    with pytest.raises(ReleaseError) as exc:
        record_command("rollout", [], [], [tmp_path / "never.json"], lambda: 0, context=ctx)
    assert exc.value.code == "RELEASE.MISSING_OUTPUT"
    ctx.close()
    from ledger.store import Ledger

    ledger = Ledger.open(tmp_path / "ledger.duckdb", read_only=True)
    _, rows = ledger.sql("SELECT step, status, code, argv FROM v_steps ORDER BY started_seq")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("score", "passed", None),
        ("eval", "failed", "EVAL.NAN_SCORE"),
        ("rollout", "failed", "RELEASE.MISSING_OUTPUT"),
    ]
    assert rows[0][3] == ["score", "--in", "in.txt"]
    _, arts = ledger.sql("SELECT step, role, path FROM v_artifacts ORDER BY seq")
    assert ("score", "input", "in.txt") in arts and ("score", "output", "out/result.txt") in arts


def test_inputs_outside_the_artifact_root_are_refused(tmp_path):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    wd = tmp_path / "wd"
    ctx = ReleaseContext.for_workdir(wd, log=lambda line: None)
    with pytest.raises(InputError) as exc:
        record_command("score", [], [outside], [], lambda: 0, context=ctx)
    assert exc.value.code == "INPUT.PATH_OUTSIDE_ROOT"
    ctx.close()
    states = {g.name: g for g in gate_states(wd)}
    assert states["evaluation"].step_states["score"] == "failed"


def test_empty_workdir_status_is_all_pending_or_blocked(tmp_path):
    states = gate_states(tmp_path)
    assert states[0].name == "dataset" and states[0].state == "pending"
    for s in states:
        assert s.state == ("blocked" if s.needs else "pending"), (s.name, s.state)
    assert {s.state for s in states} == {"pending", "blocked"}
    assert all(s.issue_refs for s in states)


def test_gates_file_is_recorded_once_and_matches_v_gates(dataset_workdir):
    from ledger.store import Ledger

    ledger = Ledger.open(dataset_workdir / "ledger.duckdb", read_only=True)
    _, rows = ledger.sql("SELECT count(*) FROM events WHERE kind = 'gates_defined'")
    assert rows[0][0] == 1
    _, rows = ledger.sql("SELECT name, status FROM v_gates")
    view = dict(rows)
    assert view == {g.name: g.state for g in gate_states(dataset_workdir)}
