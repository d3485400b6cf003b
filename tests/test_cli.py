"""The command line, end to end, as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, SEED_IDS


def briefer(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    return subprocess.run([sys.executable, "-m", "briefer", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={**clean_env, **(env or {})}, timeout=120, encoding="utf-8")


def test_summarize_offline_writes_the_brief(fixture_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--out", str(out), "--date", "2026-11-22",
                "--cache-dir", str(tmp_path / "cache"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert "brief written to" in r.stderr
    # A first offline run spent nothing and replayed the recordings: there was no cache to hit.
    assert ("5 articles, 0 failed, 0 skipped; spent: 0 model calls (0 HTTP requests), 0 tokens, $0; "
            "replayed: 6 answers from the recordings") in r.stderr
    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "schemas" / "brief.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(brief, schema)
    article_schema = json.loads((ROOT / "schemas" / "article.schema.json").read_text(encoding="utf-8"))
    for i in SEED_IDS:
        jsonschema.validate(json.loads((out / "articles" / f"{i}.json").read_text(encoding="utf-8")), article_schema)
    md = (out / "brief.md").read_text(encoding="utf-8")
    assert md.startswith("# ")
    assert (out / "brief.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "\\u06" not in (out / "brief.json").read_text(encoding="utf-8")  # Arabic kept as written


def test_default_output_folder_is_briefs_date(fixture_copy: Path, tmp_path: Path) -> None:
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--date", "2026-11-22",
                "--no-html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "briefs" / "2026-11-22" / "brief.md").is_file()
    assert not (tmp_path / "briefs" / "2026-11-22" / "brief.html").exists()


def test_stale_recordings_exit_1_with_one_line(fixture_copy: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    for p in (ROOT / "prompts").iterdir():
        (prompts / p.name).write_text(p.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (prompts / "extract.system.j2").write_text("Changed.\n", encoding="utf-8")
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out", str(tmp_path / "o"),
                "--prompt-dir", str(prompts))
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("briefer: no article could be summarised")
    assert "stale: prompt template changed" in lines[0] and "Traceback" not in r.stderr


def test_partial_run_exits_3_and_lists_failures(fixture_copy: Path, tmp_path: Path) -> None:
    (fixture_copy / "recordings" / "extract" / "004_6e0e75a60da96bca.json").unlink()
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out", str(tmp_path / "o"))
    assert r.returncode == 3
    assert "partial brief written to" in r.stderr
    assert "briefer: failed: 004_6e0e75a60da96bca.txt: extract of '004_6e0e75a60da96bca': no recording" in r.stderr


def test_empty_folder_exits_1(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    r = briefer("summarize", str(tmp_path), "--offline", "--no-cache", "--out", str(tmp_path / "o"))
    assert r.returncode == 1
    assert r.stderr.strip() == (f"briefer: no articles to summarise in {tmp_path} (1 skipped: notes.pdf: "
                                "unsupported file type '.pdf' (supported: .txt, .md, .html, .htm, .json, .jsonl))")


def test_no_key_and_no_endpoint_exits_1(fixture_copy: Path, tmp_path: Path) -> None:
    r = briefer("summarize", str(fixture_copy / "articles"), "--no-cache", "--out", str(tmp_path / "o"),
                "--recordings", str(tmp_path / "none"))
    assert r.returncode == 1
    assert r.stderr.strip() == ("briefer: no API key: set OPENAI_API_KEY, or use --base-url for a local server, "
                                "or --offline")


def test_unreachable_endpoint_exits_1_quickly(fixture_copy: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = briefer("summarize", str(fixture_copy / "articles"), "--no-cache", "--out", str(tmp_path / "o"),
                "--recordings", str(tmp_path / "none"), "--base-url", f"http://127.0.0.1:{port}/v1")
    assert r.returncode == 1
    assert r.stderr.strip().startswith(f"briefer: cannot reach http://127.0.0.1:{port}/v1")


def test_usage_errors_exit_2(fixture_copy: Path, tmp_path: Path) -> None:
    folder = str(fixture_copy / "articles")
    assert briefer("summarize", folder, "--mode", "xml").returncode == 2
    assert briefer("summarize", folder, "--date", "yesterday", "--offline").returncode == 2
    assert briefer("summarize", folder, "--offline", "--record").returncode == 2
    assert briefer("summarize").returncode == 2
    r = briefer("summarize", folder, "--concurrency", "0", "--offline")
    assert r.returncode == 2 and r.stderr.strip() == "briefer: --concurrency must be at least 1"


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--stale-days", "-5", "briefer: --stale-days must be at least 0, got -5"),
    ("--temperature", "7", "briefer: --temperature must be between 0 and 2, got 7"),
    ("--temperature", "nan", "briefer: --temperature must be between 0 and 2, got nan"),
    ("--timeout", "nan", "briefer: --timeout must be a positive number of seconds"),
    ("--timeout", "inf", "briefer: --timeout must be a positive number of seconds"),
    ("--max-time", "0", "briefer: --max-time must be a positive number of seconds"),
    ("--max-time", "nan", "briefer: --max-time must be a positive number of seconds"),
    ("--max-cost", "nan", "briefer: --max-cost must be a positive number of USD"),
    ("--max-cost", "inf", "briefer: --max-cost must be a positive number of USD"),
])
def test_out_of_range_options_are_usage_errors(fixture_copy: Path, tmp_path: Path, option: str, value: str,
                                               message: str) -> None:
    """Refused at once with one line, before anything is read, sent or written."""
    out = tmp_path / "o"
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out", str(out),
                "--price", "1,1", option, value)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(message) and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    r = briefer("summarize", str(tmp_path / "nope"), "--offline", "--no-cache", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and r.stderr.strip() == f"briefer: {tmp_path / 'nope'}: no such folder"
    (tmp_path / "a.txt").write_text("Title\nBody\n", encoding="utf-8")
    r = briefer("summarize", str(tmp_path / "a.txt"), "--offline", "--no-cache", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and r.stderr.strip() == f"briefer: {tmp_path / 'a.txt'}: not a folder"


def test_version_help_and_completion() -> None:
    from briefer import __version__

    r = briefer("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"briefer {__version__}"
    for args in (["--help"], ["summarize", "--help"]):
        shown = briefer(*args).stdout
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEFER_MODEL", "BRIEFER_CACHE_DIR", "BRIEFER_PRICE"):
            assert var in shown, (args, var)
        assert "Exit codes:" in shown
        for code in ("0    complete", "2    usage error", "3    partial", "130  interrupted", "143 terminated"):
            assert code in shown, (args, code)
    shown = briefer("summarize", "--help").stdout
    for option in ("--batch ", "--batch-merge", "--live-rest", "--poll-interval", "--max-requests-per-batch",
                   "--max-batch-bytes"):
        assert option in shown, option
    r = briefer("summarize", "fixtures/articles", "--live-rest")
    assert r.returncode == 2 and "--batch-merge, --live-rest and --poll-interval go with --batch" in r.stderr
    assert "--install-completion" in briefer("--help").stdout
    # The shell is named, not detected from the parent process (which differs between a terminal and CI).
    r = briefer("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert r.returncode == 0 and "complete -o default -F _briefer_completion briefer" in r.stdout
    # What the installed script asks the command for while a user types `briefer summarize --off<TAB>`.
    r = briefer(env={"_BRIEFER_COMPLETE": "complete_bash", "COMP_WORDS": "briefer summarize --off", "COMP_CWORD": "2"})
    assert r.returncode == 0 and r.stdout.split() == ["--offline"]


def test_settings_are_checked_by_the_library_too() -> None:
    """A notebook gets the same one-line errors as the command line."""
    from briefer.cli import options
    from briefer.errors import UsageError
    from briefer.model.endpoint import EndpointConfig
    from briefer.model.openai.modes import MODES as LLM_MODES

    assert list(options.MODES) == list(LLM_MODES)  # the help text lists the modes the library knows
    endpoint = EndpointConfig(model="m")  # the command line's defaults are the library's
    assert (options.DEFAULT_TIMEOUT, options.DEFAULT_MAX_TIME) == (endpoint.timeout, endpoint.max_time)
    for bad in ({"mode": "xml"}, {"timeout": 0}, {"timeout": float("nan")}, {"max_retries": -1}, {"max_tokens": 0},
                {"rpm": 0}, {"temperature": 2.5}, {"temperature": float("nan")}, {"temperature": -0.1}):
        with pytest.raises(UsageError):
            EndpointConfig(model="m", **bad)  # type: ignore[arg-type]


def test_recordings_of_another_model_say_how_to_replay_them(fixture_copy: Path, tmp_path: Path) -> None:
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out", str(tmp_path / "o"),
                "--model", "gpt-4o", "--mode", "json")
    assert r.returncode == 1
    assert ("is stale: recorded with gpt-4o-mini in mode tools, this run asks gpt-4o in mode json; replay with "
            "--model gpt-4o-mini --mode tools") in r.stderr
    assert "--record" not in r.stderr  # no paid re-record suggested when a replay would do


def test_the_rerecord_hint_reproduces_the_run_options(fixture_copy: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "my prompts"
    prompts.mkdir()
    for p in (ROOT / "prompts").iterdir():
        (prompts / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    folder = fixture_copy / "articles"
    r = briefer("summarize", str(folder), "--offline", "--no-cache", "--out", str(tmp_path / "o"), "--model", "gpt-4o",
                "--temperature", "0.7", "--max-tokens", "900", "--prompt-dir", str(prompts), "--recordings",
                str(fixture_copy / "recordings"), "--stale-days", "3", "--max-input-tokens", "5000")
    assert r.returncode == 1
    hint = (f"briefer summarize {folder} --record-stale --model gpt-4o --temperature 0.7 --max-tokens 900 "
            f"--prompt-dir '{prompts}' --no-since --max-input-tokens 5000 --stale-days 3")
    assert f"Re-record with: {hint}" in r.stderr, r.stderr
    assert "generation parameters differ" in r.stderr


def test_sigterm_keeps_finished_work_and_exits_143_with_one_line(fixture_copy: Path, tmp_path: Path) -> None:
    import signal
    import time

    from conftest import reference_responder
    from fake_openai import FakeOpenAI, FaultPlan

    out, cache = tmp_path / "o", tmp_path / "cache"
    slow = SEED_IDS[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    with FakeOpenAI(reference_responder(), FaultPlan({slow: ["hang:60"]})) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "briefer", "summarize", str(fixture_copy / "articles"), "--base-url",
             server.base_url, "--out", str(out), "--cache-dir", str(cache), "--recordings", str(tmp_path / "none")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env, cwd=ROOT)
        try:
            deadline = time.monotonic() + 90
            while len(list((out / "articles").glob("*.json"))) < len(SEED_IDS) - 1 and time.monotonic() < deadline:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
            time.sleep(0.3)  # the slow article's request is in flight
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 143
    assert stderr.strip() == "briefer: terminated (SIGTERM); finished articles are kept in the output folder"
    done = sorted(p.stem for p in (out / "articles").glob("*.json"))
    assert done == SEED_IDS[1:]  # the finished articles are kept ...
    answers = [p for p in cache.rglob("*.json") if "results" not in p.relative_to(cache).parts]
    assert len(answers) == len(SEED_IDS) - 1  # ... and their answers are cached for the rerun
    assert not (out / "brief.md").exists()


def test_offline_without_the_merge_answer_writes_the_deterministic_parts_and_says_what_is_missing(
        fixture_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    # Another --stale-days changes the merge's input, so its recording no longer applies.
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out", str(out),
                "--date", "2026-11-22", "--stale-days", "3000")
    assert r.returncode == 3, r.stderr
    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    assert [m["part"] for m in brief["missing_parts"]] == ["title", "executive_summary", "story_summaries",
                                                          "perspectives", "disagreements"]
    assert all("recording was made for other input" in m["reason"] and "--stale-days" in m["reason"]
               for m in brief["missing_parts"])
    assert brief["stories"] and brief["entities"] and brief["timeline"] and len(brief["articles"]) == len(SEED_IDS)
    assert {i for s in brief["stories"] for i in s["article_ids"]} == set(SEED_IDS)  # every article in a story
    md = (out / "brief.md").read_text(encoding="utf-8")
    note = md.index("> **Missing from this brief:** the title, the executive summary, the stories' own summaries, "
                    "their perspectives and the disagreements, because offline, the merge step's recording was made "
                    "for other input")
    assert note < md.index("## Executive summary") < md.index("## Stories") < md.index("## Who's who")
    assert "- (none)" not in md and "- (not written: the merge step did not run; see the note above)" in md
    # A complete run has nothing missing.
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out", str(out))
    assert r.returncode == 0
    assert json.loads((out / "brief.json").read_text(encoding="utf-8"))["missing_parts"] == []
    assert "Missing from this brief" not in (out / "brief.md").read_text(encoding="utf-8")
