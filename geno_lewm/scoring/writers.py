"""Streaming, atomic writers for score rows: JSONL, Parquet and an annotated bgzipped+tabix VCF.

Each writer is a context manager fed one :class:`~geno_lewm.scoring.rows.ScoreRow` at a time (memory
stays bounded: Parquet row groups are flushed every ``row_group_size`` rows, the VCF writer holds
one record's ALTs). Files appear only when the block succeeds (``ledger.fsutil.atomic_path``); on an
error nothing is left behind.

The annotated VCF is sites-only (``CHROM POS ID REF ALT QUAL FILTER INFO``): one record per input
record (ALTs re-joined), with the per-ALT INFO fields declared in the header:
``GLEWM_SCORE`` (Float, A), ``GLEWM_PCT`` (Float, A), ``GLEWM_BUCKET`` (String, A),
``GLEWM_CONF`` (Float, A), ``GLEWM_ERR`` (String, A); the model id is a ``##geno_lewm_model_id``
header line. It needs coordinate-sorted input (tabix): unsorted input is ``INPUT.VCF_UNSORTED``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Any, Final

from geno_lewm.scoring.rows import GENERATED_BY, ROW_ATTRIBUTES, SCORE_ROW_SCHEMA_VERSION, ScoreRow, row_columns
from ledger.errors import InputError
from ledger.fsutil import atomic_path


class JsonlWriter:
    """Write rows (or any objects with ``to_json() -> bytes``) as JSON lines, atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.count = 0
        self._stack = contextlib.ExitStack()
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> JsonlWriter:
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._fh = self._stack.enter_context(open(tmp, "wb"))
        return self

    def write(self, row: Any) -> None:
        """Append one row."""
        assert self._fh is not None
        self._fh.write(row.to_json() + b"\n")
        self.count += 1

    def write_lines(self, data: bytes, count: int) -> None:
        """Append ``count`` rows already encoded as JSON lines (each ending in a newline)."""
        assert self._fh is not None
        self._fh.write(data)
        self.count += count

    def __exit__(self, *exc: Any) -> bool | None:
        return self._stack.__exit__(*exc)


#: Parquet columns with one value for every row, columns holding canonical decimal strings as floats,
#: and the ScoreRow attribute behind a column of another name.
_CONSTANT_COLUMNS: dict[str, str] = {"schema_version": SCORE_ROW_SCHEMA_VERSION, "generated_by": GENERATED_BY}
_NUMBER_COLUMNS = frozenset({"score", "percentile", "confidence"})
_ATTRIBUTE_OF = {"id": "vid"}


class ParquetWriter:
    """Write score rows as Parquet (same fields as the JSONL rows), in row groups."""

    def __init__(self, path: str | os.PathLike[str], *, row_group_size: int = 16384) -> None:
        self.path = Path(path)
        self.row_group_size = row_group_size
        self.count = 0
        self._cols: dict[str, list[Any]] = {name: [] for name in self.schema().names}  # column buffers (a dict per row cost ~1 KB)
        self._stack = contextlib.ExitStack()
        self._writer = None

    @staticmethod
    def schema():
        """The Arrow schema of a score row."""
        import pyarrow as pa

        return pa.schema(
            [
                ("schema_version", pa.string()),
                ("generated_by", pa.string()),
                ("model_id", pa.string()),
                ("chrom", pa.string()),
                ("pos", pa.int64()),
                ("id", pa.string()),
                ("ref", pa.string()),
                ("alt", pa.string()),
                ("score", pa.float64()),
                ("percentile", pa.float64()),
                ("bucket", pa.string()),
                ("confidence", pa.float64()),
                ("error_code", pa.string()),
                ("error_message", pa.string()),
                ("stand_in", pa.bool_()),
            ]
        )

    def __enter__(self) -> ParquetWriter:
        import pyarrow.parquet as pq

        tmp = self._stack.enter_context(atomic_path(self.path))
        self._writer = pq.ParquetWriter(os.fspath(tmp), self.schema(), compression="zstd")
        self._stack.callback(self._writer.close)
        return self

    def write(self, row: ScoreRow) -> None:
        """Append one row (flushed in row groups)."""
        self.write_columns(row_columns([row]))

    def write_columns(self, columns: tuple[list[Any], ...]) -> None:
        """Append rows given as :func:`~geno_lewm.scoring.rows.row_columns` (the same values :meth:`write` appends)."""
        by_name = dict(zip(ROW_ATTRIBUTES, columns, strict=True))
        n = len(by_name["pos"])
        for name, values in self._cols.items():
            if name in _CONSTANT_COLUMNS:
                values.extend([_CONSTANT_COLUMNS[name]] * n)
            elif name in _NUMBER_COLUMNS:
                values.extend([None if v is None else float(v) for v in by_name[name]])
            else:
                values.extend(by_name[_ATTRIBUTE_OF.get(name, name)])
        self.count += n
        if len(self._cols["pos"]) >= self.row_group_size:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._cols["pos"] and self._writer is not None:
            self._writer.write_table(pa.Table.from_pydict(self._cols, schema=self.schema()))
            self._cols = {name: [] for name in self._cols}

    def __exit__(self, *exc: Any) -> bool | None:
        if exc[0] is None:
            self._flush()
        return self._stack.__exit__(*exc)


#: What the annotated VCF reads of a row, in this order (the record ordinal first: it groups ALTs).
_VCF_FIELDS: Final = ("record", "chrom", "pos", "ref", "vid", "alt", "score", "percentile", "bucket", "confidence", "error_code")
_VCF_FIELD_INDEX: Final = tuple(ROW_ATTRIBUTES.index(name) for name in _VCF_FIELDS)

