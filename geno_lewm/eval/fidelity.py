"""World-model fidelity: does the predictor reproduce the frozen encoder's response to an edit, on
sequence it never trained on, better than "return the source state"?

Edits are drawn from regions the model never saw: for the training reference, only the held-out
blocks recorded in the package's ``training_run.json`` (an edit qualifies when every base it
reads — its window plus a deletion's refill — lies in held-out blocks, the split's own span
rule); for any other FASTA, all of it. Each edit sits in the window the scorer would use (its
tile), its reference and edited windows are encoded by the package's encoder through the state
contract's one path, and the predictor's alt state is compared with the encoder's.

Per track (``snv``; ``indel``: insertions, deletions and MNVs): ``mse`` (mean over edits of the
per-dimension squared error, the training loss) beside ``source_state_mse``; mean ``cosine``
beside ``source_state_cosine``; and ``spearman``, the rank correlation between the predicted
shift magnitude ``||pred − source||`` (the score) and the encoder's true shift ``||alt − source||``.
Each comes with a seeded percentile bootstrap interval (:func:`geno_lewm.eval.bootstrap.bootstrap_statistics`).
No labels are needed: this is measurable on any reference.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Final

from ledger.errors import InputError

GENERATED_BY: Final = "bench.fidelity"
SCHEMA_VERSION: Final = "1.0.0"
TRACKS: Final = ("snv", "indel")
_BASES = "ACGT"
CLAIM: Final = "Fidelity of the predictor to its own frozen encoder on held-out sequence; not a measure of biological or clinical skill."


def split_record(model_dir: str | Path) -> dict | None:
    """The region split recorded in the package's ``training_run.json`` (None when absent)."""
    p = Path(model_dir) / "training_run.json"
    if not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    split = doc.get("split")
    return split if isinstance(split, dict) and "heldout_blocks" in split else None


def resolve_regions(mode: str, split: dict | None, contigs: list[str]) -> tuple[str, dict[str, set[int]] | None]:
    """(mode used, held-out blocks per contig or None for "all of it").

    ``auto``: held-out blocks when the package's split names a contig of this FASTA (the training
    reference), else all of the FASTA (another genome).
    """
    if mode not in ("auto", "heldout", "all"):
        raise InputError("BAD_REGIONS", f"--regions must be auto, heldout or all (got {mode!r})")
    blocks: dict[str, set[int]] = {}
    if split is not None:
        for chrom, b in split["heldout_blocks"]:
            blocks.setdefault(str(chrom), set()).add(int(b))
    if mode == "all" or (mode == "auto" and not (set(blocks) & set(contigs))):
        return "all", None
    if split is None:
        raise InputError(
            "NO_SPLIT_RECORD", "the model package has no training_run.json with its region split", "pass --regions all for a FASTA the model never trained on"
        )
    return "heldout", blocks


