"""RFC-0002 window-embedding cache: content-keyed Parquet shards of per-window hidden states.

A shard holds the hidden states (at the state contract's layer) of one window. Its key is
``sha256(window sha256 + encoder hash + state-contract hash)``, so a new encoder or contract can
never reuse old entries. Shards are written atomically; on read every field (schema version,
key, hashes, shape, payload sha256) is checked, and a corrupt or mismatched shard raises
``RESOURCE.CACHE_CORRUPT`` inside :meth:`WindowCache.load` and is rebuilt by
:meth:`WindowCache.get_or_compute` (never silently used).

Schema versions follow the loader contract (:func:`geno_lewm.versioning.load_document`): a shard
at any MINOR/PATCH of MAJOR 1 is read and its unknown optional columns are ignored; a foreign MAJOR,
or a column named in the Parquet schema metadata's ``required_fields`` (a JSON list) that this
runtime does not know, is ``INPUT.SCHEMA_COMPAT`` (the cache then rebuilds that window's shard).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import InputError, ResourceError, SchemaCompatError
from ledger.fsutil import atomic_path

from geno_lewm.versioning import load_document

if TYPE_CHECKING:
    import torch

SCHEMA_NAME = "window_embedding_shard"
SCHEMA_VERSION = "1.0.0"
_COLUMNS = ("schema_version", "key", "window_sha256", "encoder_hash", "state_contract_hash", "tokens", "hidden", "dtype", "payload_sha256", "payload")
_PAYLOAD_COLUMNS = ("key", "payload", "payload_sha256", "tokens", "hidden")


def window_sha256(seq: str) -> str:
    """SHA-256 of the upper-cased window sequence (ASCII)."""
    return hashlib.sha256(seq.upper().encode("ascii")).hexdigest()


def cache_key(seq: str, encoder_hash: str, contract_hash: str) -> str:
    """The content key of a window's shard."""
    return hashlib.sha256(f"{window_sha256(seq)}:{encoder_hash}:{contract_hash}".encode()).hexdigest()


def _read_row(path: Path, columns: tuple[str, ...]) -> dict[str, Any]:
    """The first row of shard ``path`` restricted to ``columns``, after the loader contract.

    ``RESOURCE.CACHE_CORRUPT`` if unreadable; ``INPUT.SCHEMA_COMPAT`` for a foreign MAJOR or an
    unknown required column. Columns this runtime does not know are never read.
    """
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        row = {c: table.column(c)[0].as_py() for c in columns}
        row["schema_version"] = table.column("schema_version")[0].as_py() if "schema_version" in table.column_names else None
        raw = (table.schema.metadata or {}).get(b"required_fields")
        required = json.loads(raw) if raw else None
    except Exception as exc:  # noqa: BLE001 - any unreadable shard is corrupt
        raise ResourceError("CACHE_CORRUPT", f"cache shard {path.name} is unreadable ({type(exc).__name__})") from None
    try:
        load_document(SCHEMA_NAME, {**row, "required_fields": required}, known_fields=frozenset(_COLUMNS))
    except SchemaCompatError as exc:
        raise SchemaCompatError(f"cache shard {path.name}: {exc.message}", "delete the shard (the cache rebuilds it) or upgrade geno-lewm") from None
    return {c: row[c] for c in columns}


def _payload_valid(row: dict[str, Any]) -> bool:
    payload = row["payload"]
    return hashlib.sha256(payload).hexdigest() == row["payload_sha256"] and len(payload) == 4 * row["tokens"] * row["hidden"]


def shard_hidden(row: dict[str, Any]) -> torch.Tensor:
    """The (T, H) float32 hidden states held by a checked shard row."""
    import numpy as np
    import torch

    arr = np.frombuffer(row["payload"], dtype="<f4").reshape(row["tokens"], row["hidden"])
    return torch.from_numpy(arr.copy())  # (T, H)


def read_shard(path: str | os.PathLike[str], key: str) -> dict[str, Any]:
    """The payload fields (key, payload, payload_sha256, tokens, hidden) of the shard at ``path``.

    Refuses (``RESOURCE.CACHE_CORRUPT``) a shard that is unreadable or does not hold ``key`` with a
    payload matching its SHA-256 and shape, and (``INPUT.SCHEMA_COMPAT``) one the loader contract
    rejects.
    """
    p = Path(path)
    row = _read_row(p, _PAYLOAD_COLUMNS)
    if row["key"] != key or not _payload_valid(row):
        raise ResourceError("CACHE_CORRUPT", f"cache shard {p.name} does not hold key {key[:16]}… with a valid payload", "rebuild the window cache")
    return row


