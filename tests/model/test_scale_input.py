"""The source-scale input (RFC-0014): the predicted change is divided by the pooled source vector's
pre-normalisation scale, which the normalised state cannot carry. Off by default: older configs,
manifests and states keep their bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.model.conftest import small_config


def test_pool_scales_is_what_the_layer_norm_divides_by(tiny_encoder, chrm_seq):
    from geno_lewm.state import StateContract, _pooled_mean, encode_states, locus_token_indices, pool_scales, pool_states

    contract = StateContract()
    windows = [chrm_seq[i : i + 600] for i in (0, 4000, 9000)]
    loci = [10, 300, 590]
    hidden = tiny_encoder.hidden_states(windows, contract.resolved_layer(tiny_encoder.num_layers))  # (3, T, H)
    idx = locus_token_indices(tiny_encoder.tokenizer, contract, loci)
    z = _pooled_mean(hidden, idx, contract)  # (3, H)
    scales = pool_scales(hidden, idx, contract)  # (3,)
    torch.testing.assert_close((z - z.mean(-1, keepdim=True)) / scales.unsqueeze(-1), pool_states(hidden, idx, contract))
    plain = encode_states(tiny_encoder, contract, windows, loci)
    states, again = encode_states(tiny_encoder, contract, windows, loci, with_scales=True)
    assert torch.equal(plain, states) and torch.equal(again, scales)  # the state's bytes do not move


def test_scale_input_is_off_by_default_and_left_out_of_old_configs():
    from geno_lewm.model.config import PredictorConfig
    from geno_lewm.model.predictor import Predictor
    from geno_lewm.train.config import resolved_payload

    assert "scale_input" not in resolved_payload(small_config())["predictor"]
    assert "scale_input" not in PredictorConfig().to_manifest()
    assert PredictorConfig(scale_input=True).to_manifest()["scale_input"] is True
    assert "scale_ref" not in Predictor(PredictorConfig()).state_dict()


def test_predicted_change_scales_with_the_inverse_of_the_source_scale():
    from geno_lewm.model.config import PredictorConfig
    from geno_lewm.model.predictor import Predictor

    torch.manual_seed(0)
    p = Predictor(PredictorConfig(state_dim=16, d_model=16, action_dim=8, context_radius=1, scale_input=True))
    for prm in p.parameters():  # leave the zero initialisation so the change is not zero
        torch.nn.init.normal_(prm, std=0.1)
    s, a, c = torch.randn(3, 1, 16), torch.randn(3, 8), torch.randn(3, 3, 32)
    one = p(s, a, c, torch.ones(3)) - s[:, -1]
    two = p(s, a, c, 2 * torch.ones(3)) - s[:, -1]
    torch.testing.assert_close(two, one / 2)
    with pytest.raises(ValueError):
        p(s, a, c)


def test_scale_model_trains_packages_and_needs_scales(scale_run):
    from geno_lewm.edits import EditSpec
    from geno_lewm.package import ModelPackage
    from ledger.errors import InputError

    man = json.loads((scale_run / "manifest.json").read_text())
    assert man["architecture"]["predictor"]["scale_input"] is True
    pkg = ModelPackage.load(scale_run, device="cpu")
    assert pkg.uses_scale and pkg.uses_context
    assert 0.0 < float(pkg.predictor.scale_ref) != 1.0  # the training sources' median, saved with the weights
    with pytest.raises(InputError) as err:
        pkg.predict(torch.zeros(1, 64), [EditSpec(kind="snv", offset=3, ref="A", alt="G")], [("A" * 600, "")])
    assert err.value.code == "INPUT.MISSING_SCALE"


def test_scale_model_scores_measures_and_rolls_out(scale_run, tmp_path: Path):
    """The scorer, the fidelity benchmark and the rollout all pass the scale from their one encoder pass."""
    from geno_lewm.eval.fidelity import run_fidelity
    from geno_lewm.package import ModelPackage
    from geno_lewm.resources import example_path
    from geno_lewm.rollout import rollout_track, synthetic_chains
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.scorer import Scorer
    from geno_lewm.scoring.variants import Variant

    pkg = ModelPackage.load(scale_run, device="cpu")
    with Reference(example_path("rCRS_chrM.fa")) as ref:
        seq = ref.fetch("chrM", 0, ref.lengths["chrM"])
        variants = [Variant("chrM", p + 1, seq[p], "A" if seq[p] != "A" else "G") for p in (5000, 5010, 9000)]
        scorer = Scorer(pkg, ref)
        scored = scorer.score(variants)
        assert all(s.score > 0 for s in scored) and scorer.stats.windows_encoded == len(scorer.stats.distinct_windows)
        res = rollout_track(pkg, synthetic_chains(ref, 600, n_chains=3, steps=4, seed=0), bootstrap=0)
        assert res["mode"] == "anchored" and res["n"] == 12
    doc = run_fidelity(pkg, example_path("rCRS_chrM.fa"), n_edits=12, resamples=10)
    assert doc["tracks"]["snv"]["n"] == 12 and isinstance(doc["tracks"]["snv"]["spearman"], float)
