"""docs/errors.md lists every error code the source can raise (generated section is current)."""

from __future__ import annotations

import ast

from tools.errors_catalog import DOC, _codes_in, collect, current_section, render


def test_every_code_in_the_source_is_documented():
    section = current_section(DOC.read_text(encoding="utf-8"))
    assert section is not None, "docs/errors.md lacks the generated catalogue"
    assert section == render(collect()), "docs/errors.md is stale: run `python -m tools.errors_catalog --write`"


def test_catalogue_finds_typed_raises_and_code_strings():
    tree = ast.parse(
        'raise InputError("REF_MISMATCH", "m")\n'
        'x = ledger.errors.LedgerError("BUSY", "m")\n'
        'row = {"error_code": "INPUT.SYMBOLIC_ALT"}\n'
        'y = GenoError("RELEASE.GATE", "m")\n'
        'z = "not.a.code"\n'
    )
    assert _codes_in(tree) == {"INPUT.REF_MISMATCH", "LEDGER.BUSY", "INPUT.SYMBOLIC_ALT", "RELEASE.GATE"}
