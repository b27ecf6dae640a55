"""Rollout: apply a chain of edits through the predictor alone and compare with measured latents.

A **chain** is a reference window plus SNV edits at distinct offsets, applied in order. Each step
t is predicted without an encoder call on an edited window and compared with the encoder's
**measured** latent of the window with edits 1..t applied (pooled at edit t's locus) by cosine, L2
and Recall@k (is the measured state among the k nearest measured states of the track to the
prediction?). Beside it, the **source state baseline** returns the unedited window's state at edit
t's locus ("nothing changed"). Two modes (:data:`ROLLOUT_MODES`; RFC-0004, RFC-0014):

- ``chained`` (the original definition): start from the reference window's state pooled at the
  first edit's locus and feed each prediction back as the next step's source state.
- ``anchored`` (reference-anchored; models that read edit context only): step t's source is the
  reference window's state pooled at edit t's own locus — every locus is read from the *one*
  encoder pass of the reference window — and the predictor's edit context compares the reference
  window with the window carrying edits 1..t, so every earlier edit within the context radius of
  the locus enters as a changed token. This is the input the predictor was trained on (a source
  pooled at the edit's own locus); chaining feeds it a state pooled hundreds of bases away.
  Earlier edits beyond the context radius are not seen (a documented limitation).

``auto`` picks ``anchored`` for context models and ``chained`` otherwise.

Tracks: ``phased_haplotype`` (per sample haplotype and window, the phased ALT SNVs from VCF
genotypes, in position order) and ``synthetic_edit_chain`` (random SNV chains, seeded). Chains
are SNV-only so every offset stays valid after earlier edits (documented limitation).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Final

from geno_lewm.numerics import canonical_number
from ledger.errors import InputError

GENERATED_BY: Final = "geno-lewm-rollout"
SCHEMA_VERSION: Final = "1.2.0"
TRACKS: Final = ("phased_haplotype", "synthetic_edit_chain")
#: Rollout modes: ``auto`` resolves to ``anchored`` for context models, else ``chained``.
ROLLOUT_MODES: Final = ("auto", "chained", "anchored")


def resolve_mode(package: Any, mode: str = "auto") -> str:
    """The rollout mode actually run for ``package``: ``chained`` or ``anchored`` (``INPUT.BAD_ROLLOUT`` if impossible)."""
    if mode not in ROLLOUT_MODES:
        raise InputError("BAD_ROLLOUT", f"rollout mode must be one of {list(ROLLOUT_MODES)}, got {mode!r}")
    uses_context = bool(getattr(package, "uses_context", False))
    if mode == "auto":
        return "anchored" if uses_context else "chained"
    if mode == "anchored" and not uses_context:
        raise InputError(
            "BAD_ROLLOUT", "the anchored rollout needs a predictor that reads edit context (predictor.context_radius >= 0)", "use --mode chained for this model"
        )
    return mode


@dataclass(frozen=True)
class Chain:
    """A reference window and an ordered list of SNV edits in it."""

    track: str
    label: str
    window: Any  # geno_lewm.windows.Window
    edits: tuple[Any, ...]  # EditSpec, distinct offsets


def synthetic_chains(reference: Any, window_bp: int, *, n_chains: int, steps: int, seed: int) -> list[Chain]:
    """``n_chains`` random SNV chains of ``steps`` edits in the central half of random windows."""
    from geno_lewm.edits import EditSpec
    from geno_lewm.scoring.scorer import WindowPlacer

    if n_chains < 1 or steps < 1:
        raise InputError("BAD_ROLLOUT", "need at least one chain of at least one step")
    rng = random.Random(f"geno-lewm-rollout:{seed}")
    placer = WindowPlacer(reference, window_bp)
    contigs = [c for c in reference.contigs if reference.lengths[c] >= window_bp]
    if not contigs:
        raise InputError("BAD_ROLLOUT", f"no contig is at least {window_bp} bp long")
    out: list[Chain] = []
    tries = 0
    while len(out) < n_chains:
        tries += 1
        if tries > 100 * n_chains:
            raise InputError("BAD_ROLLOUT", "could not place enough synthetic chains (too many N bases?)")
        chrom = rng.choice(contigs)
        win = placer.window_for(chrom, rng.randrange(reference.lengths[chrom]))
        lo, hi = window_bp // 4, window_bp - window_bp // 4
        offsets = rng.sample(range(lo, hi), min(steps, hi - lo))
        edits = []
        for off in offsets:
            base = win.seq[off]
            if base not in "ACGT":
                break
            edits.append(EditSpec(kind="snv", offset=off, ref=base, alt=rng.choice([b for b in "ACGT" if b != base])))
        if len(edits) == steps:
            out.append(Chain("synthetic_edit_chain", f"synthetic-{len(out)}", win, tuple(edits)))
    return out


def haplotype_chains(vcf: Any, reference: Any, window_bp: int, *, max_steps: int = 20, max_chains: int = 10_000) -> list[Chain]:
    """Chains from phased genotypes: per sample, haplotype and window, its ALT SNVs in order."""
    import pysam

    from geno_lewm.edits import EditSpec
    from geno_lewm.scoring.scorer import WindowPlacer

    placer = WindowPlacer(reference, window_bp)
    groups: dict[tuple[str, int, str, int], list[Any]] = {}
    windows: dict[tuple[str, int], Any] = {}
    quiet = pysam.set_verbosity(0)
    try:
        with pysam.VariantFile(str(vcf)) as vf:
            samples = list(vf.header.samples)
            for rec in vf:
                if rec.chrom not in reference.lengths or not rec.alts:
                    continue
                ref = (rec.ref or "").upper()
                if len(ref) != 1 or ref not in "ACGT" or reference.fetch(rec.chrom, rec.pos - 1, rec.pos) != ref:
                    continue
                win = placer.window_for(rec.chrom, rec.pos - 1)
                windows[(rec.chrom, win.start0)] = win
                off = rec.pos - 1 - win.start0
                for s in samples:
                    call = rec.samples[s]
                    gt = call.get("GT")
                    if not gt or not call.phased:
                        continue
                    for h, a in enumerate(gt):
                        if a is None or a == 0:
                            continue
                        alt = rec.alts[a - 1].upper()
                        if len(alt) != 1 or alt not in "ACGT":
                            continue
                        groups.setdefault((rec.chrom, win.start0, s, h), []).append(EditSpec(kind="snv", offset=off, ref=ref, alt=alt))
    except (OSError, ValueError) as exc:
        raise InputError("BAD_VCF", f"could not read phased genotypes: {exc}") from None
    finally:
        pysam.set_verbosity(quiet)
    out: list[Chain] = []
    for (chrom, start0, sample, hap), edits in sorted(groups.items()):
        seen: set[int] = set()
        uniq = [e for e in sorted(edits, key=lambda e: e.offset) if not (e.offset in seen or seen.add(e.offset))]
        out.append(Chain("phased_haplotype", f"{sample}|{hap}@{chrom}:{start0 + 1}", windows[(chrom, start0)], tuple(uniq[:max_steps])))
        if len(out) >= max_chains:
            break
    return out


def _states(package: Any, seqs: list[str], loci: list[int], batch: int = 32, *, with_scales: bool = False):
    """Measured latent states of windows pooled at loci: (N, D) — encoder calls.

    ``with_scales``: ``(states (N, D), pre-normalisation scales (N,))`` from the same passes.
    """
    import torch

    from geno_lewm.state import encode_states

    parts = [encode_states(package.encoder, package.contract, seqs[i : i + batch], loci[i : i + batch], with_scales=True) for i in range(0, len(seqs), batch)]
    states = torch.cat([s for s, _ in parts]) if parts else torch.zeros(0)
    if with_scales:
        return states, (torch.cat([c for _, c in parts]) if parts else torch.zeros(0))
    return states


def rollout_track(
    package: Any, chains: list[Chain], *, k: int = 5, bootstrap: int = 1000, ci_level: float = 0.95, seed: int = 0, mode: str = "auto"
) -> dict[str, Any]:
    """Predicted vs measured latents for every step of every chain; metrics, baseline metrics, intervals.

    ``bootstrap`` chain-level resamples (0: none) give percentile intervals at ``ci_level`` for
    each metric, its source-state value and the paired delta (see :func:`_chain_bootstrap`).
    ``mode`` is one of :data:`ROLLOUT_MODES` (module docstring); the result records the one run.
    """
    from geno_lewm.edits import apply_edit

    mode = resolve_mode(package, mode)
    if not chains:
        return {
            "n": 0,
            "n_chains": 0,
            "mode": mode,
            "metrics": {},
            "baseline": {},
            "per_step": [],
            "bootstrap": {"resamples": bootstrap, "used": 0, "level": ci_level, "seed": seed, "intervals": {}},
        }
    steps = max(len(c.edits) for c in chains)
    # measured targets and source-state baselines, step by step
    seqs, loci, refs, owners = [], [], [], []
    for ci, c in enumerate(chains):
        cur = c.window.seq
        for t, e in enumerate(c.edits):
            cur = apply_edit(cur, e, right_flank=c.window.right_flank)
            seqs.append(cur)
            loci.append(e.locus)
            refs.append(c.window.seq)
            owners.append((ci, t))
    measured = _states(package, seqs, loci)  # (N, D)
    source, scales = _states(package, refs, loci, with_scales=True)  # (N, D), (N,): the reference window at each step's locus
    scales = scales if getattr(package, "uses_scale", False) else None
    index = {o: i for i, o in enumerate(owners)}
    if mode == "anchored":
        pred = _anchored(package, chains, owners, refs, seqs, source, scales)  # (N, D)
    else:
        pred = _chained(package, chains, owners, index, source, steps, measured, scales)  # (N, D)
    m_cos, m_l2, m_hit, kk = _per_example(pred, measured, k)  # (N,) each
    b_cos, b_l2, b_hit, _ = _per_example(source, measured, k)  # (N,) each
    boot = _chain_bootstrap(
        {"cosine": m_cos.tolist(), "l2": m_l2.tolist(), "recall_at_k": m_hit.tolist()},
        {"cosine": b_cos.tolist(), "l2": b_l2.tolist(), "recall_at_k": b_hit.tolist()},
        [ci for ci, _ in owners],
        len(chains),
        resamples=bootstrap,
        seed=seed,
        level=ci_level,
    )
    return {
        "n": len(owners),
        "n_chains": len(chains),
        "mode": mode,
        "max_steps": steps,
        "metrics": {"cosine": _mean(m_cos), "l2": _mean(m_l2), "recall_at_k": _mean(m_hit), "k": kk},
        "baseline": {"cosine": _mean(b_cos), "l2": _mean(b_l2), "recall_at_k": _mean(b_hit), "k": kk},
        "bootstrap": boot,
        "per_step": [
            {"step": t + 1, "n": len(rows_t), **{f"{m}": v for m, v in _metrics(pred[rows_t], measured[rows_t], k, candidates=measured).items() if m != "k"}}
            for t in range(steps)
            if (rows_t := [index[(ci, t)] for ci, c in enumerate(chains) if len(c.edits) > t])
        ],
    }


def _chained(package: Any, chains: list[Chain], owners: list[tuple[int, int]], index: dict, source: Any, steps: int, measured: Any, scales: Any = None) -> Any:
    """The chained rollout: each chain starts at its first locus's source state and feeds predictions back; (N, D).

    ``scales`` (scale-reading models): step t reads the reference window's scale at its own locus
    (a fed-back prediction has no scale of its own).
    """
    import torch

    from geno_lewm.edits import apply_edit

    pred = torch.zeros_like(measured)  # (N, D)
    first = [index[(ci, 0)] for ci in range(len(chains))]
    state = source[first]  # (C, D)
    before = {ci: c.window.seq for ci, c in enumerate(chains)}  # each chain's sequence before step t
    for t in range(steps):
        active = [ci for ci, c in enumerate(chains) if len(c.edits) > t]
        rows = [index[(ci, t)] for ci in active]
        cur = state[active]  # (A, D)
        ctx = [(before[ci], chains[ci].window.right_flank) for ci in active] if getattr(package, "uses_context", False) else None
        nxt = package.predict(cur, [chains[ci].edits[t] for ci in active], ctx, scales=scales[rows] if scales is not None else None)  # (A, D)
        if ctx is not None:
            for ci in active:
                before[ci] = apply_edit(before[ci], chains[ci].edits[t], right_flank=chains[ci].window.right_flank)
        pred[rows] = nxt
        state = state.clone()
        state[active] = nxt  # (C, D): each chain's next source is its own prediction
    return pred


def _anchored(package: Any, chains: list[Chain], owners: list[tuple[int, int]], refs: list[str], seqs: list[str], source: Any, scales: Any = None) -> Any:
    """The reference-anchored rollout: step t = predictor(reference state at locus t, edit t, context ref → edits 1..t); (N, D).

    ``source`` holds the reference window's state pooled at each step's locus (rows of one
    encoder pass per reference window), ``scales`` its pre-normalisation scales (scale-reading
    models); ``seqs`` the window with edits 1..t applied.
    """
    edits = [chains[ci].edits[t] for ci, t in owners]
    windows = [(ref, chains[ci].window.right_flank) for ref, (ci, _) in zip(refs, owners, strict=True)]
    return package.predict(source, edits, windows, alts=seqs, scales=scales)  # (N, D)


def _per_example(pred: Any, target: Any, k: int, *, candidates: Any = None) -> tuple[Any, Any, Any, int]:
    """Per-example cosine, L2 and Recall@k hit of ``pred`` against ``target`` among ``candidates``."""
    import torch

    cands = target if candidates is None else candidates  # (M, D)
    cos = torch.nn.functional.cosine_similarity(pred, target, dim=-1)  # (N,)
    l2 = (pred - target).norm(dim=-1)  # (N,)
    d = torch.cdist(pred, cands)  # (N, M)
    true = torch.cdist(pred, target).diagonal()  # (N,) distance to its own target
    rank = (d < true.unsqueeze(1)).sum(dim=1)  # (N,) candidates strictly closer than the target
    kk = min(k, cands.shape[0])
    return cos, l2, (rank < kk).float(), kk  # (N,), (N,), (N,)


def _mean(values: Any) -> float:
    """Mean in float64 (the precision the bootstrap uses), as a canonical number."""
    return canonical_number(values.double().mean())


def _metrics(pred: Any, target: Any, k: int, *, candidates: Any = None) -> dict[str, float | int]:
    """Mean cosine, mean L2 and Recall@k of ``pred`` against ``target`` among ``candidates``."""
    cos, l2, hit, kk = _per_example(pred, target, k, candidates=candidates)
    return {"cosine": canonical_number(cos.mean()), "l2": canonical_number(l2.mean()), "recall_at_k": canonical_number(hit.mean()), "k": kk}


def _chain_bootstrap(
    model: dict[str, Any], base: dict[str, Any], owners: list[int], n_chains: int, *, resamples: int, seed: int, level: float
) -> dict[str, Any]:
    """Percentile intervals of each metric, its source-state value and the paired delta.

    The unit of resampling is the **chain** (its steps are not independent): one resample draws
    ``n_chains`` chains with replacement and averages the per-example values of every drawn
    chain's steps, for the model and the baseline on the same draw (a paired interval).
    """
    import numpy as np

    if resamples < 1 or n_chains < 2:
        return {"resamples": resamples, "used": 0, "level": level, "seed": seed, "intervals": {}}
    owner = np.asarray(owners, dtype=np.int64)  # (N,) chain of each example
    rng = np.random.Generator(np.random.PCG64(seed))
    draws = rng.integers(0, n_chains, size=(resamples, n_chains))  # (B, C)
    weights = np.stack([np.bincount(d, minlength=n_chains) for d in draws])[:, owner].astype(np.float64)  # (B, N)
    total = weights.sum(axis=1)  # (B,)
    alpha = (1.0 - level) / 2.0
    out: dict[str, Any] = {}
    for m in ("cosine", "l2", "recall_at_k"):
        mv = weights @ np.asarray(model[m], dtype=np.float64) / total  # (B,)
        bv = weights @ np.asarray(base[m], dtype=np.float64) / total  # (B,)
        q = lambda v: [canonical_number(x) for x in np.quantile(v, [alpha, 1.0 - alpha])]  # noqa: E731
        out[m] = {"value": q(mv), "baseline": q(bv), "delta": q(mv - bv)}
    return {"resamples": resamples, "used": resamples, "level": level, "seed": seed, "intervals": out}


#: Header line that marks a VCF's genotypes as synthesized (no real individual's haplotypes).
SYNTHETIC_GENOTYPES_HEADER = "geno_lewm_synthetic_genotypes"


def genotype_source(vcf: Any) -> str:
    """Where a VCF's phased genotypes come from: ``synthetic_genotypes`` when its header says so, else ``vcf_genotypes``."""
    import pysam

    with pysam.VariantFile(str(vcf)) as vf:
        synthetic = any(rec.key == SYNTHETIC_GENOTYPES_HEADER for rec in vf.header.records)
    return "synthetic_genotypes" if synthetic else "vcf_genotypes"


