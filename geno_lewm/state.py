"""The state contract: the one code path that turns encoder hidden states into a latent state.

Layer, pooling, radius, normalisation and dtype live in one typed config whose hash goes into
every cache key and the model manifest. Training and scoring both call :func:`pool_states`
(through :func:`encode_states` or the window cache), so a state computed at training time and at
scoring time for the same window is bit-identical.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from ledger.canonical import canonical_json, sha256_hex
from ledger.errors import ConfigError

if TYPE_CHECKING:
    import torch

#: Version of the pooling code itself; bump when pool_states changes numerically.
STATE_CONTRACT_VERSION = "1"


class StateContract(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How a window becomes a latent state (docs/model.md, "State contract")."""

    layer: int = -1  # encoder hidden-state layer (0 = embeddings, L = last block; -1 = last)
    pooling: Literal["centred", "window_mean"] = "centred"  # mean over tokens around the locus, or over all DNA tokens
    radius: int = 2  # centred pooling: tokens on each side of the locus token (window of 2*radius+1 tokens)
    normalize: Literal["none", "layernorm", "l2"] = "layernorm"  # per-state normalisation after pooling
    dtype: Literal["float32", "bfloat16"] = "float32"  # precision the state is rounded to (returned as float32)
    window_bp: int = 600  # reference window width in bases (a multiple of the tokenizer's k)

    def validate(self, *, k: int = 6, num_layers: int | None = None) -> None:
        """Raise ``CONFIG.STATE_CONTRACT`` if a field is out of range for an encoder with ``num_layers``."""
        if self.radius < 0:
            raise ConfigError("STATE_CONTRACT", f"state.radius must be >= 0 (got {self.radius})")
        if self.window_bp <= 0 or self.window_bp % k:
            raise ConfigError("STATE_CONTRACT", f"state.window_bp must be a positive multiple of {k} (got {self.window_bp})")
        if num_layers is not None and not -num_layers - 1 <= self.layer <= num_layers:
            raise ConfigError("STATE_CONTRACT", f"state.layer {self.layer} is outside -{num_layers + 1}..{num_layers} for this encoder")

    def resolved_layer(self, num_layers: int) -> int:
        """The non-negative hidden-state index for an encoder with ``num_layers`` blocks."""
        return self.layer if self.layer >= 0 else num_layers + 1 + self.layer

    def to_dict(self) -> dict:
        """Plain fields (float-free) for manifests and reports."""
        return msgspec.to_builtins(self)

    def hash(self) -> str:
        """SHA-256 over the canonical fields plus the pooling-code version."""
        return sha256_hex(canonical_json({"contract": self.to_dict(), "code_version": STATE_CONTRACT_VERSION}))


def pool_states(hidden: torch.Tensor, token_index: torch.Tensor, contract: StateContract) -> torch.Tensor:
    """THE path from hidden states to latent states: (B, T, H), (B,) → (B, D=H) float32.

    ``token_index`` is the locus token of each row (from ``tokenizer.locus_token_index``). Pooling
    uses only DNA-token positions 1 … n_tok (the ``<dna>``/``</dna>`` tags are excluded), where
    n_tok = window_bp // k is derived from T = n_tok + 2. Centred pooling averages the tokens
    within ``radius`` of the locus token, clipped to the DNA tokens.
    """
    return _normalised(_pooled_mean(hidden, token_index, contract), contract)


def pool_states_and_scales(hidden: torch.Tensor, token_index: torch.Tensor, contract: StateContract) -> tuple[torch.Tensor, torch.Tensor]:
    """``(pool_states(...), pool_scales(...))`` of the same rows, pooling once: (B, D), (B,)."""
    z = _pooled_mean(hidden, token_index, contract)  # (B, H)
    return _normalised(z, contract), _scale_of(z, contract)


def _normalised(z: torch.Tensor, contract: StateContract) -> torch.Tensor:
    """The state from the pooled mean: the contract's normalisation and dtype, (B, H) → (B, D) float32."""
    import torch

    if contract.normalize == "layernorm":
        z = torch.nn.functional.layer_norm(z, z.shape[-1:], eps=1e-5)  # (B, H)
    elif contract.normalize == "l2":
        z = torch.nn.functional.normalize(z, dim=-1, eps=1e-8)  # (B, H)
    if contract.dtype == "bfloat16":
        z = z.to(torch.bfloat16).float()  # (B, H)
    return z.contiguous()


