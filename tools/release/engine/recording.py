"""Record a step run in the ledger: ``step_started``, ``artifact_recorded``…, ``step_passed``/``step_failed``.

Two entry points:

- :class:`StepRun` — a context manager used inside every ``tools.release.<name>`` module::

      with StepRun(ctx, "dataset_package", argv) as run:
          run.input(metadata_json)
          ...write outputs...
          run.output(dataset_dir / "dataset_package.json")

  On success it appends the artifact identities and ``step_passed`` in one transaction; on a
  typed error it appends ``step_failed`` with the error code (and the inputs seen so far) and
  re-raises.
- :func:`record_command` — the same recording around any callable, for commands that are not
  release modules (``geno-lewm-train``, ``geno-lewm-score``, ``bench.inference`` …).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ledger.errors import GenoError, InputError, ReleaseError
from ledger.identity import Identity

from ledger.artifacts import identity, list_files, public_argv
from tools.release.engine.context import Log, ReleaseContext

_ERROR_LINE = re.compile(r"error\[(?P<code>[A-Z]+\.[A-Z0-9_]+)\]: (?P<message>.*)")
_HINT_LINE = re.compile(r"^hint: (?P<hint>.*)")


class StepRun:
    """One recorded run of a step (see the module docstring). ``run_id`` is unique per run."""

    def __init__(self, ctx: ReleaseContext, step: str, argv: Sequence[str] | None = None) -> None:
        self.ctx = ctx
        self.step = step
        self.argv = public_argv(list(argv or []), ctx.artifact_root)
        self.run_id = f"{step}-{uuid.uuid4().hex[:20]}"
        self._inputs: dict[str, Identity] = {}
        self._outputs: list[Path] = []
        self.outputs: list[Identity] = []

    # -- declaring artifacts ----------------------------------------------------------------------

    def _check_inside_root(self, path: Path) -> None:
        root = self.ctx.artifact_root.resolve()
        try:
            path.resolve().relative_to(root)
        except ValueError:
            raise InputError(
                "PATH_OUTSIDE_ROOT",
                f"{path.name} is outside the artifact root, so the ledger cannot record it",
                "put inputs and outputs under the release working directory (--workdir) or pass --artifact-root",
            ) from None

    def input(self, *paths: str | os.PathLike[str]) -> Identity:
        """Record the identity of each input file as read now (directories: every file under it); return the last."""
        ident = None
        for path in paths:
            p = Path(path)
            self._check_inside_root(p)
            files = list_files(p, within=self.ctx.artifact_root) if p.is_dir() else [p]
            if not files:
                raise InputError("MISSING_FILE", f"input directory {p.name} is empty", "produce its files first")
            for f in files:
                ident = identity(f, self.ctx.artifact_root)
                self._inputs[ident["path"]] = ident
        return ident

    def output(self, *paths: str | os.PathLike[str]) -> None:
        """Declare outputs (files or directories); their identities are taken when the run passes."""
        for path in paths:
            p = Path(path)
            self._check_inside_root(p)
            self._outputs.append(p)

    # -- outcome ---------------------------------------------------------------------------------

    def _artifact_events(self, role: str, idents: Iterable[Identity]) -> list[tuple[str, dict[str, Any]]]:
        return [
            ("artifact_recorded", {"run_id": self.run_id, "step": self.step, "role": role, "path": i["path"], "sha256": i["sha256"], "size": i["size"]})
            for i in idents
        ]

    def _collect_outputs(self) -> list[Identity]:
        seen: dict[str, Identity] = {}
        for p in self._outputs:
            files = list_files(p, within=self.ctx.artifact_root) if p.is_dir() else [p]
            for f in files:
                ident = identity(f, self.ctx.artifact_root)
                seen[ident["path"]] = ident
        return [seen[k] for k in sorted(seen)]

    def __enter__(self) -> StepRun:
        if self.ctx.record:
            from tools.release.gate.states import ensure_gates_recorded

            ledger, signer = self.ctx.ledger(), self.ctx.signer()
            ensure_gates_recorded(ledger, signer)
            ledger.append("step_started", {"run_id": self.run_id, "step": self.step, "argv": self.argv}, signer)
            self.ctx.log(f"[{self.step}] started (run {self.run_id})")
        else:
            self.ctx.log(f"[{self.step}] started (not recorded: --no-ledger)")
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            try:
                self.outputs = self._collect_outputs()
            except GenoError as err:
                self._fail(err.code, err.message)
                raise
            if self.ctx.record:
                items = self._artifact_events("input", self._inputs.values()) + self._artifact_events("output", self.outputs)
                items.append(("step_passed", {"run_id": self.run_id, "step": self.step}))
                self.ctx.ledger().append_many(items, self.ctx.signer())
                self.ctx.log(f"[{self.step}] passed ({len(self._inputs)} inputs, {len(self.outputs)} outputs recorded)")
            else:
                self.ctx.log(f"[{self.step}] passed (not recorded: --no-ledger)")
            if self.ctx.record and self._gate_passed():
                cp = self.ctx.checkpoint()
                self.ctx.log(f"[{self.step}] gate passed: checkpoint of {cp['size']} events written to checkpoints/{cp['file']}")
            return False
        if isinstance(exc, GenoError):
            code, message = exc.code, exc.message
        elif isinstance(exc, KeyboardInterrupt):
            code, message = "RELEASE.INTERRUPTED", "interrupted"
        else:
            code, message = "INTERNAL.UNEXPECTED", f"{type(exc).__name__}: {exc}"
        self._fail(code, message)
        return False

    def _gate_passed(self) -> bool:
        """True when a gate this step belongs to is passed now (recorded runs; bytes on disk are not re-read)."""
        from tools.release.gate.states import derive_states, latest_runs_from_views, load_gates

        defs = load_gates()
        mine = {g.name for g in defs if self.step in g.steps}
        if not mine:
            return False
        states = derive_states(defs, latest_runs_from_views(self.ctx.ledger()), None)
        return any(s.state == "passed" for s in states if s.name in mine)

    def _fail(self, code: str, message: str) -> None:
        if self.ctx.record:
            items = self._artifact_events("input", self._inputs.values())
            items.append(("step_failed", {"run_id": self.run_id, "step": self.step, "code": code, "message": message[:4000]}))
            try:
                self.ctx.ledger().append_many(items, self.ctx.signer())
            except GenoError as err:  # the original error matters more; say the ledger refused too
                self.ctx.log(f"[{self.step}] could not record the failure: {err.code}: {err.message}")
        self.ctx.log(f"[{self.step}] failed: {code}: {message}" + ("" if self.ctx.record else " (not recorded: --no-ledger)"))


class _LineWriter(io.TextIOBase):
    """A text stream that forwards complete lines to a callback and remembers ``error[CODE]`` lines.

    ``last_error`` is the latest ``(code, message)``; ``last_hint`` the ``hint: …`` line that
    followed it ("" when the error came without one).
    """

    def __init__(self, log: Log) -> None:
        self._log = log
        self._buf = ""
        self.last_error: tuple[str, str] | None = None
        self.last_hint = ""
        self._outer = (sys.stdout, sys.stderr)  # the streams to restore while the callback runs

    def writable(self) -> bool:  # noqa: D102
        return True

    def write(self, text: str) -> int:  # noqa: D102
        self._buf += text
        while "\n" in self._buf:
            line, self._buf = self._buf.split("\n", 1)
            self._emit(line)
        return len(text)

    def _emit(self, line: str) -> None:
        m = _ERROR_LINE.search(line)
        if m:
            self.last_error = (m["code"], m["message"])
            self.last_hint = ""
        elif self.last_error is not None and not self.last_hint and (h := _HINT_LINE.match(line)):
            self.last_hint = h["hint"]
        inner = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = self._outer  # a callback that prints must reach the real streams
        try:
            self._log(line)
        finally:
            sys.stdout, sys.stderr = inner

    def flush(self) -> None:  # noqa: D102
        if self._buf:
            line, self._buf = self._buf, ""
            self._emit(line)


@contextlib.contextmanager
def capture_output(log: Log) -> Iterator[_LineWriter]:
    """Redirect ``sys.stdout`` and ``sys.stderr`` line by line to ``log`` for the block."""
    writer = _LineWriter(log)
    with contextlib.redirect_stdout(writer), contextlib.redirect_stderr(writer):
        try:
            yield writer
        finally:
            writer.flush()


def call_main(step: str, fn: Callable[[], int | None], log: Log) -> None:
    """Call a CLI ``main`` with its output streamed to ``log``; raise a typed error if it fails.

    A non-zero exit becomes the error printed by the command (``error[CODE]``, parsed from its
    output) or ``RELEASE.COMMAND_FAILED`` naming the exit code.
    """
    with capture_output(log) as writer:
        try:
            rc = fn()
        except SystemExit as exc:  # argparse-style exits from commands not using run_cli
            rc = exc.code if isinstance(exc.code, int) else 1
    if rc not in (0, None):
        if writer.last_error:
            code, message = writer.last_error
            family, name = code.split(".", 1)
            raise _typed(family, name, message, writer.last_hint or None)
        raise ReleaseError("COMMAND_FAILED", f"{step} exited with status {rc}", "see the step's log lines above")


def _typed(family: str, name: str, message: str, hint: str | None = None) -> GenoError:
    try:
        return GenoError(f"{family}.{name}", message, hint)
    except ValueError:
        return ReleaseError("COMMAND_FAILED", message, hint)


def record_command(
    step_name: str,
    argv: Sequence[str],
    inputs: Iterable[str | os.PathLike[str]],
    outputs: Iterable[str | os.PathLike[str]],
    fn: Callable[[], int | None],
    *,
    context: ReleaseContext,
) -> list[Identity]:
    """Run ``fn`` (e.g. ``lambda: geno_lewm.cli.train.main(argv)``) as a recorded step.

    ``argv`` is what the ledger shows (made public-safe); ``inputs`` are recorded before the call,
    ``outputs`` (files or directories) after it. A missing output after a successful call fails the
    step with ``RELEASE.MISSING_OUTPUT``. Returns the output identities.
    """
    with StepRun(context, step_name, [step_name, *argv]) as run:
        for p in inputs:
            run.input(p)
        outs = [Path(p) for p in outputs]
        for p in outs:
            run.output(p)
        call_main(step_name, fn, context.log)
        for p in outs:
            if not p.exists():
                raise ReleaseError("MISSING_OUTPUT", f"{step_name} did not write {p.name}", "check the command's log lines")
    return run.outputs
