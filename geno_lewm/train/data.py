"""Training examples: reference windows from an indexed FASTA, edits from a VCF plus synthetic edits,
and a deterministic held-out split by region with a leakage check.

Split rule: each contig is cut into ``split_block_bp`` blocks; a block is held out when
``sha256(seed:chrom:block)`` falls below ``heldout_fraction``. An example's **span** is every
contig base it reads: its window plus, for a deletion, the right-flank bases that refill the
edited window (:func:`example_span`, clipped to the contig). An example belongs to a split only if
every block its span touches is in that split; examples whose span straddles both are dropped and
counted. Blocks are disjoint, so a train span and a held-out span can never share a base, at any
data size; :func:`check_leakage` re-checks exactly that, over the same spans. (Windows are clamped
inside their contig and never wrap, so a circular contig such as chrM needs no special case: its
first and last windows share no base.)
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

from ledger.canonical import canonical_json, sha256_hex
from ledger.errors import InputError, ResourceError, TrainingError
from ledger.identity import sha256_file

from geno_lewm.edits import EditSpec, apply_edit
from geno_lewm.train.config import DataConfig
from geno_lewm.windows import Window, open_fasta, reference_window

_BASES = "ACGT"


@dataclass(frozen=True)
class Example:
    """One training example: a reference window, an edit in it and the edited window."""

    chrom: str
    start0: int
    window: str
    edit: EditSpec
    edited: str
    source: str  # "vcf" or "synthetic"
    split: str  # "train" or "heldout"
    span: tuple[int, int] | None = None  # contig bases [lo, hi) the example reads (window + deletion flank)


@dataclass(frozen=True)
class SplitInfo:
    """The recorded split: id, seed, blocks per side and counts."""

    split_id: str
    seed: int
    heldout_fraction: str
    block_bp: int
    heldout_blocks: list[list]
    n_train: int
    n_heldout: int
    n_dropped_straddling: int

    def to_dict(self) -> dict:
        """Float-free dict for training_run.json."""
        return dict(self.__dict__)


def block_is_heldout(seed: int, chrom: str, block: int, fraction: float) -> bool:
    """Deterministic region assignment: hash of (seed, chrom, block) below ``fraction``."""
    h = hashlib.sha256(f"{seed}:{chrom}:{block}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < fraction


def example_span(start0: int, width: int, extra: int, contig_len: int) -> tuple[int, int]:
    """Contig bases ``[lo, hi)`` read by a window at ``start0`` of ``width`` bases plus ``extra`` flank bases."""
    return max(start0, 0), min(start0 + width + extra, contig_len)


def assign_split(chrom: str, span: tuple[int, int], *, seed: int, block_bp: int, fraction: float) -> str | None:
    """``"train"``/``"heldout"`` when every block ``span`` touches is on that side, else None (straddles)."""
    lo, hi = span
    blocks = range(lo // block_bp, max(hi - 1, lo) // block_bp + 1)
    sides = {block_is_heldout(seed, chrom, b, fraction) for b in blocks}
    if len(sides) != 1:
        return None
    return "heldout" if sides.pop() else "train"


def _split_of(win: Window, extra: int, seed: int, cfg: DataConfig, contig_len: int) -> str | None:
    span = example_span(win.start0, win.width, extra, contig_len)
    return assign_split(win.chrom, span, seed=seed, block_bp=cfg.split_block_bp, fraction=cfg.heldout_fraction)


def _vcf_records(vcf_path: Path):
    import pysam

    if not vcf_path.is_file():
        raise ResourceError("MISSING_VCF", f"VCF file {vcf_path.name!r} not found", "pass --vcf (or a --dataset-dir holding one)")
    if vcf_path.name.endswith(".gz") and not (Path(f"{vcf_path}.tbi").is_file() or Path(f"{vcf_path}.csi").is_file()):
        raise ResourceError("VCF_INDEX", f"{vcf_path.name} has no tabix index", "index it with `tabix -p vcf` (pysam.tabix_index)")
    try:
        with pysam.VariantFile(str(vcf_path)) as vf:
            for rec in vf:
                for alt in rec.alts or ():
                    yield rec.chrom, rec.pos, rec.ref, alt
    except (OSError, ValueError) as exc:
        raise InputError("BAD_VCF", f"could not read {vcf_path.name}: {exc}") from None


def _random_edit(rng: random.Random, kind: str, seq_at: str, max_indel: int) -> tuple[str, str]:
    """(ref, alt) for a synthetic edit whose reference starts with ``seq_at``."""
    if kind == "snv":
        ref = seq_at[0]
        return ref, rng.choice([b for b in _BASES if b != ref])
    if kind == "mnv":
        n = rng.choice((2, 3))
        ref = seq_at[:n]
        alt = "".join(rng.choice([b for b in _BASES if b != r]) for r in ref)
        return ref, alt
    n = rng.randint(1, max_indel)
    if kind == "ins":
        return seq_at[0], seq_at[0] + "".join(rng.choice(_BASES) for _ in range(n))
    return seq_at[: n + 1], seq_at[0]


def _window_for(fasta, chrom: str, pos0: int, window_bp: int, placement: str, contig_len: int) -> Window:
    """The window an example is read in: centred on the edit, or the scorer's tile window (``data.placement``)."""
    if placement == "tile":
        from geno_lewm.scoring.batching import tile_centre, tile_index

        pos0 = min(tile_centre(tile_index(pos0, window_bp), window_bp), max(contig_len - 1, 0))
    return reference_window(fasta, chrom, pos0, window_bp)


