"""A release step declared once: name, gate, purpose, typed flags, declared inputs/outputs and the body.

Every ``tools.release.<name>`` step module holds one :class:`Step` (like a nox session)::

    STEP = Step(
        "efficiency_report", gate="efficiency", purpose="normalise bench output into efficiency_report.json",
        flags=(
            Flag("--bench-json", "benchmark output JSON (bench.inference)", required=True, role="input"),
            Flag("--output", "output path", default=Derived("MODEL_DIR/efficiency_report.json", lambda c: ...), role="output"),
        ),
        body=_body,
    )
    main = STEP.main

From that declaration come ``python -m tools.release.<name>`` (:meth:`Step.main`), the registry
(:mod:`tools.release.engine.registry`), ``geno-lewm-release run STEP`` / ``steps [--json]``, the docs table
(``docs/release-steps.md``) and the cockpit's step form (:meth:`Step.flag_rows`).

:meth:`Step.main` is the one shared entry point: it parses the flags (plus the common ledger flags),
runs the declared usage check, builds the :class:`~tools.release.engine.context.ReleaseContext`, opens the
recorded run (:class:`~tools.release.engine.recording.StepRun`), records the declared inputs and outputs,
calls the body, closes the context and prints the body's summary lines; typed errors go through
:func:`ledger.clikit.run_cli`. Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

from geno_lewm.cli.options import FLAGS as CLI_FLAGS
from ledger.clikit import ArgumentParser, run_cli
from ledger.errors import InputError

#: Flag types as shown by ``geno-lewm-release steps --json`` and the docs table.
FLAG_TYPES = ("path", "str", "int", "float", "bool", "choice")


@dataclass(frozen=True)
class Derived:
    """A default computed when the step runs (from other flags or the workspace), shown as ``text``."""

    text: str  # how the default reads in help, JSON and docs ("MODEL_DIR/efficiency_report.json")
    compute: Callable[[StepCall], Any]  # the value, given the call (parsed flags and context)


@dataclass(frozen=True)
class Flag:
    """One declared flag of a step."""

    name: str  # "--dataset-dir"
    help: str  # one line for humans
    type: str = "path"  # one of FLAG_TYPES
    required: bool = False  # argparse ``required``
    default: Any = None  # a value, a :class:`Derived`, or None
    choices: tuple[str, ...] = ()  # for type "choice"
    repeat: bool = False  # may be given more than once (a list value)
    role: str = ""  # "input" / "output": the runner records the path's identity; "" otherwise
    exclusive: str = ""  # flags sharing this name form a mutually exclusive group
    metavar: str | None = None  # argparse metavar

    def __post_init__(self) -> None:
        if self.type not in FLAG_TYPES:
            raise ValueError(f"{self.name}: flag type {self.type!r} is not one of {FLAG_TYPES}")
        if self.role not in ("", "input", "output"):
            raise ValueError(f"{self.name}: role {self.role!r} is not input/output")

    @property
    def dest(self) -> str:
        """The attribute name on the parsed namespace (``--dataset-dir`` → ``dataset_dir``)."""
        return self.name.lstrip("-").replace("-", "_")

    @property
    def shown_default(self) -> Any:
        """The default as help, JSON and docs show it (a :class:`Derived` shows its text)."""
        if isinstance(self.default, Derived):
            return self.default.text
        if self.type == "bool":
            return False
        if self.repeat and self.default is None:
            return []
        return self.default

    def add_to(self, parser: Any) -> None:
        """Add this flag to an argparse parser (or group)."""
        shown = self.shown_default
        text = self.help if shown in (None, False, []) or "default" in self.help else f"{self.help} (default: {shown})"
        kw: dict[str, Any] = {"help": text}
        if self.metavar:
            kw["metavar"] = self.metavar
        if self.type == "bool":
            parser.add_argument(self.name, action="store_true", **kw)
            return
        if self.type in ("int", "float"):
            kw["type"] = int if self.type == "int" else float
        if self.choices:
            kw["choices"] = self.choices
        if self.repeat:
            kw["action"] = "append"
            kw["default"] = list(self.default or [])
        elif self.default is not None and not isinstance(self.default, Derived):
            kw["default"] = self.default
        parser.add_argument(self.name, required=self.required, **kw)

    def to_dict(self) -> dict[str, Any]:
        """``{name, type, required, default, help}`` (+ ``repeat``, ``choices``, ``role`` when set)."""
        row: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required, "default": self.shown_default, "help": self.help}
        if self.repeat:
            row["repeat"] = True
        if self.choices:
            row["choices"] = list(self.choices)
        if self.role:
            row["role"] = self.role
        return row


#: Flags several steps take, each declared once; a step takes one with :func:`common_flag`. A flag the
#: console scripts share too reads as it does there (``geno_lewm.cli.options.FLAGS``).
COMMON_FLAGS: dict[str, Flag] = {
    f.name: f
    for f in (
        Flag("--model-dir", CLI_FLAGS["--model-dir"]["help"], required=True),
        Flag("--dataset-dir", "dataset package directory", required=True),
        Flag("--demo-dir", "terminal demo directory", required=True),
        Flag("--project-root", "source checkout (default: this checkout)"),
        Flag("--github-url", "GitHub web base", "str", default="https://github.com"),
        Flag("--json", CLI_FLAGS["--json"]["help"], "bool"),
    )
}


def common_flag(name: str, **overrides: Any) -> Flag:
    """The common flag ``name`` of :data:`COMMON_FLAGS`, with ``overrides`` for what differs in a step (``help``, ``role`` …)."""
    return replace(COMMON_FLAGS[name], **overrides)


@dataclass
class StepCall:
    """What a step body receives: parsed flags, the release context, the recorded run and argv."""

    step: Step  # the declaration being run
    args: argparse.Namespace  # parsed flags (derived defaults filled in)
    ctx: Any  # tools.release.engine.context.ReleaseContext
    argv: list[str]  # the step's argv as given (no program name)
    run: Any = None  # tools.release.engine.recording.StepRun; None for a step that records itself
    exit_code: int = 0  # what main returns when the body does not raise
    said: list[tuple[str, bool]] = field(default_factory=list)  # (line, to_stderr) printed after recording

    def say(self, line: str, *, err: bool = False) -> None:
        """Print ``line`` once the run is recorded and the context closed (stdout, or stderr with ``err``)."""
        self.said.append((line, err))

    @property
    def record_argv(self) -> list[str]:
        """The command line as the ledger shows it (``python -m MODULE …``)."""
        return self.step.record_argv(self.argv)


Body = Callable[[StepCall], "str | None"]


@dataclass(frozen=True)
class Step:
    """One release step, declared once (see the module docstring)."""

    name: str  # step name as recorded in the ledger and listed in gates.toml
    gate: str  # the gate (configs/release/gates.toml) whose steps include it; "" for tooling outside gates
    purpose: str  # one line for humans (status, cockpit, docs)
    body: Body  # does the work; returns the summary line printed after recording (or None)
    flags: tuple[Flag, ...] = ()  # the step's own flags (the common ledger flags are added to every step)
    details: str = ""  # argparse description (default: purpose)
    records: str = "run"  # "run": one recorded run named ``name``; "self": the body records (several runs)
    check: Callable[[argparse.Namespace], Any] | None = None  # usage checks before anything is recorded
    fixed_args: tuple[str, ...] = ()  # arguments always passed first (an alias of another step's module)
    module: str = ""  # the declaring module (default: the body's module)
    subcommand: str = ""  # also ``geno-lewm-release <subcommand>`` (e.g. "gate-check")
    run_name: Callable[[argparse.Namespace], str] | None = None  # the recorded run's name when it depends on a mode flag
    kind: str = field(default="release", init=False)  # registry kind: declared release step

    def __post_init__(self) -> None:
        if not self.module:
            object.__setattr__(self, "module", _module_name(self.body.__module__))
        if self.records not in ("run", "self"):
            raise ValueError(f"{self.name}: records must be 'run' or 'self'")

    # -- derived views ------------------------------------------------------------------------

    @property
    def description(self) -> str:
        """The one-line purpose (the registry's ``description``)."""
        return self.purpose

    @property
    def prog(self) -> str:
        """``python -m MODULE``."""
        return f"python -m {self.module}"

    def record_argv(self, argv: Sequence[str]) -> list[str]:
        """The argv the ledger records for a run with ``argv``."""
        return ["python", "-m", self.module, *argv]

    def alias(self, name: str, purpose: str, *, gate: str = "", fixed_args: Sequence[str]) -> Step:
        """The same module and flags run as another step with ``fixed_args`` passed first."""
        return Step(name, gate, purpose, self.body, self.flags, self.details, self.records, self.check, tuple(fixed_args), self.module, "", self.run_name)

    def flag_rows(self) -> list[dict[str, Any]]:
        """The declared flags as ``{name, type, required, default, help}`` rows (cockpit form, JSON, docs)."""
        fixed = set(self.fixed_args)
        return [f.to_dict() for f in self.flags if f.name not in fixed]

    def available(self) -> bool:
        """A declared step is always available (its module is loaded)."""
        return True

    def load(self) -> Callable[[list[str] | None], int]:
        """The step's ``main`` (the registry's entry)."""
        return self.main

    def args_builder(self) -> Callable[[Sequence[str]], list[str]]:
        """A function turning user argv into the full argv passed to ``main`` (fixed args first)."""
        return lambda argv: [*self.fixed_args, *argv]

    # -- running ------------------------------------------------------------------------------

    def parser(self, prog: str | None = None, *, into: Any = None) -> ArgumentParser:
        """The step's argument parser (its flags plus the common ledger flags).

        With ``into`` (an argparse sub-parsers object) the parser is added as ``prog`` there.
        """
        from tools.release.engine.context import add_common_flags

        description = self.details or self.purpose
        if into is not None:
            parser = into.add_parser(prog or self.subcommand or self.name, help=self.purpose, description=description)
        else:
            parser = ArgumentParser(prog=prog or self.prog, description=description)
        groups: dict[str, Any] = {}
        for f in self.flags:
            target = parser
            if f.exclusive:
                if f.exclusive not in groups:
                    groups[f.exclusive] = parser.add_mutually_exclusive_group()
                target = groups[f.exclusive]
            f.add_to(target)
        add_common_flags(parser)
        return parser

    def invoke(self, args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
        """Run the step for parsed ``args`` (usage check, context, recording, body, printing)."""
        from tools.release.engine.context import ReleaseContext
        from tools.release.engine.recording import StepRun

        if self.check is not None:
            self.check(args)
        ctx = ReleaseContext.from_args(args)
        call = StepCall(self, args, ctx, list(argv or []))
        try:
            for f in self.flags:
                if isinstance(f.default, Derived) and getattr(args, f.dest, None) is None:
                    setattr(args, f.dest, f.default.compute(call))
            if self.records == "self":
                message = self.body(call)
            else:
                with StepRun(ctx, self.run_name(args) if self.run_name else self.name, call.record_argv) as run:
                    call.run = run
                    _record_declared(self, call)
                    message = self.body(call)
        finally:
            ctx.close()
        if message:
            call.say(message)
        for line, err in call.said:
            print(line, file=sys.stderr if err else sys.stdout)
        return call.exit_code

    def usage_error(self, message: str, hint: str = "") -> NoReturn:
        """Refuse the flags as the step's own parser does: ``INPUT.USAGE`` with ``PROG: message`` (hint: ``run `PROG --help```)."""
        raise InputError("USAGE", f"{self.prog}: {message}", hint or f"run `{self.prog} --help` for usage")

    def _main(self, argv: list[str] | None) -> int:
        return self.invoke(self.parser().parse_args(argv), argv)

    def main(self, argv: list[str] | None = None) -> int:
        """``python -m MODULE``: run the step and return its exit code (typed errors → ``error[CODE]``)."""
        return run_cli(self._main, argv)


def _record_declared(step: Step, call: StepCall) -> None:
    """Record every path named by an ``input`` flag now and declare every ``output`` flag's path."""
    for f in step.flags:
        if not f.role:
            continue
        value = getattr(call.args, f.dest, None)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v in (None, "", False):
                continue
            (call.run.input if f.role == "input" else call.run.output)(Path(v))


def _module_name(name: str) -> str:
    """The importable name of a module (``__main__`` under ``python -m`` is its spec's name)."""
    if name == "__main__":
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        if spec is not None:
            return spec.name
    return name


def flags_from_parser(parser: argparse.ArgumentParser, roles: dict[str, str] | None = None) -> tuple[Flag, ...]:
    """The flags of an existing argparse parser as :class:`Flag` rows (for steps that wrap a command).

    ``roles`` maps flag names to ``input``/``output``. Help, positional and ``--debug`` actions are left out.
    """
    roles = roles or {}
    rows: list[Flag] = []
    for a in parser._actions:  # noqa: SLF001 - argparse exposes no public list of actions
        if not a.option_strings or a.dest in ("help", "debug"):
            continue
        name = max(a.option_strings, key=len)
        if isinstance(a, (argparse._StoreTrueAction, argparse._StoreFalseAction)):  # noqa: SLF001
            kind = "bool"
        elif a.choices:
            kind = "choice"
        elif a.type in (int, float):
            kind = "int" if a.type is int else "float"
        else:
            kind = "path" if name in roles else "str"
        default = None if a.default in (None, argparse.SUPPRESS) or kind == "bool" else a.default
        rows.append(
            Flag(
                name,
                a.help or "",
                kind,
                bool(a.required),
                default,
                tuple(str(c) for c in a.choices or ()),
                isinstance(a, argparse._AppendAction),
                roles.get(name, ""),
            )
        )  # noqa: SLF001
    return tuple(rows)


def path_or_none(value: str | None) -> Path | None:
    """``Path(value)``, or None when the flag was not given."""
    return Path(value) if value else None
