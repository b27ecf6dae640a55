"""Run one registered step with ledger recording, streaming its output lines to a callback.

``run_step(name, argv, workspace, log=print)`` is what ``geno-lewm-release run`` and the cockpit
call. ``release`` steps record themselves (the runner passes the workspace flags); ``command``
steps are wrapped by :func:`tools.release.engine.recording.record_command`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import GenoError, ReleaseError

from tools.release.engine.context import Log, ReleaseContext
from tools.release.engine.recording import capture_output, record_command
from tools.release.engine.registry import step as get_step


@dataclass
class StepOutcome:
    """What happened when a step ran."""

    name: str  # step name
    ok: bool  # True when the step passed
    exit_code: int  # the step's exit code (0 on success)
    code: str = ""  # error code when it failed
    message: str = ""  # error message when it failed
    hint: str = ""  # what to do about the failure (the error's hint), "" when it passed


def _context(workspace: str | os.PathLike[str] | ReleaseContext, log: Log | None) -> ReleaseContext:
    if isinstance(workspace, ReleaseContext):
        if log is not None:
            workspace.log = log
        return workspace
    return ReleaseContext.for_workdir(workspace, log=log)


def _workspace_flags(ctx: ReleaseContext) -> list[str]:
    flags = ["--workdir", str(ctx.workspace_dir), "--artifact-root", str(ctx.artifact_root)]
    if ctx.ledger_path is not None:
        flags += ["--ledger", str(ctx.ledger_path)]
    if ctx.key_path is not None:
        flags += ["--key", str(ctx.key_path)]
    if not ctx.record:
        flags.append("--no-ledger")
    return flags


def run_step(name: str, argv: Sequence[str], workspace: str | os.PathLike[str] | ReleaseContext, log: Log | None = None) -> StepOutcome:
    """Run step ``name`` with ``argv`` in ``workspace`` (a workdir path or a context); never raises for step failures.

    Output lines (stdout and stderr of the step) go to ``log`` as they are produced. Returns a
    :class:`StepOutcome`; an unknown or unavailable step is an outcome with its error code too.
    """
    ctx = _context(workspace, log)
    try:
        spec = get_step(name)
        if not spec.available():
            raise ReleaseError(
                "STEP_UNAVAILABLE",
                f"step {name} needs {spec.module}, which is not in this installation yet",
                "see docs/release-steps.md for what each step needs",
            )
        full = spec.args_builder()(list(argv))
        main = spec.load()
        if spec.kind == "release":
            with capture_output(ctx.log) as writer:
                rc = main(full + _workspace_flags(ctx))
            if rc:
                if writer.last_error is not None:
                    (code, message), hint = writer.last_error, writer.last_hint
                else:
                    code, message, hint = "RELEASE.STEP_FAILED", f"{name} exited with {rc}", "see the step's log lines above"
                return StepOutcome(name, False, int(rc), code, message, hint)
            return StepOutcome(name, True, 0)
        inputs, outputs = spec.io_paths(full)
        record_command(name, full, inputs, outputs, lambda: main(full), context=ctx)
        return StepOutcome(name, True, 0)
    except GenoError as err:
        ctx.log(err.render())
        return StepOutcome(name, False, err.exit_code, err.code, err.message, err.hint)
    finally:
        if not isinstance(workspace, ReleaseContext):
            ctx.close()
