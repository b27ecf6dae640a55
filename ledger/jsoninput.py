"""Strict parsing of JSON typed by a user (``geno-lewm-ledger append --json``): typed errors, never a crash.

Python's ``json`` accepts inputs an event body must not hold and crashes on others. This parser
raises ``INPUT.BAD_JSON`` (naming the JSON path where it can) for: nesting deeper than
:data:`MAX_DEPTH` (checked before parsing, so 60,000 brackets never reach the recursive decoder),
integers longer than :data:`MAX_INT_DIGITS` digits, duplicate object keys (the standard library
keeps the last one silently), lone UTF-16 surrogates such as ``"\\ud800"`` (not Unicode text, so
they cannot be encoded as UTF-8) and NUL characters in keys or strings. Floats are reported as
``LEDGER.BAD_BODY`` by the caller (event bodies are float-free).
"""

from __future__ import annotations

import json
from typing import Any

from ledger.errors import InputError

#: Deepest accepted nesting of objects and arrays (event bodies need a handful of levels).
MAX_DEPTH = 64
#: Longest accepted integer literal, in digits (I-JSON safe integers have at most 16).
MAX_INT_DIGITS = 20
_HINT = 'pass a JSON object, e.g. --json \'{"text": "hello"}\''


def _bad(message: str) -> InputError:
    return InputError("BAD_JSON", message, _HINT)


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of ``[``/``{`` in JSON ``text`` outside strings; stops counting above ``limit``.

    A linear scan that never recurses, so any input length is safe.
    """
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _bad(f"duplicate key {key!r} in a JSON object (only one value per key is allowed)")
        out[key] = value
    return out


def _int(literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _bad(f"an integer has {digits} digits (limit {MAX_INT_DIGITS})")
    return int(literal)


def _check_text(value: Any, where: str) -> None:
    """Reject NUL and lone surrogates in every key and string (iterative: depth is already bounded)."""
    stack = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            _check_string(item, at)
        elif isinstance(item, dict):
            for k, v in item.items():
                _check_string(k, f"{at} (a key)")
                stack.append((v, f"{at}.{k}"))
        elif isinstance(item, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(item))


def _check_string(text: str, where: str) -> None:
    if "\x00" in text:
        raise _bad(f"NUL character (\\u0000) in the text at {where}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _bad(f"lone surrogate {text[exc.start]!r} at {where} is not Unicode text") from None


def parse_json_object(text: str, what: str = "--json") -> dict[str, Any]:
    """Parse ``text`` as one JSON object under the rules in the module docstring (``INPUT.BAD_JSON`` otherwise)."""
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise _bad(f"{what} nests deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise _bad(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:  # defensive: the depth check above should make this unreachable
        raise _bad(f"{what} nests too deeply") from None
    if not isinstance(value, dict):
        raise _bad(f"{what} must be a JSON object, got {type(value).__name__}")
    _check_text(value, "$")
    return value
