"""One runner for every console script: typed errors become ``error[CODE]`` + ``hint`` + exit code.

Usage in a command module::

    from ledger.clikit import ArgumentParser, run_cli

    def _main(argv: list[str] | None) -> int:
        parser = ArgumentParser(prog="geno-lewm-x", description="…")
        args = parser.parse_args(argv)
        ...
        return 0

    def main(argv: list[str] | None = None) -> int:
        return run_cli(_main, argv)

Contract (docs/errors.md): data goes to stdout, messages to stderr; a :class:`GenoError` prints
``error[CODE]: message``, a blank line and ``hint: …`` and exits with its family's code; Ctrl-C
exits 130; any other exception is ``INTERNAL.UNEXPECTED`` (exit 70). Tracebacks are printed only
with ``--debug`` (anywhere in argv) or ``GENO_LEWM_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ledger.errors import EXIT_INTERRUPTED, GenoError, InputError, InternalError


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` whose usage errors raise ``INPUT.USAGE`` instead of exiting.

    It also accepts a global ``--debug`` flag on every command.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument("--debug", action="store_true", help="show tracebacks for errors")

    def error(self, message: str) -> NoReturn:  # noqa: D102 - argparse hook
        raise InputError("USAGE", f"{self.prog}: {message}", f"run `{self.prog} --help` for usage")


def debug_enabled(argv: Sequence[str] | None) -> bool:
    """True when ``--debug`` is in ``argv`` or ``GENO_LEWM_DEBUG`` is set to a true value."""
    if os.environ.get("GENO_LEWM_DEBUG", "").lower() in {"1", "true", "yes"}:
        return True
    args = sys.argv[1:] if argv is None else argv
    return "--debug" in args


def report_error(err: GenoError, stream=None) -> None:
    """Print ``err`` in the documented form to ``stream`` (stderr by default)."""
    stream = stream or sys.stderr
    print(err.render(), file=stream)


def run_cli(main: Callable[[list[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run ``main(argv)`` and translate its outcome into the documented exit code.

    ``argv=None`` means ``sys.argv[1:]``, passed to ``main`` explicitly so a step records the
    command line it really ran. Returns the exit code (callers pass it to ``sys.exit``); never lets
    a traceback reach the user unless debugging was asked for.
    """
    args = list(sys.argv[1:] if argv is None else argv)  # explicit, so steps can record the real command line
    debug = debug_enabled(args)
    try:
        code = main(args)
        return int(code or 0)
    except GenoError as err:
        if debug:
            traceback.print_exc()
        report_error(err)
        return err.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error of ours.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - swallow further writes
        except OSError:
            pass
        return 0
    except Exception as exc:  # noqa: BLE001 - last-resort translation is the point
        if debug:
            traceback.print_exc()
        err = InternalError("UNEXPECTED", f"{type(exc).__name__}: {exc}")
        report_error(err)
        return err.exit_code


def exit_process(code: int) -> NoReturn:
    """Leave the process with ``code`` now, without the interpreter's teardown.

    Tearing down an interpreter that has imported torch takes about 0.3 s (module and object
    finalisation), a tenth of a whole-chromosome scoring run. A command that commits every
    output (atomic rename) before it returns has nothing left to lose but buffered stdio and the
    ``atexit`` handlers (logging, multiprocessing, ray): both are run here, then ``os._exit``.
    Falls back to ``sys.exit`` while a non-daemon thread still runs (a normal exit waits for it)
    or where the interpreter has no ``atexit._run_exitfuncs``.
    """
    import atexit
    import threading

    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if run_exitfuncs is None or others:
        sys.exit(code)
    try:
        run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
                pass
        os._exit(code)


def command(main: Callable[[list[str] | None], int | None], doc: str) -> Callable[[list[str] | None], int]:
    """A console script's ``main(argv=None) -> int``: ``main`` run through :func:`run_cli`, documented by ``doc``.

    Usage: ``main = command(_main, "Run geno-lewm-x and return its exit code.")``.
    """

    def _command(argv: list[str] | None = None) -> int:
        return run_cli(main, argv)

    _command.__doc__ = doc
    _command.__name__ = _command.__qualname__ = "main"
    _command.__module__ = main.__module__
    return _command


def exit_at_once(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """``main`` (a :func:`command`) that, run as a console script, leaves the process through :func:`exit_process`.

    For commands whose outputs are all committed when they return. ``main()`` (``argv`` None: a
    console script or ``python -m``) exits with the code instead of returning it; ``main(argv_list)``
    (tests, the release tools) returns it as before.
    Usage: ``main = exit_at_once(command(_main, "Run geno-lewm-x and return its exit code."))``.
    """

    @functools.wraps(main)
    def _command(argv: list[str] | None = None) -> int:
        code = main(argv)
        if argv is None:
            exit_process(code)
        return code

    return _command


def entry_point(main: Callable[[list[str] | None], int | None]) -> Callable[[], NoReturn]:
    """Wrap ``main`` as a console-script entry point that exits with :func:`run_cli`'s code."""

    def _entry() -> NoReturn:
        sys.exit(run_cli(main))

    _entry.__doc__ = main.__doc__
    return _entry


def finish(doc: Any, *, as_json: bool, note: str | None = None, code: int = 0) -> int:
    """End a command by the output contract and return ``code``: ``note`` on stderr, then ``doc`` on stdout with ``as_json``.

    ``doc`` is printed as every command's ``--json`` output is: indented JSON with sorted keys.
    Usage: ``return finish(summary, as_json=args.json, note=f"scored {n} variants")``.
    """
    if note is not None:
        print(note, file=sys.stderr)
    if as_json:
        print(json.dumps(doc, indent=2, sort_keys=True))
    return code


def flag_kwargs(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """``{name: args.name}`` for each of ``names``: keyword arguments a command passes straight on from its parsed flags."""
    return {name: getattr(args, name) for name in names}
