"""Window-cache shard cost at a real model size: ``python -m bench.cache [--output-json bench/results/cache.json]``.

Training writes one RFC-0002 shard per encoded window (``geno_lewm.cache.WindowCache``) and reads
it back on resume. At a Carbon-500M shape a window's hidden states are 1,336 tokens × 1,280 floats
(6.8 MB), and on one H200 the shard writes, not the encoder, set the training-time encode rate
(docs/scoring.md). This measures, in one run and alternating:

- ``WindowCache.store`` and ``WindowCache.load`` per window (the shard writer as it is);
- the same Parquet table written with pyarrow's defaults (a dictionary page and min/max statistics
  for the payload: the writer's former settings), and read back, as the baseline.

at the Carbon-500M shape and at the tiny stand-in's (102 tokens × 64). Random states: the cost
depends on the bytes' size, not their values. Timings of this machine's CPU and disk.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from typing import Any

from bench.report import command_line, finish, host_basics
from ledger.clikit import ArgumentParser, command

SHAPES = {"carbon-500m-8kb": (1336, 1280), "tiny-stand-in-600bp": (102, 64)}


def _former_store(cache: Any, seq: str, hidden: Any) -> None:
    """``cache.store`` with pyarrow's default writer settings (dictionary + statistics): the baseline."""
    import pyarrow.parquet as pq

    write = pq.write_table
    pq.write_table = lambda table, where, **_options: write(table, where)  # drop the shard writer's options
    try:
        cache.store(seq, hidden)
    finally:
        pq.write_table = write


def measure(shape: tuple[int, int], windows: int, rounds: int) -> dict[str, Any]:
    """Median ms per window of store and load, current writer vs pyarrow defaults, over ``rounds`` alternating rounds."""
    import torch

    from geno_lewm.cache import WindowCache

    hidden = torch.randn(*shape)  # (T, H)
    times: dict[str, list[float]] = {"store_ms": [], "load_ms": [], "former_store_ms": [], "former_load_ms": []}
    for r in range(rounds):
        for arm in ("current", "former"):
            with tempfile.TemporaryDirectory(prefix="bench-cache-") as d:
                cache = WindowCache(d, encoder_hash="e" * 64, contract_hash="c" * 64)
                seqs = [f"{'ACGT' * 50}{r:04d}{arm}{i:06d}" for i in range(windows)]
                put = cache.store if arm == "current" else (lambda s, h, c=cache: _former_store(c, s, h))
                t = time.perf_counter()
                for s in seqs:
                    put(s, hidden)
                stored = (time.perf_counter() - t) / windows * 1e3
                t = time.perf_counter()
                for s in seqs:
                    got = cache.load(s)
                    if got is None or not torch.equal(got, hidden):
                        raise RuntimeError("a shard did not read back the states it stored")
                loaded = (time.perf_counter() - t) / windows * 1e3
            prefix = "" if arm == "current" else "former_"
            times[f"{prefix}store_ms"].append(stored)
            times[f"{prefix}load_ms"].append(loaded)
    med = {k: round(statistics.median(v), 2) for k, v in times.items()}
    return {
        "tokens": shape[0],
        "hidden": shape[1],
        "payload_mb": round(shape[0] * shape[1] * 4 / 1e6, 2),
        **med,
        "store_speedup": round(med["former_store_ms"] / med["store_ms"], 2),
        "load_speedup": round(med["former_load_ms"] / med["load_ms"], 2),
        "samples": {k: [round(x, 2) for x in v] for k, v in times.items()},
    }


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(prog="python -m bench.cache", description="Window-cache shard store/load per window, beside pyarrow's default writer settings.")
    p.add_argument("--windows", type=int, default=8, help="shards per round and arm")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds (medians reported)")
    p.add_argument("--output-json", default="bench/results/cache.json")
    args = p.parse_args(argv)
    import torch

    t0 = time.perf_counter()
    shapes = {name: measure(shape, args.windows, args.rounds) for name, shape in SHAPES.items()}
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.cache",
        "what": "ms per window to store and to load one RFC-0002 window-cache shard: the shard writer as it is vs the same table written with pyarrow's defaults (dictionary page + min/max statistics), alternating, medians",
        "shapes": shapes,
        "machine": {**host_basics(), "torch": torch.__version__.split("+")[0]},
        "seconds": round(time.perf_counter() - t0, 1),
        "command": command_line("bench.cache", argv),
        "claim_boundary": "CPU and disk timings of this machine; random states (the cost depends on their size only).",
    }
    return finish(
        args.output_json,
        doc,
        (
            f"{name}: store {s['store_ms']} ms vs {s['former_store_ms']} ms ({s['store_speedup']}×), load {s['load_ms']} ms vs {s['former_load_ms']} ms ({s['load_speedup']}×) per window"
            for name, s in shapes.items()
        ),
    )


main = command(_main, "Run the window-cache benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
