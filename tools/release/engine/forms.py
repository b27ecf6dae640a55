"""Each release step's flags, as a form shows them: :func:`form_flags`.

The source is the step's one declaration (:mod:`tools.release.engine.declare`): :func:`step_parser` is the
parser the step itself parses with (``Step.parser()`` for a declared step, the command's
``build_parser()`` for a command step). Each flag comes back as a :class:`StepFlag` — name, type,
required, default, help — with the value the offline rehearsal would use in a given workspace
(``suggested``, from :data:`tools.release.gate.rehearsal.PLAN`, paths relative to the workspace).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import ReleaseError

#: Flags the runner supplies itself to ``release`` steps (the workspace), never shown in their form.
WORKSPACE_FLAGS = ("--workdir", "--artifact-root", "--ledger", "--key", "--no-ledger")
#: Flags no form shows.
HIDDEN_FLAGS = ("--debug", "--help", "-h")
#: Words in a metavar or dest that mark a flag's value as a filesystem path.
_PATH_WORDS = (
    "DIR",
    "FILE",
    "PATH",
    "JSON",
    "JSONL",
    "VCF",
    "FASTA",
    "YAML",
    "TOML",
    "PARQUET",
    "MD",
    "OUTPUT",
    "ROOT",
    "REPORT",
    "SDIST",
    "MANIFEST",
    "PLAN",
    "LABELS",
    "CANDIDATE",
    "EVIDENCE",
)


@dataclass(frozen=True)
class StepFlag:
    """One flag of a step, as its parser declares it."""

    name: str  # the flag as typed, e.g. "--dataset-dir"
    dest: str  # argparse destination name
    kind: str  # "value" (takes one value), "switch" (store_true/false), "multi" (repeatable or nargs)
    type: str  # "str", "int", "float" or "path"
    required: bool  # the parser refuses to run without it
    default: str | None  # the parser's default as text (None when it has none)
    help: str  # the parser's help text
    choices: tuple[str, ...] = ()  # allowed values, when the parser restricts them
    suggested: str | None = None  # what the offline rehearsal passes in this workspace (paths relative to it)
    aliases: tuple[str, ...] = field(default=())  # other spellings of the same flag
    repeat: bool = False  # "multi" flags: True when the flag is repeated per value (append), False for one flag + many values

    def argv(self, values: Sequence[str]) -> list[str]:
        """The arguments that pass ``values`` for this flag (``[]`` for none; a switch takes ``["yes"]``)."""
        if not values:
            return []
        if self.kind == "switch":
            return [self.name] if values[0].lower() in ("yes", "y", "true", "1", "on") else []
        if self.kind == "multi":
            return [a for v in values for a in (self.name, v)] if self.repeat else [self.name, *values]
        return [self.name, values[0]]

    @property
    def is_path(self) -> bool:
        """True when the value names a file or directory (relative values resolve against the workspace)."""
        return self.type == "path"


def step_parser(name: str) -> argparse.ArgumentParser:
    """The argparse parser step ``name`` parses its arguments with (from its declaration; nothing runs)."""
    from tools.release.engine.registry import step as get_step

    spec = get_step(name)
    if not spec.available():
        raise ReleaseError(
            "STEP_UNAVAILABLE", f"step {name} needs {spec.module}, which is not in this installation yet", "see docs/release-steps.md for what each step needs"
        )
    return spec.parser()


def _type_name(action: argparse.Action) -> str:
    t = action.type
    if t is int:
        return "int"
    if t is float:
        return "float"
    if t is not None and getattr(t, "__name__", "") in ("Path", "PosixPath"):
        return "path"
    words = f"{action.metavar or ''} {action.dest.upper()}".upper().replace("-", "_").replace("_", " ").split()
    return "path" if any(w in _PATH_WORDS for w in words) else "str"


def _kind(action: argparse.Action) -> str:
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)):  # noqa: SLF001
        return "switch"
    if isinstance(action, (argparse._AppendAction, argparse._ExtendAction)) or action.nargs not in (None, "?"):  # noqa: SLF001
        return "multi"
    return "value"


def _text(value: Any) -> str | None:
    if value is None or value is argparse.SUPPRESS or value is False:
        return None
    if value is True:
        return "yes"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value) or None
    return str(value)


def rehearsal_values(name: str, workdir: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Flag → values the offline rehearsal passes to step ``name`` in ``workdir`` (paths relative to it)."""
    from tools.release.gate.rehearsal import PLAN, Layout

    wd = Path(workdir).absolute()
    for entry in PLAN:
        if entry.step == name:
            return flag_values(entry.args(Layout(wd)), wd)
    return {}


