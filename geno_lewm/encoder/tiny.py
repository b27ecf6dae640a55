"""A tiny stand-in for Carbon: a small Llama model with Carbon's file layout and DNA token scheme.

Real Carbon weights cannot be downloaded here, so tests, rehearsals and the demo run on this
stand-in. It is deterministic from a seed, optionally pretrained for a few steps on a DNA
sequence (so its likelihoods are not flat), and its ``config.json`` marks it as a stand-in
(``geno_lewm_stand_in: true``); everything produced with it says so.

Vocabulary layout (ids are read back from the files by :class:`CarbonDNATokenizer`, never
assumed): ``<unk> <s> </s> <pad>``, 95 printable-ASCII text tokens (which include the single
bases A/C/G/T/N), all 4096 6-mers, then ``<dna>`` and ``</dna>`` as added special tokens.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from ledger.errors import InputError
from ledger.fsutil import atomic_write_text

STAND_IN_SENTENCE = "Produced with the tiny stand-in encoder (tiny-carbon), not real Carbon weights: numbers from it say nothing about model quality."
TINY_ENCODER_ID = "tiny-carbon"
_SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]
_DNA_SPECIALS = ["<dna>", "</dna>"]


def tiny_vocab() -> dict[str, int]:
    """The stand-in's hybrid vocabulary: specials, printable-ASCII text tokens, 6-mers, DNA tags."""
    tokens = list(_SPECIALS) + [chr(c) for c in range(32, 127)]
    tokens += ["".join(p) for p in itertools.product("ACGT", repeat=6)]
    tokens += _DNA_SPECIALS
    return {t: i for i, t in enumerate(tokens)}


def _tokenizer_files(vocab: dict[str, int]) -> dict[str, dict]:
    added = [
        {"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        for t in _SPECIALS + _DNA_SPECIALS
    ]
    base_vocab = {t: i for t, i in vocab.items() if t not in _DNA_SPECIALS}
    tokenizer_json = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": base_vocab, "unk_token": "<unk>"},
    }
    special_map = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "additional_special_tokens": list(_DNA_SPECIALS),
    }
    tokenizer_config = {
        **special_map,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": 1024,
        "dna_start_token": "<dna>",
        "dna_end_token": "</dna>",
        "dna_kmer_size": 6,
    }
    return {"tokenizer.json": tokenizer_json, "tokenizer_config.json": tokenizer_config, "special_tokens_map.json": special_map}


def build_tiny_carbon(
    out_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    pretrain_steps: int = 0,
    pretrain_sequence: str | None = None,
    hidden_size: int = 64,
    num_layers: int = 2,
) -> Path:
    """Write a tiny Carbon-layout checkpoint into ``out_dir`` and return its path.

    ``pretrain_steps`` > 0 trains it as a causal LM on random windows of ``pretrain_sequence``
    (default: the bundled rCRS chrM example) so its likelihoods are not flat, on one torch thread
    whatever the caller's setting. Same arguments, same bytes (on one CPU kernel set).
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from geno_lewm.encoder.tokenizer import CarbonDNATokenizer

    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise InputError("OUTPUT_EXISTS", f"{out.name} already exists and is not empty", "choose an empty or new directory")
    out.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocab()
    for name, payload in _tokenizer_files(vocab).items():
        atomic_write_text(out / name, json.dumps(payload, indent=1, sort_keys=True) + "\n")
    tokenizer = CarbonDNATokenizer.from_dir(out)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=vocab["<s>"],
        eos_token_id=vocab["</s>"],
        pad_token_id=vocab["<pad>"],
    )
    config.geno_lewm_stand_in = True
    config.geno_lewm_encoder_id = TINY_ENCODER_ID
    config.geno_lewm_revision = f"seed{seed}-pretrain{pretrain_steps}"
    config.geno_lewm_note = STAND_IN_SENTENCE
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
        if pretrain_steps > 0:
            if pretrain_sequence is None:
                from geno_lewm.resources import example_path

                lines = example_path("rCRS_chrM.fa").read_text().splitlines()
                pretrain_sequence = "".join(line.strip() for line in lines if not line.startswith(">"))
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # same bytes whatever thread count the calling process uses
            try:
                _pretrain(model, tokenizer, pretrain_sequence.upper(), steps=pretrain_steps, seed=seed)
            finally:
                torch.set_num_threads(threads)
    model.eval()
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model.save_pretrained(out)
    return out


def _pretrain(model, tokenizer, sequence: str, *, steps: int, seed: int, window_bp: int = 360, batch: int = 16) -> None:
    """A short causal-LM fit on random windows of ``sequence`` (deterministic from ``seed``)."""
    import torch

    if len(sequence) < window_bp:
        raise InputError("SEQUENCE_TOO_SHORT", f"pretraining sequence has {len(sequence)} bp, need at least {window_bp}")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    model.train()
    for _ in range(steps):
        starts = torch.randint(0, len(sequence) - window_bp + 1, (batch,), generator=gen).tolist()
        ids = torch.tensor([tokenizer.encode_window(sequence[s : s + window_bp]) for s in starts])  # (B, T)
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
