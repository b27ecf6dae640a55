"""Ledger benchmark: append (single, batched), verify (with/without signatures), replay, status start-up.

Run ``python -m bench.ledger [--events 100000]``; figures are printed beside their goals (and the
ratio), and written to ``bench/results/ledger.json``. :func:`build_ledger` builds a synthetic
N-event ledger quickly (the cockpit benchmark reuses it).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import write_json
from ledger.keys import Signer
from ledger.store import Ledger

RESULTS = Path(__file__).resolve().parent / "results" / "ledger.json"
GOALS = {
    "append_batched_events_per_s": (20_000, "higher"),
    "verify_full_events_per_s": (12_000, "higher"),
    "verify_chain_merkle_events_per_s": (200_000, "higher"),
    "status_startup_s": (0.5, "lower"),
}

_STEPS = ["dataset_snapshot", "dataset_package", "train", "calibrate", "eval", "package"]


def _synthetic(i: int) -> tuple[str, dict]:
    """A realistic mix of event kinds for synthetic ledgers."""
    r = i % 10
    run, step = f"run-{i // 10}", _STEPS[(i // 10) % len(_STEPS)]
    if r == 0:
        return "step_started", {"run_id": run, "step": step, "argv": ["python", "-m", f"tools.release.{step}"]}
    if r in (1, 2, 3, 4):
        return "artifact_recorded", {
            "run_id": run,
            "step": step,
            "role": "output" if r % 2 else "input",
            "path": f"release/{step}/file-{i}.json",
            "sha256": f"{i:064x}",
            "size": 1000 + i,
        }
    if r == 9:
        return (
            ("step_passed", {"run_id": run, "step": step})
            if i % 7
            else ("step_failed", {"run_id": run, "step": step, "code": "EVAL.LOW_AUROC", "message": "below threshold"})
        )
    return "note", {"text": f"synthetic note {i}", "tags": ["bench"]}


def build_ledger(path: str | os.PathLike[str], n: int, *, signer: Signer | None = None, batch: int = 10_000, checkpoint_every: int = 10_000) -> Signer:
    """Create a ledger at ``path`` with about ``n`` events (genesis, gates, a realistic mix, checkpoints); return its signer."""
    signer = signer or Signer.generate()
    led = Ledger.init(path, signer)
    size = (
        led.append(
            "gates_defined",
            {"gates": [{"name": s, "steps": [s], "issue_refs": [f"#{k}"], "needs": [_STEPS[k - 1]] if k else []} for k, s in enumerate(_STEPS)]},
            signer,
        )
        + 1
    )
    i = 0
    since_cp = 0
    while size < n:  # each append/checkpoint returns its seqs, so the head is known without re-reading it
        k = min(batch, n - size - 1) if n - size > 1 else 1
        size = led.append_many([_synthetic(i + j) for j in range(k)], signer)[-1] + 1
        i += k
        since_cp += k
        if since_cp >= checkpoint_every or size >= n - 1:
            size = led.checkpoint(signer) + 1
            since_cp = 0
    return signer


def _status_startup(ledger_path: Path, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ledger.cli", "status", "--ledger", str(ledger_path)], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(n: int = 100_000, single: int = 200) -> dict:
    """Run every measurement; return the results dict."""
    out: dict = {
        "schema_version": "1.0.0",
        "generated_by": "bench.ledger",
        "events": n,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
    }  # other work on the machine skews every figure
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "bench.duckdb"
        t = time.perf_counter()
        signer = build_ledger(p, n)
        out["append_batched_events_per_s"] = round(n / (time.perf_counter() - t))
        led = Ledger.open(p)
        t = time.perf_counter()
        for i in range(single):
            led.append("note", {"text": f"single {i}"}, signer)
        out["append_single_events_per_s"] = round(single / (time.perf_counter() - t), 1)
        size = led.head()[0]
        t = time.perf_counter()
        rep = led.verify(signatures=True)
        assert rep.ok, rep
        out["verify_full_events_per_s"] = round(size / (time.perf_counter() - t))
        t = time.perf_counter()
        rep = led.verify(signatures=False)
        assert rep.ok, rep
        out["verify_chain_merkle_events_per_s"] = round(size / (time.perf_counter() - t))
        from ledger.projections import replay

        t = time.perf_counter()
        replay(led)
        out["replay_events_per_s"] = round(size / (time.perf_counter() - t))
        out["status_startup_s"] = round(_status_startup(p), 3)
        out["file_bytes"] = p.stat().st_size
    out["goals"] = {}
    for key, (goal, better) in GOALS.items():
        val = out[key]
        ratio = val / goal if better == "higher" else goal / val
        out["goals"][key] = {"goal": goal, "value": val, "ratio": round(ratio, 2), "met": ratio >= 1.0}
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print figures beside goals, write bench/results/ledger.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="ledger size (default 100000)")
    parser.add_argument("--out", default=str(RESULTS), help="results JSON path")
    args = parser.parse_args(argv)
    res = run(args.events)
    print(f"ledger benchmark: {res['events']} events, {res['cpu_count']} cores, load average {res['load_avg_1m_at_start']} at start")
    print(f"  append single       {res['append_single_events_per_s']:>10} events/s   (no goal)")
    for key, g in res["goals"].items():
        verdict = "met" if g["met"] else "MISSED"
        print(f"  {key:<34} {g['value']:>10}  goal {g['goal']:>8}  ratio {g['ratio']:.2f}  {verdict}")
    print(f"  replay              {res['replay_events_per_s']:>10} events/s   (no goal)")
    write_json(args.out, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
