"""``geno-lewm``: the umbrella command (version, schema table, where to go next)."""

from __future__ import annotations

import json
import sys

from ledger.clikit import ArgumentParser, command


def _main(argv: list[str] | None) -> int:
    from geno_lewm import __version__
    from geno_lewm.versioning import SCHEMAS

    parser = ArgumentParser(
        prog="geno-lewm",
        description="GenoLeWM: score human genetic variants with a world model over a frozen DNA language model.",
        epilog="Commands: geno-lewm-demo, geno-lewm-score, geno-lewm-train, geno-lewm-eval, geno-lewm-ledger, geno-lewm-release, geno-lewm-cockpit. See README.md and docs/.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("version", help="print the package version")
    schemas = sub.add_parser("schemas", help="print the on-disk schema table")
    schemas.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if args.command == "version":
        print(__version__)
    elif args.command == "schemas":
        if args.json:
            print(json.dumps({name: s.version for name, s in SCHEMAS.items()}, indent=2, sort_keys=True))
        else:
            for name, schema in sorted(SCHEMAS.items()):
                print(f"{name:24s} {schema.version:8s} {schema.owner}")
    else:
        parser.print_help(sys.stdout)
    return 0


main = command(_main, "Run ``geno-lewm`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
