"""Tokenizer and locus → token index: the <dna> tag must not shift a base's token by one."""

from __future__ import annotations

import json

import pytest

from geno_lewm.encoder.tokenizer import CarbonDNATokenizer


def test_locus_ids_read_from_files_not_hard_coded(tiny_model_dir, tmp_path):
    tok = CarbonDNATokenizer.from_dir(tiny_model_dir)
    vocab = json.loads((tiny_model_dir / "tokenizer.json").read_text())
    added = {a["content"]: a["id"] for a in vocab["added_tokens"]}
    assert tok.dna_start_id == added["<dna>"] and tok.dna_end_id == added["</dna>"]
    assert tok.kmer_ids["ACGTAC"] == vocab["model"]["vocab"]["ACGTAC"]
    # Renumber the ids in the files: the tokenizer must follow them.
    shifted = tmp_path / "shifted"
    shifted.mkdir()
    vocab["model"]["vocab"] = {t: i + 7 for t, i in vocab["model"]["vocab"].items()}
    for a in vocab["added_tokens"]:
        a["id"] += 7
    (shifted / "tokenizer.json").write_text(json.dumps(vocab))
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        (shifted / name).write_text((tiny_model_dir / name).read_text())
    tok2 = CarbonDNATokenizer.from_dir(shifted)
    assert tok2.encode_window("ACGTACGGGCCC") == [i + 7 for i in tok.encode_window("ACGTACGGGCCC")]


def test_locus_token_index_points_at_the_kmer_holding_the_base(tiny_model_dir, chrm_seq):
    tok = CarbonDNATokenizer.from_dir(tiny_model_dir)
    window = chrm_seq[1000:1600]
    ids = tok.encode_window(window)
    assert ids[0] == tok.dna_start_id and ids[-1] == tok.dna_end_id
    assert len(ids) == tok.num_tokens(len(window)) == 102
    for off in (0, 5, 6, 299, 300, 599):
        idx = tok.locus_to_token_index(off)
        start = off - off % 6
        assert ids[idx] == tok.kmer_ids[window[start : start + 6]]
        assert idx == tok.locus_token_index(off, len(window))
        # Changing that base changes exactly that token.
        alt = "A" if window[off] != "A" else "C"
        edited = window[:off] + alt + window[off + 1 :]
        changed = [i for i, (a, b) in enumerate(zip(ids, tok.encode_window(edited))) if a != b]
        assert changed == [idx]


def test_locus_remainder_and_unknown_bases(tiny_model_dir):
    tok = CarbonDNATokenizer.from_dir(tiny_model_dir)
    ids = tok.encode_window("ACGTACNNNNNNGA")
    assert ids[2] == tok.unk_id  # a k-mer with N is unknown
    assert ids[3:5] == [tok.base_ids["G"], tok.base_ids["A"]]  # remainder: one token per base
    assert tok.locus_token_index(13, 14) == 4
    with pytest.raises(Exception) as exc:
        tok.locus_token_index(14, 14)
    assert exc.value.code == "INPUT.LOCUS_OUT_OF_WINDOW"
