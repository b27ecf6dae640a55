"""Canonical JSON bytes: sorted keys, no whitespace, UTF-8, float-free.

For float-free values these bytes equal RFC 8785 (JCS) canonical JSON, so a hash or signature over
them is reproducible by any JCS implementation. Floats are refused: numbers that must be stable are
carried as integers or decimal strings (see docs/numerical-contract.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

import msgspec

from ledger.errors import InputError

_ENCODER = msgspec.json.Encoder(order="sorted")


def _float_path(value: Any, where: str) -> tuple[str, str] | None:
    """Where the first float or non-string key is (slow walk, only run once a problem is known)."""
    if isinstance(value, float):
        return "float", where
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return "key", where
            found = _float_path(v, f"{where}.{k}")
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _float_path(v, f"{where}[{i}]")
            if found:
                return found
    return None


def _is_float_free(value: Any) -> bool:
    """True when ``value`` holds no float and only string keys (fast path: exact scalar types first)."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return True
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        for k, v in value.items():
            if type(k) is not str and not isinstance(k, str):
                return False
            tv = type(v)
            if tv is str or tv is int or v is None:
                continue
            if not _is_float_free(v):
                return False
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_float_free(v) for v in value)
    return True


def _check_float_free(value: Any, where: str = "$") -> None:
    if _is_float_free(value):
        return
    kind, at = _float_path(value, where) or ("float", where)
    if kind == "key":
        raise InputError("NON_STRING_KEY", f"non-string key at {at}", "use string keys")
    raise InputError("FLOAT_IN_CANONICAL", f"float at {at} cannot be canonicalised", "carry the number as an integer or a decimal string")


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` (dicts, lists, str, int, bool, None, msgspec Structs) canonically."""
    if isinstance(value, msgspec.Struct):
        value = msgspec.to_builtins(value)
    _check_float_free(value)
    return _ENCODER.encode(value)


def floats_as_text(value: Any) -> Any:
    """``value`` with every float replaced by its ``repr`` (the shortest decimal string that reads back the same).

    Dicts and lists are copied and walked; everything else is returned as is. Makes a payload that
    holds floats (a resolved config, say) acceptable to :func:`canonical_json`.
    """
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: floats_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [floats_as_text(v) for v in value]
    return value


def canonical_json_of_checked(doc: dict[str, Any], checked: Collection[str]) -> bytes:
    """:func:`canonical_json` of a dict some of whose values the caller has just encoded with it.

    ``checked`` names those top-level keys (a receipt's input and output documents, already hashed
    into its commitments): they are not walked for floats a second time. Same bytes, same errors
    for the other values.
    """
    _check_float_free({k: v for k, v in doc.items() if k not in checked})
    return _ENCODER.encode(doc)


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
