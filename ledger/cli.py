"""``geno-lewm-ledger``: create, append to, inspect, verify, query, export and prove the release ledger.

Imports are lazy so ``status`` starts fast; this module never imports torch, transformers,
textual or geno_lewm.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ledger.clikit import ArgumentParser, command
from ledger.errors import GenoError, InputError, LedgerError

PROG = "geno-lewm-ledger"


def _add_ledger(p, *, key: bool = False) -> None:
    p.add_argument("--ledger", help="ledger file (default: $GENO_LEWM_WORKSPACE/ledger.duckdb or ./geno-lewm-workspace/ledger.duckdb)")
    p.add_argument("--busy-timeout", type=float, default=10.0, help="seconds to wait for another writer/reader (default 10)")
    if key:
        p.add_argument("--key", help="Ed25519 private key (default: the workspace's keys/maintainer.key)")


def add_anchor_options(p) -> None:
    """Add the trust-anchor options (``--trusted-keys``, ``--checkpoint``) shared by ``verify`` and ``geno-lewm-release replay``."""
    p.add_argument("--trusted-keys", help="pinned public keys, one a line (KEY.pub lines): every signing key must be listed")
    p.add_argument("--checkpoint", help="an earlier C2SP tlog-checkpoint note: the ledger must be a consistent extension of it")


def _ledger_path(args) -> Path:
    from ledger.workspace import resolve_ledger_path

    return resolve_ledger_path(args.ledger)


def _signer(args):
    from ledger.keys import Signer
    from ledger.workspace import resolve_key_path

    return Signer.load(resolve_key_path(args.key))


def _open(args, read_only: bool = True):
    from ledger.store import Ledger

    return Ledger.open(_ledger_path(args), read_only=read_only, busy_timeout_s=args.busy_timeout)


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True, default=str))


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description="The GenoLeWM release ledger: signed, hash-chained events in DuckDB.")
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=ArgumentParser)

    p = sub.add_parser("init", help="create a ledger whose genesis registers KEY")
    _add_ledger(p, key=True)
    p.add_argument("--origin", default="geno-lewm", help="ledger origin name (default geno-lewm)")

    p = sub.add_parser("keygen", help="write a new Ed25519 private key (mode 0600) and KEY.pub; print its key id")
    p.add_argument("--out", required=True, help="key file to create (never overwritten); its public key goes to OUT.pub")

    p = sub.add_parser("append", help="append one signed event")
    _add_ledger(p, key=True)
    p.add_argument("--kind", required=True, help="event kind (note, step_started, …)")
    p.add_argument("--json", dest="body", required=True, help="event body as a JSON object")
    p.add_argument("--event-id", help="idempotency key (UUID); re-appending the same body returns the stored seq")

    p = sub.add_parser("show", help="print one event")
    _add_ledger(p)
    p.add_argument("--seq", type=int, required=True, help="event seq")

    p = sub.add_parser("tail", help="print the last events")
    _add_ledger(p)
    p.add_argument("-n", type=int, default=10, help="how many (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = sub.add_parser("status", help="head, keys, checkpoints, gates and blockers")
    _add_ledger(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("verify", help="verify chain, signatures, keys, checkpoints, bundles (and artifacts)")
    _add_ledger(p)
    p.add_argument("--artifacts", help="also check recorded artifact bytes under this root")
    p.add_argument("--trusted-root", help="Sigstore trusted root for recorded bundles (default: pinned)")
    p.add_argument("--no-signatures", action="store_true", help="skip Ed25519 checks (chain + Merkle only)")
    add_anchor_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable report")

    p = sub.add_parser("replay", help="fold all events and check the SQL views agree")
    _add_ledger(p)

    p = sub.add_parser("sql", help="run a read-only SQL query (SELECT only)")
    _add_ledger(p)
    p.add_argument("query", help='e.g. "SELECT * FROM v_gates"')
    p.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format (default table)")

    p = sub.add_parser("export", help="write one Parquet file per table and view")
    _add_ledger(p)
    p.add_argument("--parquet", required=True, help="output directory")

    p = sub.add_parser("checkpoint", help="append a signed Merkle tree head (and export it as a C2SP tlog-checkpoint note)")
    _add_ledger(p, key=True)
    p.add_argument("--out", help="also write the checkpoint as a C2SP tlog-checkpoint signed note to this file")

    p = sub.add_parser("prove", help="print an RFC 9162 inclusion proof for an event (JSON)")
    _add_ledger(p)
    p.add_argument("--seq", type=int, required=True, help="event seq")
    p.add_argument("--size", type=int, help="tree size (default: the latest checkpoint covering the event, else all events)")

    p = sub.add_parser("verify-bundle", help="verify a Sigstore bundle offline")
    p.add_argument("--bundle", required=True, help="bundle.sigstore.json")
    p.add_argument("--artifact", required=True, help="the signed artifact (or the attested subject)")
    p.add_argument("--identity", help="expected certificate identity")
    p.add_argument("--issuer", help="expected OIDC issuer")
    p.add_argument("--key", help="managed public key (PEM) — unsupported by sigstore-python, reported as such")
    p.add_argument("--trusted-root", help="trusted_root.json (default: configs/sigstore/trusted_root.json)")

    p = sub.add_parser("seal", help="sign the latest checkpoint + artifacts with Sigstore (release CI) and record the bundle")
    _add_ledger(p, key=True)
    p.add_argument("--sigstore", action="store_true", required=True, help="use Sigstore keyless signing (ambient OIDC identity)")
    p.add_argument("--trusted-root", help="trusted root to re-verify the new bundle (default: pinned)")
    return parser


def _cmd_init(args) -> int:
    from ledger.store import Ledger

    signer = _signer(args)
    Ledger.init(_ledger_path(args), signer, origin=args.origin, busy_timeout_s=args.busy_timeout)
    print(json.dumps({"ledger": _ledger_path(args).name, "key_id": signer.key_id, "origin": args.origin}))
    return 0


def _cmd_append(args) -> int:
    from ledger.jsoninput import parse_json_object

    body = parse_json_object(args.body)
    _reject_floats(body)
    led = _open(args, read_only=False)
    seq = led.append(args.kind, body, _signer(args), event_id=args.event_id)
    print(seq)
    return 0


def _reject_floats(value, where: str = "$") -> None:
    if isinstance(value, float):
        raise LedgerError("BAD_BODY", f"float at {where}: event bodies are float-free", "carry the number as an integer or a decimal string")
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_floats(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_floats(v, f"{where}[{i}]")


def _cmd_show(args) -> int:
    _print_json(_open(args).get(args.seq).to_dict())
    return 0


def _cmd_tail(args) -> int:
    led = _open(args)
    size, _ = led.head()
    for ev in led.events(since_seq=max(0, size - args.n)):
        if args.json:
            print(json.dumps(ev.to_dict(), sort_keys=True))
        else:
            text = ev.body.decode("utf-8", "replace")
            print(f"{ev.seq:>8}  {ev.ts}  {ev.kind:<18} {ev.key_id}  {text[:100]}")
    return 0


def _cmd_status(args) -> int:
    led = _open(args)
    with led.reader() as con:  # one connection for the whole summary
        size, head_hash = con.execute("SELECT count(*), (SELECT hash FROM events ORDER BY seq DESC LIMIT 1) FROM events").fetchone()
        cp = con.execute("SELECT seq, size, root FROM v_checkpoints ORDER BY seq DESC LIMIT 1").fetchone()
        keys = con.execute("SELECT key_id, label, status FROM v_keys").fetchall()
        gate_rows = con.execute("SELECT name, status, issue_refs FROM v_gates").fetchall()  # v_blockers = the non-passed gates
        origin = con.execute("SELECT origin FROM ledger_head").fetchone()
    gates = [(n, s) for n, s, _ in gate_rows]
    blockers = [(n, s, r) for n, s, r in gate_rows if s != "passed"]
    out = {
        "ledger": _ledger_path(args).name,
        "origin": origin[0] if origin else None,
        "events": size,
        "head_hash": head_hash or "",
        "last_checkpoint": {"seq": cp[0], "size": cp[1], "root": cp[2]} if cp else None,
        "keys": [{"key_id": k, "label": lab, "status": s} for k, lab, s in keys],
        "gates": {n: s for n, s in gates},
        "blockers": [{"gate": n, "status": s, "issue_refs": list(r)} for n, s, r in blockers],
    }
    if args.json:
        _print_json(out)
        return 0
    print(f"ledger   {out['ledger']} (origin {out['origin']})")
    print(f"events   {size}   head {(head_hash or '')[:16]}")
    print(f"checkpoint {'none' if not cp else f'seq {cp[0]} size {cp[1]} root {cp[2][:16]}'}")
    print(f"keys     {', '.join(f'{k} [{s}]' for k, _, s in keys)}")
    if gates:
        print("gates    " + ", ".join(f"{n}: {s}" for n, s in gates))
    for b in out["blockers"]:
        print(f"blocker  {b['gate']} ({b['status']}) {' '.join(b['issue_refs'])}")
    return 0


def _cmd_verify(args) -> int:
    led = _open(args)
    report = led.verify(artifacts_root=args.artifacts, signatures=not args.no_signatures, trusted_root=args.trusted_root)
    if not report.ok:
        if args.json:
            _print_json(report.to_dict())
        raise GenoError(
            report.code or "LEDGER.VERIFY_FAILED",
            f"verification failed at seq {report.first_bad_seq}: {report.reason}",
            "the ledger was altered or damaged at that seq; restore it from a verified copy",
        )
    from ledger.anchor import check_anchor

    anchored = check_anchor(led, trusted_keys=args.trusted_keys, checkpoint=args.checkpoint)
    if args.json:
        _print_json({**report.to_dict(), "anchor": anchored})
    else:
        print(
            f"ok: {report.checked} events, {report.signatures} signatures, {report.checkpoints} checkpoints, "
            f"{report.bundles} bundles, {report.artifacts} artifacts verified in {report.seconds:.2f} s"
        )
        if "trusted_keys" in anchored:
            print(f"ok: every signing key is pinned ({len(anchored['trusted_keys']['signing_keys'])} keys)")
        if "checkpoint" in anchored:
            cp = anchored["checkpoint"]
            print(f"ok: the ledger ({cp['ledger_size']} events) extends the checkpoint of {cp['checkpoint_size']} events (RFC 9162 consistency proof)")
    return 0


def _cmd_replay(args) -> int:
    from ledger.projections import replay_and_check

    _print_json(replay_and_check(_open(args)))
    return 0


def _cmd_sql(args) -> int:
    import csv
    import io

    cols, rows = _open(args).sql(args.query)
    if args.format == "json":
        print(json.dumps([dict(zip(cols, r, strict=True)) for r in rows], default=str, indent=2))
    elif args.format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)
        sys.stdout.write(buf.getvalue())
    else:
        cells = [[str(c) for c in cols]] + [["" if v is None else str(v) for v in r] for r in rows]
        widths = [min(60, max(len(row[i]) for row in cells)) for i in range(len(cols))]
        for n, row in enumerate(cells):
            print("  ".join(v[:60].ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
            if n == 0:
                print("  ".join("-" * w for w in widths))
    return 0


def _cmd_export(args) -> int:
    import pyarrow.parquet as pq

    from ledger import schema
    from ledger.fsutil import atomic_path

    led = _open(args)
    out = Path(args.parquet)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in schema.TABLE_NAMES + schema.VIEW_NAMES:
        table = led.arrow(f"SELECT * FROM {name}")
        with atomic_path(out / f"{name}.parquet") as tmp:
            pq.write_table(table, tmp)
        written.append({"name": name, "rows": table.num_rows, "file": f"{name}.parquet"})
    _print_json(written)
    return 0


def _cmd_checkpoint(args) -> int:
    from ledger.fsutil import check_writable

    if args.out:
        check_writable(args.out)
    led = _open(args, read_only=False)
    signer = _signer(args)
    if args.out:
        from ledger.note import check_key_name

        check_key_name(led.origin)  # the note's key name is the origin: refuse before appending
    seq = led.checkpoint(signer)
    out = {"seq": seq, **led.get(seq).data}
    if args.out:
        from ledger.anchor import export_checkpoint

        export_checkpoint(led, signer, seq, args.out)
        out["file"] = Path(args.out).name
    _print_json(out)
    return 0


def _cmd_prove(args) -> int:
    proof = _open(args).inclusion_proof(args.seq, args.size)
    proof.verify()  # never print a proof that does not lead to its root
    _print_json(proof.to_dict())
    return 0


def _cmd_verify_bundle(args) -> int:
    from ledger.sigstore_bundle import verify_bundle

    if args.key is None and (not args.identity or not args.issuer):
        raise InputError("USAGE", "verify-bundle needs --identity and --issuer, or --key", f"run `{PROG} verify-bundle --help`")
    res = verify_bundle(args.bundle, args.artifact, identity=args.identity, issuer=args.issuer, key=args.key, trusted_root=args.trusted_root)
    res.pop("statement", None)
    print(json.dumps(res, sort_keys=True))
    return 0


def _cmd_seal(args) -> int:
    from ledger.sigstore_bundle import seal

    led = _open(args, read_only=False)
    seq = seal(led, _signer(args), trusted_root=args.trusted_root)
    print(seq)
    return 0


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "keygen":
        from ledger.keys import keygen

        print(keygen(args.out))
        return 0
    return globals()[f"_cmd_{args.cmd.replace('-', '_')}"](args)


main = command(_main, "Console entry point of ``geno-lewm-ledger``.")


if __name__ == "__main__":
    sys.exit(main())
