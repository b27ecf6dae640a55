"""Canonical JSON bytes: sorted keys, no whitespace, UTF-8, float-free.

For float-free values these bytes equal RFC 8785 (JCS) canonical JSON, so a hash or signature over
them is reproducible by any JCS implementation. Floats are refused: numbers that must be stable are
carried as integers or decimal strings (see docs/numerical-contract.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from ledger.errors import InputError

_ENCODER = msgspec.json.Encoder(order="sorted")


def _check_float_free(value: Any, where: str = "$") -> None:
    if isinstance(value, float):
        raise InputError("FLOAT_IN_CANONICAL", f"float at {where} cannot be canonicalised", "carry the number as an integer or a decimal string")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InputError("NON_STRING_KEY", f"non-string key at {where}", "use string keys")
            _check_float_free(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_float_free(v, f"{where}[{i}]")


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` (dicts, lists, str, int, bool, None, msgspec Structs) canonically."""
    if isinstance(value, msgspec.Struct):
        value = msgspec.to_builtins(value)
    _check_float_free(value)
    return _ENCODER.encode(value)


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
