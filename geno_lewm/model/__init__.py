"""The trainable parts: action encoder, predictor and losses (torch imported inside submodules)."""
