"""The ledger's trust anchor: pinned keys, C2SP checkpoint notes, and the two attacks plain verify cannot see."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import duckdb
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from ledger import chain, note
from ledger.anchor import load_trusted_keys
from ledger.cli import main
from ledger.errors import LedgerError
from ledger.keys import Signer

# The signed-note example of golang.org/x/mod/sumdb/note (package documentation and note_test.go):
# a published key pair and the note it signs. Ed25519 is deterministic, so an implementation of
# the format must reproduce the published note byte for byte, and verify it.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def _go_signer() -> Signer:
    blob = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert blob[:1] == note.ED25519_TYPE
    return Signer(ed25519.Ed25519PrivateKey.from_private_bytes(blob[1:]))


def test_signed_note_matches_the_published_go_example() -> None:
    signer = _go_signer()
    assert note.vkey("PeterNeumann", signer.public_key_raw) == GO_VERIFIER_KEY
    assert note.sign_note(GO_TEXT, "PeterNeumann", signer) == GO_NOTE
    text, names = note.verify_note(GO_NOTE.encode(), {"PeterNeumann": [signer.public_key_raw]})
    assert text == GO_TEXT and names == ["PeterNeumann"]
    with pytest.raises(LedgerError) as exc:
        note.verify_note(GO_NOTE.replace("cryptography", "cryptographY").encode(), {"PeterNeumann": [signer.public_key_raw]})
    assert exc.value.code == "LEDGER.BAD_CHECKPOINT"
    with pytest.raises(LedgerError) as exc:  # a key that is not known: the note is unverified
        note.verify_note(GO_NOTE.encode(), {"PeterNeumann": [Signer.generate().public_key_raw]})
    assert exc.value.code == "LEDGER.UNTRUSTED_CHECKPOINT"


def test_trusted_key_file_accepts_pub_lines_and_verifier_keys(tmp_path: Path) -> None:
    s = Signer.generate()
    f = tmp_path / "keys.pub"
    f.write_text(f"# maintainers\n{s.public_key_b64} {s.key_id}\n\n{GO_VERIFIER_KEY}\n")
    keys = load_trusted_keys(f)
    assert keys[s.key_id] == s.public_key_raw and _go_signer().key_id in keys
    f.write_text("not-a-key\n")
    with pytest.raises(LedgerError) as exc:
        load_trusted_keys(f)
    assert exc.value.code == "LEDGER.BAD_TRUSTED_KEYS" and "line 1" in exc.value.message


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return rc, out.out, out.err


@pytest.fixture()
def honest(tmp_path: Path, capsys):
    """An honest ledger signed by the maintainer key, with a checkpoint exported after 4 events."""
    key, led, cp = tmp_path / "maint.key", tmp_path / "l.duckdb", tmp_path / "cp.txt"
    assert _cli(capsys, "keygen", "--out", str(key))[0] == 0
    assert key.with_name("maint.key.pub").read_text().split()[0] == Signer.load(key).public_key_b64
    assert _cli(capsys, "init", "--ledger", str(led), "--key", str(key))[0] == 0
    for i in range(3):
        assert _cli(capsys, "append", "--ledger", str(led), "--key", str(key), "--kind", "note", "--json", json.dumps({"text": f"n{i}"}))[0] == 0
    rc, out, _ = _cli(capsys, "checkpoint", "--ledger", str(led), "--key", str(key), "--out", str(cp))
    assert rc == 0 and json.loads(out)["size"] == 4
    lines = cp.read_text(encoding="utf-8").split("\n")
    assert lines[:2] == ["geno-lewm", "4"] and len(base64.b64decode(lines[2])) == 32 and lines[3] == "" and lines[4].startswith("\u2014 geno-lewm ")
    return {"key": key, "pub": key.with_name("maint.key.pub"), "ledger": led, "cp": cp}


def test_an_honest_extension_passes_with_pinned_keys_and_the_checkpoint(honest, capsys) -> None:
    for i in range(5):
        _cli(capsys, "append", "--ledger", str(honest["ledger"]), "--key", str(honest["key"]), "--kind", "note", "--json", json.dumps({"text": f"later {i}"}))
    rc, out, err = _cli(capsys, "verify", "--ledger", str(honest["ledger"]), "--trusted-keys", str(honest["pub"]), "--checkpoint", str(honest["cp"]), "--json")
    assert rc == 0, err
    anchor = json.loads(out)["anchor"]
    assert anchor["checkpoint"]["checkpoint_size"] == 4 and anchor["checkpoint"]["ledger_size"] == 10
    assert anchor["checkpoint"]["consistency_proof"]  # a real RFC 9162 proof between sizes 4 and 10


def test_a_ledger_rewritten_under_an_attacker_key_fails_given_pinned_keys_or_the_checkpoint(honest, tmp_path, capsys) -> None:
    evil_key, evil = tmp_path / "evil.key", tmp_path / "evil.duckdb"
    _cli(capsys, "keygen", "--out", str(evil_key))
    _cli(capsys, "init", "--ledger", str(evil), "--key", str(evil_key))
    for text in ("n0", "n1 (rewritten)", "n2", "more"):
        _cli(capsys, "append", "--ledger", str(evil), "--key", str(evil_key), "--kind", "note", "--json", json.dumps({"text": text}))
    assert _cli(capsys, "verify", "--ledger", str(evil))[0] == 0  # self-consistent: plain verify cannot tell
    rc, _, err = _cli(capsys, "verify", "--ledger", str(evil), "--trusted-keys", str(honest["pub"]))
    assert rc == 8 and "error[LEDGER.UNTRUSTED_KEY]" in err
    rc, _, err = _cli(capsys, "verify", "--ledger", str(evil), "--checkpoint", str(honest["cp"]))
    assert rc == 8 and "error[LEDGER.UNTRUSTED_CHECKPOINT]" in err


def test_history_rewritten_with_the_maintainer_key_is_a_fork(honest, tmp_path, capsys) -> None:
    forked = tmp_path / "fork.duckdb"
    _cli(capsys, "init", "--ledger", str(forked), "--key", str(honest["key"]))
    for text in ("n0", "n1 (rewritten)", "n2", "more", "and more"):
        _cli(capsys, "append", "--ledger", str(forked), "--key", str(honest["key"]), "--kind", "note", "--json", json.dumps({"text": text}))
    rc, _, err = _cli(capsys, "verify", "--ledger", str(forked), "--trusted-keys", str(honest["pub"]), "--checkpoint", str(honest["cp"]))
    assert rc == 8 and "error[LEDGER.FORKED]" in err


def test_tail_truncation_with_a_re_signed_head_witness_fails_given_the_checkpoint(honest, capsys) -> None:
    led, signer = honest["ledger"], Signer.load(honest["key"])
    con = duckdb.connect(str(led))
    con.execute("DELETE FROM events WHERE seq >= 2")
    (last,) = con.execute("SELECT hash FROM events WHERE seq = 1").fetchone()
    con.execute("DELETE FROM ledger_head")
    con.execute(
        "INSERT INTO ledger_head VALUES (?, ?, ?, ?, ?)", ["geno-lewm", 2, last, signer.key_id, signer.sign(chain.head_message("geno-lewm", 2, last)).hex()]
    )
    con.close()
    assert _cli(capsys, "verify", "--ledger", str(led), "--trusted-keys", str(honest["pub"]))[0] == 0  # the attack plain verify misses
    rc, _, err = _cli(capsys, "verify", "--ledger", str(led), "--trusted-keys", str(honest["pub"]), "--checkpoint", str(honest["cp"]))
    assert rc == 8 and "error[LEDGER.ROLLED_BACK]" in err


def test_an_altered_checkpoint_note_is_refused(honest, capsys) -> None:
    cp = honest["cp"]
    lines = cp.read_text(encoding="utf-8").split("\n")
    lines[1] = "3"
    cp.write_text("\n".join(lines), encoding="utf-8")
    rc, _, err = _cli(capsys, "verify", "--ledger", str(honest["ledger"]), "--checkpoint", str(cp))
    assert rc == 8 and "error[LEDGER.BAD_CHECKPOINT]" in err


def test_release_replay_takes_the_anchor_options(honest, tmp_path, capsys) -> None:
    from tools.release.cli import main as release_main

    rc = release_main(["replay", "--ledger", str(honest["ledger"]), "--trusted-keys", str(honest["pub"]), "--checkpoint", str(honest["cp"]), "--json"])
    assert rc == 0, capsys.readouterr().err
    other = tmp_path / "other.key"
    _cli(capsys, "keygen", "--out", str(other))
    rc = release_main(["replay", "--ledger", str(honest["ledger"]), "--trusted-keys", str(other) + ".pub"])
    assert rc == 8 and "LEDGER.UNTRUSTED_KEY" in capsys.readouterr().err


def test_keygen_never_overwrites_the_public_key(tmp_path, capsys) -> None:
    (tmp_path / "k.pub").write_text("keep me\n")
    rc, _, err = _cli(capsys, "keygen", "--out", str(tmp_path / "k"))
    assert rc == 8 and "LEDGER.KEY_EXISTS" in err and not (tmp_path / "k").exists()
    assert (tmp_path / "k.pub").read_text() == "keep me\n"