def flag_values(argv: Sequence[str], workdir: str | os.PathLike[str] | None = None) -> dict[str, list[str]]:
    """``["--a", "x", "--b", "--c=y"]`` → ``{"--a": ["x"], "--b": [], "--c": ["y"]}``; absolute paths under ``workdir`` become relative."""
    wd = Path(workdir).absolute() if workdir is not None else None
    out: dict[str, list[str]] = {}
    current: str | None = None
    for a in argv:
        if a.startswith("--"):
            flag, eq, value = a.partition("=")
            current = flag
            out.setdefault(flag, [])
            if eq:
                out[flag].append(_relative(value, wd))
                current = None
        elif current is not None:
            out[current].append(_relative(a, wd))
    return out


def _relative(value: str, wd: Path | None) -> str:
    if wd is not None and os.path.isabs(value):
        try:
            return Path(value).relative_to(wd).as_posix() or "."
        except ValueError:
            return value
    return value


def form_text(kind: str, *values: list[str]) -> str | None:
    """How values given for a flag read in a form field (None when the flag was not given)."""
    if not values:
        return None
    if kind == "switch":
        return "yes"
    flat = [v for vals in values for v in vals]
    if kind == "multi":
        import shlex

        return shlex.join(flat)
    return flat[-1] if flat else None


def form_flags(name: str, workdir: str | os.PathLike[str] | None = None) -> list[StepFlag]:
    """Every user-facing flag of step ``name`` (workspace and fixed flags left out), in parser order.

    With ``workdir``, each flag the offline rehearsal sets carries that value in ``suggested``.
    """
    from tools.release.engine.registry import STEPS
    from tools.release.engine.registry import step as get_step

    spec = get_step(name)
    parser = step_parser(name)
    # this step's fixed flags, and the mode flags of other steps sharing its module (--check-spec …)
    fixed = {a for s in STEPS.values() if s.module == spec.module for a in s.fixed_args if a.startswith("-")}
    hidden = set(HIDDEN_FLAGS) | (set(WORKSPACE_FLAGS) if spec.kind == "release" else set())
    suggested = rehearsal_values(name, workdir) if workdir is not None else {}
    flags: list[StepFlag] = []
    for action in parser._actions:  # noqa: SLF001 - argparse exposes no public list of actions
        longs = [o for o in action.option_strings if o.startswith("--")] or list(action.option_strings)
        if not longs or any(o in hidden or o in fixed for o in action.option_strings):
            continue
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)) or action.help == argparse.SUPPRESS:  # noqa: SLF001
            continue
        kind = _kind(action)
        sugg = form_text(kind, *(suggested[o] for o in action.option_strings if o in suggested))
        flags.append(
            StepFlag(
                name=longs[0],
                dest=action.dest,
                kind=kind,
                type="str" if kind == "switch" else _type_name(action),
                required=bool(action.required),
                default=None if kind == "switch" else _text(action.default),
                help=(action.help or "").replace("%(default)s", str(action.default)).replace("%%", "%"),
                choices=tuple(str(c) for c in action.choices) if action.choices else (),
                suggested=sugg,
                aliases=tuple(o for o in action.option_strings if o != longs[0]),
                repeat=isinstance(action, (argparse._AppendAction, argparse._ExtendAction)) and action.nargs in (None, "?"),  # noqa: SLF001
            )
        )
    return flags
