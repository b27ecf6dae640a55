"""Edit context (the learning recipe of issue 14): old configs and manifests keep today's numerics;
a context model trains, packages, scores through the real scorer without extra encoder passes,
and the fidelity benchmark measures it on held-out chrM and on another genome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.model.conftest import context_config as _context_config
from tests.model.conftest import small_config


def test_old_configs_keep_their_hash_fields_and_manifest_shape():
    """Fields added for the recipe are absent from an old config's resolved payload and manifest."""
    from geno_lewm.model.config import PredictorConfig
    from geno_lewm.train.config import config_hash, resolved_payload

    old = small_config()
    payload = resolved_payload(old)
    assert "context_radius" not in payload["predictor"] and "placement" not in payload["data"]
    assert "context_radius" not in PredictorConfig().to_manifest()
    new = _context_config()
    assert resolved_payload(new)["predictor"]["context_radius"] == 2 and resolved_payload(new)["data"]["placement"] == "tile"
    assert config_hash(new) != config_hash(old)


def test_predictor_without_context_has_exactly_the_old_parameters():
    """A default predictor has no context parameters, so old weights load strictly and compute as before."""
    from geno_lewm.model.config import PredictorConfig
    from geno_lewm.model.predictor import Predictor

    plain = Predictor(PredictorConfig())
    assert not any(k.startswith("ctx") for k in plain.state_dict())
    with_ctx = Predictor(PredictorConfig(context_radius=2))
    assert {k for k in with_ctx.state_dict() if k.startswith("ctx")} == {"ctx.weight", "ctx.bias", "ctx_pos", "ctx_skip.weight", "ctx_skip.bias"}


def test_context_is_a_table_lookup_of_the_changed_tokens(tiny_encoder, chrm_seq):
    """Only the positions whose k-mer the edit changes carry a non-zero difference half."""
    from geno_lewm.edits import EditSpec, apply_edit
    from geno_lewm.model.context import edit_context

    window = chrm_seq[1000:1600]
    base = window[300]
    edit = EditSpec(kind="snv", offset=300, ref=base, alt="A" if base != "A" else "C")
    ctx, mask = edit_context(tiny_encoder, 600, [window], [apply_edit(window, edit)], [edit.locus], 2)
    assert ctx.shape == (1, 5, 2 * 64) and bool(mask.all())
    diff = ctx[0, :, 64:].abs().sum(-1)  # (5,)
    assert diff[2] > 0 and float(diff[[0, 1, 3, 4]].sum()) == 0.0  # the SNV changes the locus token only


def test_context_model_packages_and_requires_windows(context_run):
    from geno_lewm.edits import EditSpec
    from geno_lewm.package import ModelPackage
    from ledger.errors import InputError

    man = json.loads((context_run / "manifest.json").read_text())
    assert man["architecture"]["predictor"]["context_radius"] == 2
    pkg = ModelPackage.load(context_run, device="cpu")
    assert pkg.uses_context
    with pytest.raises(InputError) as err:
        pkg.predict(torch.zeros(1, 64), [EditSpec(kind="snv", offset=3, ref="A", alt="G")])
    assert err.value.code == "INPUT.MISSING_CONTEXT"


def test_context_model_scores_through_the_scorer_without_extra_encoder_passes(context_run):
    """The scorer feeds each variant's window; still one encoder pass per distinct window."""
    from geno_lewm.package import ModelPackage
    from geno_lewm.resources import example_path
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.scorer import Scorer
    from geno_lewm.scoring.variants import Variant

    pkg = ModelPackage.load(context_run, device="cpu")
    with Reference(example_path("rCRS_chrM.fa")) as ref:
        seq = ref.fetch("chrM", 0, ref.lengths["chrM"])
        variants = [Variant("chrM", p + 1, seq[p], "A" if seq[p] != "A" else "G") for p in (5000, 5010, 5020, 9000)]
        scorer = Scorer(pkg, ref)
        scored = scorer.score(variants)
        assert all(s.score > 0 for s in scored)
        assert scorer.stats.windows_encoded == len(scorer.stats.distinct_windows)
        # the same variant in a different batch scores the same bytes
        again = Scorer(pkg, ref).score(variants[2:3])
        assert again[0].score == scored[2].score


