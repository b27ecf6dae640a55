"""The built-in Llama runtime computes transformers' numbers bit for bit, and loads without importing transformers.

Scores are a reproducibility contract: swapping transformers' ``LlamaForCausalLM`` for
:mod:`geno_lewm.encoder.llama` is only allowed because every hidden-state layer and the logits are
*identical* (``torch.equal``), padded and unpadded, float32 and bfloat16, across the shapes a
checkpoint may take (grouped-query or multi-head attention, biases, tied LM head). Each reference
model is a real transformers model built from a config and saved as safetensors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

SHAPES = {
    "gqa": dict(num_attention_heads=4, num_key_value_heads=2),
    "mha_bias_tied": dict(num_attention_heads=4, num_key_value_heads=4, attention_bias=True, mlp_bias=True, tie_word_embeddings=True),
    "mqa_wide_head": dict(num_attention_heads=2, num_key_value_heads=1, head_dim=48, rope_theta=500000.0),
}


def _checkpoint(root: Path, **overrides) -> Path:
    """A randomly initialised Llama causal LM saved with safetensors (a real transformers checkpoint)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    rope_theta = overrides.pop("rope_theta", 10000.0)
    cfg = LlamaConfig(
        vocab_size=300,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=3,
        max_position_embeddings=256,
        rms_norm_eps=1e-5,
        pad_token_id=3,
        rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
        **overrides,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():  # non-trivial norm weights and biases, so a skipped term would show
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith(".bias"):
                p.uniform_(0.5, 1.5) if name.endswith("norm.weight") else p.normal_(0, 0.1)
    model.save_pretrained(root, safe_serialization=True)
    return root


def _batches():
    g = torch.Generator().manual_seed(1)
    for b, t, pad in [(1, 40, 0), (3, 57, 0), (4, 33, 9), (2, 2, 1), (5, 120, 50), (2, 1, 0)]:
        ids = torch.randint(5, 300, (b, t), generator=g)
        mask = torch.ones(b, t, dtype=torch.long)
        for row in range(1, b if pad else 1):  # right padding as the encoder batches windows
            n = int(torch.randint(1, pad + 1, (1,), generator=g))
            mask[row, t - n :] = 0
            ids[row, t - n :] = 3
        yield ids, mask


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_every_layer_and_the_logits_are_bit_identical_to_transformers(tmp_path, shape, dtype):
    from transformers import AutoModelForCausalLM

    from geno_lewm.encoder.llama import load_decoder, supported

    root = _checkpoint(tmp_path / shape, **SHAPES[shape])
    cfg = json.loads((root / "config.json").read_text(encoding="utf-8"))
    assert supported(cfg) is None
    dt = getattr(torch, dtype)
    ref = AutoModelForCausalLM.from_pretrained(root, local_files_only=True, dtype=dt, use_safetensors=True).eval()
    mine = load_decoder(cfg, sorted(root.glob("*.safetensors")), dt)
    assert not any(p.requires_grad for p in mine.parameters())
    with torch.inference_mode():
        for ids, mask in _batches():
            want = ref.model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False).hidden_states
            for layer, expected in enumerate(want):
                got = mine.hidden_state(ids, mask, layer)
                assert got.dtype == expected.dtype
                assert torch.equal(got, expected), f"{shape} {dtype} {tuple(ids.shape)} layer {layer}: max |Δ| {(got - expected).abs().max()}"
            assert torch.equal(mine.logits(ids, mask), ref(input_ids=ids, attention_mask=mask, use_cache=False).logits)


def test_unsupported_configs_are_named_and_go_through_transformers(tmp_path):
    from geno_lewm.encoder.carbon import _load_weights
    from geno_lewm.encoder.llama import LlamaDecoder, TransformersLlama, supported

    root = _checkpoint(tmp_path / "scaled")
    cfg = json.loads((root / "config.json").read_text(encoding="utf-8"))
    cfg["rope_parameters"] = {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}
    assert "RoPE" in supported(cfg)
    assert isinstance(_load_weights(root, cfg, torch.float32), TransformersLlama)
    plain = json.loads((root / "config.json").read_text(encoding="utf-8"))
    assert isinstance(_load_weights(root, plain, torch.float32), LlamaDecoder)
    assert "hidden_act" in supported({**plain, "hidden_act": "gelu"})


def test_a_checkpoint_missing_a_tensor_is_a_typed_error(tmp_path):
    from safetensors.torch import load_file, save_file

    from geno_lewm.encoder.llama import load_decoder
    from ledger.errors import ResourceError

    root = _checkpoint(tmp_path / "cut")
    (weights,) = root.glob("*.safetensors")
    state = load_file(str(weights))
    del state["model.layers.1.mlp.up_proj.weight"]
    save_file(state, str(weights))
    with pytest.raises(ResourceError) as err:
        load_decoder(json.loads((root / "config.json").read_text(encoding="utf-8")), [weights], torch.float32)
    assert err.value.code == "RESOURCE.INCOMPLETE_CHECKPOINT"
    assert "up_proj" in str(err.value)


def test_loading_and_encoding_a_supported_checkpoint_never_imports_transformers(tiny_model_dir):
    code = (
        "import sys\n"
        "from geno_lewm.encoder.carbon import CarbonEncoder\n"
        f"enc = CarbonEncoder.load({str(tiny_model_dir)!r}, device='cpu')\n"
        "enc.hidden_states(['ACGTACGTAAACCCGGGTTT', 'ACGTAC'], enc.num_layers)\n"
        "enc.sequence_logprob(['ACGTACGTAAACCCGGGTTT'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('transformers', 'torch._dynamo')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert out.stdout.strip() == "[]", out.stdout


def test_the_score_command_imports_neither_transformers_nor_the_compiler(tmp_path):
    """Start-up is most of a small scoring run: the command must not pull in transformers, dynamo or inductor."""
    from geno_lewm.resources import example_path

    root = Path(__file__).resolve().parents[1] / "baselines" / "bit_match" / "model"
    argv = ["--model-dir", str(root), "--vcf", str(example_path("mt_known_variants.vcf")), "--fasta", str(example_path("rCRS_chrM.fa"))]
    argv += ["--output-scores", str(tmp_path / "s.jsonl"), "--output-receipts", str(tmp_path / "r.jsonl"), "--quiet"]
    code = (
        "import atexit, runpy, sys\n"
        "heavy = ('transformers', 'torch._dynamo', 'torch._inductor')\n"
        "atexit.register(lambda: print('HEAVY', sorted({m.split('.')[0] if m.startswith('transformers') else '.'.join(m.split('.')[:2]) "
        "for m in sys.modules if m.startswith(heavy)})))\n"
        f"sys.argv = ['geno-lewm-score', *{argv!r}]\n"
        "runpy.run_module('geno_lewm.cli.score', run_name='__main__')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "s.jsonl").read_text(encoding="utf-8").count("\n") > 0
    assert "HEAVY []" in out.stdout, out.stdout
