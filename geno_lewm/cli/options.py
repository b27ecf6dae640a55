"""The flag vocabulary the console scripts share: each common flag declared once, with one help text.

A command adds the common flags it takes in one call and declares only its own flags by hand::

    p = ArgumentParser(prog="geno-lewm-x", description="…")
    add_flags(p, "--model-dir", "--vcf", "--fasta", required=True)
    add_flags(p, "--batch-size", default=32)

Overrides (argparse keywords: ``required``, ``default``, ``help`` …) apply to every flag of that call,
so a command states only what truly differs for it. A flag given a default that its help does not
mention reads ``… (default X)`` in ``--help``, the release step registry and the cockpit's forms.
The same flag therefore reads the same everywhere (``geno-lewm-release steps`` lists them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Common flag name → argparse keywords (help without the default: :func:`add_flags` appends it).
FLAGS: Mapping[str, Mapping[str, Any]] = {
    "--model-dir": {"help": "model package directory (manifest.json; hashes verified before loading)"},
    "--carbon-model-dir": {"help": "local Carbon checkpoint directory (config, safetensors, tokenizer files; e.g. <model-package>/encoder)"},
    "--vcf": {"help": "input VCF (.vcf, or bgzipped + tabix .vcf.gz)"},
    "--fasta": {"help": "reference FASTA (the .fai index is built when missing)"},
    "--artifact-root": {"help": "root the recorded paths are relative to"},
    "--output-scores": {"help": "score rows (JSONL)"},
    "--region": {"help": "only score CHR:START-END (1-based, inclusive)"},
    "--batch-size": {"type": int, "help": "sequences per encoder call"},
    "--seed": {"type": int, "default": 0, "help": "random seed"},
    "--json": {"action": "store_true", "help": "print the summary as JSON on stdout"},
}


def flag_spec(name: str, **overrides: Any) -> dict[str, Any]:
    """The argparse keywords of the common flag ``name`` with ``overrides`` applied (help carrying the default)."""
    if name not in FLAGS:
        raise KeyError(f"{name} is not a common flag (geno_lewm.cli.options.FLAGS has {sorted(FLAGS)})")
    spec = {**FLAGS[name], **overrides}
    default = spec.get("default")
    if default is not None and "default" not in spec["help"]:
        spec["help"] = f"{spec['help']} (default {default})"
    return spec


def add_flags(parser: Any, *names: str, **overrides: Any) -> None:
    """Add the common flags ``names`` to ``parser`` (or an argument group), in order, each with ``overrides``."""
    for name in names:
        parser.add_argument(name, **flag_spec(name, **overrides))


__all__ = ["FLAGS", "add_flags", "flag_spec"]