def test_fidelity_benchmark_reports_both_tracks_on_heldout_and_other_genome(context_run, tmp_path):
    from bench.fidelity import main
    from geno_lewm.resources import example_path

    lam = Path(__file__).resolve().parents[2] / "examples" / "lambda_phage_NC_001416.fa"
    for fasta, regions in ((example_path("rCRS_chrM.fa"), "heldout"), (lam, "all")):
        out = tmp_path / f"{regions}.json"
        assert main(["--model-dir", str(context_run), "--fasta", str(fasta), "--output-json", str(out), "--n-edits", "24", "--bootstrap", "20"]) == 0
        doc = json.loads(out.read_text())
        assert doc["regions"] == regions and doc["stand_in"] is True
        for track in ("snv", "indel"):
            m = doc["tracks"][track]
            assert m["n"] == 24
            for key in ("mse", "source_state_mse", "cosine", "source_state_cosine", "spearman"):
                lo, hi = m[f"{key}_ci"]
                assert lo <= hi and isinstance(m[key], float)


def test_fidelity_edits_on_the_training_reference_come_only_from_heldout_blocks(context_run):
    """Every drawn edit reads only held-out bases of the package's recorded split."""
    from geno_lewm.eval.fidelity import draw_edits, resolve_regions, split_record
    from geno_lewm.resources import example_path
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.train.data import example_span

    split = split_record(context_run)
    with Reference(example_path("rCRS_chrM.fa")) as ref:
        mode, heldout = resolve_regions("auto", split, list(ref.contigs))
        assert mode == "heldout"
        for track in ("snv", "indel"):
            for win, edit in draw_edits(ref, 600, n=40, track=track, seed=3, heldout=heldout, block_bp=split["block_bp"]):
                lo, hi = example_span(win.start0, win.width, max(0, -edit.length_delta), ref.lengths["chrM"])
                assert all(b in heldout["chrM"] for b in range(lo // split["block_bp"], (hi - 1) // split["block_bp"] + 1))


def _whole_window_context_ids(tokenizer, window_bp, refs, alts, loci, radius):
    """The reference implementation: tokenise both windows whole and read the tokens around the locus."""
    c = 2 * radius + 1
    out = []
    for r, a, locus in zip(refs, alts, loci, strict=True):
        rt, at = tokenizer.encode_window(r), tokenizer.encode_window(a)
        centre = tokenizer.locus_token_index(int(locus), window_bp)
        row = [(rt[t], at[t], True) if 1 <= t <= len(rt) - 2 else (0, 0, False) for t in (centre - radius + j for j in range(c))]
        out.append(row)
    return out


_DNA = "ACGTacgtN"


@pytest.mark.parametrize("window_bp", [24, 25, 29, 600])
def test_context_ids_read_only_the_needed_tokens_and_equal_whole_window_tokenisation(tiny_model_dir, window_bp):
    """``context_token_ids`` (a few tokens per window) gives exactly what tokenising the whole windows gives."""
    import random

    from geno_lewm.encoder.tokenizer import CarbonDNATokenizer
    from geno_lewm.model.context import context_token_ids

    tok = CarbonDNATokenizer.from_dir(tiny_model_dir)
    rng = random.Random(window_bp)
    for radius in (0, 1, 3, 5):
        refs = ["".join(rng.choice(_DNA) for _ in range(window_bp)) for _ in range(40)]
        alts = ["".join(rng.choice(_DNA) if rng.random() < 0.1 else b for b in r) for r in refs]
        loci = [rng.randrange(window_bp) for _ in refs]
        ref_ids, alt_ids, mask = context_token_ids(tok, window_bp, refs, alts, loci, radius)
        want = _whole_window_context_ids(tok, window_bp, refs, alts, loci, radius)
        got = [list(zip(rr, aa, mm, strict=True)) for rr, aa, mm in zip(ref_ids.tolist(), alt_ids.tolist(), mask.tolist(), strict=True)]
        assert got == want, (window_bp, radius)
    empty = context_token_ids(tok, window_bp, [], [], [], 2)
    assert [t.shape for t in empty] == [torch.Size([0, 5])] * 3


def test_normalised_embedding_rows_equal_normalising_the_gathered_rows(tiny_encoder):
    """Rows of the once-normalised table are bit for bit the per-gather normalisation the context used to do."""
    from geno_lewm.model.context import normalised_embeddings

    table = tiny_encoder.model.get_input_embeddings().weight  # (V, H)
    rows = normalised_embeddings(table)
    assert normalised_embeddings(table) is rows  # computed once per table
    gen = torch.Generator().manual_seed(0)
    shapes = [(1, 1), (3, 5), (64, 7), (64, 11), (257, 3), (table.shape[0],)]
    for shape in shapes:
        ids = torch.randint(0, table.shape[0], shape, generator=gen)
        with torch.inference_mode():
            gathered = table[ids].float().cpu()
            want = torch.nn.functional.layer_norm(gathered, gathered.shape[-1:], eps=1e-5)
        assert torch.equal(rows[ids], want), shape
    copy = torch.nn.Parameter(table.detach().clone())
    before = normalised_embeddings(copy).clone()
    with torch.no_grad():
        copy[0] += 1.0  # modified in place: the cached rows no longer hold
    assert not torch.equal(normalised_embeddings(copy)[0], before[0])
    assert torch.equal(normalised_embeddings(copy)[1:], before[1:])


def test_changed_tokens_equal_reading_every_token(tiny_model_dir):
    """``tokens_at_changed`` reads only tokens that differ from the reference's and still equals ``tokens_at``."""
    import random

    from geno_lewm.encoder.tokenizer import CarbonDNATokenizer

    tok = CarbonDNATokenizer.from_dir(tiny_model_dir)
    rng = random.Random(7)
    for width in (25, 600):
        ref = "".join(rng.choice(_DNA) for _ in range(width))
        last = tok.dna_token_count(width)
        ids = list(range(1, last + 1))
        keep = [rng.random() < 0.8 for _ in ids]
        like = tok.tokens_at(ref, ids, keep=keep)
        for _ in range(50):
            alt = "".join(rng.choice(_DNA) if rng.random() < 0.05 else b for b in ref)
            assert tok.tokens_at_changed(alt, ids, ref, like, keep=keep) == tok.tokens_at(alt, ids, keep=keep)
        shorter = ref[:-1]  # another length: read in full
        assert tok.tokens_at_changed(shorter, ids[:-1], ref, like[:-1]) == tok.tokens_at(shorter, ids[:-1])


def _per_batch_scores(pkg, scorer, placed):
    """Raw scores computed the way the scorer did before its memos: every 64-row batch pooled and embedded whole."""
    from geno_lewm.scoring.scorer import PREDICTOR_BATCH
    from geno_lewm.state import locus_token_indices, pool_scales, pool_states

    out = []
    for i in range(0, len(placed), PREDICTOR_BATCH):
        batch = placed[i : i + PREDICTOR_BATCH]
        padded = batch + [batch[0]] * (PREDICTOR_BATCH - len(batch))
        hidden = torch.stack([scorer._hidden[(p.window.chrom, p.window.start0)] for p in padded])
        idx = locus_token_indices(pkg.encoder.tokenizer, pkg.contract, [p.edit.locus for p in padded])
        src = pool_states(hidden, idx, pkg.contract)
        scales = pool_scales(hidden, idx, pkg.contract) if pkg.uses_scale else None
        with torch.inference_mode():
            pred = pkg.predict(src, [p.edit for p in padded], [(p.window.seq, p.window.right_flank) for p in padded], scales=scales)
        out += (pred - src).norm(dim=-1)[: len(batch)].tolist()
    return out


@pytest.mark.parametrize("shuffled", [False, True])
def test_memoised_states_and_actions_give_the_per_batch_bytes(scale_run, shuffled):
    """The scorer's memos (pooled state per window locus token, action embedding per edit) change no score bit,
    in saturation order (memo hits within and across batches) and shuffled (mixed windows in every batch)."""
    import random

    from geno_lewm.package import ModelPackage
    from geno_lewm.resources import example_path
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.scorer import Scorer
    from geno_lewm.scoring.variants import Variant

    pkg = ModelPackage.load(scale_run, device="cpu")
    with Reference(example_path("rCRS_chrM.fa")) as ref:
        seq = ref.fetch("chrM", 0, ref.lengths["chrM"]).upper()
        variants = [Variant("chrM", p + 1, seq[p], a) for p in [*range(4990, 5060), *range(8000, 8030)] for a in "ACGT" if a != seq[p]]
        variants += [Variant("chrM", p + 1, seq[p], seq[p] + "T") for p in range(5000, 5020)]  # insertions
        variants += [Variant("chrM", p + 1, seq[p : p + 3], seq[p]) for p in range(8005, 8015)]  # deletions
        if shuffled:
            random.Random(0).shuffle(variants)
        scorer = Scorer(pkg, ref)
        placed = [scorer.place(v) for v in variants]
        got = scorer.predict_scores(placed)
        want = _per_batch_scores(pkg, scorer, placed)
    assert got == want
    assert len(scorer._actions) < len(variants)  # repeated edits were embedded once
