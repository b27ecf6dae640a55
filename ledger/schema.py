"""DuckDB schema of the ledger file: the ``events`` table, the head witness and auditor views.

Auditors rely on the ``events`` column names (``seq, event_id, kind, ts, key_id, prev_hash,
body, hash, sig``) and on the ``v_*`` views, which decode JSON bodies into columns. The views are
stored in the file, so a plain ``duckdb ledger.duckdb`` session sees them too.
"""

from __future__ import annotations

#: Storage format of the file (bumped on an incompatible table change).
FORMAT_VERSION = "1"
#: Version of the view definitions (a writer opening an older file recreates them; see
#: :meth:`ledger.store.Ledger.upgrade_views`). 2: ``v_events`` gained ``step`` and ``run_id``.
VIEWS_VERSION = "2"

TABLES = """
CREATE TABLE IF NOT EXISTS events (
    seq BIGINT PRIMARY KEY,          -- 0-based, contiguous
    event_id VARCHAR NOT NULL UNIQUE,-- UUID chosen by the writer (idempotency key)
    kind VARCHAR NOT NULL,           -- event kind (also inside body)
    ts VARCHAR NOT NULL,             -- RFC 3339 UTC with Z, exactly as hashed
    key_id VARCHAR NOT NULL,         -- signing key id
    prev_hash VARCHAR NOT NULL,      -- hash of the previous event (64 zeros for genesis)
    body BLOB NOT NULL,              -- exact canonical body bytes (signed)
    hash VARCHAR NOT NULL,           -- hex SHA-256 event hash
    sig VARCHAR NOT NULL             -- hex Ed25519 signature over DSSE PAE(body)
);
CREATE TABLE IF NOT EXISTS ledger_head (
    origin VARCHAR NOT NULL,         -- ledger origin (from genesis)
    size BIGINT NOT NULL,            -- number of events
    head_hash VARCHAR NOT NULL,      -- hash of the last event
    key_id VARCHAR NOT NULL,         -- key of the last writer
    sig VARCHAR NOT NULL             -- hex Ed25519 signature over the head message
);
CREATE TABLE IF NOT EXISTS ledger_meta (
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
"""

#: Event kinds whose body names a release step run (``run_id``, ``step``).
STEP_KINDS = ("step_started", "artifact_recorded", "step_passed", "step_failed")
_STEP_KINDS = ", ".join(f"'{k}'" for k in STEP_KINDS)
_TS = "strptime(ts, ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ'])"

