"""The bit-match baseline's model: a tiny stand-in package built deterministically on CPU from a recipe.

The reproducibility gate (INV-REL-2) re-scores a fixed input with a fixed, **committed** model
package (``tests/baselines/bit_match/model``); this module is how that package was made and how
``python -m tools.release.bit_match_baseline --update-baseline --rebuild-model`` remakes it: the
tiny stand-in encoder (``build_tiny_carbon`` with a seed), a short seeded ``train_run`` and a
seeded calibration. Same recipe, same code, same torch/transformers build *on the same machine*
→ same bytes, hence the same ``model_id`` (tests/release_gate builds it twice here and compares).
Another CPU picks other kernels and trains to other last bits, which is why the gate scores the
committed package instead of rebuilding it (docs/numerical-contract.md).

**Pinned identity.** A model package's manifest records the package version it was trained
under (``model.version``, ``model.package_version``, ``release_id``). Left alone, every version
bump would change the baseline model's ``model_id`` and so every score row and output commitment,
and a PATCH could never pass INV-REL-2. The recipe therefore pins those fields
(:data:`PINNED_VERSION`): the manifest is rewritten with them right after training, before
calibration, so the calibration table and the final ``model_id`` derive from the pinned manifest.
Everything else — encoder files (including transformers' ``config.json``), predictor weights,
state contract, calibration table — is exactly what the current code produces.

**Pinned training threads.** ``torch.nn.LayerNorm``'s CPU backward reduces the weight and bias
gradients in per-thread partial sums, so they differ in the last bits between 1 and 2 threads even
with ``torch.use_deterministic_algorithms(True)`` (deterministic for a fixed thread count only).
The action encoder's output LayerNorm carries that into the trained weights, so the recipe pins
training to one thread (``train.threads = 1``; ``train_run`` applies it through
``configure_determinism``). Scoring is forward-only and row-wise, and is thread-count invariant.

Nothing here runs at import time; torch is imported by the functions that need it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Final

#: Version pinned into the baseline model's manifest (see the module docstring).
PINNED_VERSION: Final = "0.1.0"

#: The recipe the committed baseline is made with. Changing it changes the baseline model.
RECIPE: Final[dict[str, Any]] = {
    "schema_version": "1.0.0",
    "encoder": {"seed": 0, "pretrain_steps": 0, "hidden_size": 64, "num_layers": 2},
    "train": {
        "config": "train-tiny-cpu.yaml",
        "seed": 0,
        "steps": 8,
        "warmup_steps": 2,
        "batch_size": 16,
        "synthetic_snvs": 48,
        "synthetic_indels": 16,
        "synthetic_mnvs": 8,
        "d_model": 32,
        "action_dim": 32,
        "threads": 1,  # pinned: LayerNorm's CPU backward sums dγ/dβ per thread (see below)
    },
    "calibration": {"n_null": 120, "seed": 0, "min_count": 10},
    "pinned_version": PINNED_VERSION,
}


def _train_config(recipe: dict[str, Any]):
    """The training config of ``recipe`` (the bundled tiny CPU config with the recipe's overrides)."""
    import msgspec

    from geno_lewm.resources import config_path
    from geno_lewm.train.config import load_config

    t = recipe["train"]
    cfg = load_config(config_path(t["config"]))
    rep = msgspec.structs.replace
    return rep(
        cfg,
        run=rep(cfg.run, seed=int(t["seed"])),
        runtime=rep(cfg.runtime, device="cpu", threads=int(t["threads"]), deterministic=True),
        optim=rep(cfg.optim, steps=int(t["steps"]), warmup_steps=int(t["warmup_steps"]), batch_size=int(t["batch_size"])),
        data=rep(cfg.data, synthetic_snvs=int(t["synthetic_snvs"]), synthetic_indels=int(t["synthetic_indels"]), synthetic_mnvs=int(t["synthetic_mnvs"])),
        checkpoint=rep(cfg.checkpoint, every_steps=int(t["steps"]), log_every=int(t["steps"])),
        predictor=rep(cfg.predictor, d_model=int(t["d_model"]), mlp_ratio=2),
        action=rep(cfg.action, dim=int(t["action_dim"])),
    )


def pin_manifest_version(model_dir: str | os.PathLike[str], version: str) -> str:
    """Rewrite the package manifest's version fields to ``version``; return the new ``model_id``.

    ``model.version`` and ``model.package_version`` become ``version`` and the release id's
    version part is replaced; artifacts are verified first (``PROVENANCE.*`` if one changed).
    """
    import msgspec

    from geno_lewm.package import read_manifest, verify_package, write_manifest
    from geno_lewm.versioning import ReleaseId, SemVer

    verify_package(model_dir)
    man = read_manifest(model_dir)
    rid = ReleaseId.parse(man.release_id)
    release = str(ReleaseId(SemVer.parse(version), rid.encoder_id, rid.revision))
    model = msgspec.structs.replace(man.model, version=version, package_version=version)
    return write_manifest(model_dir, msgspec.structs.replace(man, model=model, release_id=release))


class _restore_threads:
    """Context manager putting torch's intra-op thread count back to ``n`` on exit."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.set_num_threads(self.n)


def build_baseline_model(
    out_dir: str | os.PathLike[str],
    recipe: dict[str, Any] | None = None,
    *,
    fasta: str | os.PathLike[str] | None = None,
    vcf: str | os.PathLike[str] | None = None,
) -> str:
    """Build the recipe's model package into ``out_dir`` (new or empty) on CPU; return its ``model_id``.

    Steps: tiny stand-in encoder from the recipe's seed → seeded ``train_run`` on the bundled chrM
    example (FASTA + VCF) → version fields pinned → seeded calibration (``calibrate_package``).
    The training run's clock- and random-dependent bookkeeping (``training_run.json``, logs, the
    window cache) is not part of the manifest, so it does not move the ``model_id``; it is removed
    from the package except ``training_run.json``, which calibration reads for its null set.
    """
    from ledger.errors import InputError

    from geno_lewm.encoder.tiny import build_tiny_carbon
    from geno_lewm.package import model_id_of
    from geno_lewm.resources import example_path
    from geno_lewm.scoring.calibrate import calibrate_package
    from geno_lewm.train.loop import train_run

    import torch

    rec = recipe or RECIPE
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise InputError("OUTPUT_EXISTS", f"{out.name} already exists and is not empty", "choose an empty or new directory")
    fasta = Path(fasta) if fasta is not None else example_path("rCRS_chrM.fa")
    vcf = Path(vcf) if vcf is not None else example_path("mt_known_variants.vcf")
    e = rec["encoder"]
    threads_before = torch.get_num_threads()  # train_run pins the recipe's count process-wide
    with tempfile.TemporaryDirectory(prefix="geno-lewm-baseline-") as tmp, _restore_threads(threads_before):
        work = Path(tmp)
        # private copies: the FASTA index the scorer writes must not land in the checkout
        shutil.copyfile(fasta, work / "ref.fa")
        shutil.copyfile(vcf, work / "variants.vcf")
        enc = build_tiny_carbon(
            work / "encoder", seed=int(e["seed"]), pretrain_steps=int(e["pretrain_steps"]), hidden_size=int(e["hidden_size"]), num_layers=int(e["num_layers"])
        )
        train_run(_train_config(rec), model_dir=enc, run_dir=work / "model", fasta=work / "ref.fa", vcf=work / "variants.vcf", progress=False)
        run = work / "model"
        for extra in ("window_cache", ".index"):
            shutil.rmtree(run / extra, ignore_errors=True)
        pin_manifest_version(run, str(rec["pinned_version"]))
        c = rec["calibration"]
        calibrate_package(run, work / "ref.fa", n_null=int(c["n_null"]), seed=int(c["seed"]), min_count=int(c["min_count"]), device="cpu")
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()
        shutil.copytree(run, out)
    return model_id_of(out)


__all__ = ["PINNED_VERSION", "RECIPE", "build_baseline_model", "pin_manifest_version"]