def metrics_rows(track: str, res: dict[str, Any], *, split: str = "test", data_source: str | None = None) -> list[dict[str, Any]]:
    """The documented rollout rows (docs/evaluation.md, "Rollout metrics"): one per track and metric.

    Each row: ``track``, ``split``, ``metric``, ``value``, ``ci_low``/``ci_high``/``ci_level``,
    ``n`` (steps), ``n_chains``, ``k`` (``recall_at_k`` only), ``baseline`` (``source_state``),
    ``baseline_value``, ``delta_vs_baseline`` and ``delta_ci_low``/``delta_ci_high``, and
    ``data_source`` (``synthetic_edit_chains``, ``vcf_genotypes`` or ``synthetic_genotypes``). A
    track without chains has ``n`` 0 and null values.
    """
    rows = []
    boot = res.get("bootstrap") or {}
    intervals = boot.get("intervals") or {}
    level = boot.get("level") if intervals else None
    for name in ("cosine", "l2", "recall_at_k"):
        row: dict[str, Any] = {"track": track, "split": split, "metric": name, "n": res["n"], "n_chains": res["n_chains"], "baseline": "source_state"}
        if data_source is not None:
            row["data_source"] = data_source
        if res["n"] == 0:
            row.update(
                {
                    "value": None,
                    "ci_low": None,
                    "ci_high": None,
                    "ci_level": None,
                    "baseline_value": None,
                    "delta_vs_baseline": None,
                    "delta_ci_low": None,
                    "delta_ci_high": None,
                }
            )
            if name == "recall_at_k":
                row["k"] = None
            rows.append(row)
            continue
        v, b = res["metrics"][name], res["baseline"][name]
        ci = intervals.get(name) or {}
        lo, hi = ci.get("value") or (None, None)
        dlo, dhi = ci.get("delta") or (None, None)
        row.update(
            {
                "value": v,
                "ci_low": lo,
                "ci_high": hi,
                "ci_level": level,
                "baseline_value": b,
                "delta_vs_baseline": canonical_number(v - b),
                "delta_ci_low": dlo,
                "delta_ci_high": dhi,
            }
        )
        if name == "recall_at_k":
            row["k"] = res["metrics"]["k"]
        rows.append(row)
    return rows


__all__ = [
    "GENERATED_BY",
    "ROLLOUT_MODES",
    "SCHEMA_VERSION",
    "SYNTHETIC_GENOTYPES_HEADER",
    "TRACKS",
    "Chain",
    "genotype_source",
    "haplotype_chains",
    "metrics_rows",
    "resolve_mode",
    "rollout_track",
    "synthetic_chains",
]
