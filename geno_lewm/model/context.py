"""Edit context for the predictor: the frozen encoder's own input embeddings of the reference and
edited k-mer tokens around the locus (a table lookup, never an encoder pass).

One pooled vector does not say which k-mer tokens an edit changes, nor what the encoder "sees" at
them; these tokens do. For the ``2 * radius + 1`` token positions centred on the locus token (the
positions the state contract pools over, widened by ``predictor.context_radius``), the context row
of a position is ``[n(E(ref token)), n(E(alt token)) − n(E(ref token))]`` where ``E`` is the
encoder's input embedding table and ``n`` a per-token layer norm (no affine), so the rows have unit
scale whatever the encoder's embedding scale; positions outside the window's DNA tokens are zero
rows with mask 0. Training and
scoring both build it with :func:`edit_context`, so the two paths see identical inputs.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def context_token_ids(tokenizer, window_bp: int, refs: list[str], alts: list[str], loci: list[int], radius: int):
    """Reference and edited token ids at the ``2*radius+1`` positions around each locus token.

    Returns ``(ref_ids (B, C), alt_ids (B, C), mask (B, C))`` long/long/bool tensors with C =
    2*radius + 1; masked positions (outside the DNA tokens) hold id 0. Only those C tokens of each
    window are read (:meth:`CarbonDNATokenizer.tokens_at`), never the whole window.
    """
    import torch

    c = 2 * radius + 1
    if not refs:
        return torch.zeros((0, c), dtype=torch.long), torch.zeros((0, c), dtype=torch.long), torch.zeros((0, c), dtype=torch.bool)
    # the variants of one window share its reference string (and, within a k-mer, the locus token):
    # their reference rows are read once. Keys use id(): every `refs` string is alive during the call.
    ref_memo: dict[tuple[int, int], tuple[list[int], list[bool]]] = {}
    rows_ref: list[list[int]] = []
    rows_alt: list[list[int]] = []
    rows_mask: list[list[bool]] = []
    for r, a, locus in zip(refs, alts, loci, strict=True):
        if not r or not a:
            tokenizer.encode_window(r or a)  # the empty-window error, as before
        centre = tokenizer.locus_token_index(int(locus), window_bp)
        ids = [centre - radius + j for j in range(c)]
        memo = ref_memo.get((id(r), centre))
        if memo is None:
            last = tokenizer.dna_token_count(len(r))  # last DNA token (the tags excluded)
            inside = [1 <= t <= last for t in ids]
            memo = ref_memo[(id(r), centre)] = (tokenizer.tokens_at(r, ids, keep=inside), inside)
        rows_ref.append(memo[0])
        rows_alt.append(tokenizer.tokens_at_changed(a, ids, r, memo[0], keep=memo[1]))  # only the tokens the edit changed are read
        rows_mask.append(memo[1])
    ref_ids = torch.tensor(rows_ref, dtype=torch.long)  # (B, C)
    alt_ids = torch.tensor(rows_alt, dtype=torch.long)  # (B, C)
    mask = torch.tensor(rows_mask, dtype=torch.bool)  # (B, C)
    return ref_ids, alt_ids, mask


#: The last table :func:`normalised_embeddings` normalised: (weak reference, version counter, rows).
_NORMALISED: list[tuple[Any, int, Any]] = []


def normalised_embeddings(table: torch.Tensor) -> torch.Tensor:
    """``n(E)``: every row of an input embedding table ``(V, H)`` layer-normalised (no affine, eps 1e-5), float32 on CPU.

    Computed once per table (and again if the table is modified in place). Gathering rows of it
    gives exactly the bits of normalising the gathered rows: layer norm reduces each row on its
    own (tests/model/test_edit_context.py compares every row, at every batch shape it tries).
    """
    import torch

    version = int(table._version)
    if _NORMALISED:
        ref, seen, rows = _NORMALISED[0]
        if ref() is table and seen == version:
            return rows
    with torch.inference_mode():
        rows = table.detach().float().cpu()  # (V, H)
        rows = torch.nn.functional.layer_norm(rows, rows.shape[-1:], eps=1e-5)  # (V, H)
    _NORMALISED[:] = [(weakref.ref(table), version, rows)]
    return rows


def edit_context(encoder, window_bp: int, refs: list[str], alts: list[str], loci: list[int], radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The predictor's context tokens: ``(B, C, 2H)`` float32 rows and a ``(B, C)`` bool mask (CPU)."""
    import torch

    ref_ids, alt_ids, mask = context_token_ids(encoder.tokenizer, window_bp, refs, alts, loci, radius)
    rows = normalised_embeddings(encoder.model.get_input_embeddings().weight)  # (V, H)
    er = rows[ref_ids]  # (B, C, H)
    ea = rows[alt_ids]  # (B, C, H)
    m = mask.unsqueeze(-1).to(er.dtype)  # (B, C, 1)
    return torch.cat([er * m, (ea - er) * m], dim=-1).contiguous(), mask  # (B, C, 2H), (B, C)