_INFO_LINES = (
    '##INFO=<ID=GLEWM_SCORE,Number=A,Type=Float,Description="GenoLeWM raw score: L2 norm of predicted minus source latent (canonical 8 significant digits)">',
    '##INFO=<ID=GLEWM_PCT,Number=A,Type=Float,Description="GenoLeWM calibrated percentile within the calibration bucket (0-100)">',
    '##INFO=<ID=GLEWM_BUCKET,Number=A,Type=String,Description="GenoLeWM calibration bucket used after back-off">',
    '##INFO=<ID=GLEWM_CONF,Number=A,Type=Float,Description="GenoLeWM calibration confidence n/(n+min_count) of the bucket used">',
    '##INFO=<ID=GLEWM_ERR,Number=A,Type=String,Description="GenoLeWM per-ALT error code when the ALT was not scored">',
)


def check_vcf_output_name(path: str | os.PathLike[str]) -> None:
    """``INPUT.BAD_OUTPUT_NAME`` unless the annotated VCF's name ends in ``.vcf.gz``."""
    name = Path(path).name
    if not name.endswith(".vcf.gz"):
        raise InputError("BAD_OUTPUT_NAME", f"--output-vcf must end with .vcf.gz (got {name})", "name the annotated VCF like scores.vcf.gz")


class VcfWriter:
    """Write an annotated, bgzipped, tabix-indexed sites-only VCF (``.vcf.gz`` + ``.tbi``)."""

    def __init__(self, path: str | os.PathLike[str], *, contigs: dict[str, int], model_id: str, stand_in: bool) -> None:
        self.path = Path(path)
        check_vcf_output_name(self.path)
        self.contigs = dict(contigs)
        self.model_id = model_id
        self.stand_in = stand_in
        self.count = 0
        self._group: list[tuple[Any, ...]] = []  # the current record's rows, as _VCF_FIELDS values
        self._last: tuple[int, int] | None = None
        self._order = {c: i for i, c in enumerate(self.contigs)}
        self._tmp: Path | None = None
        self._vf = None

    def _header(self):
        import pysam

        hdr = pysam.VariantHeader()
        hdr.add_line(f"##geno_lewm_model_id={self.model_id}")
        if self.stand_in:
            hdr.add_line("##geno_lewm_stand_in=true (tiny stand-in encoder; scores carry no biological skill)")
        for name, length in self.contigs.items():
            hdr.contigs.add(name, length=length)
        for line in _INFO_LINES:
            hdr.add_line(line)
        return hdr

    def __enter__(self) -> VcfWriter:
        import pysam

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.partial.vcf.gz")
        self._vf = pysam.VariantFile(os.fspath(self._tmp), "wz", header=self._header())
        return self

    def write(self, row: ScoreRow) -> None:
        """Add one row; the ALTs of one input record (same ``record`` ordinal) share an output record."""
        self._add(tuple(getattr(row, name) for name in _VCF_FIELDS))

    def write_columns(self, columns: tuple[list[Any], ...]) -> None:
        """Add rows given as :func:`~geno_lewm.scoring.rows.row_columns` (what :meth:`write` adds, without building rows)."""
        for values in zip(*(columns[i] for i in _VCF_FIELD_INDEX), strict=True):
            self._add(values)

    def _add(self, values: tuple[Any, ...]) -> None:
        """Add one row's :data:`_VCF_FIELDS` values."""
        if self._group and self._group[0][0] != values[0]:
            self._emit()
        self._group.append(values)
        self.count += 1

    def _emit(self) -> None:
        rows, self._group = self._group, []
        _, chrom, pos, ref, vid = rows[0][:5]
        if chrom not in self._order or pos < 1:
            return  # contigs absent from the FASTA, or POS 0, cannot be placed in an indexed VCF (the rows carry the error)
        key = (self._order[chrom], pos)
        if self._last is not None and key < self._last:
            raise InputError("VCF_UNSORTED", f"input is not coordinate-sorted at {chrom}:{pos}", "sort the VCF (bcftools sort) to write --output-vcf")
        self._last = key
        rec = self._vf.new_record(contig=chrom, start=pos - 1, stop=pos - 1 + len(ref), alleles=(ref, *[r[5] for r in rows]), id=vid)
        rec.info["GLEWM_SCORE"] = tuple(None if r[6] is None else float(r[6]) for r in rows)
        rec.info["GLEWM_PCT"] = tuple(None if r[7] is None else float(r[7]) for r in rows)
        rec.info["GLEWM_BUCKET"] = tuple(r[8] or "." for r in rows)
        rec.info["GLEWM_CONF"] = tuple(None if r[9] is None else float(r[9]) for r in rows)
        rec.info["GLEWM_ERR"] = tuple(r[10] or "." for r in rows)
        self._vf.write(rec)

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        import pysam

        tmp = self._tmp
        assert tmp is not None and self._vf is not None
        tbi = Path(os.fspath(tmp) + ".tbi")
        ok = exc_type is None
        try:
            if ok and self._group:
                self._emit()
        except BaseException:
            ok = False
            raise
        finally:
            self._vf.close()
            if ok:
                pysam.tabix_index(os.fspath(tmp), preset="vcf", force=True)
                os.replace(tbi, os.fspath(self.path) + ".tbi")
                os.replace(tmp, self.path)
            else:
                for p in (tmp, tbi):
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()


__all__ = ["JsonlWriter", "ParquetWriter", "VcfWriter", "check_vcf_output_name"]
