"""The project's typed error model: stable dotted codes and one exit code per family.

Every error a user can meet is a :class:`GenoError` whose ``code`` is a stable dotted string
(``FAMILY.NAME``, e.g. ``INPUT.REF_MISMATCH``). Codes are part of the public contract (renaming
one is a breaking change, see docs/09-release-and-versioning.md); the family decides the process
exit code. This module lives in ``ledger`` because it is the dependency-free bottom layer that
every other package (``geno_lewm``, ``tools``, ``bench``, ``cockpit``) can import.
"""

from __future__ import annotations

from typing import Final

#: Exit code per error family. 0 is success, 130 is Ctrl-C (SIGINT). Documented in docs/errors.md.
EXIT_CODES: Final[dict[str, int]] = {
    "INPUT": 2,
    "CONFIG": 3,
    "RESOURCE": 4,
    "TRAINING": 5,
    "EVAL": 6,
    "PROVENANCE": 7,
    "LEDGER": 8,
    "RELEASE": 9,
    "INTERNAL": 70,
}
EXIT_OK: Final = 0
EXIT_INTERRUPTED: Final = 130

#: Default hint per family, used when an error is raised without a specific hint.
DEFAULT_HINTS: Final[dict[str, str]] = {
    "INPUT": "check the input files and flags named above",
    "CONFIG": "check the configuration file against docs/ and the committed examples in configs/",
    "RESOURCE": "check that the file or directory exists, is readable and has free space",
    "TRAINING": "inspect the run directory's metrics and logs; re-run with --debug for details",
    "EVAL": "check the score and label files; see docs/evaluation.md",
    "PROVENANCE": "the artifact does not match its recorded identity; rebuild or re-download it",
    "LEDGER": "run `geno-lewm-ledger verify --ledger <file>` to see the ledger's state",
    "RELEASE": "run `geno-lewm-release status` to see which gate or step needs attention",
    "INTERNAL": "this is a bug in GenoLeWM; re-run with --debug and report the traceback",
}


class GenoError(Exception):
    """Base of every user-facing error: a stable ``code``, a message and a hint.

    ``code`` must be ``FAMILY.NAME`` with FAMILY one of :data:`EXIT_CODES`.
    """

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        family = code.split(".", 1)[0]
        if family not in EXIT_CODES or "." not in code:
            raise ValueError(f"invalid error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint or DEFAULT_HINTS[family]

    @property
    def family(self) -> str:
        """The code's family (``INPUT``, ``LEDGER``, …)."""
        return self.code.split(".", 1)[0]

    @property
    def exit_code(self) -> int:
        """The documented process exit code for this error's family."""
        return EXIT_CODES[self.family]

    def render(self) -> str:
        """The user-facing text: ``error[CODE]: message``, a blank line, ``hint: …``."""
        return f"error[{self.code}]: {self.message}\n\nhint: {self.hint}"

    def to_dict(self) -> dict[str, str | int]:
        """A JSON-friendly form (for ``--json`` outputs and ledger ``step_failed`` events)."""
        return {"code": self.code, "message": self.message, "hint": self.hint, "exit_code": self.exit_code}


def _family_error(family: str) -> type[GenoError]:
    class _Family(GenoError):
        def __init__(self, name: str, message: str, hint: str | None = None) -> None:
            super().__init__(f"{family}.{name}", message, hint)

    _Family.__name__ = f"{family.title()}Error"
    _Family.__qualname__ = _Family.__name__
    _Family.__doc__ = f"An error of the ``{family}`` family (exit code {EXIT_CODES[family]}); pass the NAME part of the code."
    return _Family


InputError = _family_error("INPUT")
ConfigError = _family_error("CONFIG")
ResourceError = _family_error("RESOURCE")
TrainingError = _family_error("TRAINING")
EvalError = _family_error("EVAL")
ProvenanceError = _family_error("PROVENANCE")
LedgerError = _family_error("LEDGER")
ReleaseError = _family_error("RELEASE")
InternalError = _family_error("INTERNAL")


class SchemaCompatError(GenoError):
    """An on-disk artifact's ``schema_version`` or fields cannot be read by this runtime."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__("INPUT.SCHEMA_COMPAT", message, hint or "upgrade geno-lewm or migrate the artifact (geno_lewm/migrations/)")
