"""``python -m tools.release.v02_benchmark_suite``: plan or execute the v0.2 benchmark command graph.

The step's declaration and report; planning and executing the graph is :mod:`tools.release.benchmark.suite`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from tools.release.publication.public_report import write_public_report
from tools.release.benchmark.suite import GENERATED_BY, placeholder_values, run_suite


def _body(call: StepCall) -> str:
    a = call.args
    doc = run_suite(Path(a.manifest), Path(a.model_dir).absolute(), placeholder_values(a), execute=a.execute, log=call.ctx.log)
    write_public_report(a.output_report, doc, generated_by=GENERATED_BY)
    call.exit_code = 0 if doc["ok"] or not a.execute else 9
    passed = sum(r["status"] == "passed" for r in doc["steps"])
    return f"v0.2 benchmark suite ({doc['mode']}): {passed}/{len(doc['steps'])} steps passed; ok={str(doc['ok']).lower()}"


STEP = Step(
    "v02_benchmark_suite",
    gate="",
    body=_body,
    check=placeholder_values,
    purpose="plan or execute the v0.2 benchmark command graph",
    flags=(
        Flag("--manifest", "suite manifest (the template filled in)", required=True, role="input"),
        common_flag("--model-dir", help="model package directory: working directory and root of recorded paths"),
        Flag("--output-report", "suite report JSON", required=True, role="output"),
        Flag("--set", "placeholder value (repeat)", "str", repeat=True, metavar="NAME=VALUE"),
        Flag("--execute", "run the commands (default: plan only, ok=false)", "bool"),
    ),
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
