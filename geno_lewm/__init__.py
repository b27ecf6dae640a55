"""GenoLeWM: a LeWorldModel-style predictor over a frozen DNA language model's latent states.

Importing this package is cheap: it pulls in neither torch nor transformers. Model code lives in
submodules (``geno_lewm.encoder``, ``geno_lewm.model``, …) that import torch when used.
"""

__version__ = "0.1.0a1"

__all__ = ["__version__"]
