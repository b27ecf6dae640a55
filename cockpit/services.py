"""The headless calls the cockpit makes: a thin facade over ``ledger`` and ``tools.release``.

The cockpit adds no release logic of its own. Every state, gate, verification and step run comes
from the same functions ``geno-lewm-release`` and ``geno-lewm-ledger`` use; this module only opens
the workspace, calls them, and shapes their results for display. Each ledger read opens its own
short read-only handle (the ledger holds no connection between operations), so a step appending
from another process is never blocked for long by the cockpit, nor the cockpit by it.

Nothing here imports torch, transformers or textual; scoring (the Demo screen) imports its stack
inside :meth:`Services.score_demo`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from ledger.store import StoredEvent
    from ledger.verify import VerifyReport
    from tools.release.gate.states import GateState, StepRunInfo
    from tools.release.engine.forms import StepFlag
    from tools.release.gate.issues import IssueCache
    from tools.release.engine.runner import StepOutcome
    from tools.release.engine.registry import StepSpec

#: Columns of the Ledger screen's table (one row per event).
EVENT_COLUMNS = ["seq", "kind", "ts", "step", "key_id", "hash"]

#: The Ledger screen's query: every event, one row each, straight to Arrow.
EVENTS_QUERY = "SELECT seq, kind, ts, step, key_id, hash, event_id FROM v_events ORDER BY seq"

#: Example queries of the SQL console (name, query); one keystroke each.
EXAMPLE_QUERIES: list[tuple[str, str]] = [
    ("gates", "SELECT name, status, blocked_by, issue_refs FROM v_gates"),
    ("blockers", "SELECT name, status, issue_refs, failed_steps, pending_steps FROM v_blockers"),
    ("step runs", "SELECT step, status, code, started_ts, run_id FROM v_steps ORDER BY started_seq DESC"),
    ("artifacts", "SELECT step, role, path, left(sha256, 12) AS sha256, size FROM v_artifacts ORDER BY seq DESC"),
    ("events by kind", "SELECT kind, count(*) AS n, min(ts) AS first, max(ts) AS last FROM v_events GROUP BY kind ORDER BY n DESC"),
    ("keys", "SELECT key_id, label, status, registered_seq, revoked_seq FROM v_keys"),
]


#: The Demo screen's output folder inside the workspace (not a release artifact).
TRYOUT_DIR = "tryout"


def default_workdir() -> Path:
    """The default workspace: ``$GENO_LEWM_WORKSPACE`` or ``./geno-lewm-workspace``."""
    from ledger.workspace import default_workspace_dir

    return default_workspace_dir()


@dataclass
class ArtifactRow:
    """One recorded input or output of a step run, with whether its bytes on disk still match."""

    role: str  # "input" or "output"
    path: str  # package-relative path
    sha256: str  # recorded digest
    size: int  # recorded size in bytes
    state: str  # "fresh", "stale" or "missing" (from ledger.artifacts.stale_identities)


@dataclass
class StepView:
    """Everything the Step screen shows about one step."""

    name: str  # step name
    description: str  # one line from the registry
    module: str  # module holding its ``main``
    kind: str  # "release" or "command"
    available: bool  # whether its module is installed
    fixed_args: list[str]  # arguments always passed first
    latest: StepRunInfo | None  # the latest finished run (None if never run)
    artifacts: list[ArtifactRow] = field(default_factory=list)  # identities recorded by ``latest``
    runs: pa.Table | None = None  # the last runs from v_steps (newest first)
    flags: list[StepFlag] = field(default_factory=list)  # the step's flags (tools.release.engine.forms.form_flags)
    flags_error: str = ""  # why the flags could not be listed ("" when they could)
    prefill: dict[str, str] = field(default_factory=dict)  # flag -> form text (latest run, else the rehearsal's value)
    prefill_source: str = ""  # where ``prefill`` came from, in words
    prerequisites: list[str] = field(default_factory=list)  # unmet prerequisites, one line each ([] when none)

    def command(self, argv: Sequence[str]) -> list[str]:
        """The exact command the step runs for user ``argv`` (before the runner adds workspace flags)."""
        return ["python", "-m", self.module, *self.fixed_args, *argv]


@dataclass
class EventDetail:
    """An event opened from the Ledger screen: decoded body, identity, signature and inclusion proof."""

    event: StoredEvent  # the stored event
    body: dict[str, Any]  # decoded (upcast) body
    hash_ok: bool  # recomputed event hash equals the stored one
    signature: str  # "valid", "INVALID" or "unknown key"
    checkpoint_seq: int | None  # seq of the latest checkpoint (None if none yet)
    checkpoint_size: int | None  # events covered by that checkpoint
    checkpoint_root: str | None  # its Merkle root (hex)
    proof: list[str] = field(default_factory=list)  # inclusion proof (hex) of this event in that checkpoint
    proof_status: str = ""  # "verified", "not covered (…)" or the verification error


def _summary_field(name: str, cast: Callable[[Any], Any], doc: str) -> property:
    """A read-only property: ``cast(self.summary.<name>)``, documented by ``doc``."""
    return property(lambda self: cast(getattr(self.summary, name)), doc=doc)


@dataclass
class DemoResult:
    """A Demo scoring run: the score rows (Arrow), the run summary and the receipt verification."""

    rows: pa.Table  # score rows as written by geno-lewm-score (one per ALT, error rows included)
    summary: Any  # geno_lewm.scoring.run.ScoreSummary
    verify: Any  # geno_lewm.scoring.receipts.VerifyResult
    out_dir: Path  # where the scores and receipts were written

    model_id = _summary_field("model_id", str, "The scored model package's id.")
    stand_in = _summary_field("stand_in", bool, "True when the package uses the tiny stand-in encoder (no biological skill).")
    scored = _summary_field("scored", int, "Number of ALTs scored.")
    errors = _summary_field("errors", int, "Number of error rows.")


class Services:
    """The cockpit's handle on one release working directory (workspace + artifact root)."""

    def __init__(self, workdir: str | os.PathLike[str]) -> None:
        self.workdir = Path(workdir).absolute()

    # -- workspace ----------------------------------------------------------------------------

    @property
    def workspace(self):
        """The :class:`ledger.workspace.Workspace` in ``workdir``."""
        from ledger.workspace import Workspace

        return Workspace(self.workdir)

    def ensure(self) -> None:
        """Create the workspace (key and ledger with genesis) on first run."""
        self.workspace.ensure()

    def _read(self):
        return self.workspace.open_ledger(read_only=True)

    # -- release ------------------------------------------------------------------------------

    def gate_states(self) -> list[GateState]:
        """Every gate's derived state (``tools.release.gate.status.gate_states``)."""
        from tools.release.gate.status import gate_states

        return gate_states(self.workdir)

    def steps(self) -> dict[str, StepSpec]:
        """The step registry (``tools.release.engine.registry.STEPS``)."""
        from tools.release.engine.registry import STEPS

        return STEPS

    def step_view(self, name: str, *, runs_limit: int = 20) -> StepView:
        """The Step screen's data: registry entry, latest run, its artifacts (fresh or stale) and last runs."""
        from ledger.artifacts import stale_identities
        from tools.release.gate.states import latest_runs
        from tools.release.engine.registry import step as get_step

        spec = get_step(name)
        ledger = self._read()
        try:
            latest = latest_runs(ledger.events(kinds=["step_started", "step_passed", "step_failed", "artifact_recorded"])).get(name)
            runs = ledger.arrow(
                "SELECT status, code, started_ts, ended_ts, run_id, message FROM v_steps "
                f"WHERE step = {_sql_str(name)} ORDER BY started_seq DESC LIMIT {int(runs_limit)}"
            )
        finally:
            ledger.close()
        rows: list[ArtifactRow] = []
        if latest is not None:
            for role, idents in (("input", latest.inputs), ("output", latest.outputs)):
                bad = dict(stale_identities(idents, self.workdir))
                rows += [ArtifactRow(role, i["path"], i["sha256"], i["size"], bad.get(i["path"], "fresh")) for i in idents]
        view = StepView(
            name=spec.name,
            description=spec.description,
            module=spec.module,
            kind=spec.kind,
            available=spec.available(),
            fixed_args=list(spec.fixed_args),
            latest=latest,
            artifacts=rows,
            runs=runs,
        )
        self._add_form(view)
        view.prerequisites = unmet_prerequisites(name, self.gate_states())
        return view

    def _add_form(self, view: StepView) -> None:
        """Fill the view's flags and their prefilled values (latest run, else the rehearsal)."""
        from ledger.errors import GenoError
        from tools.release.engine.forms import flag_values, form_flags, form_text

        try:
            view.flags = form_flags(view.name, self.workdir)
        except GenoError as err:
            view.flags_error = f"error[{err.code}] {err.message}"
            return
        if view.latest is not None and view.latest.argv:
            given = flag_values(view.latest.argv, self.workdir)
            view.prefill_source = f"values from the latest run (seq {view.latest.seq})"
            for f in view.flags:
                text = form_text(f.kind, *(given[o] for o in (f.name, *f.aliases) if o in given))
                if text is not None:
                    view.prefill[f.name] = text
        else:
            view.prefill = {f.name: f.suggested for f in view.flags if f.suggested is not None}
            view.prefill_source = "values the offline rehearsal uses in this workspace" if view.prefill else ""

    def form_argv(self, view: StepView, values: dict[str, str]) -> list[str]:
        """The step's argv from form ``values`` (flag -> text); relative paths resolve against the workspace."""
        import shlex

        argv: list[str] = []
        for f in view.flags:
            text = values.get(f.name, "").strip()
            if not text:
                continue
            parts = [text] if f.kind in ("value", "switch") else shlex.split(text)
            if f.is_path:
                parts = [p if os.path.isabs(p) else str(self.workdir / p) for p in parts]
            argv += f.argv(parts)
        return argv

    def run_step(self, name: str, argv: Sequence[str], log: Callable[[str], None]) -> StepOutcome:
        """Run a step with ledger recording (``tools.release.engine.runner.run_step``); never raises for a step failure."""
        from tools.release.engine.runner import run_step

        return run_step(name, list(argv), self.workdir, log=log)

    def rehearsal_plan(self) -> list[str]:
        """The rehearsal's step names, in order (``tools.release.gate.rehearsal.PLAN``)."""
        from tools.release.gate.rehearsal import PLAN

        return [entry.step for entry in PLAN]

    def last_rehearsal(self) -> dict[str, StepRunInfo]:
        """The latest finished run of every rehearsal step the ledger holds (step -> run; absent when never run)."""
        from tools.release.gate.states import latest_runs_from_views

        plan = set(self.rehearsal_plan())
        ledger = self._read()
        try:
            runs = latest_runs_from_views(ledger)
        finally:
            ledger.close()
        return {name: run for name, run in runs.items() if name in plan}

    def issue_cache(self) -> IssueCache | None:
        """The issue titles and states ``geno-lewm-release issues sync`` cached in the workspace (None if none)."""
        from tools.release.gate.issues import load_issue_cache

        return load_issue_cache(self.workdir)

    def rehearse(self, progress: Callable[[str], None], *, on_step: Callable[[Any], None] | None = None, until: str | None = None) -> Any:
        """Run the offline rehearsal in ``workdir`` (``tools.release.gate.rehearsal.rehearse``).

        ``progress`` gets every log line, ``on_step`` a ``tools.release.gate.rehearsal.StepProgress``
        per step start and outcome; ``until`` stops after that step.
        """
        from tools.release.gate.rehearsal import rehearse

        return rehearse(self.workdir, progress=progress, on_step=on_step, until=until)

    # -- ledger -------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """(number of events, hash of the last event)."""
        ledger = self._read()
        try:
            return ledger.head()
        finally:
            ledger.close()

    def events_table(self) -> pa.Table:
        """Every event as one Arrow table (DuckDB → Arrow, no per-row Python)."""
        return self.query(EVENTS_QUERY)

    def query(self, sql: str) -> pa.Table:
        """A read-only auditor query over the ledger's tables and views (write statements refused)."""
        ledger = self._read()
        try:
            return ledger.arrow(sql)
        finally:
            ledger.close()

    def verify(self) -> VerifyReport:
        """Verify the whole ledger, including recorded artifacts under ``workdir``."""
        ledger = self._read()
        try:
            return ledger.verify(artifacts_root=self.workdir)
        finally:
            ledger.close()

    def event_detail(self, seq: int) -> EventDetail:
        """Open event ``seq``: decoded body, hash and signature checks (``Ledger.check_event``), inclusion proof in the latest checkpoint (``Ledger.inclusion_proof``)."""
        from ledger.errors import LedgerError

        ledger = self._read()
        try:
            ev = ledger.get(seq)
            check = ledger.check_event(seq)
            cps = ledger.sql("SELECT seq, size, root FROM v_checkpoints ORDER BY seq DESC LIMIT 1")[1]
            proof = proof_error = None
            if cps and seq < cps[0][1]:
                try:
                    proof = ledger.inclusion_proof(seq)
                    proof.verify()
                except LedgerError as err:
                    proof_error = f"FAILED: {err.code}: {err.message}"
        finally:
            ledger.close()
        if check.signature_ok is None:
            signature = "unknown key"
        elif not check.signature_ok:
            signature = "INVALID"
        elif check.key_status == "revoked":
            signature = f"valid, but key revoked at seq {check.revoked_seq}"
        elif check.key_status != "trusted":
            signature = "valid, but key not trusted at this point"
        else:
            signature = "valid"
        detail = EventDetail(ev, ev.data, check.hash_ok, signature, None, None, None)
        if not cps:
            detail.proof_status = "no checkpoint yet, so no inclusion proof (write one: `geno-lewm-ledger checkpoint`)"
            return detail
        cp_seq, size, root = cps[0]
        detail.checkpoint_seq, detail.checkpoint_size, detail.checkpoint_root = cp_seq, size, root
        if seq >= size:
            detail.proof_status = f"not covered (checkpoint at seq {cp_seq} covers events 0..{size - 1}; a newer one: `geno-lewm-ledger checkpoint`)"
        elif proof_error is not None:
            detail.proof_status = proof_error
        elif proof is not None:
            detail.checkpoint_seq, detail.checkpoint_size, detail.checkpoint_root = proof.checkpoint_seq, proof.tree_size, proof.root
            detail.proof = proof.proof
            detail.proof_status = "verified"
        return detail

    # -- demo ---------------------------------------------------------------------------------

    def demo_examples(self) -> tuple[Path, Path]:
        """The bundled example VCF and FASTA."""
        from geno_lewm.resources import example_path

        return example_path("mt_known_variants.vcf"), example_path("rCRS_chrM.fa")

    def current_model_package(self) -> Path | None:
        """The model package directory the latest passed ``model_package`` run recorded (None if none).

        ``model_package`` records ``<dir>/model_package.json`` (and the model card and SHA256SUMS) as
        its outputs; the package is that file's directory, as long as it still holds a manifest.
        """
        ledger = self._read()
        try:
            rows = ledger.sql(
                "SELECT a.path FROM v_artifacts a JOIN v_steps s ON s.run_id = a.run_id "
                "WHERE s.step = 'model_package' AND s.status = 'passed' AND a.role = 'output' "
                "AND (a.path = 'model_package.json' OR a.path LIKE '%/model_package.json') ORDER BY a.seq DESC LIMIT 1"
            )[1]
        finally:
            ledger.close()
        if not rows:
            return None
        directory = (self.workdir / rows[0][0]).parent
        return directory if (directory / "manifest.json").is_file() else None

    @property
    def tryout_dir(self) -> Path:
        """Where the Demo screen writes its scores and receipts: ``<workdir>/tryout/``, never a release artifact."""
        return self.workdir / TRYOUT_DIR

    def score_demo(
        self, model_dir: str | os.PathLike[str], vcf: str | os.PathLike[str], fasta: str | os.PathLike[str], *, log: Callable[[str], None] = lambda line: None
    ) -> DemoResult:
        """Score ``vcf`` against ``fasta`` with ``model_dir`` (``score_vcf``), then verify the receipts.

        Outputs go to :attr:`tryout_dir` (``<workdir>/tryout/``), a folder no release step records,
        so trying the model never touches release artifacts (the ``demo`` gate's ``demo/`` stays as
        the ``terminal_demo`` step wrote it). Imports the scoring stack (and torch) here, not at
        cockpit start-up.
        """
        import pyarrow.json as pajson

        from geno_lewm.scoring.receipts import verify_receipts
        from geno_lewm.scoring.run import score_vcf

        out = self.tryout_dir
        out.mkdir(parents=True, exist_ok=True)
        scores, receipts = out / "scores.jsonl", out / "receipts.jsonl"
        log("scoring…")
        summary = score_vcf(model_dir, vcf, fasta, output_scores=scores, output_receipts=receipts, progress=False, device="cpu")
        log(summary.stderr_line() + "; verifying receipts…")
        result = verify_receipts(model_dir, receipts, scores, fasta=fasta, vcf=vcf, device="cpu")
        rows = pajson.read_json(scores)
        return DemoResult(rows=rows, summary=summary, verify=result, out_dir=out)

    def export(self, table: pa.Table, path: str | os.PathLike[str]) -> Path:
        """Write ``table`` atomically as CSV or Parquet (chosen by the file suffix); return the path."""
        from ledger.errors import InputError
        from ledger.fsutil import atomic_path

        dest = Path(path)
        if not dest.is_absolute():
            dest = self.workdir / dest
        suffix = dest.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise InputError("EXPORT_FORMAT", f"cannot export to {dest.name}: use a .csv or .parquet name", "end the file name in .csv or .parquet")
        with atomic_path(dest) as tmp:
            if suffix == ".csv":
                import pyarrow.csv as pacsv

                pacsv.write_csv(csv_ready(table), tmp)
            else:
                import pyarrow.parquet as pq

                pq.write_table(table, tmp)
        return dest