class WindowCache:
    """Per-window hidden states on disk, keyed by window content + encoder hash + contract hash."""

    def __init__(self, cache_dir: str | os.PathLike[str], *, encoder_hash: str, contract_hash: str) -> None:
        self.dir = Path(cache_dir)
        self.encoder_hash = encoder_hash
        self.contract_hash = contract_hash
        self.stats: dict[str, int] = {"hits": 0, "misses": 0, "rebuilt": 0}

    def shard_path(self, key: str) -> Path:
        """Where the shard for ``key`` lives (two-level fan-out)."""
        return self.dir / key[:2] / f"{key}.parquet"

    def load(self, seq: str) -> torch.Tensor | None:
        """The cached (T, H) hidden states of ``seq``; None when absent; ``RESOURCE.CACHE_CORRUPT`` if bad.

        ``INPUT.SCHEMA_COMPAT`` for a shard this runtime cannot read (see the module docstring).
        """
        key = cache_key(seq, self.encoder_hash, self.contract_hash)
        path = self.shard_path(key)
        if not path.is_file():
            return None
        row = _read_row(path, _COLUMNS)
        expect = {
            "key": key,
            "window_sha256": window_sha256(seq),
            "encoder_hash": self.encoder_hash,
            "state_contract_hash": self.contract_hash,
            "dtype": "float32",
        }
        for field, want in expect.items():
            if row[field] != want:
                raise ResourceError("CACHE_CORRUPT", f"cache shard {path.name} has {field}={str(row[field])[:16]!r}, expected {want[:16]!r}")
        if not _payload_valid(row):
            raise ResourceError("CACHE_CORRUPT", f"cache shard {path.name} payload does not match its sha256/shape")
        return shard_hidden(row)

    def store(self, seq: str, hidden: torch.Tensor) -> Path:
        """Write ``hidden`` (T, H) for ``seq`` atomically; return the shard path."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if hidden.dim() != 2:
            raise InputError("CACHE_SHAPE", f"cache entries are (T, H) tensors, got {tuple(hidden.shape)}")
        key = cache_key(seq, self.encoder_hash, self.contract_hash)
        payload = hidden.detach().to("cpu").float().contiguous().numpy().astype("<f4", copy=False).tobytes()
        row = {
            "schema_version": SCHEMA_VERSION,
            "key": key,
            "window_sha256": window_sha256(seq),
            "encoder_hash": self.encoder_hash,
            "state_contract_hash": self.contract_hash,
            "tokens": int(hidden.shape[0]),
            "hidden": int(hidden.shape[1]),
            "dtype": "float32",
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "payload": payload,
        }
        schema = pa.schema(
            [(c, pa.binary() if c == "payload" else pa.int64() if c in ("tokens", "hidden") else pa.string()) for c in _COLUMNS],
            metadata={b"schema_name": SCHEMA_NAME.encode(), b"schema_version": SCHEMA_VERSION.encode()},
        )
        table = pa.table({c: [row[c]] for c in _COLUMNS}, schema=schema)
        path = self.shard_path(key)
        with atomic_path(path) as tmp:
            # one value per column: no dictionary and no min/max statistics. On a Carbon-500M
            # window's 6.8 MB payload they cost about 20 ms per write and made reading 10x slower
            # (23 ms vs 2 ms), for nothing. Readers see the same schema and values.
            pq.write_table(table, tmp, use_dictionary=False, write_statistics=False)
        return path

    def get_or_compute(self, windows: list[str], compute: Callable[[list[str]], list[torch.Tensor]]) -> list[torch.Tensor]:
        """Per-window (T, H) hidden states: cached ones are read, the rest computed in one call and stored.

        A corrupt or mismatched shard (``RESOURCE.CACHE_CORRUPT``), or one this runtime cannot read
        (``INPUT.SCHEMA_COMPAT``), is reported on stderr and rebuilt from ``compute``.
        """
        out: list[torch.Tensor | None] = [None] * len(windows)
        todo: dict[str, list[int]] = {}
        for i, seq in enumerate(windows):
            try:
                got = self.load(seq)
            except (ResourceError, SchemaCompatError) as err:
                print(f"warning[{err.code}]: {err.message}; rebuilding it", file=sys.stderr)
                self.stats["rebuilt"] += 1
                got = None
            if got is None:
                todo.setdefault(seq, []).append(i)
            else:
                self.stats["hits"] += 1
                out[i] = got
        if todo:
            seqs = list(todo)
            computed = compute(seqs)
            if len(computed) != len(seqs):
                raise InputError("CACHE_COMPUTE", f"compute returned {len(computed)} entries for {len(seqs)} windows")
            for seq, hidden in zip(seqs, computed):
                self.store(seq, hidden)
                self.stats["misses"] += 1
                for i in todo[seq]:
                    out[i] = hidden.detach().to("cpu").float().contiguous()  # (T, H)
        return out  # type: ignore[return-value]
