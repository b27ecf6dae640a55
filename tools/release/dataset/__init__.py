"""Shared logic of the dataset steps (``dataset_snapshot``, ``dataset_package``, ``dataset_integrity``):
the snapshot spec and the upstream inputs. The package format itself is :mod:`geno_lewm.datasets`.
"""
