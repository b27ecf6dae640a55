"""Variant scoring: VCF reading, window batching, the scorer, score rows, writers and receipts.

The public entry points are :func:`geno_lewm.scoring.run.score_vcf` (what ``geno-lewm-score``
runs) and :func:`geno_lewm.scoring.receipts.verify_receipts` (what ``geno-lewm-verify-receipts``
runs). Importing this package does not import torch; the scorer imports it when it is built.
"""
