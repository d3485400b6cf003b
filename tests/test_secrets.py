"""Secrets stay secret: a marker key and marker URL credentials, driven through every failure path of the
real command (a subprocess, the real openai client, a loopback server that echoes what it was sent), and
then looked for in every file written and everything printed."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SEED_IDS, reference_responder
from fake_openai import FakeOpenAI, FaultPlan

KEY = "sk-MARKERkey0123456789abcdefXYZ"
USER, PASSWORD, QUERY_KEY = "MARKERuser", "MARKERpassw0rd", "MARKERquerykey42"
# What a leak can look like besides the markers themselves: the Basic auth that httpx derives from URL
# credentials, and the key percent-encoded.
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
A, B, C = SEED_IDS[:3]


def briefer(*args: str, key: str | None = KEY + "\r\n") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    if key is not None:
        env["OPENAI_API_KEY"] = key  # as a CRLF .env file leaves it
    return subprocess.run([sys.executable, "-m", "briefer", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=180, encoding="utf-8")


def leaks(text: str) -> list[str]:
    return [m for m in ("MARKER", BASIC, KEY[3:20]) if m in text]


def written(root: Path) -> dict[str, str]:
    """Every file under root, as text (bytes decoded leniently, so nothing escapes the search)."""
    return {str(p): p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()}


def test_no_failure_path_writes_or_prints_a_secret(fixture_copy: Path, tmp_path: Path) -> None:
    articles = fixture_copy / "articles"
    runs: list[subprocess.CompletedProcess[str]] = []
    common = ["--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--date", "2026-11-22"]

    # Live, recording: a 500 echoing the headers (retried, then failed), an invalid answer quoting them (kept in
    # failed/), a 400 echoing them, and the merge failing with an echo too.
    plan = FaultPlan({A: ["echo"] * 2, B: ["echoanswer"] * 3, C: ["echo:400"], "story_groups": ["echo"] * 2})
    with FakeOpenAI(reference_responder(), plan) as server:
        r = briefer("summarize", str(articles), *common, "--base-url", server.base_url, "--record",
                    "--recordings", str(tmp_path / "rec"), "--max-retries", "1")
        runs.append(r)
        assert r.returncode == 3, r.stderr
        # The key was sent, stripped of the CRLF its .env gave it (not refused as an illegal header, not retried).
        assert {h["authorization"] for h in server.headers} == {f"Bearer {KEY}"}
    brief = (tmp_path / "out" / "brief.json").read_text(encoding="utf-8")
    assert "Authorization: Bearer [redacted] (path" in brief  # the reason is kept, the key is not
    assert (tmp_path / "out" / "failed" / f"{B}.txt").is_file() and list((tmp_path / "cache").rglob("*.json"))
    assert list((tmp_path / "rec").rglob("*.json"))

    # Live: bad credentials, with a server that quotes the header in its 401.
    with FakeOpenAI(reference_responder(), FaultPlan({"*": ["echo:401"] * 50})) as server:
        r = briefer("summarize", str(articles), *common, "--base-url", server.base_url, "--no-cache",
                    "--recordings", str(tmp_path / "none"))
        runs.append(r)
        assert r.returncode == 1 and "rejected the credentials (HTTP 401)" in r.stderr

    # Live: credentials in the base URL (httpx sends them as Basic auth), echoed back by a failing server.
    with FakeOpenAI(reference_responder(), FaultPlan({"*": ["echo"] * 50})) as server:
        url = server.base_url.replace("http://", f"http://{USER}:{PASSWORD}@")
        r = briefer("summarize", str(articles), *common, "--base-url", url, "--no-cache", "--max-retries", "0",
                    "--recordings", str(tmp_path / "none"))
        runs.append(r)
        assert r.returncode == 1 and "HTTP 500" in r.stderr
        assert any(h["authorization"] == f"Basic {BASIC}" for h in server.headers)

    # Offline: the re-record hints carry the base URL, whose credentials must not come with it.
    secret_url = f"http://{USER}:{PASSWORD}@127.0.0.1:9/v1?api-version=2024-06-01&api-key={QUERY_KEY}"
    hint = "--base-url 'http://[redacted]@127.0.0.1:9/v1?api-version=2024-06-01&api-key=[redacted]'"
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    (prompts / "extract.system.j2").write_text("Changed.\n", encoding="utf-8")
    r = briefer("summarize", str(articles), *common, "--offline", "--no-cache", "--base-url", secret_url,
                "--prompt-dir", str(prompts))
    runs.append(r)
    assert r.returncode == 1 and hint in r.stderr and "is stale: prompt template changed" in r.stderr
    (fixture_copy / "recordings" / "extract" / f"{A}.json").unlink()  # a subset: one missing, merge stale
    r = briefer("summarize", str(articles), *common, "--offline", "--no-cache", "--base-url", secret_url)
    runs.append(r)
    assert r.returncode == 3, r.stderr
    assert hint in r.stderr and hint in (tmp_path / "out" / "brief.json").read_text(encoding="utf-8")

    for i, run in enumerate(runs):
        assert not leaks(run.stdout + run.stderr), (i, run.stderr)
    files = written(tmp_path)
    assert len(files) > 20
    found = {path: leaks(text) for path, text in files.items() if leaks(text)}
    assert not found


def test_a_key_with_inner_whitespace_is_refused_without_showing_it(fixture_copy: Path, tmp_path: Path) -> None:
    with FakeOpenAI(reference_responder()) as server:
        r = briefer("summarize", str(fixture_copy / "articles"), "--out", str(tmp_path / "o"), "--no-cache",
                    "--base-url", server.base_url, "--recordings", str(tmp_path / "none"), key=f"{KEY}\r\nX-Evil: 1")
        assert server.requests == []
    assert r.returncode == 2
    assert r.stderr.strip() == ("briefer: OPENAI_API_KEY holds whitespace or characters an API key cannot have "
                                "(the value is not shown); check how it was set")


@pytest.mark.parametrize(("text", "expected"), [
    ("Authorization: Bearer abc.def-123", "Authorization: Bearer [redacted]"),
    ("Authorization: Bearer [redacted]", "Authorization: Bearer [redacted]"),
    ('{"authorization": "Basic dXNlcjpwYXNzd29yZA=="}', '{"authorization": "Basic [redacted]"}'),
    ("see https://bob:pw@host.example/v1?api-key=s3cr3t&api-version=1", "see https://[redacted]@host.example/v1"
     "?api-key=[redacted]&api-version=1"),
    ("x-api-key=abcdef", "x-api-key=[redacted]"),
    ("Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwx.", "Incorrect API key provided: sk-[redacted]."),
    ("the basic facts of the case", "the basic facts of the case"),  # prose is left alone
    ("the standard bearer of the party", "the standard bearer of the party"),
])
def test_credential_shapes_are_masked_in_messages(text: str, expected: str) -> None:
    from briefer.redact import redact

    assert redact(text, shapes=True) == expected


def test_registered_secrets_are_masked_in_every_form_but_short_values_are_not() -> None:
    from briefer.errors import ArticleFailed
    from briefer.redact import redact, register, register_url, safe_url

    register("s3cret/Value+1")
    register_url("https://someone:p%40ssword99@h.example/v1?token=tok-987654321&api-version=2024")
    register("abc")  # too short to replace without garbling the brief
    assert redact("s3cret/Value+1 s3cret%2FValue%2B1 p@ssword99 tok-987654321 abc") == \
        "[redacted] [redacted] [redacted] [redacted] abc"
    assert str(ArticleFailed("the server said p@ssword99")) == "the server said [redacted]"
    assert safe_url("https://someone:pw@h.example:8443/v1?token=x&api-version=2024") == \
        "https://[redacted]@h.example:8443/v1?token=[redacted]&api-version=2024"
