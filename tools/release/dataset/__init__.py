"""Shared logic of the dataset steps (``dataset_snapshot``, ``dataset_package``, ``dataset_integrity``):
the snapshot spec and the upstream inputs (:mod:`.spec`, :mod:`.variants`), building the snapshot
(:mod:`.snapshot`), packaging (:mod:`.packaging`) and split integrity (:mod:`.split_integrity`).
The package format itself is :mod:`geno_lewm.datasets`.
"""