def build_examples(
    fasta_path: str | os.PathLike[str],
    vcf_path: str | os.PathLike[str] | None,
    cfg: DataConfig,
    *,
    window_bp: int,
    seed: int,
    index_dir: str | os.PathLike[str] | None = None,
) -> tuple[list[Example], SplitInfo]:
    """All examples (VCF + synthetic), each assigned to train/heldout by the region split."""
    fasta = open_fasta(fasta_path, index_dir=index_dir)
    rng = random.Random(seed)
    contigs = [(c, fasta.get_reference_length(c)) for c in fasta.references]
    genome = sum(n for _, n in contigs)
    raw: list[tuple[str, int, str, str, str]] = []  # chrom, pos1, ref, alt, source
    if cfg.use_vcf and vcf_path is not None:
        names = dict(contigs)
        for chrom, pos1, ref, alt in _vcf_records(Path(vcf_path)):
            if chrom not in names:
                raise InputError("UNKNOWN_CONTIG", f"VCF contig {chrom!r} is not in the FASTA", "use matching contig names")
            raw.append((chrom, pos1, ref.upper(), alt.upper(), "vcf"))
    plan = ["snv"] * cfg.synthetic_snvs + ["mnv"] * cfg.synthetic_mnvs
    plan += ["ins", "del"] * (cfg.synthetic_indels // 2) + ["ins"] * (cfg.synthetic_indels % 2)
    for kind in plan:
        for _ in range(100):  # redraw positions that sit on N or run off the contig
            r = rng.randrange(genome)
            for chrom, n in contigs:
                if r < n:
                    break
                r -= n
            at = fasta.fetch(chrom, r, min(n, r + cfg.max_indel_len + 1)).upper()
            if len(at) >= cfg.max_indel_len + 1 and all(b in _BASES for b in at):
                ref, alt = _random_edit(rng, kind, at, cfg.max_indel_len)
                raw.append((chrom, r + 1, ref, alt, "synthetic"))
                break
    examples: list[Example] = []
    dropped = 0
    lengths = dict(contigs)
    for chrom, pos1, ref, alt, source in raw:
        win = _window_for(fasta, chrom, pos1 - 1, window_bp, cfg.placement, lengths[chrom])
        edit = EditSpec.from_vcf(win.start0, pos1, ref, alt)
        if cfg.placement == "tile" and (edit.offset + len(edit.ref) > win.width or edit.locus >= win.width):
            dropped += 1  # the scorer reports such an edit as EDIT_OUT_OF_WINDOW; nothing to learn from it
            continue
        extra = max(0, -edit.length_delta)
        split = _split_of(win, extra, seed, cfg, lengths[chrom])
        if split is None:
            dropped += 1
            continue
        edited = apply_edit(win.seq, edit, right_flank=win.right_flank)
        span = example_span(win.start0, win.width, extra, lengths[chrom])
        examples.append(Example(chrom, win.start0, win.seq, edit, edited, source, split, span))
    heldout_blocks = sorted(
        [c, b] for c, n in contigs for b in range((n + cfg.split_block_bp - 1) // cfg.split_block_bp) if block_is_heldout(seed, c, b, cfg.heldout_fraction)
    )
    spec = {"seed": seed, "heldout_fraction": repr(cfg.heldout_fraction), "block_bp": cfg.split_block_bp, "heldout_blocks": heldout_blocks}
    n_train = sum(e.split == "train" for e in examples)
    info = SplitInfo(
        split_id=sha256_hex(canonical_json(spec)),
        seed=seed,
        heldout_fraction=repr(cfg.heldout_fraction),
        block_bp=cfg.split_block_bp,
        heldout_blocks=heldout_blocks,
        n_train=n_train,
        n_heldout=len(examples) - n_train,
        n_dropped_straddling=dropped,
    )
    check_leakage(examples)
    if n_train == 0 or info.n_heldout == 0:
        raise TrainingError(
            "EMPTY_SPLIT",
            f"the region split left {n_train} train and {info.n_heldout} held-out examples",
            "add edits (data.synthetic_*) or change data.heldout_fraction / data.split_block_bp",
        )
    return examples, info


def check_leakage(examples: list[Example], *, flank: int = 0) -> None:
    """``TRAINING.SPLIT_LEAKAGE`` if any train example's span shares a base with a held-out one's.

    An example's span is :attr:`Example.span` (what it reads, the quantity the split rule
    assigns); an example without one falls back to its window plus ``flank`` bases.
    """
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for e in examples:
        lo, hi = e.span if e.span is not None else (e.start0, e.start0 + len(e.window) + flank)
        spans.setdefault(e.chrom, []).append((lo, hi, e.split))
    for chrom, rows in spans.items():
        rows.sort()
        last_end = {"train": -(10**18), "heldout": -(10**18)}
        for start, end, split in rows:
            other = "heldout" if split == "train" else "train"
            if start < last_end[other]:
                raise TrainingError(
                    "SPLIT_LEAKAGE",
                    f"a {split} window at {chrom}:{start + 1} overlaps a {other} window",
                    "the region split must keep train and held-out windows apart",
                )
            last_end[split] = max(last_end[split], end)


def dataset_snapshot_id(fasta_path: str | os.PathLike[str], vcf_path: str | os.PathLike[str] | None, dataset_dir: str | os.PathLike[str] | None = None) -> str:
    """The dataset snapshot id: the dataset package's own id when present, else a content hash.

    With ``dataset_dir``: ``snapshot_id`` / ``dataset_snapshot_id`` from dataset_snapshot_report.json
    or dataset_package.json. Otherwise ``content-sha256:<hash of the FASTA and VCF bytes>``.
    """
    import json

    if dataset_dir is not None:
        for name in ("dataset_snapshot_report.json", "dataset_package.json"):
            p = Path(dataset_dir) / name
            if p.is_file():
                try:
                    doc = json.loads(p.read_text(encoding="utf-8"))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise InputError("BAD_DATASET", f"{name} is not valid JSON") from None
                for key in ("snapshot_id", "dataset_snapshot_id"):
                    if isinstance(doc.get(key), str) and doc[key]:
                        return doc[key]
    parts = []
    for p in (fasta_path, vcf_path):
        if p is not None:
            digest, size = sha256_file(p)
            parts.append({"name": Path(p).name, "sha256": digest, "size": size})
    return "content-sha256:" + sha256_hex(canonical_json(parts))
