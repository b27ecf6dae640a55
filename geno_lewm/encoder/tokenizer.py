"""Native DNA tokenisation for Carbon checkpoints: ``<dna>`` + non-overlapping 6-mers + ``</dna>``.

Carbon keeps DNA inside a larger hybrid vocabulary (text/byte tokens, special tokens and every
k-mer). This module reads the ids it needs from the checkpoint's own tokenizer files
(``tokenizer.json``, ``tokenizer_config.json``, ``special_tokens_map.json``) and never hard-codes
an id. Rules (docs/model.md):

- a window is upper-cased and cut into non-overlapping k-mers starting at its first base;
- a k-mer containing a base outside ACGT (e.g. ``N`` padding) becomes the unknown token;
- a trailing remainder shorter than k becomes one token per base (the vocabulary's single-base
  token, else the unknown token);
- the token list is ``[<dna>, kmer_0, kmer_1, …, </dna>]``, so base ``i`` lives in token
  ``1 + i // k`` (:meth:`CarbonDNATokenizer.locus_to_token_index`).
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from ledger.errors import InputError, ResourceError

_BASES = "ACGT"
_DEFAULT_DNA_START = "<dna>"
_DEFAULT_DNA_END = "</dna>"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResourceError(
            "MISSING_TOKENIZER",
            f"tokenizer file {path.name} not found in the model directory",
            "point --carbon-model-dir at a Carbon checkpoint directory (config, weights, tokenizer files)",
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResourceError("BAD_TOKENIZER", f"tokenizer file {path.name} is not valid JSON ({exc})") from None


def _token_name(value: object) -> str | None:
    """A special-token entry is either a string or an AddedToken-like dict with ``content``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


