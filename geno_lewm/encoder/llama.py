"""A Llama decoder in plain torch, for inference on a frozen Carbon checkpoint.

Scoring needs one thing from the encoder: the same numbers transformers' ``LlamaForCausalLM``
computes (SDPA attention, eval mode). Importing transformers' Llama costs about 4.5 s of a
command's start-up (it pulls in ``torch._dynamo`` through its kernel hub), and its forward adds
per-call work scoring never uses (output capture hooks, cache objects, mask helpers). This module
runs the same operations, in the same order, with the same tensor shapes, so its outputs are
bit-identical to transformers' on any machine and thread count (``tests/model/test_llama_runtime.py``
checks every hidden-state layer and the logits, padded and unpadded, under default and
reproducible numerics).

It covers the checkpoints Carbon ships: ``model_type`` ``llama`` with the default RoPE, SiLU MLP,
optional q/k/v/o and MLP biases, grouped-query attention and tied or untied LM heads.
:func:`supported` says whether a ``config.json`` is inside that subset; anything outside it is
loaded through transformers instead (:meth:`geno_lewm.encoder.carbon.CarbonEncoder.load`).

Weights are read from the checkpoint's ``*.safetensors`` files (never pickles). Hidden states for
layer ``l < num_layers`` stop after block ``l``: the blocks above it are never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ledger.errors import ResourceError


def supported(config: dict[str, Any]) -> str | None:
    """``None`` when :class:`LlamaDecoder` runs ``config`` exactly; otherwise the reason it does not."""
    if config.get("model_type") != "llama":
        return f"model_type {config.get('model_type')!r}"
    rope = config.get("rope_parameters") or {}
    scaling = config.get("rope_scaling")
    if rope.get("rope_type", "default") != "default" or (scaling and scaling.get("rope_type", scaling.get("type")) not in (None, "default")):
        return "a RoPE scaling other than the default"
    if config.get("hidden_act", "silu") != "silu":
        return f"hidden_act {config.get('hidden_act')!r}"
    if int(config.get("pretraining_tp", 1) or 1) != 1:
        return "pretraining_tp > 1"
    return None


def _inv_freq(config: dict[str, Any]) -> torch.Tensor:
    """RoPE inverse frequencies, float32 on the CPU, computed as transformers computes them: (D/2,)."""
    rope = config.get("rope_parameters") or {}
    base = rope.get("rope_theta", config.get("rope_theta", 10000.0))
    dim = int(config.get("head_dim") or int(config["hidden_size"]) // int(config["num_attention_heads"]))
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float, device="cpu") / dim))


class _RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float, device: str) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size, device=device))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.to(torch.float32)
        variance = x.pow(2).mean(-1, keepdim=True)  # (..., 1)
        x = x * torch.rsqrt(variance + self.eps)
        return self.weight * x.to(dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _repeat_kv(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, heads, t, d = x.shape  # (B, KV, T, D)
    return x[:, :, None, :, :].expand(b, heads, groups, t, d).reshape(b, heads * groups, t, d)  # (B, KV*G, T, D)


class _Attention(nn.Module):
    def __init__(self, cfg: dict[str, Any], device: str) -> None:
        super().__init__()
        hidden, heads = int(cfg["hidden_size"]), int(cfg["num_attention_heads"])
        kv_heads = int(cfg.get("num_key_value_heads") or heads)
        self.head_dim = int(cfg.get("head_dim") or hidden // heads)
        self.groups = heads // kv_heads
        self.scaling = self.head_dim**-0.5
        bias = bool(cfg.get("attention_bias", False))
        self.q_proj = nn.Linear(hidden, heads * self.head_dim, bias=bias, device=device)
        self.k_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=bias, device=device)
        self.v_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=bias, device=device)
        self.o_proj = nn.Linear(heads * self.head_dim, hidden, bias=bias, device=device)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        shape = x.shape[:-1]  # (B, T)
        heads = (*shape, -1, self.head_dim)
        q = self.q_proj(x).view(heads).transpose(1, 2)  # (B, NH, T, D)
        k = self.k_proj(x).view(heads).transpose(1, 2)  # (B, KV, T, D)
        v = self.v_proj(x).view(heads).transpose(1, 2)  # (B, KV, T, D)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # (1, 1, T, D)
        q = (q * cos) + (_rotate_half(q) * sin)
        k = (k * cos) + (_rotate_half(k) * sin)
        t = q.shape[2]
        extra: dict[str, Any] = {}
        if self.groups > 1:  # the same branches as transformers' SDPA integration
            if mask is None and k.shape[-1] == v.shape[-1] <= 256:
                extra["enable_gqa"] = True
            elif t == 1:
                q = q.reshape(q.shape[0], q.shape[1] // self.groups, self.groups, q.shape[-1])
            else:
                k, v = _repeat_kv(k, self.groups), _repeat_kv(v, self.groups)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0, scale=self.scaling, is_causal=t > 1 and mask is None, **extra)
        out = out.reshape(out.shape[0], -1, t, v.shape[-1]).transpose(1, 2).contiguous()  # (B, T, NH, D)
        return self.o_proj(out.reshape(*shape, -1).contiguous())  # (B, T, H)


class _MLP(nn.Module):
    def __init__(self, cfg: dict[str, Any], device: str) -> None:
        super().__init__()
        hidden, inner, bias = int(cfg["hidden_size"]), int(cfg["intermediate_size"]), bool(cfg.get("mlp_bias", False))
        self.gate_proj = nn.Linear(hidden, inner, bias=bias, device=device)
        self.up_proj = nn.Linear(hidden, inner, bias=bias, device=device)
        self.down_proj = nn.Linear(inner, hidden, bias=bias, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class _Block(nn.Module):
    def __init__(self, cfg: dict[str, Any], device: str) -> None:
        super().__init__()
        eps = float(cfg.get("rms_norm_eps", 1e-6))
        self.self_attn = _Attention(cfg, device)
        self.mlp = _MLP(cfg, device)
        self.input_layernorm = _RMSNorm(int(cfg["hidden_size"]), eps, device)
        self.post_attention_layernorm = _RMSNorm(int(cfg["hidden_size"]), eps, device)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class _Stack(nn.Module):
    def __init__(self, cfg: dict[str, Any], device: str) -> None:
        super().__init__()
        shape = (int(cfg["vocab_size"]), int(cfg["hidden_size"]))
        # an explicit weight skips the padding-row initialisation, which on the meta device imports torch._dynamo
        self.embed_tokens = nn.Embedding(*shape, cfg.get("pad_token_id"), _weight=torch.zeros(shape, device=device))
        self.layers = nn.ModuleList(_Block(cfg, device) for _ in range(int(cfg["num_hidden_layers"])))
        self.norm = _RMSNorm(int(cfg["hidden_size"]), float(cfg.get("rms_norm_eps", 1e-6)), device)


class LlamaDecoder(nn.Module):
    """Llama-style causal LM (decoder stack + LM head) whose parameters carry transformers' names."""

    def __init__(self, config: dict[str, Any], *, device: str = "cpu") -> None:
        """Build the untrained modules; ``device="meta"`` allocates no weights, for loading (RoPE frequencies are always on the CPU)."""
        super().__init__()
        reason = supported(config)
        if reason is not None:
            raise ResourceError("UNSUPPORTED_ENCODER", f"the built-in Llama runtime does not run {reason}")
        self.config = config
        self.model = _Stack(config, device)
        self.lm_head = nn.Linear(int(config["hidden_size"]), int(config["vocab_size"]), bias=False, device=device)
        if config.get("tie_word_embeddings", False):
            self.lm_head.weight = self.model.embed_tokens.weight
        self.register_buffer("inv_freq", _inv_freq(config), persistent=False)

    def get_input_embeddings(self) -> nn.Embedding:
        """The token embedding table (``(V, H)`` weight)."""
        return self.model.embed_tokens

    @property
    def num_layers(self) -> int:
        """Number of decoder blocks."""
        return len(self.model.layers)

    def _rope(self, t: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        positions = torch.arange(t, device=x.device).unsqueeze(0)  # (1, T)
        freqs = positions[..., None].float() * self.inv_freq.to(device=x.device, dtype=torch.float)  # (1, T, D/2)
        emb = torch.cat((freqs, freqs), dim=-1)  # (1, T, D)
        return emb.cos().to(dtype=x.dtype), emb.sin().to(dtype=x.dtype)

    @staticmethod
    def _mask(attention_mask: torch.Tensor | None, t: int) -> torch.Tensor | None:
        """``None`` (causal SDPA) without padding, else the boolean causal-and-not-padding mask (B, 1, T, T)."""
        if attention_mask is None or bool(attention_mask.all()):
            return None
        pos = torch.arange(t, device=attention_mask.device)
        causal = pos[:, None] >= pos[None, :]  # (T, T)
        return causal[None, None, :, :] & attention_mask.bool()[:, None, None, :]  # (B, 1, T, T)

    def hidden_state(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, layer: int) -> torch.Tensor:
        """transformers' ``hidden_states[layer]``: the input of block ``layer``, or the normed output when ``layer == num_layers``."""
        if not 0 <= layer <= self.num_layers:
            raise ValueError(f"layer {layer} is outside 0..{self.num_layers}")
        x = self.model.embed_tokens(input_ids)  # (B, T, H)
        t = input_ids.shape[1]
        cos, sin = self._rope(t, x)
        mask = self._mask(attention_mask, t)
        for block in self.model.layers[:layer]:
            x = block(x, cos, sin, mask)
        return self.model.norm(x) if layer == self.num_layers else x

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Next-token logits for every position: (B, T, V)."""
        return self.lm_head(self.hidden_state(input_ids, attention_mask, self.num_layers))


def load_decoder(config: dict[str, Any], files: list[Path], dtype: torch.dtype) -> LlamaDecoder:
    """A frozen :class:`LlamaDecoder` with the weights of safetensors ``files`` (transformers' names), in ``dtype`` on the CPU.

    The module is built on the meta device and takes the loaded tensors as they are (no random
    initialisation to overwrite). Every parameter must be present (the LM head may be tied to the
    embeddings); a missing or unknown tensor is ``RESOURCE.INCOMPLETE_CHECKPOINT``.
    """
    from safetensors.torch import load_file

    state: dict[str, torch.Tensor] = {}
    for f in files:
        state.update(load_file(str(f), device="cpu"))
    if not any(k.startswith("model.") for k in state):  # a bare LlamaModel checkpoint
        state = {k if k.startswith("lm_head.") else "model." + k: v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.endswith("rotary_emb.inv_freq")}
    model = LlamaDecoder(config, device="meta")  # the meta device as an argument: its context manager imports torch._dynamo
    tied = bool(config.get("tie_word_embeddings", False))
    if tied and "model.embed_tokens.weight" in state:
        state.setdefault("lm_head.weight", state["model.embed_tokens.weight"])
    expected = set(model.state_dict())
    missing, unknown = sorted(expected - state.keys()), sorted(state.keys() - expected)
    if missing or unknown:
        what = f"missing {missing[:3]}" if missing else f"unknown tensors {unknown[:3]}"
        raise ResourceError(
            "INCOMPLETE_CHECKPOINT", f"Carbon weights do not match config.json: {what}", "copy the full checkpoint (config and every safetensors shard)"
        )
    model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}, assign=True)
    if tied:
        model.lm_head.weight = model.model.embed_tokens.weight
    return model.eval().requires_grad_(False)


class TransformersLlama(nn.Module):
    """A transformers Llama causal LM behind :class:`LlamaDecoder`'s interface (checkpoints outside :func:`supported`)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.hf = model

    def get_input_embeddings(self) -> nn.Embedding:
        """The token embedding table (``(V, H)`` weight)."""
        return self.hf.get_input_embeddings()

    @property
    def num_layers(self) -> int:
        """Number of decoder blocks."""
        return int(self.hf.config.num_hidden_layers)

    def hidden_state(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, layer: int) -> torch.Tensor:
        """``hidden_states[layer]`` of the decoder stack (no LM head)."""
        stack = getattr(self.hf, "model", self.hf)
        return stack(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True, use_cache=False).hidden_states[layer]

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Next-token logits for every position: (B, T, V)."""
        return self.hf(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
