"""JSON reports and rendered Markdown: write, read with ``generated_by`` checks, render-and-compare.

Every generated report carries ``schema_version`` and ``generated_by``; reading one back through
:func:`load_report` checks both (the version by the loader contract: same MAJOR, unknown optional
fields ignored, unknown ``required_fields`` rejected), and checks (recursively) that no string that looks like a path is
absolute or a home path. Markdown that is a pure function of a JSON document is checked with
:func:`check_rendered`, which names the stale file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ledger.canonical import canonical_json
from ledger.errors import GenoError, InputError, ProvenanceError
from ledger.fsutil import atomic_write_text

T = TypeVar("T")

REPORT_SCHEMA_VERSION = "1.0.0"

_PRIVATE = re.compile(r"(^/|^~|^[A-Za-z]:[\\/]|(^|[\s=:,])/(home|Users|root|tmp|private|var|mnt|media|opt|srv)/)")
_PATH_KEYS = ("path", "paths", "file", "files", "dir", "root", "argv", "command", "source", "sources", "reference")


def dumps(doc: Mapping[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, trailing newline, float-free."""
    canonical_json(dict(doc))  # refuses floats and non-string keys
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def private_paths(value: Any, where: str = "$") -> list[str]:
    """JSON pointers (``$.a.b[0]``) of strings in ``value`` that look like private absolute/home paths."""
    found: list[str] = []
    if isinstance(value, str):
        if _PRIVATE.search(value) or "\\" in value and re.match(r"^[A-Za-z]:", value):
            found.append(where)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            found.extend(private_paths(v, f"{where}.{k}"))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found.extend(private_paths(v, f"{where}[{i}]"))
    return found


def check_public_report(doc: Mapping[str, Any], name: str) -> None:
    """Raise ``INPUT.PRIVATE_PATH`` when ``doc`` holds an absolute, home or ``..`` path anywhere."""
    bad = private_paths(doc)
    if bad:
        raise InputError("PRIVATE_PATH", f"{name} contains a private absolute or home path at {bad[0]}", "record paths relative to the package root")
    for where, text in _iter_path_fields(doc):
        if ".." in Path(text).parts:
            raise InputError("PRIVATE_PATH", f"{name} has a '..' path at {where}", "record paths relative to the package root")


