"""Loopback stand-ins for the Hugging Face Hub and GitHub releases: real HTTP servers on 127.0.0.1.

They implement just the routes the publication steps use, store what is uploaded on disk, serve it
back (``resolve/main`` downloads, tree listings, release downloads) and record every request.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
import urllib.parse
from pathlib import Path


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet tests
        pass

    def _send(self, code: int, body: bytes | dict | list, ctype: str = "application/json") -> None:
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802
        self.server.service.handle(self, "GET", b"")

    def do_POST(self) -> None:  # noqa: N802
        self.server.service.handle(self, "POST", self._body())


class _Service:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[dict] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.service = self
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _file(self, h, path: Path) -> None:
        if path.is_file():
            h._send(200, path.read_bytes(), "application/octet-stream")
        else:
            h._send(404, {"error": "not found"})


class FakeHub(_Service):
    """A Hugging Face Hub on 127.0.0.1: revision info, tree, preupload, commit, resolve/main."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.heads: dict[str, str] = {}

    def repo_dir(self, repo_type: str, repo_id: str) -> Path:
        """Where a repo's files live."""
        return self.root / f"{repo_type}s" / repo_id

    def head(self, key: str) -> str:
        """Current head commit of a repo key ``<type>s/<owner>/<name>``."""
        return self.heads.setdefault(key, hashlib.sha1(key.encode()).hexdigest())

    def handle(self, h, method: str, body: bytes) -> None:
        url = urllib.parse.urlparse(h.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        rec = {"method": method, "path": url.path, "authorization": h.headers.get("Authorization")}
        self.requests.append(rec)
        if parts[:1] == ["api"] and len(parts) >= 6:
            kind, repo, action = parts[1], f"{parts[2]}/{parts[3]}", parts[4]
            key = f"{kind}/{repo}"
            d = self.root / kind / repo
            if method == "GET" and action == "revision":
                return h._send(200, {"id": repo, "sha": self.head(key), "private": False, "siblings": []})
            if method == "GET" and action == "tree":
                files = [f for f in sorted(d.rglob("*")) if f.is_file()] if d.is_dir() else []
                return h._send(
                    200,
                    [
                        {"type": "file", "path": f.relative_to(d).as_posix(), "size": f.stat().st_size, "oid": hashlib.sha1(f.read_bytes()).hexdigest()}
                        for f in files
                    ],
                )
            if method == "POST" and action == "preupload":
                files = json.loads(body)["files"]
                return h._send(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
            if method == "POST" and action == "commit":
                lines = [json.loads(x) for x in body.splitlines() if x.strip()]
                header = lines[0]["value"]
                rec["commit"] = {"parent_commit": header.get("parentCommit"), "files": [x["value"]["path"] for x in lines[1:] if x["key"] == "file"]}
                if header.get("parentCommit") != self.head(key):
                    return h._send(412, {"error": "A commit has happened since. Please refresh and try again."})
                for x in lines[1:]:
                    dest = d / x["value"]["path"]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(base64.b64decode(x["value"]["content"]))
                new = hashlib.sha1((self.head(key) + str(len(self.requests))).encode()).hexdigest()
                self.heads[key] = new
                return h._send(200, {"commitUrl": f"{self.base}/{repo}/commit/{new}", "commitOid": new})
        if "resolve" in parts:
            i = parts.index("resolve")
            kind = "datasets" if parts[0] == "datasets" else "models"
            repo = "/".join(parts[1:i] if kind == "datasets" else parts[:i])
            return self._file(h, self.root / kind / repo / "/".join(parts[i + 2 :]))
        h._send(404, {"error": "no route"})


class FakeGitHub(_Service):
    """GitHub releases on 127.0.0.1: web downloads under ``/``, REST API under ``/api``."""

    def __init__(self, root: Path, tags: tuple[str, ...] = ("v1",)) -> None:
        super().__init__(root)
        self.tags = set(tags)

    @property
    def api(self) -> str:
        """The REST API base URL."""
        return self.base + "/api"

    def release_dir(self, repo: str, tag: str) -> Path:
        """Where a release's assets live."""
        return self.root / repo / tag

    def handle(self, h, method: str, body: bytes) -> None:
        url = urllib.parse.urlparse(h.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        self.requests.append({"method": method, "path": url.path, "authorization": h.headers.get("Authorization")})
        if parts[:2] == ["api", "repos"] and parts[4:6] == ["releases", "tags"] and method == "GET":
            repo, tag = f"{parts[2]}/{parts[3]}", parts[6]
            if tag not in self.tags:
                return h._send(404, {"message": "Not Found"})
            d = self.release_dir(repo, tag)
            assets = [{"name": f.name, "size": f.stat().st_size} for f in sorted(d.iterdir())] if d.is_dir() else []
            return h._send(200, {"id": 7, "tag_name": tag, "upload_url": f"{self.base}/uploads/{repo}/{tag}/assets{{?name,label}}", "assets": assets})
        if parts[:1] == ["uploads"] and method == "POST":
            repo, tag = f"{parts[1]}/{parts[2]}", parts[3]
            name = urllib.parse.parse_qs(url.query)["name"][0]
            d = self.release_dir(repo, tag)
            d.mkdir(parents=True, exist_ok=True)
            (d / name).write_bytes(body)
            return h._send(201, {"name": name, "size": len(body)})
        if len(parts) == 6 and parts[2:4] == ["releases", "download"]:
            return self._file(h, self.release_dir(f"{parts[0]}/{parts[1]}", parts[4]) / parts[5])
        h._send(404, {"error": "no route"})
