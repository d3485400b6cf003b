"""export → an offline engine (tests/vllm_role.py plays `vllm run-batch`) → import → summarize from the cache.

The commands run as a user runs them (real subprocesses); the live run they are compared with goes
through the real openai client to a test server on 127.0.0.1 that answers with the same echo model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import echo_model
from conftest import FIXTURES, ROOT
from fake_openai import FakeOpenAI


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=180,
                          encoding="utf-8")


def briefer(*args: str) -> subprocess.CompletedProcess[str]:
    return run("-m", "briefer", *args)


def brief_files(out: Path) -> tuple[str, str]:
    """brief.json and brief.md as written, whole: the run's counters are in run.json, not in the brief."""
    return (out / "brief.json").read_text(encoding="utf-8"), (out / "brief.md").read_text(encoding="utf-8")


def summarize(out: Path, cache: Path, tmp: Path, server: FakeOpenAI) -> subprocess.CompletedProcess[str]:
    return briefer("summarize", str(FIXTURES / "articles"), "--out", str(out), "--cache-dir", str(cache),
                   "--recordings", str(tmp / "no-recordings"), "--base-url", server.base_url,
                   "--date", "2026-11-22")


def test_export_vllm_import_then_summarize_replays_the_articles(tmp_path: Path) -> None:
    cache, requests, results = tmp_path / "cache", tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    r = briefer("batch", "export", str(FIXTURES / "articles"), "-o", str(requests), "--cache-dir", str(cache),
                "--recordings", str(tmp_path / "no-recordings"))
    assert r.returncode == 0, r.stderr
    assert "5 requests written" in r.stderr
    lines = [json.loads(x) for x in requests.read_text(encoding="utf-8").splitlines()]
    assert [x["url"] for x in lines] == ["/v1/chat/completions"] * 5
    assert all(x["method"] == "POST" and len(x["custom_id"]) == 64 for x in lines)
    assert "\\u06" not in requests.read_text(encoding="utf-8")  # Arabic as written

    # The second request comes back as an error line, the fourth with an answer that has nothing usable.
    r = run(str(ROOT / "tests" / "vllm_role.py"), "-i", str(requests), "-o", str(results), "--error", "2",
            "--broken", "4")
    assert r.returncode == 0, r.stderr
    r = briefer("batch", "import", str(results), "--cache-dir", str(cache))
    assert r.returncode == 3, r.stderr
    assert "3 answers imported into the cache, 0 already there, 2 not imported" in r.stderr
    rejected = [ln for ln in r.stderr.splitlines() if ln.startswith("briefer: not imported:")]
    assert len(rejected) == 2
    assert "HTTP 500: CUDA out of memory" in rejected[0] and lines[1]["custom_id"][:16] in rejected[0]
    assert "invalid" in rejected[1] and lines[3]["custom_id"][:16] in rejected[1]
    followup = tmp_path / "results.followup.jsonl"
    assert [json.loads(x) for x in followup.read_text(encoding="utf-8").splitlines()] == [lines[1], lines[3]]

    # The follow-up goes through the engine again; importing it leaves nothing to ask.
    r = run(str(ROOT / "tests" / "vllm_role.py"), "-i", str(followup), "-o", str(tmp_path / "results2.jsonl"))
    assert r.returncode == 0, r.stderr
    r = briefer("batch", "import", str(tmp_path / "results2.jsonl"), "--cache-dir", str(cache))
    assert r.returncode == 0, r.stderr
    assert "2 answers imported into the cache, 0 already there, 0 not imported" in r.stderr
    # Importing again is harmless: the answers are in the cache already.
    r = briefer("batch", "import", str(results), "--cache-dir", str(cache))
    assert r.returncode == 0 and "0 answers imported into the cache, 5 already there, 0 not imported" in r.stderr

    with FakeOpenAI(echo_model.respond) as server:
        r = summarize(tmp_path / "out", cache, tmp_path, server)
        assert r.returncode == 0, r.stderr
        assert "5 articles, 0 failed" in r.stderr
        assert all("ArticleExtraction" not in json.dumps(b) for b in server.requests)  # 0 article calls
        assert len(server.requests) == 1  # the merge, live
        # The same answers asked live give the same brief.
        r = summarize(tmp_path / "live", tmp_path / "live-cache", tmp_path, server)
        assert r.returncode == 0, r.stderr
    assert brief_files(tmp_path / "out") == brief_files(tmp_path / "live")
    for p in sorted((tmp_path / "live" / "articles").glob("*.json")):
        assert (tmp_path / "out" / "articles" / p.name).read_bytes() == p.read_bytes()
    # Nothing is pending any more.
    assert list((cache / "pending").glob("*.json")) == []