VIEWS: dict[str, str] = {
    "v_events": f"""
SELECT seq, event_id, kind, {_TS} AS ts, key_id,
       CASE WHEN kind IN ({_STEP_KINDS}) THEN json_extract_string(decode(body), '$.step') END AS step,
       CASE WHEN kind IN ({_STEP_KINDS}) THEN json_extract_string(decode(body), '$.run_id') END AS run_id,
       json_extract_string(decode(body), '$.schema_version') AS schema_version,
       decode(body) AS body_json, prev_hash, hash
FROM events""",
    "v_steps": f"""
WITH s AS (SELECT seq, {_TS} AS ts, key_id, decode(body)::JSON AS j FROM events WHERE kind = 'step_started'),
e AS (
    SELECT seq, {_TS} AS ts, kind, decode(body)::JSON AS j,
           row_number() OVER (PARTITION BY decode(body)::JSON->>'run_id', decode(body)::JSON->>'step' ORDER BY seq) AS rn
    FROM events WHERE kind IN ('step_passed', 'step_failed'))
SELECT s.j->>'run_id' AS run_id, s.j->>'step' AS step,
       CAST(coalesce(s.j->'argv', '[]') AS VARCHAR[]) AS argv,
       CASE e.kind WHEN 'step_passed' THEN 'passed' WHEN 'step_failed' THEN 'failed' ELSE 'running' END AS status,
       e.j->>'code' AS code, e.j->>'message' AS message,
       s.seq AS started_seq, s.ts AS started_ts, e.seq AS ended_seq, e.ts AS ended_ts, s.key_id,
       row_number() OVER (PARTITION BY s.j->>'step' ORDER BY s.seq DESC) = 1 AS is_latest
FROM s LEFT JOIN e ON e.rn = 1 AND e.j->>'run_id' = s.j->>'run_id' AND e.j->>'step' = s.j->>'step'""",
    "v_artifacts": f"""
SELECT seq, {_TS} AS ts, key_id, j->>'run_id' AS run_id, j->>'step' AS step, j->>'role' AS role,
       j->>'path' AS path, j->>'sha256' AS sha256, CAST(j->>'size' AS BIGINT) AS size
FROM (SELECT *, decode(body)::JSON AS j FROM events WHERE kind = 'artifact_recorded')""",
    "v_gates": """
WITH gd AS (SELECT seq, decode(body)::JSON->'gates' AS arr FROM events WHERE kind = 'gates_defined' ORDER BY seq DESC LIMIT 1),
g AS (SELECT seq AS defined_seq, unnest(CAST(arr AS JSON[])) AS gj, generate_subscripts(CAST(arr AS JSON[]), 1) AS pos FROM gd),
gates AS (
    SELECT gj->>'name' AS name, coalesce(gj->>'title', '') AS title,
           CAST(coalesce(gj->'needs', '[]') AS VARCHAR[]) AS needs,
           CAST(coalesce(gj->'steps', '[]') AS VARCHAR[]) AS steps,
           CAST(coalesce(gj->'issue_refs', '[]') AS VARCHAR[]) AS issue_refs,
           pos, defined_seq
    FROM g),
latest AS (SELECT step, status FROM v_steps WHERE is_latest),
gs AS (SELECT g.name, s.st FROM gates g LEFT JOIN (SELECT name, unnest(steps) AS st FROM gates) s ON s.name = g.name),
own AS (
    SELECT gs.name,
           coalesce(list(gs.st ORDER BY gs.st) FILTER (WHERE l.status = 'failed'), []) AS failed_steps,
           coalesce(list(gs.st ORDER BY gs.st) FILTER (WHERE gs.st IS NOT NULL AND coalesce(l.status, '') NOT IN ('passed', 'failed')), []) AS pending_steps
    FROM gs LEFT JOIN latest l ON l.step = gs.st GROUP BY gs.name),
own2 AS (SELECT *, CASE WHEN len(failed_steps) > 0 THEN 'failed' WHEN len(pending_steps) > 0 THEN 'pending' ELSE 'passed' END AS own_status FROM own),
edges AS (SELECT name, unnest(needs) AS need FROM gates),
closure AS (
    WITH RECURSIVE c(name, need) AS (
        SELECT name, need FROM edges
        UNION
        SELECT c.name, e.need FROM c JOIN edges e ON e.name = c.need)
    SELECT * FROM c),
blocked AS (
    SELECT c.name, list(DISTINCT c.need ORDER BY c.need) AS blocked_by
    FROM closure c JOIN own2 o ON o.name = c.need WHERE o.own_status <> 'passed' GROUP BY c.name)
SELECT g.name, g.title,
       CASE WHEN o.own_status = 'failed' THEN 'failed' WHEN b.name IS NOT NULL THEN 'blocked' ELSE o.own_status END AS status,
       g.needs, g.steps, g.issue_refs, coalesce(b.blocked_by, []) AS blocked_by,
       o.failed_steps, o.pending_steps, g.pos AS position, g.defined_seq
FROM gates g JOIN own2 o ON o.name = g.name LEFT JOIN blocked b ON b.name = g.name
ORDER BY g.pos""",
    "v_blockers": """
SELECT name, title, status, issue_refs, blocked_by, failed_steps, pending_steps, position
FROM v_gates WHERE status <> 'passed' ORDER BY position""",
    "v_keys": f"""
WITH reg AS (
    SELECT seq, {_TS} AS ts, kind, key_id AS signed_by, decode(body)::JSON AS j
    FROM events WHERE kind IN ('genesis', 'key_registered')),
rev AS (
    SELECT decode(body)::JSON->>'key_id' AS kid, min(seq) AS revoked_seq,
           arg_min(decode(body)::JSON->>'reason', seq) AS revoked_reason, arg_min(key_id, seq) AS revoked_by
    FROM events WHERE kind = 'key_revoked' GROUP BY 1)
SELECT reg.j->>'key_id' AS key_id, reg.j->>'public_key' AS public_key,
       CASE WHEN reg.kind = 'genesis' THEN 'genesis' ELSE coalesce(reg.j->>'label', '') END AS label,
       reg.seq AS registered_seq, reg.ts AS registered_ts, reg.signed_by AS registered_by,
       rev.revoked_seq, rev.revoked_reason, rev.revoked_by,
       CASE WHEN rev.revoked_seq IS NULL THEN 'active' ELSE 'revoked' END AS status
FROM reg LEFT JOIN rev ON rev.kid = reg.j->>'key_id'
ORDER BY reg.seq""",
    "v_checkpoints": f"""
SELECT seq, {_TS} AS ts, key_id, j->>'origin' AS origin, CAST(j->>'size' AS BIGINT) AS size, j->>'root' AS root
FROM (SELECT *, decode(body)::JSON AS j FROM events WHERE kind = 'checkpoint')""",
    "v_bundles": f"""
SELECT seq, {_TS} AS ts, key_id, j->>'identity' AS identity, j->>'issuer' AS issuer,
       CAST(j->>'checkpoint_seq' AS BIGINT) AS checkpoint_seq, json_array_length(j->'subjects') AS subjects
FROM (SELECT *, decode(body)::JSON AS j FROM events WHERE kind = 'bundle_recorded')""",
    "v_yanked": f"""
SELECT seq, {_TS} AS ts, key_id, j->>'model_id' AS model_id, j->>'reason' AS reason, j->>'upgrade_to' AS upgrade_to
FROM (SELECT *, decode(body)::JSON AS j FROM events WHERE kind = 'model_yanked')""",
}

#: Names auditors can query (tables first, then views), also the Parquet export set.
TABLE_NAMES = ("events", "ledger_head")
VIEW_NAMES = tuple(VIEWS)


def view_statements() -> list[str]:
    """DDL (re)creating every view, in dependency order."""
    return [f"CREATE OR REPLACE VIEW {name} AS {sql.strip()}" for name, sql in VIEWS.items()]


def create_statements() -> list[str]:
    """DDL creating tables and (re)creating views, in dependency order."""
    return [s.strip() for s in TABLES.split(";") if s.strip()] + view_statements()
