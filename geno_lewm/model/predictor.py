"""LeWorldModel-style predictor: a transformer over a short history of latent states, conditioned on
the action by AdaLN-zero, with a zero-initialised residual head so the untrained predictor returns
the source state exactly.

With ``context_radius >= 0`` the predictor also reads edit-context tokens
(:mod:`geno_lewm.model.context`: the encoder's input embeddings of the reference and edited k-mers
around the locus) as extra sequence positions before the states; without it (the default, and
every older manifest) it has exactly its original parameters and numerics.
"""

from __future__ import annotations

import torch
from torch import nn

from geno_lewm.model.config import PredictorConfig


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)  # (B, K, d)


class AdaLNBlock(nn.Module):
    """Pre-norm transformer block whose norms are shifted/scaled/gated by the action (AdaLN-zero)."""

    def __init__(self, d: int, heads: int, mlp_ratio: int, action_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False)
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(d, mlp_ratio * d), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_ratio * d, d))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(action_dim, 6 * d))
        nn.init.zeros_(self.ada[1].weight)
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """(B, K, d), (B, A) → (B, K, d)."""
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(c).chunk(6, dim=-1)  # 6 x (B, d)
        h = _modulate(self.norm1(x), sh1, sc1)  # (B, K, d)
        h, _ = self.attn(h, h, h, attn_mask=mask, need_weights=False)  # (B, K, d)
        x = x + g1.unsqueeze(1) * h  # (B, K, d)
        h = self.mlp(_modulate(self.norm2(x), sh2, sc2))  # (B, K, d)
        return x + g2.unsqueeze(1) * h  # (B, K, d)


class Predictor(nn.Module):
    """(states (B, K, D), action (B, A)) → predicted next latent (B, D) = last state + residual."""

    def __init__(self, cfg: PredictorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        drop = cfg.dropout_pct / 100.0
        self.inp = nn.Linear(cfg.state_dim, d)
        self.pos = nn.Parameter(torch.randn(cfg.history, d) * 0.02)  # (K_max, d)
        self.act = nn.Sequential(nn.Linear(cfg.action_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(AdaLNBlock(d, cfg.heads, cfg.mlp_ratio, d, drop) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(d, elementwise_affine=False)
        self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        self.head = nn.Linear(d, cfg.state_dim)
        nn.init.zeros_(self.final_ada[1].weight)
        nn.init.zeros_(self.final_ada[1].bias)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        if cfg.context_radius >= 0:
            self.ctx = nn.Linear(2 * cfg.state_dim, d)
            self.ctx_pos = nn.Parameter(torch.randn(2 * cfg.context_radius + 1, d) * 0.02)  # (C, d)
            # a direct (zero-initialised) linear read-out of the context: the near-linear
            # part of the encoder's response to a changed token, which attention alone learns slowly
            self.ctx_skip = nn.Linear((2 * cfg.context_radius + 1) * 2 * cfg.state_dim, cfg.state_dim)
            nn.init.zeros_(self.ctx_skip.weight)
            nn.init.zeros_(self.ctx_skip.bias)
        if cfg.scale_input:
            # the training sources' median scale (set by the training run, saved with the weights)
            self.register_buffer("scale_ref", torch.ones(()))

    @property
    def uses_context(self) -> bool:
        """True when forward() needs edit-context tokens."""
        return self.cfg.context_radius >= 0

    @property
    def uses_scale(self) -> bool:
        """True when forward() needs the source's pre-normalisation scale (``scale``)."""
        return bool(self.cfg.scale_input)

    def forward(self, states: torch.Tensor, action: torch.Tensor, context: torch.Tensor | None = None, scale: torch.Tensor | None = None) -> torch.Tensor:
        """(B, K, D), (B, A)[, (B, C, 2D)][, scale (B,)] → (B, D); K ≤ cfg.history, the last state is the source state.

        With ``scale_input`` the residual (the predicted change) is multiplied by
        ``scale_ref / scale``: the change of a normalised state scales with the inverse of the
        pooled vector's scale, which the normalised state itself does not carry.
        """
        if self.uses_scale and scale is None:
            raise ValueError("this predictor reads the source's pre-normalisation scale (geno_lewm.state.pool_scales)")
        _, k, _ = states.shape
        if k > self.cfg.history:
            raise ValueError(f"history of {k} states exceeds the predictor's maximum {self.cfg.history}")
        x = self.inp(states) + self.pos[-k:]  # (B, K, d)
        c = self.act(action)  # (B, d)
        mask = torch.triu(torch.ones(k, k, dtype=torch.bool, device=states.device), diagonal=1) if k > 1 else None  # (K, K)
        if self.uses_context:
            if context is None:
                raise ValueError("this predictor reads edit-context tokens (geno_lewm.model.context.edit_context)")
            skip = self.ctx_skip(context.flatten(1))  # (B, D)
            cx = self.ctx(context) + self.ctx_pos  # (B, C, d)
            n_ctx = cx.shape[1]
            x = torch.cat([cx, x], dim=1)  # (B, C+K, d)
            if mask is not None:
                full = torch.zeros(n_ctx + k, n_ctx + k, dtype=torch.bool, device=states.device)  # (C+K, C+K)
                full[n_ctx:, n_ctx:] = mask
                mask = full
        for block in self.blocks:
            x = block(x, c, mask)  # (B, K, d)
        shift, gain = self.final_ada(c).chunk(2, dim=-1)  # 2 x (B, d)
        h = _modulate(self.norm(x), shift, gain)[:, -1]  # (B, d)
        if self.uses_scale:
            delta = self.head(h) + skip if self.uses_context else self.head(h)  # (B, D)
            return states[:, -1] + delta * (self.scale_ref / scale.to(delta.dtype)).unsqueeze(-1)  # (B, D)
        if self.uses_context:  # the original expressions, in their original order (older packages keep their bytes)
            return states[:, -1] + self.head(h) + skip  # (B, D)
        return states[:, -1] + self.head(h)  # (B, D)
