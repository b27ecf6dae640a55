"""Ledger event kinds: msgspec Structs forming a tagged union on ``kind``, plus upcasting.

Every event body is float-free (numbers are integers or decimal strings), so its canonical bytes
(msgspec JSON, sorted keys, no whitespace) equal RFC 8785 canonical JSON. Each kind carries a
``schema_version`` (semver). Older minor versions are upgraded on read by :data:`UPCASTERS`; a
different major version is refused (``INPUT.SCHEMA_COMPAT``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

import msgspec

from ledger.errors import LedgerError, SchemaCompatError
from ledger.identity import check_public_path

#: Largest accepted canonical body, in bytes (a Sigstore bundle is ~10 KiB).
MAX_BODY_BYTES = 256 * 1024

Sha256Hex = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[str, msgspec.Meta(pattern=r"^ed25519:[0-9a-f]{32}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=65536)]
#: Ordinary public-safe relative paths (no '.', '..', empty, absolute or drive components).
_SAFE_PATH = re.compile(r"^(?!\.{1,2}(?:/|$))[A-Za-z0-9_+@=,-][A-Za-z0-9._+@=,-]*(?:/(?!\.{1,2}(?:/|$))[A-Za-z0-9._+@=,-]+)*$")
Size = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]  # I-JSON safe integers (RFC 8785 domain)


class _Event(msgspec.Struct, tag_field="kind", forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Common base: every event body has a ``schema_version``."""

    schema_version: str = "1.0.0"  # semver of this kind's body schema


class Genesis(_Event, tag="genesis", kw_only=True):
    """First event (seq 0): names the ledger and registers the first maintainer key (self-signed)."""

    origin: Name  # ledger name used in checkpoints ("geno-lewm")
    key_id: KeyId  # id of the first maintainer key
    public_key: str  # base64 raw Ed25519 public key


class KeyRegistered(_Event, tag="key_registered", kw_only=True):
    """A new trusted key, signed by a key trusted at that point."""

    key_id: KeyId  # id of the new key
    public_key: str  # base64 raw Ed25519 public key
    label: Text = ""  # who holds it (free text)


class KeyRevoked(_Event, tag="key_revoked", kw_only=True):
    """A key stops being trusted from this event on (signed by a key trusted at that point)."""

    key_id: KeyId  # id of the revoked key
    reason: Text  # why (compromise, rotation, …)


class Note(_Event, tag="note", kw_only=True):
    """A free-text note. 1.1.0 added ``tags`` (1.0.0 bodies are upcast with ``tags = []``)."""

    schema_version: str = "1.1.0"  # semver of this kind's body schema
    text: Text  # the note
    tags: list[Name] = []  # labels for filtering (added in 1.1.0)


class Checkpoint(_Event, tag="checkpoint", kw_only=True):
    """A signed tree head: RFC 9162 Merkle root over the hashes of events ``[0, size)``."""

    origin: Name  # ledger origin (from genesis)
    size: Size  # number of events covered (the events before this one)
    root: Sha256Hex  # hex Merkle tree head


