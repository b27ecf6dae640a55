"""Shared logic of the model steps: packaging and verifying a model directory (:mod:`.packaging`:
``model_package.json``, the model card, ``SHA256SUMS``). The step is ``tools.release.model_package``.
"""
