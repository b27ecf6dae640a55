"""Training package: config schema, data, loop, preflight and resume (torch imported inside)."""
