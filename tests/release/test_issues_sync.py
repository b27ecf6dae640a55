"""``geno-lewm-release issues sync`` against a real GitHub-like HTTP server on 127.0.0.1.

The server answers ``GET /repos/OWNER/NAME/issues/N`` for the issues the gates cite and records
every request. The token is taken from the environment, sent in the Authorization header, and
lands in neither the cache nor the command's output.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from tools.release.cli import main
from tools.release.gate.issues import CACHE_NAME, GENERATED_BY, cited_refs, describe_age, load_issue_cache

TOKEN = "ghp_loopbacktesttoken0123456789"


class _FakeIssues:
    """A loopback server holding issues by number; ``fail`` makes every request answer HTTP 500."""

    def __init__(self, issues: dict[int, dict]) -> None:
        self.issues = issues
        self.requests: list[dict] = []
        self.fail = False
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                service.requests.append({"path": self.path, "authorization": self.headers.get("Authorization")})
                parts = self.path.strip("/").split("/")
                if service.fail:
                    return self._send(500, {"message": "boom"})
                if len(parts) == 5 and parts[0] == "repos" and parts[3] == "issues" and parts[4].isdigit() and int(parts[4]) in service.issues:
                    return self._send(200, service.issues[int(parts[4])])
                return self._send(404, {"message": "Not Found"})

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github():
    refs = cited_refs()
    issues = {
        n: {
            "number": n,
            "title": f"Issue number {n} /home/x is just text",
            "state": "open" if n % 2 else "closed",
            "html_url": f"https://github.com/octo/geno/issues/{n}",
        }
        for n in refs[1:]
    }
    if refs:
        issues[refs[-1]]["pull_request"] = {"url": "x"}
    server = _FakeIssues(issues)
    yield server
    server.close()


def _sync_first(github, tmp_path, monkeypatch, token_var: str | None):
    """A workspace synced once for ``octo/geno`` with the token in ``token_var`` (None: no token); its folder."""
    for var in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(var, raising=False)
    if token_var:
        monkeypatch.setenv(token_var, TOKEN)
    wd = tmp_path / "ws"
    wd.mkdir()
    assert main(["issues", "sync", "--repo", "octo/geno", "--api-url", github.base, "--workdir", str(wd)]) == 0
    return wd


def test_sync_caches_titles_and_states_without_the_token(github, tmp_path, monkeypatch, capsys):
    wd = _sync_first(github, tmp_path, monkeypatch, "GITHUB_TOKEN")
    out = capsys.readouterr()
    refs = cited_refs()
    # every cited issue was asked for, with the token in the header only
    assert sorted(int(r["path"].rsplit("/", 1)[1]) for r in github.requests) == refs
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in github.requests)
    assert all(r["path"].startswith("/repos/octo/geno/issues/") for r in github.requests)
    text = (wd / CACHE_NAME).read_text(encoding="utf-8")
    assert TOKEN not in text and TOKEN not in out.out and TOKEN not in out.err
    doc = json.loads(text)
    assert doc["schema_version"].startswith("1.") and doc["generated_by"] == GENERATED_BY and doc["fetched_at"].endswith("Z")
    assert doc["missing"] == refs[:1]  # the server does not know the first one
    cache = load_issue_cache(wd)
    assert cache is not None and cache.repo == "octo/geno"
    n = refs[1]
    assert cache.issues[n].title == f"Issue number {n} /home/x is just text"
    assert cache.issues[n].state == ("open" if n % 2 else "closed")
    assert cache.issues[refs[-1]].pull_request
    assert cache.describe(f"#{n}") == f"#{n} {cache.issues[n].state}: {cache.issues[n].title}"
    assert cache.describe(f"#{refs[0]}") == f"#{refs[0]}"  # unknown: the bare ref
    assert f"#{n}" in out.out and "issues cached" in out.out


def test_sync_remembers_the_repo_and_works_without_a_token(github, tmp_path, monkeypatch):
    wd = _sync_first(github, tmp_path, monkeypatch, None)
    assert all(r["authorization"] is None for r in github.requests)
    github.requests.clear()
    assert main(["issues", "sync", "--api-url", github.base, "--workdir", str(wd)]) == 0  # repo from the cache
    assert github.requests and all(r["path"].startswith("/repos/octo/geno/") for r in github.requests)


def test_a_failed_fetch_keeps_the_old_cache(github, tmp_path, monkeypatch, capsys):
    wd = _sync_first(github, tmp_path, monkeypatch, "GH_TOKEN")
    before = (wd / CACHE_NAME).read_bytes()
    capsys.readouterr()
    github.fail = True
    assert main(["issues", "sync", "--repo", "octo/geno", "--api-url", github.base, "--workdir", str(wd)]) != 0
    err = capsys.readouterr().err
    assert "error[RELEASE.ISSUES_FETCH]" in err and "HTTP 500" in err and TOKEN not in err
    assert (wd / CACHE_NAME).read_bytes() == before
    assert not [p for p in wd.iterdir() if p.name != CACHE_NAME]  # no temporary file left behind


def test_sync_needs_a_repo(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert main(["issues", "sync", "--workdir", str(tmp_path)]) == 2
    assert "error[INPUT.USAGE]" in capsys.readouterr().err


def test_age_in_words():
    import datetime as dt

    now = dt.datetime(2026, 1, 2, 3, 0, 0, tzinfo=dt.UTC)
    assert describe_age("2026-01-02T02:59:30Z", now) == "just now"
    assert describe_age("2026-01-02T02:55:00Z", now) == "5 min ago"
    assert describe_age("2026-01-02T00:00:00Z", now) == "3 h ago"
    assert describe_age("2025-12-30T03:00:00Z", now) == "3 d ago"
    assert describe_age("not a time", now) == "unknown age"
