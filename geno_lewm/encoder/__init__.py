"""Encoder adapter: the frozen Carbon DNA language model, its native 6-mer tokenizer, a tiny stand-in.

Submodules import torch/transformers when used; importing this package alone is cheap.
"""