def _pooled_mean(hidden: torch.Tensor, token_index: torch.Tensor, contract: StateContract) -> torch.Tensor:
    """The pooled mean before normalisation: (B, T, H), (B,) → (B, H) float32 (see :func:`pool_states`)."""
    import torch

    h = hidden.float()  # (B, T, H)
    bsz, t_len, _ = h.shape
    pos = torch.arange(t_len, device=h.device).unsqueeze(0)  # (1, T)
    dna = (pos >= 1) & (pos <= t_len - 2)  # (1, T)
    if contract.pooling == "centred":
        idx = token_index.to(torch.long).view(bsz, 1)  # (B, 1)
        sel = dna & ((pos - idx).abs() <= contract.radius)  # (B, T)
    else:
        sel = dna.expand(bsz, t_len)  # (B, T)
    w = sel.to(h.dtype).unsqueeze(-1)  # (B, T, 1)
    return (h * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)  # (B, H)


def pool_scales(hidden: torch.Tensor, token_index: torch.Tensor, contract: StateContract) -> torch.Tensor:
    """The scale the state's normalisation divides the pooled vector by: (B, T, H), (B,) → (B,) float32.

    ``layernorm``: the pooled vector's standard deviation (with the layer norm's eps); ``l2``: its
    norm; ``none``: 1. The state itself cannot carry it (normalisation removes it), yet an edit's
    change of the normalised state scales with its inverse: a predictor with
    ``predictor.scale_input`` reads it beside the state (RFC-0014). Same encoder pass, no extra cost.
    """
    return _scale_of(_pooled_mean(hidden, token_index, contract), contract)


def _scale_of(z: torch.Tensor, contract: StateContract) -> torch.Tensor:
    """The normalisation's scale of pooled means: (B, H) → (B,) float32 (see :func:`pool_scales`)."""
    import torch

    if contract.normalize == "layernorm":
        return torch.sqrt(z.var(dim=-1, unbiased=False) + 1e-5).contiguous()  # (B,)
    if contract.normalize == "l2":
        return z.norm(dim=-1).clamp_min(1e-8).contiguous()  # (B,)
    return torch.ones(z.shape[0])  # (B,)


def locus_token_indices(tokenizer, contract: StateContract, bp_loci: list[int]) -> torch.Tensor:
    """Locus token index per base offset for windows of ``contract.window_bp`` bases: (B,) long."""
    import torch

    return torch.tensor([tokenizer.locus_token_index(int(b), contract.window_bp) for b in bp_loci], dtype=torch.long)  # (B,)


def encode_states(encoder, contract: StateContract, windows: list[str], bp_loci: list[int], *, cache=None, with_scales: bool = False):
    """Latent states of ``windows`` pooled at ``bp_loci``: (B, D). Optionally through a WindowCache.

    ``with_scales``: return ``(states (B, D), scales (B,))`` with :func:`pool_scales` of the same pass.
    """
    import torch

    from ledger.errors import InputError

    if len(windows) != len(bp_loci):
        raise InputError("BATCH_MISMATCH", f"{len(windows)} windows but {len(bp_loci)} loci")
    for w in windows:
        if len(w) != contract.window_bp:
            raise InputError("WINDOW_WIDTH", f"a window has {len(w)} bp; the state contract expects {contract.window_bp}")
    layer = contract.resolved_layer(encoder.num_layers)
    if cache is not None:
        hidden = torch.stack(cache.get_or_compute(windows, lambda ws: list(encoder.hidden_states(ws, layer).unbind(0))))  # (B, T, H)
    else:
        hidden = encoder.hidden_states(windows, layer)  # (B, T, H)
    idx = locus_token_indices(encoder.tokenizer, contract, bp_loci)  # (B,)
    if with_scales:
        return pool_states_and_scales(hidden, idx, contract)  # (B, D), (B,)
    return pool_states(hidden, idx, contract)  # (B, D)
