"""Every loss term sends gradient to the trainable parameters and none to the frozen encoder."""

from __future__ import annotations

import msgspec
import torch

from geno_lewm.edits import EditSpec, apply_edit
from geno_lewm.model.action import edits_to_tensors
from geno_lewm.model.losses import sigreg
from geno_lewm.state import StateContract, encode_states
from geno_lewm.train.loop import build_modules, loss_terms
from tests.model.conftest import small_config


def _batch(tiny_encoder, chrm_seq, n=8):
    c = StateContract(window_bp=120)
    wins, edits = [], []
    for i in range(n):
        w = chrm_seq[300 * i : 300 * i + 120]
        edits.append(EditSpec(kind="snv", offset=40 + i, ref=w[40 + i], alt="A" if w[40 + i] != "A" else "C"))
        wins.append(w)
    loci = [e.locus for e in edits]
    src = encode_states(tiny_encoder, c, wins, loci)  # (B, D)
    tgt = encode_states(tiny_encoder, c, [apply_edit(w, e) for w, e in zip(wins, edits)], loci)  # (B, D)
    return src, tgt, edits


def _grads(modules):
    return {n: p.grad for m in modules for n, p in m.named_parameters(prefix=type(m).__name__)}


def test_gradient_every_loss_term_reaches_trainable_params_not_encoder(tiny_encoder, chrm_seq):
    for on in ("action", "predicted"):
        cfg = small_config()
        cfg = msgspec.structs.replace(cfg, loss=msgspec.structs.replace(cfg.loss, sigreg_on=on), state=StateContract(window_bp=120))
        action, predictor, _ = build_modules(cfg, state_dim=64, k=6)
        src, tgt, edits = _batch(tiny_encoder, chrm_seq)
        acts = edits_to_tensors(edits, action.cfg)
        opt = torch.optim.SGD(list(action.parameters()) + list(predictor.parameters()), lr=0.05)
        for _ in range(2):  # leave the zero-initialised residual head so every path is live
            opt.zero_grad()
            loss_terms(cfg, action, predictor, src, tgt, acts)["loss"].backward()
            opt.step()
        for term in ("mse", "sigreg"):
            opt.zero_grad(set_to_none=True)
            tiny_encoder.model.zero_grad(set_to_none=True)
            terms = loss_terms(cfg, action, predictor, src, tgt, acts, generator=torch.Generator().manual_seed(0))
            terms[term].backward()
            grads = _grads([action, predictor])
            nonzero = [n for n, g in grads.items() if g is not None and g.abs().sum() > 0]
            assert nonzero, f"{term} ({on}) sends no gradient"
            if term == "mse":
                assert set(nonzero) == set(grads), f"mse misses {set(grads) - set(nonzero)}"
            if term == "sigreg":
                assert any(n.startswith("ActionEncoder") for n in nonzero)
            assert all(p.grad is None for p in tiny_encoder.model.parameters()), "frozen encoder got gradient"
            assert not any(p.requires_grad for p in tiny_encoder.model.parameters())


def test_gradient_sigreg_on_frozen_encoder_latents_would_be_dead(tiny_encoder, chrm_seq):
    """The pitfall the design avoids: SIGReg on the encoder's own (frozen) latents has no gradient."""
    src, _, _ = _batch(tiny_encoder, chrm_seq)
    assert not src.requires_grad
    z = torch.randn(64, 16, requires_grad=True)
    sigreg(z, generator=torch.Generator().manual_seed(0)).backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_gradient_sigreg_detects_non_gaussian_latents():
    g = torch.Generator().manual_seed(0)
    gauss = torch.randn(512, 16, generator=g)
    collapsed = torch.zeros(512, 16) + 0.01 * torch.randn(512, 16, generator=g)
    assert sigreg(gauss, generator=torch.Generator().manual_seed(1)) * 5 < sigreg(collapsed, generator=torch.Generator().manual_seed(1))


def test_untrained_predictor_returns_the_source_state():
    cfg = small_config()
    action, predictor, _ = build_modules(cfg, state_dim=64, k=6)
    src = torch.randn(4, 1, 64)  # (B, K, D)
    a = action.embed([EditSpec(kind="snv", offset=i, ref="A", alt="C") for i in range(4)])  # (B, A)
    assert torch.equal(predictor(src, a), src[:, -1])
