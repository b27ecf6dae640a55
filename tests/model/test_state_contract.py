"""The state contract: one pooling path, bit-identical states at training and scoring time."""

from __future__ import annotations

import msgspec
import pytest
import torch

from geno_lewm.state import StateContract, encode_states, pool_states


def test_state_contract_train_and_score_states_bit_identical(trained_run, tiny_model_dir, chrm_seq):
    """Training-time states (through the cache, in training batches) equal scoring-time states."""
    from geno_lewm.cache import WindowCache
    from geno_lewm.package import ModelPackage
    from geno_lewm.resources import example_path
    from geno_lewm.train.data import build_examples
    from geno_lewm.train.loop import _precompute
    from tests.model.conftest import small_config

    cfg = small_config()
    pkg = ModelPackage.load(trained_run, device="cpu")
    assert pkg.contract == cfg.state
    examples, _ = build_examples(
        example_path("rCRS_chrM.fa"),
        example_path("mt_known_variants.vcf"),
        cfg.data,
        window_bp=cfg.state.window_bp,
        seed=cfg.run.seed,
        index_dir=trained_run / "window_cache" / "fasta_index",
    )
    examples = examples[:20]
    cache = WindowCache(trained_run / "window_cache", encoder_hash=pkg.encoder.identity.hash, contract_hash=cfg.state.hash())
    train_src, train_tgt = _precompute(pkg.encoder, cfg.state, examples, cache, batch=7)
    score_src = encode_states(pkg.encoder, pkg.contract, [e.window for e in examples[:5]], [e.edit.locus for e in examples[:5]])
    score_tgt = encode_states(pkg.encoder, pkg.contract, [e.edited for e in examples[:5]], [e.edit.locus for e in examples[:5]])
    assert torch.equal(train_src[:5], score_src)
    assert torch.equal(train_tgt[:5], score_tgt)
    assert cache.stats["hits"] > 0


def test_state_contract_normalisation_lives_in_the_one_path():
    h = torch.randn(2, 12, 8) * 5 + 3  # (B, T, H)
    idx = torch.tensor([3, 7])
    ln = pool_states(h, idx, StateContract(normalize="layernorm", window_bp=60))
    raw = pool_states(h, idx, StateContract(normalize="none", window_bp=60))
    assert torch.allclose(ln.mean(-1), torch.zeros(2), atol=1e-5)
    assert not torch.allclose(raw, ln)
    manual = h[0, 1:6].mean(0)  # radius 2 around token 3, tags excluded
    assert torch.allclose(raw[0], manual)
    whole = pool_states(h, idx, StateContract(pooling="window_mean", normalize="none", window_bp=60))
    assert torch.allclose(whole[1], h[1, 1:11].mean(0))


def test_state_contract_hash_covers_every_field():
    base = StateContract()
    variants = [
        msgspec.structs.replace(base, layer=1),
        msgspec.structs.replace(base, pooling="window_mean"),
        msgspec.structs.replace(base, radius=3),
        msgspec.structs.replace(base, normalize="l2"),
        msgspec.structs.replace(base, dtype="bfloat16"),
        msgspec.structs.replace(base, window_bp=606),
    ]
    hashes = {base.hash()} | {v.hash() for v in variants}
    assert len(hashes) == 7
    with pytest.raises(Exception) as exc:
        StateContract(window_bp=601).validate(k=6)
    assert exc.value.code == "CONFIG.STATE_CONTRACT"


def test_state_contract_source_and_target_pooled_at_the_same_locus(tiny_encoder, chrm_seq):
    """An edit far from the locus leaves the pooled state unchanged only before it (causal LM)."""
    from geno_lewm.edits import EditSpec, apply_edit

    c = StateContract(window_bp=600)
    w = chrm_seq[2000:2600]
    e = EditSpec(kind="snv", offset=300, ref=w[300], alt="A" if w[300] != "A" else "G")
    ed = apply_edit(w, e)
    s = encode_states(tiny_encoder, c, [w, ed], [e.locus, e.locus])
    far = encode_states(tiny_encoder, c, [w, ed], [100, 100])
    assert not torch.equal(s[0], s[1])  # the edit is seen at its own locus
    assert torch.equal(far[0], far[1])  # tokens before the edit do not see it
