"""The scorer: reference windows encoded once, every variant one batched predictor call.

For a chunk of variants (:meth:`Scorer.score`):

1. each variant is placed in its tile's reference window (:mod:`geno_lewm.scoring.batching`) and
   turned into an :class:`~geno_lewm.edits.EditSpec` validated against the window;
2. windows not already in the run's window cache (an LRU of per-window hidden states at the
   contract layer, kept on the encoder's device: on CUDA only the pooled rows reach the host) are
   encoded, ``batch_size`` windows per encoder call: **one encoder pass per distinct window per
   run** for coordinate-sorted input (counted in :attr:`Scorer.stats`);
3. the source state of each variant is pooled at its edit locus by the state contract's one path
   (:func:`geno_lewm.state.pool_states`), and the predictor maps (source state, edit) to the
   predicted latent of the edited window, in micro-batches of exactly :data:`PREDICTOR_BATCH` rows
   (the last one padded by repeating its first row): fixed shapes make each variant's score
   independent of which other variants share its batch, so shards, regions and re-scoring
   reproduce the same bytes (part of the numerical contract, docs/scoring.md);
4. the raw score is ``||predicted − source||_2``: the predicted latent shift.

No encoder call is made for the edited (ALT) window: that is what the zero-shot baseline pays.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from geno_lewm.scoring.batching import tile_centre, tile_index
from geno_lewm.scoring.variants import Variant, VariantIssue
from ledger.errors import InputError

if TYPE_CHECKING:
    import torch

    from geno_lewm.edits import EditSpec
    from geno_lewm.windows import Window


#: Rows per predictor call (fixed, padded): part of the numerical contract.
PREDICTOR_BATCH = 64
#: Memory budget of the per-run LRU of window hidden states (bounded memory at any N and model size).
HIDDEN_CACHE_BYTES = 256 * 2**20


@dataclass(frozen=True, slots=True)
class Placed:
    """A variant placed in its reference window, with its validated edit."""

    variant: Variant
    window: Window
    edit: EditSpec


@dataclass(frozen=True, slots=True)
class Scored:
    """A scored variant: placement plus the raw score (float, not yet canonicalised)."""

    placed: Placed
    score: float

    @property
    def variant(self) -> Variant:
        """The scored variant."""
        return self.placed.variant


@dataclass
class ScorerStats:
    """Work counters of one run (the benchmark and the tests read them)."""

    encoder_calls: int = 0  # forward passes of the encoder
    windows_encoded: int = 0  # windows passed through the encoder (sum of batch sizes)
    distinct_windows: set[tuple[str, int]] = field(default_factory=set)  # (chrom, start0) seen
    predictor_calls: int = 0  # batched predictor calls
    variants_scored: int = 0

    def merge(self, other: ScorerStats) -> None:
        """Add another scorer's counters (a worker process's) to these."""
        self.encoder_calls += other.encoder_calls
        self.windows_encoded += other.windows_encoded
        self.distinct_windows |= other.distinct_windows
        self.predictor_calls += other.predictor_calls
        self.variants_scored += other.variants_scored

    def to_dict(self) -> dict[str, int]:
        """Integers for summaries and reports."""
        return {
            "encoder_calls": self.encoder_calls,
            "windows_encoded": self.windows_encoded,
            "distinct_windows": len(self.distinct_windows),
            "predictor_calls": self.predictor_calls,
            "variants_scored": self.variants_scored,
        }


class RowMemo:
    """A bounded memo of per-row tensor results keyed by everything a row depends on, in preallocated slots.

    Saturation and clustered input repeat the same work row after row: the same edit at the same
    window offset in many windows (its action embedding), the same locus token of the same window
    for the three ALTs of every base (its pooled source state). :meth:`rows` computes the missing
    keys' rows in one call and gathers the requested ones. It is exact because every such row
    depends on its own inputs only, never on the other rows of its batch: the scorer's fixed
    predictor batches rely on the same property, and tests/model/test_edit_context.py compares
    every score of memoised runs with the per-batch computation.

    Rows live in one ``(capacity, …)`` tensor per output, reused oldest slot first: memory is fixed
    at any input size (one small tensor per row fragmented the heap: a worker grew to 922 MB at 10⁶
    variants).
    """

    def __init__(self, *, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._slot: dict[Any, int] = {}
        self._key_at: list[Any] = [None] * capacity
        self._next = 0
        self._store: tuple[torch.Tensor, ...] | None = None

    def __len__(self) -> int:
        return len(self._slot)

    def rows(self, keys: list[Any], compute: Callable[[list[Any]], tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
        """The rows of ``keys`` per output, ``compute(missing keys)`` giving each output's rows for the unseen ones."""
        import torch

        if 2 * len(keys) > self.capacity:
            raise ValueError(f"a memo of {self.capacity} rows cannot serve {len(keys)} keys at once")
        missing = list(dict.fromkeys(k for k in keys if k not in self._slot))
        if missing:
            outs = compute(missing)
            if self._store is None:
                self._store = tuple(torch.empty((self.capacity, *o.shape[1:]), dtype=o.dtype, device=o.device) for o in outs)
            wanted = set(keys)
            slots = []
            for key in missing:
                while self._key_at[self._next] in wanted:  # never reuse the slot of a row this call returns
                    self._next = (self._next + 1) % self.capacity
                slot = self._next
                self._next = (slot + 1) % self.capacity
                old = self._key_at[slot]
                if old is not None:
                    del self._slot[old]
                self._key_at[slot] = key
                self._slot[key] = slot
                slots.append(slot)
            at = torch.tensor(slots, dtype=torch.long)
            for store, out in zip(self._store, outs, strict=True):
                store[at] = out
        assert self._store is not None
        idx = torch.tensor([self._slot[k] for k in keys], dtype=torch.long)
        return tuple(store[idx] for store in self._store)


