"""GenoLeWM release ledger: signed, hash-chained events stored in DuckDB.

This package is the bottom layer of the project. It imports neither torch, transformers,
textual nor geno_lewm, so it also hosts the small shared mechanisms every layer uses:
the typed error model (:mod:`ledger.errors`), the console-script runner
(:mod:`ledger.clikit`) and atomic file writes (:mod:`ledger.fsutil`).
"""