class Subject(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An in-toto subject recorded with a Sigstore bundle."""

    name: Name  # "ledger-checkpoint:<origin>:<size>" or a recorded artifact path
    sha256: Sha256Hex  # digest of the subject


class BundleRecorded(_Event, tag="bundle_recorded", kw_only=True):
    """A Sigstore bundle over an in-toto Statement sealing a checkpoint and the recorded artifacts."""

    bundle: Annotated[str, msgspec.Meta(max_length=200_000)]  # the bundle JSON, exact text
    identity: Name  # expected certificate identity (SAN)
    issuer: Name  # expected OIDC issuer
    subjects: list[Subject]  # the Statement's subjects, as signed
    checkpoint_seq: Size  # seq of the sealed checkpoint event


class StepStarted(_Event, tag="step_started", kw_only=True):
    """A release step run began."""

    run_id: Name  # unique id of this run of the step
    step: Name  # step name (e.g. "dataset_snapshot")
    argv: list[Text] = []  # public-safe command line


class ArtifactRecorded(_Event, tag="artifact_recorded", kw_only=True):
    """An input or output identity of a step run (package-relative path, sha256, size)."""

    run_id: Name  # run the artifact belongs to
    step: Name  # step name
    role: Literal["input", "output"]  # input or output of the step
    path: Name  # public-safe relative POSIX path
    sha256: Sha256Hex  # content digest
    size: Size  # bytes

    def __post_init__(self) -> None:
        if _SAFE_PATH.match(self.path):  # fast path for ordinary relative paths
            return
        try:
            check_public_path(self.path, "artifact path")
        except Exception as exc:  # noqa: BLE001 - msgspec turns ValueError into ValidationError
            raise ValueError(str(exc)) from None


class StepPassed(_Event, tag="step_passed", kw_only=True):
    """A step run finished successfully."""

    run_id: Name  # run that passed
    step: Name  # step name


class StepFailed(_Event, tag="step_failed", kw_only=True):
    """A step run failed with a typed error code."""

    run_id: Name  # run that failed
    step: Name  # step name
    code: Name  # error code (FAMILY.NAME)
    message: Text  # error message


class Gate(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One release gate: passes when each of its steps' latest run passed."""

    name: Name  # gate id
    title: Text = ""  # human title
    needs: list[Name] = []  # gates that must pass first
    steps: list[Name] = []  # steps whose latest runs must pass
    issue_refs: list[Name] = []  # issues to cite while the gate blocks


class GatesDefined(_Event, tag="gates_defined", kw_only=True):
    """The release gate graph (the latest one wins)."""

    gates: list[Gate]  # all gates

    def __post_init__(self) -> None:
        check_gate_graph({g.name: list(g.needs) for g in self.gates}, [g.name for g in self.gates])


def check_gate_graph(needs: dict[str, list[str]], names: list[str]) -> None:
    """Raise ``ValueError`` unless ``names`` are unique, every need names a gate, and there is no cycle.

    ``needs`` maps each gate to the gates that must pass first; ``names`` lists the gates in order
    (duplicates are reported). Shared by the ``gates_defined`` event and the release layer's
    gates-file loader.
    """
    if len(set(names)) != len(names):
        raise ValueError("duplicate gate names")
    for name in names:
        for n in needs.get(name, []):
            if n not in needs:
                raise ValueError(f"gate {name!r} needs unknown gate {n!r}")
    state: dict[str, int] = {}

    def visit(n: str) -> None:
        if state.get(n) == 1:
            raise ValueError(f"gate dependency cycle through {n!r}")
        if state.get(n) == 2:
            return
        state[n] = 1
        for m in needs[n]:
            visit(m)
        state[n] = 2

    for n in names:
        visit(n)


class ModelYanked(_Event, tag="model_yanked", kw_only=True):
    """A released model must no longer be used."""

    model_id: Name  # released model id
    reason: Text  # why
    upgrade_to: str = ""  # replacement model id ("" if none)


class ShardFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An input or output file of one shard (public-safe name, sha256, size)."""

    role: Name  # "vcf", "fasta", "scores", "receipts", …
    path: Name  # file name (no directories)
    sha256: Sha256Hex  # content digest
    size: Size  # bytes

    def __post_init__(self) -> None:
        if not _SAFE_PATH.match(self.path):
            raise ValueError(f"shard file path {self.path!r} is not a public-safe relative path")


class ShardScored(_Event, tag="shard_scored", kw_only=True):
    """One shard of a cluster scoring run: which part of the input, where it ran, inputs and outputs."""

    run_id: Name  # step run the shard belongs to
    step: Name  # step name (e.g. "cluster_score")
    shard: Name  # "I/N"
    regions: list[Name] = []  # regions the shard read ([]: the whole file, filtered by the shard rule)
    node_id: Name  # cluster node id of the worker that scored it
    hostname: Name  # host name of that node
    model_id: Sha256Hex  # model package the worker loaded and verified
    inputs: list[ShardFile]  # the input files (VCF, FASTA)
    outputs: list[ShardFile]  # the shard's score and receipt bytes before the merge
    alts: Size  # ALTs in the shard (score rows)
    scored: Size  # receipts in the shard
    resumed: bool = False  # true when reused from an earlier, interrupted run (outputs re-verified)


Event = Union[
    Genesis,
    KeyRegistered,
    KeyRevoked,
    Note,
    Checkpoint,
    BundleRecorded,
    StepStarted,
    ArtifactRecorded,
    StepPassed,
    StepFailed,
    GatesDefined,
    ModelYanked,
    ShardScored,
]

#: kind -> Struct class.
KINDS: dict[str, type[_Event]] = {cls.__struct_config__.tag: cls for cls in Event.__args__}  # type: ignore[attr-defined]
#: kind -> current schema version.
CURRENT_VERSIONS: dict[str, str] = {k: cls.__struct_defaults__[cls.__struct_fields__.index("schema_version")] for k, cls in KINDS.items()}  # type: ignore[attr-defined]

#: (kind, from_version) -> function turning a body dict of that version into the next version.
UPCASTERS: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upcaster(kind: str, from_version: str) -> Callable:
    """Register a function upgrading a ``kind`` body dict from ``from_version`` to the next version."""

    def deco(fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        UPCASTERS[(kind, from_version)] = fn
        return fn

    return deco


@upcaster("note", "1.0.0")
def _note_1_0_to_1_1(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "tags": [], "schema_version": "1.1.0"}


_ENCODER = msgspec.json.Encoder(order="sorted")
_DECODER = msgspec.json.Decoder(Event)
_DICT_DECODER = msgspec.json.Decoder(dict)


def _parse_version(text: object) -> tuple[int, int, int]:
    if not isinstance(text, str):
        raise SchemaCompatError(f"schema_version must be a string, got {type(text).__name__}")
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SchemaCompatError(f"schema_version {text!r} is not MAJOR.MINOR.PATCH")
    return int(parts[0]), int(parts[1]), int(parts[2])


def upcast(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Bring a body dict of ``kind`` to the current schema version (``INPUT.SCHEMA_COMPAT`` if impossible)."""
    current = CURRENT_VERSIONS[kind]
    version = body.get("schema_version", current)
    if version == current:  # fast path: already current
        if "schema_version" in body:
            return dict(body)
        return {**body, "schema_version": current}
    cur = _parse_version(current)
    have = _parse_version(version)
    if have[0] != cur[0]:
        raise SchemaCompatError(f"{kind} schema_version {version} has major {have[0]}; this runtime reads major {cur[0]}")
    if have[:2] > cur[:2]:
        raise SchemaCompatError(f"{kind} schema_version {version} is newer than this runtime's {current}", "upgrade geno-lewm")
    body = dict(body)
    body.setdefault("schema_version", current)
    seen = 0
    while _parse_version(body["schema_version"])[:2] < cur[:2]:
        fn = UPCASTERS.get((kind, body["schema_version"]))
        if fn is None or seen > 64:
            raise SchemaCompatError(f"no upcaster for {kind} {body['schema_version']}", "report this: an upcaster is missing")
        body = fn(body)
        seen += 1
    if body["schema_version"] != current:  # only the patch differs: normalise
        body["schema_version"] = current
    return body


def make_event(kind: str, body: dict[str, Any]) -> _Event:
    """Validate ``body`` as an event of ``kind`` (upcasting an older minor version) and return the Struct.

    Raises ``LEDGER.UNKNOWN_KIND``, ``INPUT.SCHEMA_COMPAT`` or ``LEDGER.BAD_BODY``.
    """
    cls = KINDS.get(kind)
    if cls is None:
        raise LedgerError("UNKNOWN_KIND", f"unknown event kind {kind!r}", f"use one of: {', '.join(sorted(KINDS))}")
    if not isinstance(body, dict):
        raise LedgerError("BAD_BODY", f"{kind} body must be a JSON object, got {type(body).__name__}")
    if "kind" in body and body["kind"] != kind:
        raise LedgerError("BAD_BODY", f"body kind {body['kind']!r} does not match {kind!r}")
    version = body.get("schema_version")
    if version is None or version == CURRENT_VERSIONS[kind]:  # fast path: current schema (a missing version defaults to it)
        data = dict(body)
    else:
        data = upcast(kind, {k: v for k, v in body.items() if k != "kind"})
    data["kind"] = kind
    try:
        return msgspec.convert(data, cls, strict=True)
    except msgspec.ValidationError as exc:
        raise LedgerError("BAD_BODY", f"invalid {kind} body: {exc}", "see rfcs/RFC-0012-release-ledger.md for each kind's fields") from None


def encode_body(event: _Event) -> bytes:
    """Canonical body bytes (sorted keys, no whitespace; equal to RFC 8785 for these float-free bodies).

    Raises ``LEDGER.BODY_TOO_LARGE`` above :data:`MAX_BODY_BYTES`.
    """
    try:
        data = _ENCODER.encode(event)
    except UnicodeEncodeError as exc:
        raise LedgerError(
            "BAD_BODY", f"event body holds text that is not valid Unicode ({exc.reason})", "remove lone surrogates such as \\ud800 from the text"
        ) from None
    if len(data) > MAX_BODY_BYTES:
        raise LedgerError(
            "BODY_TOO_LARGE", f"event body is {len(data)} bytes (limit {MAX_BODY_BYTES})", "record large data as an artifact and reference it by sha256"
        )
    return data


def decode_body_raw(body: bytes) -> _Event:
    """Decode stored body bytes into their Struct without upcasting (used by verification).

    Bytes that are not valid UTF-8 raise ``msgspec.DecodeError`` like any other malformed body.
    """
    try:
        return _DECODER.decode(body)
    except UnicodeDecodeError as exc:
        raise msgspec.DecodeError(f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def decode_body(body: bytes) -> _Event:
    """Decode stored body bytes, upcasting an older schema version to the current one."""
    try:
        data = _DICT_DECODER.decode(body)
    except (UnicodeDecodeError, msgspec.DecodeError) as exc:
        raise LedgerError("BAD_EVENT", f"stored event body does not decode: {exc}", "run `geno-lewm-ledger verify` to find the damaged seq") from None
    kind = data.get("kind")
    if kind not in KINDS:
        raise LedgerError("UNKNOWN_KIND", f"stored event has unknown kind {kind!r}", "upgrade geno-lewm")
    data = upcast(kind, {k: v for k, v in data.items() if k != "kind"})
    data["kind"] = kind
    return msgspec.convert(data, KINDS[kind], strict=True)


def body_dict(event: _Event) -> dict[str, Any]:
    """The event as a plain dict (including ``kind``)."""
    return msgspec.to_builtins(event)
