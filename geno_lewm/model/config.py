"""Architecture configs for the action encoder and predictor (saved in the manifest, float-free)."""

from __future__ import annotations

import msgspec


class ActionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Action encoder shape."""

    dim: int = 64  # action embedding width A
    max_allele_len: int = 16  # alleles longer than this are truncated (their length is still encoded)
    window_bp: int = 600  # window width the offsets are relative to (copied from the state contract)
    k: int = 6  # tokenizer k (offset within the k-mer is an input feature)


class PredictorConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Predictor shape (LeWorldModel-style transformer with AdaLN-zero action conditioning)."""

    state_dim: int = 64  # latent width D (= encoder hidden size)
    d_model: int = 128  # transformer width
    depth: int = 2  # number of transformer blocks
    heads: int = 4  # attention heads
    mlp_ratio: int = 4  # MLP hidden = mlp_ratio * d_model
    history: int = 1  # maximum number of past states K the predictor attends over
    action_dim: int = 64  # action embedding width A (= ActionConfig.dim)
    dropout_pct: int = 0  # dropout in percent (an integer, so the manifest stays float-free)
    context_radius: int = -1  # edit-context tokens each side of the locus token (geno_lewm.model.context); -1 = none
    scale_input: bool = False  # read the source's pre-normalisation scale (geno_lewm.state.pool_scales) and divide the predicted change by it

    def to_manifest(self) -> dict:
        """Plain fields for the manifest; fields added later are left out at their default (old manifests stay byte-identical)."""
        out = msgspec.to_builtins(self)
        if self.context_radius < 0:
            out.pop("context_radius")
        if not self.scale_input:
            out.pop("scale_input")
        return out
