"""The versioning contract: release ids, the schema registry and loader rule, and deprecation.

See docs/09-release-and-versioning.md. Nothing here imports torch.
"""

from __future__ import annotations

import functools
import re
import sys
import types
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from ledger.errors import GenoError, InputError, SchemaCompatError
from ledger.loader_contract import REQUIRED_FIELDS_KEY, check_required_fields

from geno_lewm.migrations import registry as _registry
from geno_lewm.migrations.registry import MIGRATIONS, Migration

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_RELEASE_ID = re.compile(r"^geno-lewm-v(?P<version>[^-]+)-(?P<encoder>.+)-r(?P<revision>[^-]*)$")
_ENCODER_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class ReleaseIdError(InputError):
    """A model release id does not follow ``geno-lewm-v<X>.<Y>.<Z>-<encoder-id>-r<N>``."""

    def __init__(self, text: str, part: str, why: str) -> None:
        super().__init__(
            "RELEASE_ID",
            f"invalid release id {text!r}: bad {part} ({why})",
            "a release id looks like geno-lewm-v0.1.0-carbon-500m-r1",
        )
        self.part = part


@dataclass(frozen=True, order=True)
class SemVer:
    """A ``MAJOR.MINOR.PATCH`` version (no pre-release part: checkpoints use plain semver)."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> SemVer:
        """Parse ``X.Y.Z``; raise ``INPUT.SEMVER`` on anything else."""
        m = _SEMVER.match(text)
        if not m:
            raise InputError("SEMVER", f"invalid semantic version {text!r}", "use MAJOR.MINOR.PATCH, e.g. 1.0.0")
        return cls(int(m[1]), int(m[2]), int(m[3]))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class ReleaseId:
    """A model checkpoint release id, e.g. ``geno-lewm-v0.1.0-carbon-500m-r1``.

    ``version`` tracks the package semver the checkpoint was trained under, ``encoder_id`` names
    the frozen encoder (part of the trust anchor), ``revision`` counts re-trainings.
    """

    version: SemVer
    encoder_id: str
    revision: int

    @classmethod
    def parse(cls, text: str) -> ReleaseId:
        """Parse and validate a release id; the error names the first bad part."""
        if not isinstance(text, str) or not text.startswith("geno-lewm-v"):
            raise ReleaseIdError(str(text), "prefix", "must start with 'geno-lewm-v'")
        if not re.search(r"-r[^-]*$", text):
            raise ReleaseIdError(text, "revision", "missing the '-r<N>' suffix")
        m = _RELEASE_ID.match(text)
        if not m:
            raise ReleaseIdError(text, "structure", "expected geno-lewm-v<X.Y.Z>-<encoder-id>-r<N>")
        if not _SEMVER.match(m["version"]):
            raise ReleaseIdError(text, "version", f"{m['version']!r} is not MAJOR.MINOR.PATCH")
        if not _ENCODER_ID.match(m["encoder"]):
            raise ReleaseIdError(text, "encoder-id", f"{m['encoder']!r} must be lowercase words joined by '-'")
        if not re.fullmatch(r"[1-9]\d*", m["revision"]):
            raise ReleaseIdError(text, "revision", f"{m['revision']!r} must be a positive integer without leading zeros")
        return cls(SemVer.parse(m["version"]), m["encoder"], int(m["revision"]))

    def __str__(self) -> str:
        return f"geno-lewm-v{self.version}-{self.encoder_id}-r{self.revision}"


# --------------------------------------------------------------------------------------------
# Schema registry and the loader contract
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """One on-disk schema: its current version, owning RFC and the fields a reader must know."""

    name: str
    version: str
    owner: str
    required: frozenset[str] = field(default_factory=frozenset)


#: Every on-disk schema and its current ``schema_version`` (docs/09-release-and-versioning.md).
SCHEMAS: dict[str, Schema] = {
    s.name: s
    for s in [
        Schema("manifest", "1.0.0", "RFC-0011", frozenset({"schema_version", "release_id", "encoder", "state_contract", "artifacts"})),
        Schema("receipt", "1.0.0", "RFC-0011", frozenset({"schema_version", "model_id", "input_commitment", "output_commitment"})),
        Schema("window_embedding_shard", "1.0.0", "RFC-0002", frozenset({"schema_version", "encoder_hash", "state_contract_hash"})),
        Schema("gnomad_shard", "1.0.0", "RFC-0006", frozenset({"schema_version"})),
        Schema("clinvar_shard", "1.0.0", "RFC-0006", frozenset({"schema_version"})),
        Schema("calibration_table", "1.0.0", "RFC-0009", frozenset({"schema_version", "buckets"})),
        Schema("ledger_event", "1.0.0", "RFC-0012", frozenset({"schema_version", "kind"})),
        Schema("eval_metrics", "1.0.0", "docs/evaluation.md", frozenset({"schema_version", "generated_by", "rows", "negative_findings"})),
        Schema("release_report", "1.0.0", "docs/09-release-and-versioning.md", frozenset({"schema_version", "generated_by"})),
    ]
}

#: Key under which a document lists the fields every reader must understand.

_MIGRATIONS = MIGRATIONS  # the registry lives in geno_lewm.migrations.registry (no import cycle)


def register_migration(schema: str, from_major: int, to_version: str) -> Callable[[Migration], Migration]:
    """Register ``fn`` as the migration of ``schema`` documents from ``from_major`` to ``to_version``."""
    return _registry.register_migration(schema, from_major, to_version)


def load_document(schema_name: str, doc: Mapping[str, Any], *, known_fields: frozenset[str] | None = None) -> dict[str, Any]:
    """Apply the loader contract to a decoded document and return it (migrated when needed).

    - same MAJOR as the current schema: accepted; unknown *optional* fields are ignored;
    - a field listed in the document's ``required_fields`` that this runtime does not know
      (not in ``known_fields`` or the schema's required set) is rejected;
    - a different MAJOR is rejected unless a migration under ``geno_lewm/migrations/`` applies.
    Raises :class:`SchemaCompatError` naming the problem.
    """
    import geno_lewm.migrations  # noqa: F401 - registers the shipped migrations

    if schema_name not in SCHEMAS:
        raise SchemaCompatError(f"unknown schema {schema_name!r}")
    schema = SCHEMAS[schema_name]
    data = dict(doc)
    raw = data.get("schema_version")
    if not isinstance(raw, str):
        raise SchemaCompatError(f"{schema_name}: missing or non-string schema_version")
    try:
        have = SemVer.parse(raw)
    except InputError as exc:
        raise SchemaCompatError(f"{schema_name}: {exc.message}") from None
    want = SemVer.parse(schema.version)
    while have.major != want.major:
        step = _MIGRATIONS.get((schema_name, have.major))
        if step is None:
            raise SchemaCompatError(
                f"{schema_name}: schema_version {have} has MAJOR {have.major}; this runtime reads MAJOR {want.major}",
            )
        to_version, fn = step
        data = fn(data)
        data["schema_version"] = to_version
        have = SemVer.parse(to_version)
    check_required_fields(data, set(schema.required) | set(known_fields or ()), name=schema_name, reads=schema.version)
    return data


_S = TypeVar("_S", bound=msgspec.Struct)


def struct_fields(type_: type[msgspec.Struct]) -> frozenset[str]:
    """The top-level field names (as encoded on disk) of a msgspec Struct type."""
    return frozenset(f.encode_name for f in msgspec.structs.fields(type_))


def decode_document(
    schema_name: str,
    doc: Mapping[str, Any],
    type_: type[_S],
    *,
    invalid: Callable[[str], GenoError] | None = None,
) -> _S:
    """The loader contract, then typed decoding: an on-disk document of ``schema_name`` as a ``type_`` Struct.

    1. :func:`load_document` with ``known_fields`` = the fields of ``type_``: a foreign MAJOR
       without a migration, or a ``required_fields`` entry this runtime does not know, is
       :class:`SchemaCompatError`;
    2. unknown optional fields are dropped at every depth (also inside nested Structs, lists and
       dicts of Structs), at *any* MINOR/PATCH of the current MAJOR, the current one included, so a
       Struct declared with ``forbid_unknown_fields`` still reads a document from a newer MINOR;
    3. ``msgspec.convert(strict=True)``; a type error becomes ``invalid(message)`` (default
       ``INPUT.BAD_DOCUMENT``).

    ``doc`` is never mutated, and decoding never re-serialises: an integrity hash over the file's
    bytes (a manifest's ``model_id``) is unaffected by what is ignored here.
    """
    data = load_document(schema_name, doc, known_fields=struct_fields(type_))
    try:
        return msgspec.convert(_known_only(data, type_), type_, strict=True)
    except msgspec.ValidationError as exc:
        if invalid is not None:
            raise invalid(str(exc)) from None
        raise InputError("BAD_DOCUMENT", f"{schema_name}: {exc}", "regenerate the file with the command that writes it") from None


def _known_only(value: Any, tp: Any) -> Any:
    """``value`` with every mapping key that ``tp`` (a Struct, or a container of Structs) does not declare removed."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return _known_only(value, args[0])
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if not isinstance(value, Mapping):
            return value
        fields = {f.encode_name: f.type for f in msgspec.structs.fields(tp)}
        keep = set(fields) | {tp.__struct_config__.tag_field} - {None}
        return {k: _known_only(v, fields.get(k, Any)) for k, v in value.items() if k in keep}
    if origin in (list, tuple, set, frozenset) and isinstance(value, list) and args:
        return [_known_only(v, args[0]) for v in value]
    if origin is dict and isinstance(value, Mapping) and len(args) == 2:
        return {k: _known_only(v, args[1]) for k, v in value.items()}
    if origin in (typing.Union, types.UnionType) and isinstance(value, Mapping):
        structs = [a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        if len(structs) == 1:
            return _known_only(value, structs[0])
    return value


# --------------------------------------------------------------------------------------------
# Deprecation
# --------------------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])
_WARNED: set[tuple[str, str, int]] = set()


def deprecated(reason: str) -> Callable[[F], F]:
    """Mark a function deprecated: it keeps working and warns ``DeprecationWarning``.

    The warning is emitted once per process *per call site* (file and line of the caller), so each
    distinct caller is told once, and repeated calls from one place stay quiet.
    """

    def deco(fn: F) -> F:
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1)
            site = (name, caller.f_code.co_filename, caller.f_lineno)
            if site not in _WARNED:
                _WARNED.add(site)
                warnings.warn_explicit(
                    f"{name} is deprecated: {reason}",
                    DeprecationWarning,
                    filename=caller.f_code.co_filename,
                    lineno=caller.f_lineno,
                    module=caller.f_globals.get("__name__", "?"),
                    registry={},
                )
            return fn(*args, **kwargs)

        wrapper.__deprecated__ = reason  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return deco