def draw_edits(
    reference: Any, window_bp: int, *, n: int, track: str, seed: int, heldout: dict[str, set[int]] | None, block_bp: int = 1, max_indel: int = 6
) -> list[tuple[Any, Any]]:
    """``n`` (window, edit) pairs of ``track`` placed as the scorer places them, inside allowed regions."""
    from geno_lewm.edits import EditSpec
    from geno_lewm.scoring.scorer import WindowPlacer
    from geno_lewm.train.data import example_span

    rng = random.Random(f"geno-lewm-fidelity:{seed}:{track}")
    placer = WindowPlacer(reference, window_bp)
    contigs = [c for c in reference.contigs if heldout is None or heldout.get(c)]
    if not contigs:
        raise InputError("NO_HELDOUT_REGION", "no contig of this FASTA has a held-out block", "pass --regions all for a FASTA the model never trained on")
    weights = [reference.lengths[c] for c in contigs]
    out: list[tuple[Any, Any]] = []
    seen: set[tuple[str, int, str, str]] = set()
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 200 * n + 1000:
            raise InputError(
                "TOO_FEW_EDITS", f"could only place {len(out)} of {n} {track} edits in the allowed regions", "lower --n-edits or use a larger held-out region"
            )
        chrom = rng.choices(contigs, weights)[0]
        length = reference.lengths[chrom]
        if heldout is not None:
            b = rng.choice(sorted(heldout[chrom]))
            pos0 = rng.randrange(b * block_bp, min((b + 1) * block_bp, length))
        else:
            pos0 = rng.randrange(length)
        at = reference.fetch(chrom, pos0, pos0 + max_indel + 1)
        if len(at) < max_indel + 1 or any(c not in _BASES for c in at):
            continue
        kind = "snv" if track == "snv" else rng.choice(("ins", "del", "mnv"))
        if kind == "snv":
            ref, alt = at[0], rng.choice([b for b in _BASES if b != at[0]])
        elif kind == "mnv":
            k = rng.choice((2, 3))
            ref, alt = at[:k], "".join(rng.choice([b for b in _BASES if b != r]) for r in at[:k])
        elif kind == "ins":
            ref = at[0]
            alt = ref + "".join(rng.choice(_BASES) for _ in range(rng.randint(1, max_indel)))
        else:
            ref, alt = at[: rng.randint(1, max_indel) + 1], at[0]
        win = placer.window_for(chrom, pos0)
        edit = EditSpec.from_vcf(win.start0, pos0 + 1, ref, alt)
        if edit.offset + len(edit.ref) > win.width or edit.locus >= win.width:
            continue
        if heldout is not None:
            lo, hi = example_span(win.start0, win.width, max(0, -edit.length_delta), length)
            if any(blk not in heldout[chrom] for blk in range(lo // block_bp, (hi - 1) // block_bp + 1)):
                continue
        key = (chrom, pos0, ref, alt)
        if key in seen:
            continue
        seen.add(key)
        out.append((win, edit))
    return out


def measure(package: Any, placed: list[tuple[Any, Any]], *, batch: int = 64) -> dict[str, Any]:
    """Source, encoder-alt and predicted states for placed edits: three (N, D) tensors."""
    import torch

    from geno_lewm.edits import apply_edit
    from geno_lewm.state import encode_states

    src, alt, pred = [], [], []
    for i in range(0, len(placed), batch):
        chunk = placed[i : i + batch]
        loci = [e.locus for _, e in chunk]
        edited = [apply_edit(w.seq, e, right_flank=w.right_flank) for w, e in chunk]
        s, scales = encode_states(package.encoder, package.contract, [w.seq for w, _ in chunk], loci, with_scales=True)  # (b, D), (b,)
        src.append(s)
        alt.append(encode_states(package.encoder, package.contract, edited, loci))  # (b, D)
        ctx = [(w.seq, w.right_flank) for w, _ in chunk] if package.uses_context else None
        pred.append(package.predict(s, [e for _, e in chunk], ctx, scales=scales))  # (b, D)
    return {"source": torch.cat(src), "alt": torch.cat(alt), "pred": torch.cat(pred)}


def track_metrics(states: dict[str, Any], *, resamples: int, seed: int, level: float) -> dict[str, Any]:
    """The track's figures and their bootstrap intervals from measured states."""
    import numpy as np
    import torch

    from geno_lewm.eval.bootstrap import bootstrap_statistics
    from geno_lewm.eval.metrics import spearman_rho

    src, alt, pred = states["source"], states["alt"], states["pred"]
    n = int(src.shape[0])
    se = ((pred - alt) ** 2).mean(-1).numpy().astype(np.float64)  # (N,)
    se0 = ((src - alt) ** 2).mean(-1).numpy().astype(np.float64)  # (N,)
    cos = torch.nn.functional.cosine_similarity(pred, alt, dim=-1).numpy().astype(np.float64)  # (N,)
    cos0 = torch.nn.functional.cosine_similarity(src, alt, dim=-1).numpy().astype(np.float64)  # (N,)
    shift_pred = (pred - src).norm(dim=-1).numpy().astype(np.float64)  # (N,)
    shift_true = (alt - src).norm(dim=-1).numpy().astype(np.float64)  # (N,)
    stats = {
        "mse": lambda i: se[i].mean(),
        "source_state_mse": lambda i: se0[i].mean(),
        "mse_ratio": lambda i: se[i].mean() / max(se0[i].mean(), 1e-30),
        "cosine": lambda i: cos[i].mean(),
        "source_state_cosine": lambda i: cos0[i].mean(),
        "spearman": lambda i: spearman_rho(shift_true[i], shift_pred[i]),
        "mse_delta": lambda i: se[i].mean() - se0[i].mean(),
        "cosine_delta": lambda i: cos[i].mean() - cos0[i].mean(),
    }
    all_rows = np.arange(n)
    point = {k: float(fn(all_rows)) for k, fn in stats.items()}
    ci = bootstrap_statistics(n, stats, resamples=resamples, seed=seed, level=level)
    out: dict[str, Any] = {"n": n}
    for k, v in point.items():
        out[k] = round(v, 6)
        iv = ci[k]
        out[f"{k}_ci"] = [round(iv.low, 6), round(iv.high, 6)] if iv is not None else None
    out["beats_source_state_mse"] = bool(out["mse_ci"] is not None and out["mse"] < out["source_state_mse"])
    return out


def run_fidelity(
    package: Any, fasta: str | Path, *, n_edits: int, seed: int = 0, regions: str = "auto", resamples: int = 1000, level: float = 0.95
) -> dict[str, Any]:
    """The fidelity document (without machine or timing fields) for ``package`` on ``fasta``."""
    from geno_lewm.scoring.reference import Reference

    split = split_record(package.dir)
    with Reference(fasta) as ref:
        used, heldout = resolve_regions(regions, split, list(ref.contigs))
        block_bp = int(split["block_bp"]) if (split is not None and heldout is not None) else 1
        tracks = {}
        for t in TRACKS:
            placed = draw_edits(ref, int(package.contract.window_bp), n=n_edits, track=t, seed=seed, heldout=heldout, block_bp=block_bp)
            tracks[t] = track_metrics(measure(package, placed), resamples=resamples, seed=seed, level=level)
        contigs = {c: ref.lengths[c] for c in ref.contigs}
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "model_id": package.model_id,
        "release_id": package.manifest["release_id"],
        "stand_in": package.stand_in,
        "fasta": {"name": Path(fasta).name, "contigs": contigs},
        "regions": used,
        "seed": seed,
        "bootstrap": {"resamples": resamples, "level": level},
        "tracks": tracks,
        "claim_boundary": CLAIM,
    }


#: Benchmark name of each fidelity track in the evaluation report.
REPORT_BENCHMARKS: Final = {"snv": "world_model_fidelity_snv", "indel": "world_model_fidelity_indel"}


def fidelity_rows(doc: dict[str, Any], where: str, stand_in: bool = False) -> tuple[list[dict], list[dict]]:
    """Benchmarks and metric rows for the evaluation report from a fidelity document.

    Per track: ``mse`` and ``cosine`` beside the ``source_state`` baseline (with the paired
    bootstrap interval of the delta), and ``spearman_rho`` of predicted vs true shift magnitude.
    The split names the regions and the FASTA (``heldout-rCRS_chrM``, ``all-lambda_phage…``).
    """
    from ledger.errors import EvalError

    tracks = doc.get("tracks")
    if doc.get("schema_version", "").split(".")[0] != SCHEMA_VERSION.split(".")[0] or not isinstance(tracks, dict) or not tracks:
        raise EvalError("EMPTY", f"{where}: not a readable fidelity document (schema {SCHEMA_VERSION.split('.')[0]}.x.y with tracks)")
    split = f"{doc.get('regions')}-{Path(str((doc.get('fasta') or {}).get('name', 'fasta'))).stem}"
    level = float((doc.get("bootstrap") or {}).get("level", 0.95))
    benchmarks, rows = [], []
    for track, m in sorted(tracks.items()):
        name = REPORT_BENCHMARKS.get(track, f"world_model_fidelity_{track}")
        n = int(m["n"])
        benchmarks.append(
            {
                "benchmark": name,
                "split": split,
                "track": "fidelity",
                "metric_mode": "fidelity",
                "n": n,
                "k": None,
                "class_balance": None,
                "label_summary": None,
                "label_source": "self_supervised_edits",
                "model_ids": [doc["model_id"]] if isinstance(doc.get("model_id"), str) else [],
                "stand_in": bool(stand_in or doc.get("stand_in")),
                "baseline_names": ["source_state"],
                "evaluated_variant_keys_sha256": None,
                "counts": {"examples": n},
            }
        )
        for metric, key, base_key, delta_key, higher in (
            ("mse", "mse", "source_state_mse", "mse_delta", False),
            ("cosine", "cosine", "source_state_cosine", "cosine_delta", True),
            ("spearman_rho", "spearman", None, None, True),
        ):
            ci = m.get(f"{key}_ci") or [None, None]
            row = {
                "benchmark": name,
                "split": split,
                "track": "fidelity",
                "metric_mode": "fidelity",
                "metric": metric,
                "higher_is_better": higher,
                "value": float(m[key]),
                "ci_low": ci[0],
                "ci_high": ci[1],
                "ci_level": level,
                "n": n,
                "evaluated_variant_keys_sha256": None,
                "baselines": [],
            }
            if base_key is not None:
                dci = m.get(f"{delta_key}_ci") or [None, None]
                row["baselines"].append(
                    {
                        "baseline": "source_state",
                        "baseline_value": float(m[base_key]),
                        "delta_vs_baseline": float(m[key]) - float(m[base_key]),
                        "delta_ci_low": dci[0],
                        "delta_ci_high": dci[1],
                    }
                )
            rows.append(row)
    return benchmarks, rows
