"""``geno-lewm-update``: show, confirm and install a published model release side by side.

Never automatic: it runs only when a user runs it, asks before installing (``--yes`` to skip the
question, ``--check-only`` to only look), and trusts downloaded bytes only after their hashes match
the fetched manifest (RFC-0010).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ledger.clikit import ArgumentParser, command, finish
from ledger.errors import InputError

DEFAULT_INDEX_ENV = "GENO_LEWM_RELEASE_INDEX"


def _default_install_dir() -> Path:
    return Path(os.environ.get("GENO_LEWM_MODELS", "geno-lewm-workspace/models"))


def _main(argv: list[str] | None) -> int:
    from geno_lewm import __version__
    from geno_lewm.distribution.update import install, installed_releases, plan_update
    from geno_lewm.versioning import SemVer

    parser = ArgumentParser(prog="geno-lewm-update", description="Install a published GenoLeWM model release side by side (user-initiated).")
    parser.add_argument("--index-url", default=os.environ.get(DEFAULT_INDEX_ENV), help=f"release index URL (default: ${DEFAULT_INDEX_ENV})")
    parser.add_argument(
        "--install-dir", type=Path, default=None, help="where releases are installed (default: $GENO_LEWM_MODELS or geno-lewm-workspace/models)"
    )
    parser.add_argument("--target-version", help="install this model_version instead of the newest compatible one")
    parser.add_argument("--check-only", action="store_true", help="show what would change and exit")
    parser.add_argument("--yes", action="store_true", help="install without asking")
    parser.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    args = parser.parse_args(argv)
    if not args.index_url:
        raise InputError("USAGE", "no release index given", f"pass --index-url or set {DEFAULT_INDEX_ENV}")
    install_dir = args.install_dir or _default_install_dir()
    runtime_major = SemVer.parse(__version__.split("a")[0].split("b")[0].split("rc")[0]).major
    plan = plan_update(args.index_url, install_dir, target_version=args.target_version, runtime_major=runtime_major)
    current = sorted(installed_releases(install_dir))
    summary = plan.to_dict() | {"installed": current, "action": "none" if plan.already_installed else "install"}
    print(
        f"release {summary['release_id']} (model {summary['model_version']}, id {plan.model_id[:16]}…): "
        f"{len(plan.files)} files, {plan.total_bytes} bytes; installed now: {', '.join(current) or 'none'}",
        file=sys.stderr,
    )
    if plan.already_installed:
        print("already installed; nothing to do", file=sys.stderr)
    elif args.check_only:
        summary["action"] = "would-install"
    else:
        if not args.yes:
            if not sys.stdin.isatty():
                raise InputError("CONSENT_REQUIRED", "installing needs consent and no terminal is attached", "re-run with --yes, or --check-only to look")
            answer = input(f"install {summary['release_id']} into {install_dir.name}/? [y/N] ").strip().lower()
            if answer not in {"y", "yes"}:
                summary["action"] = "declined"
                return finish(summary, as_json=args.json, note="not installed")
        dest = install(plan, install_dir, progress=lambda n, total, rel: print(f"  [{n}/{total}] {rel} verified", file=sys.stderr))
        summary["action"] = "installed"
        print(f"installed {dest.name} (all {len(plan.files)} artifacts match the manifest)", file=sys.stderr)
    return finish(summary, as_json=args.json)


main = command(_main, "Run ``geno-lewm-update`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
