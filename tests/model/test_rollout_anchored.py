"""The reference-anchored rollout (RFC-0004, RFC-0014): each step's source is the reference state at
its own locus and the edit context holds every edit so far; chained stays the plain models' mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch


def _chain(chrm_seq: str, offsets: list[int]):
    """A rollout chain of SNVs at ``offsets`` in one 600 bp chrM window."""
    from geno_lewm.edits import EditSpec
    from geno_lewm.rollout import Chain
    from geno_lewm.windows import Window

    start = 3000
    win = Window(chrom="chrM", start0=start, seq=chrm_seq[start : start + 600], pad_left=0, pad_right=0, right_flank=chrm_seq[start + 600 : start + 620])
    edits = tuple(EditSpec(kind="snv", offset=o, ref=win.seq[o], alt="A" if win.seq[o] != "A" else "C") for o in offsets)
    return Chain("synthetic_edit_chain", "test", win, edits)


def test_auto_mode_is_anchored_for_context_models_and_chained_otherwise(context_run, trained_run):
    from geno_lewm.package import ModelPackage
    from geno_lewm.rollout import resolve_mode
    from ledger.errors import InputError

    ctx, plain = ModelPackage.load(context_run, device="cpu"), ModelPackage.load(trained_run, device="cpu")
    assert resolve_mode(ctx) == "anchored" and resolve_mode(ctx, "chained") == "chained"
    assert resolve_mode(plain) == "chained"
    for pkg, mode in ((plain, "anchored"), (ctx, "sideways")):
        with pytest.raises(InputError) as err:
            resolve_mode(pkg, mode)
        assert err.value.code == "INPUT.BAD_ROLLOUT"


def test_anchored_steps_read_the_reference_state_at_their_own_locus(context_run, chrm_seq):
    """Step 1 is the one-step prediction; a step far from every earlier edit is its own one-step
    prediction on the reference; a step next to an earlier edit sees that edit in its context."""
    from geno_lewm.edits import apply_edit
    from geno_lewm.package import ModelPackage
    from geno_lewm.rollout import _anchored
    from geno_lewm.state import encode_states

    pkg = ModelPackage.load(context_run, device="cpu")
    chain = _chain(chrm_seq, [200, 400, 406])  # 400 is > 2 context tokens from 200; 406 is the next token after 400
    ref, flank = chain.window.seq, chain.window.right_flank
    seqs, cur = [], ref
    for e in chain.edits:
        cur = apply_edit(cur, e, right_flank=flank)
        seqs.append(cur)
    loci = [e.locus for e in chain.edits]
    source = encode_states(pkg.encoder, pkg.contract, [ref] * 3, loci)  # (3, D)
    pred = _anchored(pkg, [chain], [(0, 0), (0, 1), (0, 2)], [ref] * 3, seqs, source)  # (3, D)
    one_step = pkg.predict(source, list(chain.edits), [(ref, flank)] * 3)  # (3, D): each edit alone on the reference
    torch.testing.assert_close(pred[:2], one_step[:2])
    assert not torch.allclose(pred[2], one_step[2])  # the edit at 400 is inside step 3's context


def test_rollout_cli_records_the_mode_and_the_aggregator_reads_it(context_run, tmp_path: Path):
    from geno_lewm.cli.rollout import main
    from geno_lewm.eval.aggregate import EvalAllRequest, run_eval_all
    from geno_lewm.resources import example_path

    docs = {}
    for mode in ("auto", "chained"):
        out = tmp_path / f"rollout-{mode}.json"
        assert (
            main(
                [
                    "--model-dir",
                    str(context_run),
                    "--fasta",
                    str(example_path("rCRS_chrM.fa")),
                    "--output-json",
                    str(out),
                    "--synthetic-chains",
                    "4",
                    "--steps",
                    "6",
                    "--bootstrap",
                    "20",
                    "--mode",
                    mode,
                    "--device",
                    "cpu",
                ]
            )
            == 0
        )
        docs[mode] = json.loads(out.read_text())
    auto, chained = docs["auto"], docs["chained"]
    assert auto["schema_version"] == "1.2.0" and auto["stand_in_note"]
    assert auto["settings"]["mode"] == "anchored" and auto["tracks"]["synthetic_edit_chain"]["mode"] == "anchored"
    assert chained["settings"]["mode"] == "chained"
    a = {r["metric"]: r for r in auto["rows"] if r["track"] == "synthetic_edit_chain"}
    c = {r["metric"]: r for r in chained["rows"] if r["track"] == "synthetic_edit_chain"}
    assert a["cosine"]["baseline_value"] == c["cosine"]["baseline_value"]  # same chains, same measured targets
    assert a["cosine"]["value"] != c["cosine"]["value"]
    agg = run_eval_all(
        EvalAllRequest(
            metrics_json=[str(tmp_path / "rollout-auto.json")],
            output_metrics=str(tmp_path / "m.json"),
            output_report=str(tmp_path / "r.md"),
            require_rollout=False,
        )
    )
    assert any(b["benchmark"] == "rollout_synthetic_edit_chain" for b in agg["benchmarks"])
