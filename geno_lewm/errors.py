"""Typed errors for GenoLeWM (re-exported from the shared bottom layer, :mod:`ledger.errors`)."""

from ledger.errors import (
    DEFAULT_HINTS,
    EXIT_CODES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ConfigError,
    EvalError,
    GenoError,
    InputError,
    InternalError,
    LedgerError,
    ProvenanceError,
    ReleaseError,
    ResourceError,
    SchemaCompatError,
    TrainingError,
)

__all__ = [
    "DEFAULT_HINTS",
    "EXIT_CODES",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "ConfigError",
    "EvalError",
    "GenoError",
    "InputError",
    "InternalError",
    "LedgerError",
    "ProvenanceError",
    "ReleaseError",
    "ResourceError",
    "SchemaCompatError",
    "TrainingError",
]
