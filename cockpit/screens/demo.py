"""The Demo screen: score the example VCF (or a chosen VCF + FASTA) with the current model package.

The model field is filled with the package the latest passed ``model_package`` run recorded in
the ledger (after a rehearsal: ``model/``). Scores and receipts go to ``<workdir>/tryout/``, a
folder no release step records, so trying the model never changes a release artifact or a gate.

Scoring runs ``geno_lewm.scoring.run.score_vcf`` in a background worker (torch is imported there,
never at cockpit start-up), then ``geno_lewm.scoring.receipts.verify_receipts`` checks every
receipt against the package, the reference windows and a re-scored sample; the score rows are
shown in an Arrow-backed table with the verification result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Static

from cockpit.arrow_table import ArrowTable
from cockpit.base import CockpitScreen, TopBar, load_in_worker
from cockpit.messages import DemoModelFound, DemoScored, LogLine

if TYPE_CHECKING:
    from cockpit.services import DemoResult

#: Score-row columns shown first (others follow when present).
DEMO_COLUMNS = ["chrom", "pos", "ref", "alt", "score", "percentile", "bucket", "confidence", "error_code"]


class DemoScreen(CockpitScreen):
    """Score a VCF with the current model package; show rows and the receipt verification."""

    AUTO_FOCUS = "#demo-results"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "score", "Score", id="demo.score"),
        Binding("ctrl+r", "score", "Score", show=False, priority=True, id="demo.score_anywhere"),
        Binding("e", "focus('#demo-model')", "Edit paths", id="demo.edit"),  # Tab moves between the fields, Enter scores, Esc leaves
        Binding("y", "copy_model", "Copy model id", id="demo.copy"),
        Binding("escape", "focus('#demo-results')", "Leave field", show=False, id="demo.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result: DemoResult | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        """Top bar, three path inputs, status, results table, footer."""
        yield TopBar("Demo")
        for key, label in (("model", "model"), ("vcf", "VCF  "), ("fasta", "FASTA")):
            with Horizontal(classes="demo-row"):
                yield Static(f"{label} ", classes="demo-label")
                yield Input(id=f"demo-{key}")
        yield Static(" s: score · e: edit the paths (Enter scores, Esc leaves) · writes to tryout/", id="demo-status", markup=False)
        yield ArrowTable(id="demo-results", empty_text="(not scored yet)")
        yield Footer()

    def on_mount(self) -> None:
        """Say what empty fields mean (the bundled examples), then find the current model package."""
        vcf, fasta = self.services.demo_examples()
        self.query_one("#demo-vcf", Input).placeholder = f"bundled example {vcf.name} (or a path)"
        self.query_one("#demo-fasta", Input).placeholder = f"bundled example {fasta.name} (or a path)"
        super().on_mount()

    def reload(self) -> None:
        """Find the current model package (from the ledger) when the model field is empty."""
        if not self.query_one("#demo-model", Input).value:
            self._find_model()

    def _find_model(self) -> None:
        load_in_worker(self, "demo-model", lambda: DemoModelFound(self.services.current_model_package()))

    @on(DemoModelFound)
    def _model_found(self, message: DemoModelFound) -> None:
        field = self.query_one("#demo-model", Input)
        if message.model_dir is not None and not field.value:
            field.value = _show_path(message.model_dir, self.services.workdir)
        elif message.model_dir is None and not field.value:
            field.placeholder = "no model package recorded yet: run the rehearsal (R) or type a model dir"

    @on(DemoScored)
    def _scored(self, message: DemoScored) -> None:
        self._show(message.result)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.query_one("#demo-results", ArrowTable).focus()
        self.action_score()

    def action_score(self) -> None:
        """Score the VCF in a background worker, then verify the receipts."""
        if self.running:
            self.notify("scoring is already running")
            return
        example_vcf, example_fasta = self.services.demo_examples()
        wd = self.services.workdir
        model = _resolve(self.query_one("#demo-model", Input).value.strip(), wd)
        vcf = _resolve(self.query_one("#demo-vcf", Input).value.strip(), wd) or str(example_vcf)
        fasta = _resolve(self.query_one("#demo-fasta", Input).value.strip(), wd) or str(example_fasta)
        if not model:
            self.demo_failed("error[INPUT.USAGE]: no model package\n\nhint: run the rehearsal (it builds one) or type a model package directory")
            return
        self.running = True
        status = self.query_one("#demo-status", Static)
        status.remove_class("error", "ok")
        status.update(" ◌ loading the model package and scoring… (first use imports torch)")
        self._score(model, vcf, fasta)

    @work(thread=True, exclusive=True, exit_on_error=False, group="demo")
    def _score(self, model: str, vcf: str, fasta: str) -> None:
        result = self.services.score_demo(model, vcf, fasta, log=lambda line: self.post_message(LogLine(line)))
        self.post_message(DemoScored(result))

    @on(LogLine)
    def _log(self, message: LogLine) -> None:
        self.query_one("#demo-status", Static).update(" ◌ " + message.text)

    def _show(self, result: DemoResult) -> None:
        self.running = False
        self.result = result
        cols = [c for c in DEMO_COLUMNS if c in result.rows.column_names]
        self.query_one("#demo-results", ArrowTable).set_table(result.rows, columns=cols)
        status = self.query_one("#demo-status", Static)
        v = result.verify
        mark = "✓" if v.ok else "✗"
        note = " · stand-in model: no biological skill" if result.stand_in else ""
        status.add_class("ok" if v.ok else "error")
        status.update(
            f" {mark} {result.scored} scored, {result.errors} error rows · receipts {mark} verified "
            f"({v.receipts} receipts, {v.windows_checked} windows, {v.rescored} re-scored){note} · in tryout/ · model {result.model_id[:12]}…"
        )

    def demo_failed(self, text: str) -> None:
        """Show a scoring failure (called by the app's worker-error handler)."""
        self.running = False
        status = self.query_one("#demo-status", Static)
        status.add_class("error")
        status.update(" ✗ " + text.replace("\n\n", "  ").replace("\n", " "))

    def on_screen_resume(self) -> None:
        """Look for the model package again (a rehearsal may have built one since)."""
        super().on_screen_resume()
        if not self.query_one("#demo-model", Input).value:
            self._find_model()

    def action_copy_model(self) -> None:
        """Copy the model id of the last scoring run."""
        if self.result is not None:
            self.cockpit.copy_value(self.result.model_id, "model id")


def _resolve(text: str, workdir: Path) -> str:
    """A path field's value: relative paths resolve against the workspace; empty stays empty."""
    if not text:
        return ""
    p = Path(text).expanduser()
    return str(p if p.is_absolute() else workdir / p)


def _show_path(path: Path, workdir: Path) -> str:
    """``path`` relative to the workspace when it is inside it (what the field shows)."""
    try:
        return Path(path).relative_to(workdir).as_posix() or "."
    except ValueError:
        return str(path)
