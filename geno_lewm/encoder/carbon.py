"""The frozen Carbon encoder: load a local checkpoint offline, expose hidden states and log-likelihoods.

Loading is strictly local (``local_files_only=True``), never runs remote code and never touches
the network. On CUDA the weights run in bfloat16; on CPU in float32. Outputs always come back as
float32 tensors on the CPU.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.canonical import canonical_json, sha256_hex
from ledger.errors import InputError, ResourceError
from ledger.identity import sha256_file

from geno_lewm.encoder.tokenizer import CarbonDNATokenizer

if TYPE_CHECKING:
    import torch

#: Files that make up a Carbon checkpoint directory (weights are every ``*.safetensors``).
CHECKPOINT_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


@dataclass(frozen=True)
class EncoderIdentity:
    """Who the encoder is: id, revision, content hash over its files, stand-in flag and shape."""

    encoder_id: str
    revision: str
    hash: str
    stand_in: bool
    num_layers: int
    hidden_size: int


def checkpoint_files(model_dir: str | os.PathLike[str]) -> list[Path]:
    """The checkpoint's files (config, tokenizer files, every ``*.safetensors``), sorted by name."""
    root = Path(model_dir)
    if not root.is_dir():
        raise ResourceError(
            "MISSING_MODEL_DIR", f"Carbon model directory {root.name!r} not found", "pass --carbon-model-dir pointing at a local checkpoint directory"
        )
    files = [root / n for n in CHECKPOINT_FILES if (root / n).is_file()]
    files += sorted(root.glob("*.safetensors"))
    names = {f.name for f in files}
    for required in ("config.json", "tokenizer.json"):
        if required not in names:
            raise ResourceError(
                "INCOMPLETE_CHECKPOINT", f"Carbon model directory lacks {required}", "copy the full checkpoint (config, safetensors weights, tokenizer files)"
            )
    if not any(n.endswith(".safetensors") for n in names):
        raise ResourceError(
            "INCOMPLETE_CHECKPOINT", "Carbon model directory has no *.safetensors weights", "only safetensors weights are loaded (never pickled .bin files)"
        )
    return sorted(files, key=lambda p: p.name)


def checkpoint_hash(model_dir: str | os.PathLike[str], *, verified: dict[str, tuple[str, int]] | None = None) -> str:
    """SHA-256 over the canonical list of (name, sha256, size) of the checkpoint files.

    ``verified`` maps file names to ``(sha256, size)`` the caller has just checked against the
    files (the model package's manifest after ``verify_package``); those files are not hashed again.
    """
    rows = []
    for f in checkpoint_files(model_dir):
        digest, size = verified[f.name] if verified and f.name in verified else sha256_file(f)
        rows.append({"path": f.name, "sha256": digest, "size": size})
    return sha256_hex(canonical_json(rows))


def _encoder_id_from(config: dict, model_dir: Path) -> str:
    explicit = config.get("geno_lewm_encoder_id")
    if isinstance(explicit, str) and explicit:
        return explicit
    name = re.sub(r"[^a-z0-9]+", "-", model_dir.resolve().name.lower()).strip("-")
    return name if name and name[0].isalpha() else f"carbon-{name or 'model'}"


def read_identity(model_dir: str | os.PathLike[str], *, verified: dict[str, tuple[str, int]] | None = None) -> EncoderIdentity:
    """The encoder identity of a checkpoint directory without loading the weights (``verified``: see :func:`checkpoint_hash`)."""
    root = Path(model_dir)
    files = checkpoint_files(root)
    cfg = json.loads((root / "config.json").read_text(encoding="utf-8"))
    digest = checkpoint_hash(root, verified=verified)
    del files
    return EncoderIdentity(
        encoder_id=_encoder_id_from(cfg, root),
        revision=str(cfg.get("geno_lewm_revision") or digest[:12]),
        hash=digest,
        stand_in=bool(cfg.get("geno_lewm_stand_in", False)),
        num_layers=int(cfg["num_hidden_layers"]),
        hidden_size=int(cfg["hidden_size"]),
    )


def _load_weights(root: Path, config: dict, dtype: torch.dtype):
    """The frozen decoder: the built-in Llama runtime when it covers ``config``, else transformers (same numbers)."""
    from geno_lewm.encoder.llama import TransformersLlama, load_decoder, supported

    files = sorted(root.glob("*.safetensors"))  # checkpoint_files() has already checked they exist
    if supported(config) is None:
        return load_decoder(config, files, dtype)
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf = AutoModelForCausalLM.from_pretrained(root, local_files_only=True, trust_remote_code=False, dtype=dtype, use_safetensors=True)
    return TransformersLlama(hf.eval().requires_grad_(False))


