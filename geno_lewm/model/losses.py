"""Training losses: latent MSE and SIGReg (Epps–Pulley normality statistic over random 1-D projections).

The encoder is frozen, so SIGReg is applied to latents the model trains (the action embeddings,
or optionally the predicted states); applied to the encoder's own latents it would have no gradient
(a known pitfall, tested).
"""

from __future__ import annotations

import torch


def latent_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error between predicted and measured latents: (B, D), (B, D) → ()."""
    return ((pred - target) ** 2).mean()


def sigreg(z: torch.Tensor, *, num_projections: int = 64, knots: int = 17, t_max: float = 3.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """SIGReg: mean Epps–Pulley statistic of ``z`` (B, D) along random unit directions → ().

    Each projection x = z·u (u uniform on the sphere) is compared with N(0, 1) through the
    characteristic function: EP = B ∫ |φ̂(t) − e^{−t²/2}|² e^{−t²/2} dt over [0, t_max]
    (trapezoid rule on ``knots`` points; the integrand is even in t).
    """
    bsz, dim = z.shape
    u = torch.randn(dim, num_projections, generator=generator, device="cpu").to(z.device, z.dtype)  # (D, M)
    u = u / u.norm(dim=0, keepdim=True)  # (D, M)
    x = z @ u  # (B, M)
    t = torch.linspace(0.0, t_max, knots, device=z.device, dtype=z.dtype)  # (T,)
    xt = x.unsqueeze(-1) * t  # (B, M, T)
    re = torch.cos(xt).mean(0)  # (M, T)
    im = torch.sin(xt).mean(0)  # (M, T)
    gauss = torch.exp(-0.5 * t**2)  # (T,)
    err = (re - gauss) ** 2 + im**2  # (M, T)
    stat = torch.trapezoid(err * gauss, t, dim=-1) * bsz  # (M,)
    return stat.mean()