def test_import_keeps_an_answer_partly_valid_in_part(tmp_path: Path) -> None:
    """An engine's answer that misses a paragraph's translation: kept in part at import (as a live answer once its
    re-asks are spent), said on its own line, nothing left to ask again."""
    cache, requests, results = tmp_path / "cache", tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    assert briefer("batch", "export", str(FIXTURES / "articles"), "-o", str(requests), "--cache-dir", str(cache),
                   "--recordings", str(tmp_path / "none")).returncode == 0
    lines = [json.loads(x) for x in requests.read_text(encoding="utf-8").splitlines()]
    run(str(ROOT / "tests" / "vllm_role.py"), "-i", str(requests), "-o", str(results), "--invalid", "2")
    r = briefer("batch", "import", str(results), "--cache-dir", str(cache))
    assert r.returncode == 3, r.stderr
    assert "5 answers imported into the cache (1 kept in part), 0 already there, 0 not imported" in r.stderr
    kept = [ln for ln in r.stderr.splitlines() if ln.startswith("briefer: kept in part: ")]
    assert len(kept) == 1 and lines[1]["custom_id"][:16] in kept[0] and "translation_en has" in kept[0]
    assert not (tmp_path / "results.followup.jsonl").exists()
    assert list((cache / "pending").glob("*.json")) == []


def test_a_second_export_leaves_out_what_the_cache_answers(tmp_path: Path) -> None:
    cache, requests = tmp_path / "cache", tmp_path / "requests.jsonl"
    args = ("batch", "export", str(FIXTURES / "articles"), "-o", str(requests), "--cache-dir", str(cache),
            "--recordings", str(tmp_path / "none"))
    assert briefer(*args).returncode == 0
    run(str(ROOT / "tests" / "vllm_role.py"), "-i", str(requests), "-o", str(tmp_path / "results.jsonl"),
        "--error", "1")
    assert briefer("batch", "import", str(tmp_path / "results.jsonl"), "--cache-dir", str(cache)).returncode == 3
    r = briefer(*args)
    assert "1 request written" in r.stderr and "4 requests already answered" in r.stderr, r.stderr
    # With the shipped recordings beside the fixtures, nothing is left to ask.
    r = briefer("batch", "export", str(FIXTURES / "articles"), "-o", str(requests), "--cache-dir", str(cache))
    assert "0 requests written" in r.stderr and "5 requests already answered" in r.stderr, r.stderr


def test_import_reports_lines_it_cannot_use(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text('not json\n{"custom_id": "../../etc/passwd", "response": null}\n'
                       '{"custom_id": "abc", "error": {"code": "batch_expired", "message": "expired"}}\n',
                       encoding="utf-8")
    r = briefer("batch", "import", str(results), "--cache-dir", str(tmp_path / "cache"))
    assert r.returncode == 3
    assert "0 answers imported into the cache, 0 already there, 3 not imported" in r.stderr
    assert "line 1: not a JSON object" in r.stderr
    assert r.stderr.count("unknown custom_id") == 2
    r = briefer("batch", "import", str(tmp_path / "missing.jsonl"), "--cache-dir", str(tmp_path / "cache"))
    assert r.returncode == 2 and "no such file" in r.stderr
