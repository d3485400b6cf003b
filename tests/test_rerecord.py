"""A re-record hint that reproduces the run (issue 29 item 4) and a replay hint that is true (issue 31 case 12):
the hint, followed against a loopback server, asks only the stale requests, and the next offline run passes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import reference_responder
from fake_openai import FakeOpenAI


def briefer(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    return subprocess.run([sys.executable, "-m", "briefer", *args], capture_output=True, text=True, cwd=cwd,
                          env={**clean, **(env or {})}, timeout=180, encoding="utf-8")


def _hint(stderr: str, marker: str = "Re-record with: ") -> list[str]:
    (line,) = [ln for ln in stderr.splitlines() if marker in ln]
    command = line.split(marker, 1)[1]
    command = command.split("; the merge's input includes")[0]
    return shlex.split(command)


def test_the_hint_after_an_alias_file_rerecords_only_the_merge_and_fixes_the_run(fixture_copy: Path,
                                                                                 tmp_path: Path) -> None:
    aliases = tmp_path / "my aliases.toml"
    aliases.write_text('[[entity]]\nname = "Pentagon"\nspellings = ["US Department of Defense"]\n',
                       encoding="utf-8")
    folder = fixture_copy / "articles"
    run = ("summarize", str(folder), "--offline", "--no-cache", "--out", str(tmp_path / "o"), "--aliases",
           str(aliases), "--extra-body", '{"repeat_penalty": 1.1}', "--mode", "json_schema")
    # Recordings made with these endpoint options (as a user's own would be), and the alias file beside the folder.
    with FakeOpenAI(reference_responder()) as server:
        made = briefer("summarize", str(folder), "--no-cache", "--out", str(tmp_path / "seed"), "--record",
                       "--extra-body", '{"repeat_penalty": 1.1}', "--mode", "json_schema", cwd=tmp_path,
                       env=_server_env(tmp_path, server))
        assert made.returncode == 0, made.stderr
    stale = briefer(*run, cwd=tmp_path)
    assert stale.returncode == 3, stale.stderr
    hint = _hint(stale.stderr)
    assert hint[:3] == ["briefer", "summarize", str(folder)] and "--record-stale" in hint
    for option, value in (("--aliases", str(aliases)), ("--extra-body", '{"repeat_penalty": 1.1}'),
                          ("--mode", "json_schema"), ("--model", "gpt-4o-mini")):
        assert hint[hint.index(option) + 1] == value, (option, hint)
    assert "--no-since" in hint

    with FakeOpenAI(reference_responder()) as server:
        followed = briefer(*hint[1:], cwd=tmp_path, env=_server_env(tmp_path, server))
        asked = [json.dumps(r) for r in server.requests]
    assert followed.returncode == 0, followed.stderr
    assert len(asked) == 1 and "story_groups" in asked[0]  # the merge alone: the extractions were current
    assert all('"repeat_penalty": 1.1' in a for a in asked)
    again = briefer(*run, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 failed" in again.stderr and "Re-record" not in again.stderr


def _server_env(tmp_path: Path, server: FakeOpenAI | None) -> dict[str, str]:
    return {"OPENAI_BASE_URL": server.base_url if server else "http://127.0.0.1:9/v1",
            "OPENAI_API_KEY": "sk-test-not-a-key", "BRIEFER_CACHE_DIR": str(tmp_path / "cache")}


def test_record_stale_asks_only_what_no_recording_answers(fixture_copy: Path, tmp_path: Path) -> None:
    folder = fixture_copy / "articles"
    stale = fixture_copy / "recordings" / "extract" / "001_60e5ac162c7950a1.json"
    data = json.loads(stale.read_text(encoding="utf-8"))
    data["fingerprint"]["input_sha256"] = "0" * 64  # recorded for another text of the article
    stale.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (fixture_copy / "recordings" / "extract" / "002_114e8c00c4a8dde7.json").unlink()
    with FakeOpenAI(reference_responder()) as server:
        r = briefer("summarize", str(folder), "--record-stale", "--no-cache", "--out", str(tmp_path / "o"),
                    cwd=tmp_path, env=_server_env(tmp_path, server))
        asked = [json.dumps(b, ensure_ascii=False) for b in server.requests]
    assert r.returncode == 0, r.stderr
    # Of the six requests, the stale one (001) and the missing one (002): the others' recordings are current,
    # and the merge's input is what it was recorded for (the same answers came back).
    assert len(asked) == 2, r.stderr
    assert "spent: 2 model calls (2 HTTP requests)" in r.stderr
    assert "replayed: 4 answers from the recordings" in r.stderr
    assert "1 recording is stale (input changed" in r.stderr
    assert json.loads(stale.read_text(encoding="utf-8"))["fingerprint"]["input_sha256"] != "0" * 64
    again = briefer("summarize", str(folder), "--offline", "--no-cache", "--out", str(tmp_path / "o2"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    both = briefer("summarize", str(folder), "--record", "--record-stale", "--out", str(tmp_path / "o3"),
                   cwd=tmp_path)
    assert both.returncode == 2 and "give one of them" in both.stderr


def test_an_answer_that_no_longer_validates_is_not_told_to_replay_with_its_own_model(fixture_copy: Path,
                                                                                     tmp_path: Path) -> None:
    path = fixture_copy / "recordings" / "extract" / "000_6f0ae3a4b7243325.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["response"]["headline_en"]  # same request, an answer the response model now refuses
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out", str(tmp_path / "o"),
                "--model", data["fingerprint"]["model"], cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    (line,) = [ln for ln in r.stderr.splitlines() if "000_6f0ae3a4b7243325" in ln and "failed" in ln]
    assert "replay with" not in line and "this run asks" not in line
    assert "the recorded answer no longer validates against the response model" in line
    assert _hint(line)[:4] == ["briefer", "summarize", str(fixture_copy / "articles"), "--record-stale"]
