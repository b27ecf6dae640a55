"""`import ledger, ledger.cli, ledger.store` pulls in no heavy or upper-layer package."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("torch", "transformers", "textual", "geno_lewm")


def test_ledger_imports_nothing_heavy() -> None:
    code = (
        "import json, sys\n"
        "import ledger, ledger.cli, ledger.store, ledger.verify, ledger.merkle, ledger.workspace, ledger.projections, ledger.sigstore_bundle\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_status_command_imports_nothing_heavy(tmp_path) -> None:
    """Running `status` end to end (not just importing) keeps torch & co out."""
    code = (
        "import json, sys\n"
        "from ledger.keys import Signer\n"
        "from ledger.store import Ledger\n"
        "from ledger.cli import main\n"
        f"p = {str(tmp_path / 'l.duckdb')!r}\n"
        "Ledger.init(p, Signer.generate())\n"
        "assert main(['status', '--ledger', p, '--json']) == 0\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