def unmet_prerequisites(step: str, states: Sequence[GateState]) -> list[str]:
    """What must pass before ``step`` can: earlier steps of its gate, and the gates that gate needs.

    One line per unmet prerequisite, e.g. ``gate dataset is pending (training needs it)`` or
    ``step dataset_snapshot is pending (runs before dataset_package in gate dataset)``.
    """
    by_name = {s.name: s for s in states}
    lines: list[str] = []
    for gate in states:
        if step not in gate.steps:
            continue
        for need in gate.blocked_by:
            other = by_name.get(need)
            word = other.word if other is not None else "unknown"
            line = f"gate {need} is {word} ({gate.name} needs it)"
            if line not in lines:
                lines.append(line)
        for earlier in gate.steps[: gate.steps.index(step)]:
            state = gate.step_states.get(earlier, "pending")
            if state != "passed":
                lines.append(f"step {earlier} is {state} (runs before {step} in gate {gate.name})")
    return lines


def csv_ready(table: pa.Table) -> pa.Table:
    """``table`` with every nested column (list, struct, map) turned into JSON text, so CSV can hold it.

    CSV has no list type (``pyarrow.csv`` refuses ``list<string>``, e.g. ``v_blockers.issue_refs``);
    a nested cell becomes its compact JSON form (``["#163","#164"]``), a null stays empty. Flat
    columns are passed through untouched.
    """
    import json

    import pyarrow as pa
    import pyarrow.types as pt

    def nested(t: pa.DataType) -> bool:
        return (
            pt.is_list(t)
            or pt.is_large_list(t)
            or pt.is_fixed_size_list(t)
            or pt.is_struct(t)
            or pt.is_map(t)
            or pt.is_list_view(t)
            or pt.is_large_list_view(t)
        )

    if not any(nested(f.type) for f in table.schema):
        return table
    columns, names = [], []
    for f, col in zip(table.schema, table.columns, strict=True):
        names.append(f.name)
        if nested(f.type):
            values = [None if v is None else json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str) for v in col.to_pylist()]
            columns.append(pa.array(values, type=pa.string()))
        else:
            columns.append(col)
    return pa.table(columns, names=names)


def _sql_str(text: str) -> str:
    """A SQL string literal for ``text`` (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"
