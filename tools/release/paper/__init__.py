"""Shared logic of the paper steps (``paper_draft``, ``paper_package``): collecting the model,
dataset and demo artifacts and rendering the draft from them (:mod:`.draft`).
"""