class WindowPlacer:
    """Places variants in their tile's reference window (shared by the scorer and the baseline)."""

    def __init__(self, reference: Any, window_bp: int, *, capacity: int = 1024) -> None:
        self.reference = reference
        self.window_bp = int(window_bp)
        self.capacity = capacity
        self._windows: OrderedDict[tuple[str, int], Window] = OrderedDict()

    def window_for(self, chrom: str, pos0: int) -> Window:
        """The reference window of the tile holding ``pos0`` (memoised, LRU)."""
        from geno_lewm.windows import reference_window

        tile = tile_index(pos0, self.window_bp)
        key = (chrom, tile)
        win = self._windows.get(key)
        if win is None:
            length = self.reference.lengths[chrom]
            centre = min(tile_centre(tile, self.window_bp), max(length - 1, 0))
            win = reference_window(self.reference.fasta, chrom, centre, self.window_bp)
            self._windows[key] = win
            if len(self._windows) > self.capacity:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(key)
        return win

    def place(self, variant: Variant) -> Placed | VariantIssue:
        """Place ``variant`` and validate its edit; an invalid edit becomes a :class:`VariantIssue`."""
        from geno_lewm.edits import EditSpec

        try:
            win = self.window_for(variant.chrom, variant.pos0)
            edit = EditSpec.from_vcf(win.start0, variant.pos, variant.ref, variant.alt)  # alleles and kind checked here
            edit.validate_placement(win.seq)
        except InputError as err:
            return VariantIssue(variant.chrom, variant.pos, variant.ref, variant.alt, err.code, err.message, variant.vid, variant.alt_index, variant.record)
        return Placed(variant, win, edit)