def _iter_path_fields(value: Any, where: str = "$") -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k in _PATH_KEYS and isinstance(v, str):
                yield f"{where}.{k}", v
            else:
                yield from _iter_path_fields(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _iter_path_fields(v, f"{where}[{i}]")


def write_report(path: str | os.PathLike[str], doc: Mapping[str, Any], *, generated_by: str) -> dict[str, Any]:
    """Write ``doc`` as a generated JSON report (atomic); stamps ``generated_by`` and ``schema_version``.

    Refuses private paths anywhere in the document, so no report with a workstation path is written.
    Returns the written document.
    """
    out = {"schema_version": REPORT_SCHEMA_VERSION, **doc, "generated_by": generated_by}
    check_public_report(out, Path(path).name)
    atomic_write_text(path, dumps(out))
    return out


def decode(doc: Any, type_: type[T], *, what: str, error: Callable[[str, str | None], GenoError], hint: str | None = None) -> T:
    """Decode ``doc`` into the msgspec type ``type_``: decoding is the validation.

    A mismatch raises ``error(message, hint)`` where the message names ``what`` and the field path
    (``Expected `str`, got `int` - at `$.sources[0].sha256```).
    """
    import msgspec

    try:
        return msgspec.convert(doc, type_, strict=True)
    except msgspec.ValidationError as exc:
        raise error(f"{what}: {exc}", hint) from None


def load_json(path: str | os.PathLike[str], what: str | None = None) -> dict[str, Any]:
    """Read a JSON object from ``path`` (``INPUT.MISSING_FILE`` / ``INPUT.BAD_JSON`` on failure)."""
    p = Path(path)
    name = what or p.name
    if not p.is_file():
        raise InputError("MISSING_FILE", f"{name} not found", "produce it with the step that writes it")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("BAD_JSON", f"{name} is not valid JSON ({exc})", "regenerate the file") from None
    if not isinstance(doc, dict):
        raise InputError("BAD_JSON", f"{name} is not a JSON object", "regenerate the file")
    return doc


def check_generated_by(doc: Mapping[str, Any], expected: str | Iterable[str], name: str) -> None:
    """Raise ``PROVENANCE.GENERATED_BY`` unless ``doc["generated_by"]`` is one of ``expected``."""
    allowed = {expected} if isinstance(expected, str) else set(expected)
    have = doc.get("generated_by")
    if have not in allowed:
        raise ProvenanceError(
            "GENERATED_BY",
            f"{name} has generated_by={have!r}; expected {' or '.join(sorted(allowed))}",
            "regenerate the file with the command that owns it; hand-written reports are not accepted",
        )


def check_schema_version(doc: Mapping[str, Any], name: str, major: int = 1, *, known_fields: Iterable[str] = ()) -> None:
    """The loader contract for a release report (schema ``release_report``, MAJOR of :data:`REPORT_SCHEMA_VERSION`).

    Raises ``INPUT.SCHEMA_COMPAT`` unless ``schema_version`` is a semver with MAJOR ``major``, or when
    the report's ``required_fields`` names a field outside the envelope and ``known_fields`` (what
    the caller reads). Unknown optional fields are ignored at any MINOR/PATCH.
    """
    from ledger.errors import SchemaCompatError
    from ledger.loader_contract import check_required_fields

    raw = doc.get("schema_version")
    if not isinstance(raw, str) or not re.fullmatch(r"\d+\.\d+\.\d+", raw):
        raise SchemaCompatError(f"{name}: missing or invalid schema_version {raw!r}")
    if int(raw.split(".", 1)[0]) != major:
        raise SchemaCompatError(f"{name}: schema_version {raw} has MAJOR {raw.split('.', 1)[0]}; this runtime reads MAJOR {major}")
    if major != int(REPORT_SCHEMA_VERSION.split(".", 1)[0]):
        return  # a report family on its own MAJOR: only the MAJOR rule applies
    check_required_fields(doc, {"schema_version", "generated_by", *known_fields}, name=name, reads=REPORT_SCHEMA_VERSION)


def load_report(
    path: str | os.PathLike[str], generated_by: str | Iterable[str], *, what: str | None = None, known_fields: Iterable[str] = ()
) -> dict[str, Any]:
    """Read a generated report and check ``schema_version`` (loader contract), ``generated_by`` and path safety.

    ``known_fields``: the top-level fields the caller reads, which the report may list in its
    ``required_fields``.
    """
    name = what or Path(path).name
    doc = load_json(path, name)
    check_schema_version(doc, name, known_fields=known_fields)
    check_generated_by(doc, generated_by, name)
    check_public_report(doc, name)
    return doc


def check_rendered(path: str | os.PathLike[str], render: Callable[[], str], *, name: str | None = None) -> str:
    """Re-render and compare: raise ``PROVENANCE.STALE_RENDER`` naming ``path`` if its bytes differ.

    ``render`` is the pure function (JSON → Markdown) that produced the file. Returns the text.
    """
    p = Path(path)
    label = name or p.name
    if not p.is_file():
        raise ProvenanceError("MISSING_ARTIFACT", f"{label} is missing", "re-run the step that renders it")
    expected = render()
    have = p.read_bytes()
    if have != expected.encode("utf-8"):
        line = _first_diff_line(have.decode("utf-8", errors="replace"), expected)
        raise ProvenanceError(
            "STALE_RENDER",
            f"{label} is stale: it no longer matches the render of its JSON source (first difference at line {line})",
            "re-run the step that renders it; do not edit generated Markdown by hand",
        )
    return expected


def _first_diff_line(a: str, b: str) -> int:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb), start=1):
        if x != y:
            return i
    return min(len(la), len(lb)) + 1


def md_escape(text: Any) -> str:
    """Escape a value for a Markdown table cell (pipes and newlines)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(md_escape(c) for c in row) + " |")
    return "\n".join(lines) + "\n"
