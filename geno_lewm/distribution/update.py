"""``geno-lewm-update``: user-initiated, side-by-side installation of published model releases.

The release index (JSON, served from the Hub) lists releases::

    {"schema_version": "1.0.0",
     "releases": [{"model_version": "0.1.0", "release_id": "geno-lewm-v0.1.0-carbon-500m-r1",
                   "manifest_url": "https://…/manifest.json", "artifact_base_url": "https://…/"}]}

Trust model (RFC-0010): the index only says *where* to look. The manifest fetched from
``manifest_url`` is the source of truth: its canonical bytes give the ``model_id``, and every artifact
byte is trusted only after its SHA-256 and size match the manifest. A release installs into
``<install-dir>/<release_id>/`` next to the ones already there; nothing is replaced in place and a
failed install leaves nothing behind.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from geno_lewm.distribution.fetch import check_url, fetch_bytes, fetch_to_file, public_url
from geno_lewm.versioning import ReleaseId, SemVer
from ledger.canonical import canonical_json, sha256_hex
from ledger.errors import InputError, ProvenanceError, ResourceError
from ledger.identity import check_public_path, is_sha256_hex

INDEX_SCHEMA_MAJOR = 1
INSTALL_RECORD = "installed_release.json"


@dataclass(frozen=True)
class IndexEntry:
    """One release in the index."""

    model_version: SemVer
    release_id: ReleaseId
    manifest_url: str
    artifact_base_url: str | None = None

    @property
    def base_url(self) -> str:
        """Where artifacts are fetched from: ``artifact_base_url`` or the manifest's folder."""
        if self.artifact_base_url:
            return self.artifact_base_url if self.artifact_base_url.endswith("/") else self.artifact_base_url + "/"
        return urllib.parse.urljoin(self.manifest_url, ".")