class Scorer:
    """Scores variants with a loaded :class:`geno_lewm.package.ModelPackage`."""

    def __init__(self, package: Any, reference: Any, *, batch_size: int = 64, cache_windows: int = 256) -> None:
        if batch_size < 1:
            raise InputError("BAD_BATCH_SIZE", f"batch size must be >= 1 (got {batch_size})", "pass --batch-size N with N >= 1")
        self.package = package
        self.reference = reference
        self.contract = package.contract
        self.encoder = package.encoder
        self.window_bp = int(self.contract.window_bp)
        self.batch_size = batch_size
        self.layer = self.contract.resolved_layer(self.encoder.num_layers)
        self.stats = ScorerStats()
        self._hidden: OrderedDict[tuple[str, int], torch.Tensor] = OrderedDict()  # LRU of (T, H)
        # hidden states of one window: ~T tokens x H floats; keep the LRU under HIDDEN_CACHE_BYTES
        # (256 tiny-model windows are 7 MB; 256 Carbon-500M 8 kb windows would be 1.7 GB)
        per_window = max(1, self.encoder.tokenizer.num_tokens(self.window_bp) * int(self.encoder.identity.hidden_size) * 4)
        self._capacity = max(1, min(cache_windows, HIDDEN_CACHE_BYTES // per_window))
        self.placer = WindowPlacer(reference, self.window_bp, capacity=4 * self._capacity)
        self._actions = RowMemo()  # action embedding per edit
        self._states = RowMemo()  # (pooled state, scale) per (chrom, window start, locus token)

    # -- placement -------------------------------------------------------------------------------
    def window_for(self, chrom: str, pos0: int) -> Window:
        """The reference window of the tile holding ``pos0`` (memoised)."""
        return self.placer.window_for(chrom, pos0)

    def place(self, variant: Variant) -> Placed | VariantIssue:
        """Place ``variant`` in its window and validate its edit (issues instead of exceptions)."""
        return self.placer.place(variant)

    # -- encoder side ----------------------------------------------------------------------------
    def _ensure_hidden(self, windows: list[Window]) -> None:
        """Encode the windows not in the LRU, ``batch_size`` per encoder call."""
        missing: list[Window] = []
        seen: set[tuple[str, int]] = set()
        for w in windows:
            key = (w.chrom, w.start0)
            self.stats.distinct_windows.add(key)
            if key in self._hidden:
                self._hidden.move_to_end(key)
            elif key not in seen:
                seen.add(key)
                missing.append(w)
        for i in range(0, len(missing), self.batch_size):
            batch = missing[i : i + self.batch_size]
            hidden = self.encoder.device_hidden_states([w.seq for w in batch], self.layer)  # (B, T, H) on the encoder's device
            self.stats.encoder_calls += 1
            self.stats.windows_encoded += len(batch)
            for w, h in zip(batch, hidden.unbind(0), strict=True):
                self._hidden[(w.chrom, w.start0)] = h.clone()  # (T, H)
        needed = {(w.chrom, w.start0) for w in windows}  # all at the LRU's young end now
        while len(self._hidden) > max(self._capacity, len(needed)):
            self._hidden.popitem(last=False)

    def source_states(self, placed: list[Placed]) -> torch.Tensor:
        """Source latent states pooled at each edit locus: (B, D)."""
        self._ensure_hidden([p.window for p in placed])
        return self._pooled(placed)

    def _pooled(self, placed: list[Placed], *, with_scales: bool = False):
        """Pool from hidden states already in the LRU (no encoder call, no eviction): (B, D).

        ``with_scales``: ``(states (B, D), pre-normalisation scales (B,))`` (``geno_lewm.state.pool_scales``).
        """
        import torch

        from geno_lewm.state import pool_states_and_scales

        tok = self.encoder.tokenizer
        keys = [(p.window.chrom, p.window.start0, tok.locus_token_index(int(p.edit.locus), self.window_bp)) for p in placed]

        def pool(missing: list[tuple[str, int, int]]) -> tuple[torch.Tensor, torch.Tensor]:
            hidden = torch.stack([self._hidden[(chrom, start0)] for chrom, start0, _ in missing])  # (U, T, H)
            idx = torch.tensor([t for _, _, t in missing], dtype=torch.long, device=hidden.device)  # (U,)
            states, scales = pool_states_and_scales(hidden, idx, self.contract)  # (U, D), (U,) where the states live
            return states.cpu(), scales.cpu()

        states, scales = self._states.rows(keys, pool)  # (B, D), (B,)
        return (states, scales) if with_scales else states

    def _actions_of(self, edits: list[EditSpec]) -> torch.Tensor:
        """(B, A) action embeddings, each edit embedded once per run in full :data:`PREDICTOR_BATCH`-row batches."""
        import torch

        def embed(missing: list[EditSpec]) -> tuple[torch.Tensor]:
            parts = []
            for i in range(0, len(missing), PREDICTOR_BATCH):
                part = missing[i : i + PREDICTOR_BATCH]
                with torch.inference_mode():
                    parts.append(self.package.action_encoder.embed(part + [part[0]] * (PREDICTOR_BATCH - len(part)))[: len(part)])  # (n, A)
            return (torch.cat(parts),)

        return self._actions.rows(edits, embed)[0]

    # -- predictor side --------------------------------------------------------------------------
    def _encode_ahead(self, placed: list[Placed], start: int) -> int:
        """Encode the windows of the predictor batches from ``start`` while they fit one encoder batch; return where they end.

        The batches whose windows together number at most ``batch_size`` (always at least one
        batch) are encoded in one go and kept until they are scored: dense input still fills the
        encoder's batches, and the hidden states held at once stay within the window cache's
        budget or ``batch_size`` windows (one batch's, at most :data:`PREDICTOR_BATCH`, if more),
        whatever the chunk size. Holding every window of a sparse chunk at once would be about
        0.9 GB per process at a Carbon-500M shape.
        """
        windows: dict[tuple[str, int], Window] = {}
        end = start
        while end < len(placed):
            add = {(p.window.chrom, p.window.start0): p.window for p in placed[end : end + PREDICTOR_BATCH]}
            if end > start and len(windows.keys() | add.keys()) > self.batch_size:
                break
            windows.update(add)
            end += PREDICTOR_BATCH
        self._ensure_hidden(list(windows.values()))
        return end

    def predict_scores(self, placed: list[Placed]) -> list[float]:
        """Raw scores ``||predict(source, edit) − source||_2`` for placed variants (fixed-shape batches)."""
        import torch

        from geno_lewm.edits import edited_window

        out: list[float] = []
        encoded_to = 0  # placed[:encoded_to] have their windows encoded and kept
        for i in range(0, len(placed), PREDICTOR_BATCH):
            batch = placed[i : i + PREDICTOR_BATCH]
            n = len(batch)
            padded = batch + [batch[0]] * (PREDICTOR_BATCH - n)
            if i >= encoded_to:
                encoded_to = self._encode_ahead(placed, i)
            src, scales = self._pooled(padded, with_scales=True) if self.package.uses_scale else (self._pooled(padded), None)  # (P, D), (P,)|None
            with torch.inference_mode():
                edits = [p.edit for p in padded]
                ctx = alts = None
                if self.package.uses_context:  # each edit was validated when it was placed
                    ctx = [(p.window.seq, p.window.right_flank) for p in padded]
                    alts = [edited_window(p.window.seq, p.edit, right_flank=p.window.right_flank) for p in padded]
                pred = self.package.predict(src, edits, ctx, alts=alts, scales=scales, actions=self._actions_of(edits))  # (P, D)
                shift = (pred.float().cpu() - src.float()).norm(dim=-1)[:n]  # (n,)
            self.stats.predictor_calls += 1
            out.extend(float(x) for x in shift.tolist())
        self.stats.variants_scored += len(out)
        return out

    def score(self, items: list[Variant | VariantIssue]) -> list[Scored | VariantIssue]:
        """Score a chunk of reader items, keeping input order (issues pass through)."""
        results: list[Scored | VariantIssue | Placed] = [it if isinstance(it, VariantIssue) else self.place(it) for it in items]
        placed = [r for r in results if isinstance(r, Placed)]
        scores = iter(self.predict_scores(placed)) if placed else iter(())
        return [Scored(r, next(scores)) if isinstance(r, Placed) else r for r in results]


__all__ = ["HIDDEN_CACHE_BYTES", "RowMemo", "PREDICTOR_BATCH", "Placed", "Scored", "Scorer", "ScorerStats", "WindowPlacer"]