class CarbonDNATokenizer:
    """Token ids for DNA windows, read from a Carbon checkpoint's tokenizer files."""

    def __init__(self, vocab: dict[str, int], *, dna_start: str, dna_end: str, unk: str, pad: str | None, k: int) -> None:
        for name in (dna_start, dna_end, unk):
            if name not in vocab:
                raise ResourceError("BAD_TOKENIZER", f"special token {name!r} is missing from the tokenizer vocabulary")
        self.k: int = k
        self.vocab_size: int = max(vocab.values()) + 1
        self.dna_start_id: int = vocab[dna_start]
        self.dna_end_id: int = vocab[dna_end]
        self.unk_id: int = vocab[unk]
        self.pad_id: int = vocab[pad] if pad is not None and pad in vocab else self.unk_id
        self.kmer_ids: dict[str, int] = {}
        for kmer in ("".join(p) for p in itertools.product(_BASES, repeat=k)):
            if kmer not in vocab:
                raise ResourceError("BAD_TOKENIZER", f"{k}-mer {kmer!r} is missing from the tokenizer vocabulary")
            self.kmer_ids[kmer] = vocab[kmer]
        self.base_ids: dict[str, int] = {b: vocab.get(b, self.unk_id) for b in _BASES}
        self.dna_token_ids: frozenset[int] = frozenset(self.kmer_ids.values()) | frozenset(self.base_ids.values()) | {self.unk_id}

    @classmethod
    def from_dir(cls, model_dir: str | os.PathLike[str]) -> CarbonDNATokenizer:
        """Read the special-token and k-mer ids from ``tokenizer.json`` (+ config/special map) in ``model_dir``."""
        root = Path(model_dir)
        tok = _read_json(root / "tokenizer.json")
        cfg = _read_json(root / "tokenizer_config.json") if (root / "tokenizer_config.json").is_file() else {}
        smap = _read_json(root / "special_tokens_map.json") if (root / "special_tokens_map.json").is_file() else {}
        model = tok.get("model") or {}
        raw_vocab = model.get("vocab")
        vocab: dict[str, int] = {}
        if isinstance(raw_vocab, dict):
            vocab.update({str(t): int(i) for t, i in raw_vocab.items()})
        elif isinstance(raw_vocab, list):  # Unigram: [[piece, score], ...], id = position
            vocab.update({str(entry[0]): i for i, entry in enumerate(raw_vocab)})
        else:
            raise ResourceError("BAD_TOKENIZER", "tokenizer.json has no model.vocab")
        for added in tok.get("added_tokens") or []:
            vocab[str(added["content"])] = int(added["id"])
        dna_start = _token_name(cfg.get("dna_start_token")) or _DEFAULT_DNA_START
        dna_end = _token_name(cfg.get("dna_end_token")) or _DEFAULT_DNA_END
        unk = _token_name(smap.get("unk_token")) or _token_name(cfg.get("unk_token")) or model.get("unk_token") or "<unk>"
        pad = _token_name(smap.get("pad_token")) or _token_name(cfg.get("pad_token"))
        k = int(cfg.get("dna_kmer_size") or cls._infer_k(vocab))
        return cls(vocab, dna_start=dna_start, dna_end=dna_end, unk=unk, pad=pad, k=k)

    @staticmethod
    def _infer_k(vocab: dict[str, int]) -> int:
        """The k for which all 4**k ACGT words are in the vocabulary (largest such k up to 8)."""
        for k in range(8, 0, -1):
            count = sum(1 for t in vocab if len(t) == k and all(c in _BASES for c in t))
            if count == 4**k:
                return k
        raise ResourceError("BAD_TOKENIZER", "the tokenizer vocabulary holds no complete set of DNA k-mers")

    def encode_window(self, seq: str) -> list[int]:
        """``<dna>`` + non-overlapping k-mers (remainder: one token per base) + ``</dna>``."""
        if not isinstance(seq, str) or not seq:
            raise InputError("EMPTY_WINDOW", "cannot tokenise an empty DNA window")
        s = seq.upper()
        k, unk, kmer, base = self.k, self.unk_id, self.kmer_ids.get, self.base_ids.get
        full = len(s) - len(s) % k
        return [self.dna_start_id, *[kmer(s[i : i + k], unk) for i in range(0, full, k)], *[base(b, unk) for b in s[full:]], self.dna_end_id]

    def dna_token_count(self, n_bases: int) -> int:
        """How many DNA tokens :meth:`encode_window` makes of ``n_bases`` bases (the tags excluded)."""
        return n_bases // self.k + n_bases % self.k

    def token_at(self, seq: str, index: int) -> int:
        """``encode_window(seq)[index]`` for a DNA token (``1 <= index <= dna_token_count(len(seq))``), without tokenising the window."""
        return self.tokens_at(seq, [index])[0]

    def tokens_at(self, seq: str, indices: list[int], *, keep: list[bool] | None = None) -> list[int]:
        """``[encode_window(seq)[i] for i in indices]`` for DNA tokens, without tokenising the window.

        ``keep`` (same length): positions where it is False are not read and hold 0. The scorer asks
        for a few tokens around each variant's locus; tokenising the whole window twice per variant
        to read them was the largest per-variant cost of context models.
        """
        s = seq.upper()
        n_kmers = len(s) // self.k
        last = n_kmers + len(s) % self.k
        out = []
        for i, t in enumerate(indices):
            if keep is not None and not keep[i]:
                out.append(0)
                continue
            if not 1 <= t <= last:
                raise IndexError(f"token index {t} is outside the {last} DNA tokens of a {len(s)} bp window")
            lo, hi = self._token_span(t, n_kmers)
            out.append(self._token_id(s[lo:hi], t <= n_kmers))
        return out

    def _token_span(self, t: int, n_kmers: int) -> tuple[int, int]:
        """The bases ``[lo, hi)`` of DNA token ``t`` in a sequence of ``n_kmers`` full k-mers (then one token per remainder base)."""
        if t <= n_kmers:
            return (t - 1) * self.k, t * self.k
        lo = n_kmers * self.k + t - 1 - n_kmers
        return lo, lo + 1

    def _token_id(self, upper_part: str, is_kmer: bool) -> int:
        """The id of one token's upper-case bases (a k-mer, or a remainder base)."""
        return (self.kmer_ids if is_kmer else self.base_ids).get(upper_part, self.unk_id)

    def tokens_at_changed(self, seq: str, indices: list[int], like: str, like_tokens: list[int], *, keep: list[bool] | None = None) -> list[int]:
        """:meth:`tokens_at` of ``seq``, given ``like_tokens = tokens_at(like, indices, keep=keep)`` of a sequence of the same length.

        Only the tokens whose bases differ between ``seq`` and ``like`` are looked up: an edited
        window changes one or a few of the tokens around its locus, and the reference's are known.
        Sequences of different lengths fall back to :meth:`tokens_at`.
        """
        if len(seq) != len(like) or len(like_tokens) != len(indices):
            return self.tokens_at(seq, indices, keep=keep)
        n_kmers = len(seq) // self.k
        out = list(like_tokens)
        for i, t in enumerate(indices):
            if keep is not None and not keep[i]:
                continue
            lo, hi = self._token_span(t, n_kmers)
            if seq[lo:hi] != like[lo:hi]:  # equal bases (any case) are the same token
                out[i] = self._token_id(seq[lo:hi].upper(), t <= n_kmers)
        return out

    def num_tokens(self, window_bp: int) -> int:
        """Length of :meth:`encode_window`'s output for a window of ``window_bp`` bases."""
        return 2 + window_bp // self.k + window_bp % self.k

    def locus_to_token_index(self, bp_offset: int) -> int:
        """Index (in :meth:`encode_window` output) of the token holding base ``bp_offset``.

        Index 0 is ``<dna>``, so base 0 is in token 1. Bases in the remainder (after the last
        full k-mer) are not addressable without the window length; use :meth:`locus_token_index`.
        """
        if bp_offset < 0:
            raise InputError("LOCUS_OUT_OF_WINDOW", f"base offset {bp_offset} is negative")
        return 1 + bp_offset // self.k

    def locus_token_index(self, bp_offset: int, window_bp: int) -> int:
        """Like :meth:`locus_to_token_index`, exact also for remainder bases of a ``window_bp`` window."""
        if not 0 <= bp_offset < window_bp:
            raise InputError("LOCUS_OUT_OF_WINDOW", f"base offset {bp_offset} is outside a window of {window_bp} bp")
        full = window_bp - window_bp % self.k
        if bp_offset < full:
            return 1 + bp_offset // self.k
        return 1 + full // self.k + (bp_offset - full)
