"""The maintainer's Textual cockpit (``geno-lewm-cockpit``): the only package that imports textual.

Nothing imports ``cockpit``. Its first frame imports neither torch nor transformers.
"""