def parse_index(data: bytes) -> list[IndexEntry]:
    """Parse and validate a release index; ``INPUT.BAD_INDEX`` names the first problem."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("BAD_INDEX", f"release index is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("releases"), list):
        raise InputError("BAD_INDEX", "release index must be an object with a 'releases' list")
    version = doc.get("schema_version", "1.0.0")
    if SemVer.parse(str(version)).major != INDEX_SCHEMA_MAJOR:
        raise InputError("BAD_INDEX", f"release index schema_version {version} is not readable (MAJOR {INDEX_SCHEMA_MAJOR} expected)")
    entries = []
    for i, row in enumerate(doc["releases"]):
        if not isinstance(row, dict):
            raise InputError("BAD_INDEX", f"releases[{i}] is not an object")
        for key in ("model_version", "release_id", "manifest_url"):
            if not isinstance(row.get(key), str):
                raise InputError("BAD_INDEX", f"releases[{i}] lacks string field {key!r}")
        rid = ReleaseId.parse(row["release_id"])
        mv = SemVer.parse(row["model_version"])
        if rid.version != mv:
            raise InputError("BAD_INDEX", f"releases[{i}]: release id {rid} does not match model_version {mv}")
        base = row.get("artifact_base_url")
        if base is not None:
            check_url(base, f"releases[{i}].artifact_base_url")
        entries.append(IndexEntry(mv, rid, check_url(row["manifest_url"], f"releases[{i}].manifest_url"), base))
    return entries


def installed_releases(install_dir: Path) -> dict[str, dict]:
    """Releases already installed under ``install_dir`` (release id → install record)."""
    out = {}
    if install_dir.is_dir():
        for rec in sorted(install_dir.glob(f"*/{INSTALL_RECORD}")):
            try:
                data = json.loads(rec.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            out[data.get("release_id", rec.parent.name)] = data
    return out


def choose_target(entries: list[IndexEntry], *, target_version: str | None, runtime_major: int) -> IndexEntry:
    """Pick the requested version, or the newest release this runtime can load (same MAJOR)."""
    if target_version is not None:
        want = SemVer.parse(target_version)
        matches = [e for e in entries if e.model_version == want]
        if not matches:
            raise InputError("NO_SUCH_RELEASE", f"the index has no release with model_version {want}", "run with --check-only to list the releases")
        chosen = max(matches, key=lambda e: e.release_id.revision)
    else:
        usable = [e for e in entries if e.model_version.major == runtime_major]
        if not usable:
            raise InputError("NO_SUCH_RELEASE", f"the index has no release for runtime MAJOR {runtime_major}")
        chosen = max(usable, key=lambda e: (e.model_version, e.release_id.revision))
    if chosen.model_version.major != runtime_major:
        raise InputError(
            "SCHEMA_COMPAT",
            f"release {chosen.release_id} has MAJOR {chosen.model_version.major}; this runtime loads MAJOR {runtime_major}",
            "upgrade geno-lewm first",
        )
    return chosen


@dataclass
class UpdatePlan:
    """What an update would do: the chosen release, its manifest and the files to fetch."""

    entry: IndexEntry
    manifest_bytes: bytes
    manifest: dict
    model_id: str
    files: list[dict] = field(default_factory=list)
    already_installed: bool = False

    @property
    def total_bytes(self) -> int:
        """Sum of artifact sizes to download."""
        return sum(int(f["size"]) for f in self.files)

    def to_dict(self) -> dict:
        """Public-safe summary (for ``--json`` and for display)."""
        return {
            "release_id": str(self.entry.release_id),
            "model_version": str(self.entry.model_version),
            "model_id": self.model_id,
            "manifest_url": public_url(self.entry.manifest_url),
            "files": [{"path": f["path"], "sha256": f["sha256"], "size": int(f["size"])} for f in self.files],
            "total_bytes": self.total_bytes,
            "already_installed": self.already_installed,
        }


def _manifest_files(manifest: dict) -> list[dict]:
    artifacts = manifest.get("artifacts")
    if not isinstance(artifacts, list) or not artifacts:
        raise ProvenanceError("BAD_MANIFEST", "manifest lists no artifacts")
    seen = set()
    for i, art in enumerate(artifacts):
        if not isinstance(art, dict):
            raise ProvenanceError("BAD_MANIFEST", f"artifacts[{i}] is not an object")
        path = check_public_path(str(art.get("path", "")), f"artifacts[{i}].path")
        if path in seen or path == "manifest.json":
            raise ProvenanceError("BAD_MANIFEST", f"artifact path {path!r} is duplicated or reserved")
        seen.add(path)
        if not is_sha256_hex(art.get("sha256")) or not isinstance(art.get("size"), int) or art["size"] < 0:
            raise ProvenanceError("BAD_MANIFEST", f"artifact {path!r} has an invalid sha256 or size")
    return artifacts


def plan_update(index_url: str, install_dir: Path, *, target_version: str | None, runtime_major: int) -> UpdatePlan:
    """Fetch the index and the chosen release's manifest; say what would be installed."""
    entries = parse_index(fetch_bytes(index_url))
    entry = choose_target(entries, target_version=target_version, runtime_major=runtime_major)
    manifest_bytes = fetch_bytes(entry.manifest_url)
    try:
        manifest = json.loads(manifest_bytes)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProvenanceError("BAD_MANIFEST", f"manifest at {public_url(entry.manifest_url)} is not JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise ProvenanceError("BAD_MANIFEST", "manifest is not a JSON object")
    if manifest.get("release_id") != str(entry.release_id):
        raise ProvenanceError(
            "RELEASE_MISMATCH",
            f"manifest release_id {manifest.get('release_id')!r} differs from the index entry {entry.release_id}",
            "the index or the manifest was altered; do not install",
        )
    model_id = sha256_hex(canonical_json(manifest))
    files = _manifest_files(manifest)
    installed = installed_releases(install_dir).get(str(entry.release_id))
    return UpdatePlan(entry, manifest_bytes, manifest, model_id, files, bool(installed and installed.get("model_id") == model_id))


def install(plan: UpdatePlan, install_dir: Path, *, progress=None) -> Path:
    """Download, verify and install ``plan`` side by side; return the release's directory.

    Every artifact is fetched into a staging directory and checked against the manifest's SHA-256
    and size; only when all match is the staging directory renamed into place. Any mismatch raises
    ``PROVENANCE.HASH_MISMATCH`` and leaves ``install_dir`` as it was.
    """
    dest = install_dir / str(plan.entry.release_id)
    if dest.exists():
        if plan.already_installed:
            return dest
        raise ResourceError("ALREADY_EXISTS", f"{dest.name} exists with a different model id", f"remove {dest.name} from the install dir first")
    install_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=install_dir))
    try:
        for n, art in enumerate(plan.files, 1):
            rel = art["path"]
            target = staging / rel
            if staging.resolve() not in target.resolve().parents:
                raise InputError("UNSAFE_PATH", f"artifact path {rel!r} escapes the install directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            url = urllib.parse.urljoin(plan.entry.base_url, urllib.parse.quote(rel))
            digest, size = fetch_to_file(url, target)
            if digest != art["sha256"] or size != int(art["size"]):
                raise ProvenanceError(
                    "HASH_MISMATCH",
                    f"{rel}: downloaded bytes (sha256 {digest[:12]}…, {size} bytes) do not match the manifest (sha256 {art['sha256'][:12]}…, {art['size']} bytes)",
                    "the published file differs from its manifest; nothing was installed",
                )
            if progress:
                progress(n, len(plan.files), rel)
        (staging / "manifest.json").write_bytes(plan.manifest_bytes)
        record = {
            "schema_version": "1.0.0",
            "generated_by": "geno-lewm-update",
            "release_id": str(plan.entry.release_id),
            "model_version": str(plan.entry.model_version),
            "model_id": plan.model_id,
            "manifest_url": public_url(plan.entry.manifest_url),
        }
        (staging / INSTALL_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest
