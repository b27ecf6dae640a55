"""The release workflows parse, and every project command they run exists and accepts the flags used."""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ("ci.yml", "release-pypi.yml", "release-hub-dry-run.yml", "release-hub-publish.yml")


class _Parsed(BaseException):
    """Raised right after a command's parser accepted its argv (so nothing runs)."""


def _workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def _commands(doc: dict) -> list[list[str]]:
    out = []
    for job in doc["jobs"].values():
        for step in job["steps"]:
            for line in str(step.get("run", "")).splitlines():
                line = re.sub(r"\$\{\{[^}]*\}\}", "X", line).strip()
                if not line:
                    continue
                tokens = shlex.split(line)
                if ">" in tokens:
                    tokens = tokens[: tokens.index(">")]
                if tokens[:2] == ["uv", "run"]:
                    tokens = tokens[2:]
                if tokens[:2] == ["python", "-m"] and tokens[2].startswith(("tools.", "bench.", "geno_lewm.")) or tokens and tokens[0].startswith("geno-lewm"):
                    out.append(tokens)
    return out


def _scripts() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]


def _entry(tokens: list[str]):
    if tokens[0] == "python":
        return importlib.import_module(tokens[2]).main, tokens[3:]
    target = _scripts().get(tokens[0])
    assert target is not None, f"{tokens[0]} is not a console script declared in pyproject.toml"
    mod, func = target.split(":")
    return getattr(importlib.import_module(mod), func), tokens[1:]


def _accepts(main, argv: list[str], monkeypatch) -> bool:
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        original(self, args, namespace)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    try:
        main(argv)
    except _Parsed:
        return True
    finally:
        monkeypatch.setattr(argparse.ArgumentParser, "parse_args", original)
    return False


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_parses_and_its_commands_accept_their_flags(name, monkeypatch):
    doc = _workflow(name)
    assert doc["jobs"]
    for tokens in _commands(doc):
        main, argv = _entry(tokens)
        assert _accepts(main, argv, monkeypatch), f"{name}: {' '.join(tokens[:4])} rejects its flags"


def test_flag_check_can_fail(monkeypatch):
    main, _ = _entry(["python", "-m", "tools.release.hub_release"])
    assert not _accepts(main, ["--no-such-flag"], monkeypatch)


def test_workflow_contracts():
    ci = _workflow("ci.yml")
    runs = " ".join(str(s.get("run", "")) for j in ci["jobs"].values() for s in j["steps"])
    assert "bash .ci/run" in runs and "geno-lewm-release replay" in runs
    pypi = _workflow("release-pypi.yml")
    uses = [s.get("uses", "") for j in pypi["jobs"].values() for s in j["steps"]]
    assert any(u.startswith("pypa/gh-action-pypi-publish") for u in uses) and any(u.startswith("actions/attest-build-provenance") for u in uses)
    assert pypi["jobs"]["publish"]["permissions"]["id-token"] == "write"
    assert "uv build" in " ".join(str(s.get("run", "")) for j in pypi["jobs"].values() for s in j["steps"])
    dry = (ROOT / ".github" / "workflows" / "release-hub-dry-run.yml").read_text(encoding="utf-8")
    assert "secrets." not in dry and "HF_TOKEN" not in dry
    pub = _workflow("release-hub-publish.yml")
    job = pub["jobs"]["publish"]
    assert job["environment"] == "release"
    text = (ROOT / ".github" / "workflows" / "release-hub-publish.yml").read_text(encoding="utf-8")
    for step in (
        "tools.release.hub_publish",
        "tools.release.clean_machine_demo",
        "tools.release.publication_report",
        "tools.release.publication_assets",
        "seal --sigstore",
    ):
        assert step in text
    with_token = [s for s in job["steps"] if "HF_TOKEN" in (s.get("env") or {})]
    assert len(with_token) == 1 and "hub_publish" in with_token[0]["run"]  # the Hub token reaches one step only
