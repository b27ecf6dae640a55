"""Action encoder: edit position + type + ref/alt bases → an action embedding (B, A)."""

from __future__ import annotations

import math

import torch
from torch import nn

from geno_lewm.edits import EDIT_KINDS, EditSpec
from geno_lewm.model.config import ActionConfig

_BASE_INDEX = {"A": 1, "C": 2, "G": 3, "T": 4, "N": 5}  # 0 = padding
_N_FREQ = 8


def edits_to_tensors(edits: list[EditSpec], cfg: ActionConfig) -> dict[str, torch.Tensor]:
    """Integer/float tensors describing ``edits`` (the action encoder's input)."""
    n = len(edits)
    L = cfg.max_allele_len
    kind = torch.tensor([EDIT_KINDS.index(e.kind) for e in edits], dtype=torch.long)  # (B,)

    def bases(allele: str) -> list[int]:  # base indices, zero-padded to L (one tensor per batch, not one write per base)
        row = [_BASE_INDEX.get(b, 5) for b in allele.upper()[:L]]
        return row + [0] * (L - len(row))

    ref = torch.tensor([bases(e.ref) for e in edits], dtype=torch.long).reshape(n, L)  # (B, L)
    alt = torch.tensor([bases(e.alt) for e in edits], dtype=torch.long).reshape(n, L)  # (B, L)
    locus = torch.tensor([e.locus for e in edits], dtype=torch.float32)  # (B,)
    phase = torch.tensor([e.locus % cfg.k for e in edits], dtype=torch.long)  # (B,)
    lengths = torch.tensor([[len(e.ref), len(e.alt)] for e in edits], dtype=torch.float32)  # (B, 2)
    return {"kind": kind, "ref": ref, "alt": alt, "locus": locus, "phase": phase, "lengths": lengths}


class ActionEncoder(nn.Module):
    """Embeds an edit: kind, allele bases (position-aware), allele lengths, window position, k-mer phase."""

    def __init__(self, cfg: ActionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        A = cfg.dim
        self.kind = nn.Embedding(len(EDIT_KINDS), A)
        self.base = nn.Embedding(6, A, padding_idx=0)
        self.slot = nn.Parameter(torch.randn(2, cfg.max_allele_len, A) * 0.02)  # (2, L, A): ref/alt slot positions
        self.phase = nn.Embedding(cfg.k, A)
        self.numeric = nn.Linear(2 * _N_FREQ + 2, A)
        self.out = nn.Sequential(nn.LayerNorm(A), nn.Linear(A, A), nn.GELU(), nn.Linear(A, A))

    def forward(
        self, kind: torch.Tensor, ref: torch.Tensor, alt: torch.Tensor, locus: torch.Tensor, phase: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """(B,), (B, L), (B, L), (B,), (B,), (B, 2) → (B, A)."""
        ref_e = (self.base(ref) + self.slot[0]) * (ref > 0).unsqueeze(-1)  # (B, L, A)
        alt_e = (self.base(alt) + self.slot[1]) * (alt > 0).unsqueeze(-1)  # (B, L, A)
        alleles = ref_e.sum(1) + alt_e.sum(1)  # (B, A): slots keep ref and alt apart
        rel = (locus / max(self.cfg.window_bp, 1)).unsqueeze(-1)  # (B, 1) in [0, 1)
        freqs = torch.arange(_N_FREQ, dtype=rel.dtype, device=rel.device)  # (F,)
        ang = rel * (2.0**freqs) * math.pi  # (B, F)
        numeric = torch.cat([torch.sin(ang), torch.cos(ang), torch.log1p(lengths)], dim=-1)  # (B, 2F+2)
        a = self.kind(kind) + alleles + self.phase(phase) + self.numeric(numeric)  # (B, A)
        return self.out(a)  # (B, A)

    def embed(self, edits: list[EditSpec]) -> torch.Tensor:
        """Embed a list of edits: (B, A) on this module's device."""
        dev = next(self.parameters()).device
        t = {k: v.to(dev) for k, v in edits_to_tensors(edits, self.cfg).items()}
        return self(**t)  # (B, A)
