"""Cockpit benchmark: first-frame time and the paint time of a 100k-event ledger table.

Figures (written to ``bench/results/cockpit.json``):

- ``first_frame_s``: in a fresh interpreter, from before ``import cockpit.app`` until the Release
  screen has every gate in its table and the screen has been rendered (80×24, headless), on a
  fresh workspace (created on that run). ``process_wall_s`` is the whole subprocess, interpreter
  start-up and shutdown included. Both are medians over ``--runs`` runs; the probe also reports
  whether torch or transformers were imported (they must not be).
- ``first_frame_100k_s``: the same on a workspace whose ledger holds ``--events`` events.
- ``ledger_table_paint_s``: with the cockpit open on that workspace, from pressing ``2`` (Ledger
  screen) until the events table is filled (DuckDB → Arrow → :class:`cockpit.arrow_table.ArrowTable`)
  and rendered; median over ``--runs`` reloads. ``query_to_arrow_s`` is the DuckDB part of it.

Goals (issue #8): first frame < 1 s on 2 cores; a 100k-event table paints in < 0.5 s. The
synthetic ledger comes from :func:`bench.ledger.build_ledger`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import write_json

RESULTS = Path(__file__).resolve().parent / "results" / "cockpit.json"
ROOT = Path(__file__).resolve().parents[1]
GOALS = {"first_frame_s": (1.0, "lower"), "ledger_table_paint_s": (0.5, "lower")}

_FIRST_FRAME_PROBE = r"""
import time
t0 = time.perf_counter()
import asyncio, json, sys
from cockpit.app import CockpitApp

async def main(workdir):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one("#gates")
        while table.row_count == 0:
            await pilot.pause(0.005)
        app.screen._compositor.render_update(full=True)
        t1 = time.perf_counter()
        return t1 - t0, table.row_count

seconds, gates = asyncio.run(main(sys.argv[1]))
print(json.dumps({"first_frame_s": seconds, "gates": gates, "heavy": [m for m in ("torch", "transformers") if m in sys.modules]}))
"""


# The cockpit runs in a subprocess (like its console script): bench/ itself never imports the UI.
_TABLE_PROBE = r"""
import asyncio, json, statistics, sys, time
from cockpit.app import CockpitApp
from cockpit.arrow_table import ArrowTable

async def main(workdir, runs):
    app = CockpitApp(workdir, poll_interval=None)
    paints, queries, rows = [], [], 0
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for i in range(runs):
            t = time.perf_counter()
            if i == 0:
                await pilot.press("2")
                screen = app.screen
                table = screen.query_one("#events", ArrowTable)
            else:
                screen.all_events = None
                table.set_table(table.table.slice(0, 0))
                screen.reload()
            while table.row_count == 0:
                await pilot.pause(0.002)
            screen._compositor.render_update(full=True)
            paints.append(time.perf_counter() - t)
            queries.append(screen.load_seconds)
            rows = table.row_count
    return {"ledger_table_paint_s": round(statistics.median(paints), 3), "query_to_arrow_s": round(statistics.median(queries), 3), "rows": rows,
            "paint_runs_s": [round(p, 3) for p in paints]}

print(json.dumps(asyncio.run(main(sys.argv[1], int(sys.argv[2])))))
"""


def _workspace_with_ledger(directory: Path, n: int) -> Path:
    """A workspace dir whose ledger holds about ``n`` synthetic events (bench.ledger.build_ledger)."""
    from bench.ledger import build_ledger
    from ledger.keys import Signer

    signer = Signer.generate()
    key = directory / "keys" / "maintainer.key"
    key.parent.mkdir(parents=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(signer.private_pem())
    build_ledger(directory / "ledger.duckdb", n, signer=signer)
    return directory


def first_frame(workdir: Path, runs: int, *, fresh: bool) -> dict:
    """Median first-frame time (in-process and whole-process) over ``runs`` fresh interpreters."""
    inner, outer, heavy, gates = [], [], set(), 0
    for i in range(runs):
        wd = workdir.with_name(f"{workdir.name}-{i}") if fresh else workdir
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _FIRST_FRAME_PROBE, str(wd)], cwd=ROOT, capture_output=True, text=True, check=True)
        outer.append(time.perf_counter() - t)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        inner.append(res["first_frame_s"])
        heavy.update(res["heavy"])
        gates = res["gates"]
    return {
        "first_frame_s": round(statistics.median(inner), 3),
        "process_wall_s": round(statistics.median(outer), 3),
        "gates": gates,
        "imported_heavy": sorted(heavy),
    }


def table_paint(workdir: Path, runs: int) -> dict:
    """Median paint time of the Ledger screen's table over ``runs`` loads, in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", _TABLE_PROBE, str(workdir), str(runs)], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(n: int = 100_000, runs: int = 5) -> dict:
    """Run every measurement; return the results dict."""
    out: dict = {
        "schema_version": "1.0.0",
        "generated_by": "bench.cockpit",
        "events": n,
        "runs": runs,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "terminal": "80x24 headless",
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
    }
    with tempfile.TemporaryDirectory() as tmp:
        fresh = first_frame(Path(tmp) / "fresh", runs, fresh=True)
        out.update(fresh)
        big = _workspace_with_ledger(Path(tmp) / "big", n)
        big_ff = first_frame(big, runs, fresh=False)
        out["first_frame_100k_s"] = big_ff["first_frame_s"]
        out["process_wall_100k_s"] = big_ff["process_wall_s"]
        out["imported_heavy"] = sorted(set(fresh["imported_heavy"]) | set(big_ff["imported_heavy"]))
        out.update(table_paint(big, runs))
    out["goals"] = {}
    for key, (goal, better) in GOALS.items():
        val = out[key]
        ratio = val / goal if better == "higher" else goal / max(val, 1e-9)
        out["goals"][key] = {"goal": goal, "value": val, "ratio": round(ratio, 2), "met": ratio >= 1.0}
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print figures beside goals, write bench/results/cockpit.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.cockpit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="ledger size for the table benchmark (default 100000)")
    parser.add_argument("--runs", type=int, default=5, help="repetitions per figure (median reported; default 5)")
    parser.add_argument("--out", default=str(RESULTS), help="results JSON path")
    args = parser.parse_args(argv)
    res = run(args.events, args.runs)
    print(f"cockpit benchmark: {res['events']} events, {res['cpu_count']} cores, load average {res['load_avg_1m_at_start']} at start", file=sys.stderr)
    for key, g in res["goals"].items():
        print(f"  {key:<22} {g['value']:>8.3f} s  goal < {g['goal']} s  {'met' if g['met'] else 'MISSED'}", file=sys.stderr)
    print(f"  process_wall_s         {res['process_wall_s']:>8.3f} s  (interpreter start to exit, fresh workspace)", file=sys.stderr)
    print(f"  first_frame_100k_s     {res['first_frame_100k_s']:>8.3f} s  (first frame on the {res['events']}-event ledger)", file=sys.stderr)
    print(f"  query_to_arrow_s       {res['query_to_arrow_s']:>8.3f} s  (DuckDB → Arrow part of the paint)", file=sys.stderr)
    print(f"  torch/transformers imported at first frame: {res['imported_heavy'] or 'no'}", file=sys.stderr)
    write_json(args.out, res)
    print(json.dumps(res, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
