"""``python -m tools.release.paper_package``: verify the paper draft and the packages it cites.

Re-renders the draft from the current model, dataset and demo artifacts (with the draft's own
``Generated`` timestamp) and rejects any difference (``PROVENANCE.STALE_RENDER`` naming the file),
a draft missing Citation Metadata or Negative Findings, a stale ``model_card.md`` or
``eval_report.md``, a stale dataset package, or a training run whose checksum-covered preflight
report is missing, not ok or private-path.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.errors import ProvenanceError

from tools.release.engine.declare import Flag, Step, StepCall
from tools.release import paper_draft
from tools.release.paper import draft
from ledger.reports import check_rendered

REQUIRED_SECTIONS = ("## Citation Metadata", "## Negative Findings", "## Demo Evidence", "## Artifact Availability")


def verify_paper(model_dir: str | Path, dataset_dir: str | Path, demo_dir: str | Path, paper_path: str | Path) -> dict:
    """Verify the draft at ``paper_path``; return ``{generated, release_id, model_id}``."""
    from tools.release.training_run import check_preflight

    paper = Path(paper_path)
    if not paper.is_file():
        raise ProvenanceError("MISSING_ARTIFACT", f"paper draft {paper.name} not found", "run python -m tools.release.paper_draft")
    text = paper.read_text(encoding="utf-8")
    for section in REQUIRED_SECTIONS:
        if f"\n{section}\n" not in f"\n{text}":
            raise ProvenanceError("PAPER_SECTION", f"{paper.name} lacks the '{section[3:]}' section", "regenerate it with python -m tools.release.paper_draft")
    generated = draft.generated_of(text)
    inputs = draft.collect(Path(model_dir), Path(dataset_dir), Path(demo_dir))
    check_preflight(Path(model_dir) / "training_preflight_report.json")
    check_rendered(paper, lambda: draft.render(inputs, generated))
    return {"generated": generated, "release_id": inputs["package"]["release_id"], "model_id": inputs["package"]["model_id"]}


def _body(call: StepCall) -> str:
    a = call.args
    result = verify_paper(a.model_dir, a.dataset_dir, a.demo_dir, a.paper_path)
    call.run.input(a.model_dir, a.dataset_dir, a.demo_dir)
    return f"paper verified: {result['release_id']} model {result['model_id'][:16]}… generated {result['generated']}"


STEP = Step(
    "paper_package",
    gate="paper",
    body=_body,
    purpose="re-render and verify the paper draft and model card",
    flags=(
        *paper_draft.PAPER_INPUT_FLAGS,
        Flag("--paper-path", "paper draft Markdown to verify", required=True, role="input"),
    ),
    details="Verify the paper draft, model card and cited packages.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
