"""Tiny stand-in builder and the offline Carbon loader."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch


def test_tiny_builder_is_deterministic_and_marked_stand_in(tiny_model_dir, tmp_path):
    from geno_lewm.encoder.tiny import build_tiny_carbon

    before = torch.get_num_threads()
    torch.set_num_threads(2 if before == 1 else 1)  # another thread count than the fixture's: same bytes
    try:
        again = build_tiny_carbon(tmp_path / "again", seed=0, pretrain_steps=20)
    finally:
        torch.set_num_threads(before)
    digest = lambda p: hashlib.sha256((p / "model.safetensors").read_bytes()).hexdigest()  # noqa: E731
    assert digest(again) == digest(tiny_model_dir)
    other = build_tiny_carbon(tmp_path / "other", seed=1, pretrain_steps=0)
    assert digest(other) != digest(tiny_model_dir)
    cfg = json.loads((tiny_model_dir / "config.json").read_text())
    assert cfg["geno_lewm_stand_in"] is True and "stand-in" in cfg["geno_lewm_note"]
    assert {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "model.safetensors"} <= {p.name for p in tiny_model_dir.iterdir()}


def test_encoder_outputs_shapes_and_pretraining_makes_likelihoods_informative(tiny_encoder, chrm_seq, tmp_path):
    from geno_lewm.encoder.carbon import CarbonEncoder
    from geno_lewm.encoder.tiny import build_tiny_carbon

    windows = [chrm_seq[i : i + 120] for i in (0, 500, 9000)]
    h = tiny_encoder.hidden_states(windows, 2)
    assert h.shape == (3, 22, 64) and h.dtype == torch.float32
    lp = tiny_encoder.token_logprobs(windows)
    assert lp.shape == (3, 21) and (lp <= 0).all()
    seq_lp = tiny_encoder.sequence_logprob(windows)
    assert seq_lp.shape == (3,)
    shuffled = ["".join(sorted(w)) for w in windows]  # low-complexity, unlike the training sequence
    untrained = CarbonEncoder.load(build_tiny_carbon(tmp_path / "flat", seed=0, pretrain_steps=0), device="cpu")
    gain_trained = (tiny_encoder.sequence_logprob(windows) - untrained.sequence_logprob(windows)).mean()
    assert gain_trained > 0, "pretraining on chrM must raise chrM likelihood"
    assert not torch.equal(tiny_encoder.sequence_logprob(shuffled), seq_lp)


def test_encoder_rejects_missing_files_and_pickles(tmp_path, tiny_model_dir):
    from geno_lewm.encoder.carbon import CarbonEncoder

    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_model_dir.iterdir():
        if f.suffix != ".safetensors":
            (broken / f.name).write_bytes(f.read_bytes())
    (broken / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(Exception) as exc:
        CarbonEncoder.load(broken, device="cpu")
    assert exc.value.code == "RESOURCE.INCOMPLETE_CHECKPOINT"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_encoder_cuda_bf16(tiny_model_dir, chrm_seq):
    from geno_lewm.encoder.carbon import CarbonEncoder

    enc = CarbonEncoder.load(tiny_model_dir, device="cuda")
    assert enc.dtype == torch.bfloat16
    assert enc.hidden_states([chrm_seq[:60]], 1).dtype == torch.float32