@dataclass(eq=False)
class CarbonEncoder:
    """A frozen Llama-style Carbon model plus its DNA tokenizer, ready to encode windows."""

    model: Any  # geno_lewm.encoder.llama.LlamaDecoder (or TransformersLlama for other configs)
    tokenizer: CarbonDNATokenizer
    identity: EncoderIdentity
    device: torch.device
    dtype: torch.dtype
    model_dir: Path

    @classmethod
    def load(cls, model_dir: str | os.PathLike[str], *, device: str = "auto", verified: dict[str, tuple[str, int]] | None = None) -> CarbonEncoder:
        """Load ``model_dir`` offline (``local_files_only``, no remote code); bf16 on CUDA, fp32 on CPU.

        ``verified``: file digests just checked by the caller (see :func:`checkpoint_hash`), so a
        package's weights are hashed once per load, not twice.
        """
        import torch

        from geno_lewm.runtime import resolve_device

        root = Path(model_dir)
        identity = read_identity(root, verified=verified)
        tokenizer = CarbonDNATokenizer.from_dir(root)
        dev = resolve_device(device)
        dtype = torch.bfloat16 if dev.type == "cuda" else torch.float32
        config = json.loads((root / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "llama":
            raise ResourceError(
                "UNSUPPORTED_ENCODER", f"checkpoint model_type is {config.get('model_type')!r}; Carbon is a Llama-style causal LM (model_type 'llama')"
            )
        if int(config["vocab_size"]) < tokenizer.vocab_size:
            raise ResourceError("BAD_TOKENIZER", f"tokenizer ids reach {tokenizer.vocab_size - 1} but the model vocabulary has {config['vocab_size']} entries")
        model = _load_weights(root, config, dtype)
        model.to(dev)
        return cls(model, tokenizer, identity, dev, dtype, root)

    @property
    def num_layers(self) -> int:
        """Number of transformer blocks; valid hidden-state layers are 0 (embeddings) … num_layers."""
        return self.identity.num_layers

    def _batch(self, windows: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        if not windows:
            raise InputError("EMPTY_BATCH", "no windows to encode")
        rows = [self.tokenizer.encode_window(w) for w in windows]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.tokenizer.pad_id, dtype=torch.long)  # (B, T)
        mask = torch.zeros((len(rows), width), dtype=torch.long)  # (B, T)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return ids.to(self.device), mask.to(self.device)

    def hidden_states(self, windows: list[str], layer: int) -> torch.Tensor:
        """Hidden states after block ``layer`` (0 = embeddings) for each window: (B, T, H) float32 on CPU.

        Windows of different lengths are right-padded; padded positions are zero.
        """
        return self.device_hidden_states(windows, layer).cpu()

    def device_hidden_states(self, windows: list[str], layer: int) -> torch.Tensor:
        """:meth:`hidden_states` left on the encoder's device: (B, T, H) float32, the same values.

        On CUDA a caller that reads a few tokens per window (the scorer's pooled states) keeps the
        whole states off the host: at a Carbon-500M shape one 8 kb window is 6.8 MB.
        """
        import torch

        if not 0 <= layer <= self.num_layers:
            raise InputError("BAD_LAYER", f"layer {layer} is outside 0..{self.num_layers} for this encoder")
        ids, mask = self._batch(windows)  # (B, T), (B, T)
        # the decoder stack without the LM head: bit-identical hidden states, no vocabulary projection
        # (for the stand-in that projection was about half of an encoder pass)
        with torch.inference_mode():
            h = self.model.hidden_state(ids, mask, layer).float()  # (B, T, H)
            return h * mask.unsqueeze(-1).to(h.dtype)  # (B, T, H)

    def token_logprobs(self, windows: list[str]) -> torch.Tensor:
        """log p(token_t | tokens_<t) for t = 1 … T-1: (B, T-1) float32 on CPU (0 at padding)."""
        import torch

        ids, mask = self._batch(windows)  # (B, T), (B, T)
        with torch.inference_mode():
            logits = self.model.logits(ids, mask).float()  # (B, T, V)
            logp = torch.log_softmax(logits[:, :-1], dim=-1)  # (B, T-1, V)
            tok = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)  # (B, T-1)
            tok = tok * mask[:, 1:].to(tok.dtype)  # (B, T-1)
        return tok.cpu()

    def sequence_logprob(self, windows: list[str]) -> torch.Tensor:
        """Sum of log-likelihoods over the DNA tokens (k-mers/bases, not the tags): (B,) float32."""
        import torch

        ids, _ = self._batch(windows)  # (B, T)
        tok = self.token_logprobs(windows)  # (B, T-1)
        dna_ids = torch.tensor(sorted(self.tokenizer.dna_token_ids))  # (V_dna,)
        is_dna = torch.isin(ids[:, 1:].cpu(), dna_ids)  # (B, T-1)
        return (tok * is_dna.to(tok.dtype)).sum(dim=1)  # (B,)
