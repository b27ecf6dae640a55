"""Numerics modes for scoring: ``default`` (fast kernels, tolerant agreement) or ``reproducible`` (pinned kernels, exact bytes).

Which kernels torch uses on an x86-64 CPU depends on the CPU (AVX-512, AVX2, …) and on environment
variables read once, when torch and its libraries load. Different kernels round differently, so the
same model package scores the same input to different last bits on a laptop and on a server. Two
tiers of "agree" follow (docs/numerical-contract.md):

* ``reproducible`` pins every kernel choice measured to vary between x86-64 CPUs
  (:data:`PINNED_ENV`: ATen's CPU capability, MKL's conditional numerical reproducibility, oneDNN's
  ISA cap; plus one intra-op thread) **before torch loads**, overriding whatever the caller's
  environment says. Score rows and receipts are then byte-identical on any x86-64 CPU with the
  locked stack. When torch is already loaded in the process with other settings it is too late:
  :func:`require` raises ``RESOURCE.NUMERICS_UNPINNED``, and the console scripts re-run themselves in
  a fresh process with the pins (:func:`reexec_pinned`) instead of silently running unpinned.
* ``default`` leaves the environment alone. Re-scoring elsewhere agrees within :func:`tolerance`
  (:data:`REL_TOLERANCE`, :data:`ABS_TOLERANCE`), which is what receipt verification checks.

The mode is recorded in every receipt's ``runtime`` (``numerics``), outside the commitments.
Nothing here imports torch at module level.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import MutableMapping
from typing import Final

from ledger.errors import InputError, ResourceError

#: The numerics modes, default first.
NUMERICS_MODES: Final[tuple[str, ...]] = ("default", "reproducible")
DEFAULT: Final = "default"
REPRODUCIBLE: Final = "reproducible"

#: Environment pinned by ``reproducible`` mode (set before torch loads; overrides the caller's values).
#: Each entry was shown by measurement to change score bytes when left to the machine (see
#: docs/numerical-contract.md and ``python -m bench.numerics``).
PINNED_ENV: Final[dict[str, str]] = {
    "ATEN_CPU_CAPABILITY": "default",  # ATen's vectorised CPU kernels: the portable build, not AVX2/AVX-512
    "MKL_CBWR": "COMPATIBLE",  # MKL BLAS: the code path every x86-64 CPU runs identically
    "ONEDNN_MAX_CPU_ISA": "SSE41",  # oneDNN primitives: no AVX2/AVX-512 JIT kernels
    "DNNL_MAX_CPU_ISA": "SSE41",  # the same cap under oneDNN's older name
    "OMP_NUM_THREADS": "1",  # one OpenMP thread (also set through torch.set_num_threads)
    "MKL_NUM_THREADS": "1",  # one MKL thread
}
#: torch intra-op threads in ``reproducible`` mode.
PINNED_THREADS: Final = 1

#: Tolerant tier: a re-scored score agrees when ``|Δ| <= ABS_TOLERANCE + REL_TOLERANCE * |claimed|``.
REL_TOLERANCE: Final = 1e-5
ABS_TOLERANCE: Final = 1e-6


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`NUMERICS_MODES`, else ``INPUT.BAD_NUMERICS``."""
    if mode not in NUMERICS_MODES:
        raise InputError("BAD_NUMERICS", f"unknown numerics mode {mode!r}", "use default or reproducible")
    return mode


def torch_loaded() -> bool:
    """Whether torch is already imported in this process (its kernel choices are then fixed)."""
    return "torch" in sys.modules


def pinned_environment(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``environ`` (default ``os.environ``) with :data:`PINNED_ENV` applied over it."""
    env = dict(os.environ if environ is None else environ)
    env.update(PINNED_ENV)
    return env


def is_pinned(environ: MutableMapping[str, str] | None = None) -> bool:
    """Whether ``environ`` (default ``os.environ``) carries every :data:`PINNED_ENV` value."""
    env = os.environ if environ is None else environ
    return all(env.get(k) == v for k, v in PINNED_ENV.items())


def _loaded_pinned() -> bool:
    """torch is loaded and was loaded under the pins (environment pinned, ATen at its default capability)."""
    import torch

    return is_pinned() and torch.backends.cpu.get_cpu_capability() == "DEFAULT"


def require(mode: str) -> None:
    """Make ``mode`` hold for this process; call before torch loads.

    ``default``: nothing. ``reproducible``: apply :data:`PINNED_ENV` to ``os.environ`` when torch
    is not loaded yet; when it is, pass only if it was loaded under the pins, else raise
    ``RESOURCE.NUMERICS_UNPINNED`` (never run unpinned silently).
    """
    if check_mode(mode) == DEFAULT:
        return
    if not torch_loaded():
        os.environ.update(PINNED_ENV)
        return
    if not _loaded_pinned():
        raise ResourceError(
            "NUMERICS_UNPINNED",
            "reproducible numerics were requested after torch was loaded with other kernel settings",
            "run the console script (it re-runs itself in a fresh process), or set the pinned environment before importing torch (geno_lewm.numerics_mode.PINNED_ENV)",
        )


def apply_threads(mode: str, threads: int | None) -> int | None:
    """The torch thread count to use: :data:`PINNED_THREADS` in ``reproducible`` mode, else ``threads``."""
    return PINNED_THREADS if check_mode(mode) == REPRODUCIBLE else threads


def needs_reexec(mode: str) -> bool:
    """Whether a console script must re-run itself in a fresh process to honour ``mode``."""
    return check_mode(mode) == REPRODUCIBLE and torch_loaded() and not _loaded_pinned()


def reexec_pinned(module: str, argv: list[str]) -> int:
    """Run ``python -m module *argv`` in a fresh process under :data:`PINNED_ENV`; forward its output; return its exit code.

    Used by console scripts called in a process where torch is already loaded unpinned (e.g. from
    another tool): the child loads torch under the pins, so the mode still holds.
    """
    proc = subprocess.run([sys.executable, "-m", module, *argv], env=pinned_environment(), capture_output=True, text=True, check=False)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode


def tolerance(claimed: float) -> float:
    """The largest ``|Δ|`` the tolerant tier accepts for a claimed value."""
    return ABS_TOLERANCE + REL_TOLERANCE * abs(claimed)


def within_tolerance(claimed: float, reproduced: float) -> bool:
    """Whether ``reproduced`` agrees with ``claimed`` in the tolerant tier."""
    return abs(reproduced - claimed) <= tolerance(claimed)


def add_numerics_flag(parser) -> None:
    """Add ``--numerics {default,reproducible}`` to a console script's parser."""
    parser.add_argument(
        "--numerics",
        choices=NUMERICS_MODES,
        default=DEFAULT,
        help="default: the machine's fastest kernels (re-scoring agrees within tolerance); reproducible: pin CPU kernels and one thread so bytes match on any x86-64 CPU (docs/numerical-contract.md)",
    )


__all__ = [
    "ABS_TOLERANCE",
    "DEFAULT",
    "NUMERICS_MODES",
    "PINNED_ENV",
    "PINNED_THREADS",
    "REL_TOLERANCE",
    "REPRODUCIBLE",
    "add_numerics_flag",
    "apply_threads",
    "check_mode",
    "is_pinned",
    "needs_reexec",
    "pinned_environment",
    "reexec_pinned",
    "require",
    "tolerance",
    "torch_loaded",
    "within_tolerance",
]
