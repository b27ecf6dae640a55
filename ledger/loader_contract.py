"""The loader contract's field rule, shared by every on-disk document reader.

A document may list, under ``required_fields``, top-level fields a reader must understand to use it
(a newer MINOR adding a field old readers must not silently ignore). A reader accepts the document
only when it knows every listed field; unknown *optional* fields are always ignored. The version
rules (same MAJOR, migrations) live with each schema registry (:mod:`geno_lewm.versioning` for the
model's documents, :mod:`ledger.reports` for release reports); this module holds the one rule both
apply, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from ledger.errors import SchemaCompatError

#: The document field that lists the fields a reader must understand.
REQUIRED_FIELDS_KEY: Final = "required_fields"


def check_required_fields(doc: Mapping[str, Any], understood: Iterable[str], *, name: str, reads: str) -> None:
    """Raise ``INPUT.SCHEMA_COMPAT`` when ``doc``'s ``required_fields`` is malformed or names a field outside ``understood``.

    ``name`` labels the document in the message; ``reads`` is the schema version this runtime reads.
    """
    declared = doc.get(REQUIRED_FIELDS_KEY) or []
    if not isinstance(declared, list) or not all(isinstance(n, str) for n in declared):
        raise SchemaCompatError(f"{name}: {REQUIRED_FIELDS_KEY} must be a list of field names")
    known = set(understood)
    for field in declared:
        if field not in known:
            raise SchemaCompatError(f"{name}: unknown required field {field!r} (schema_version {doc.get('schema_version')}; this runtime reads {reads})")
