"""Spent versus replayed: the run report (run.json, beside the brief) and the closing line count what this run sent
and was billed for apart from what it took from stored answers; the brief itself holds no run counters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from briefer.render.common import plural
from briefer.render.run import closing_line
from briefer.runreport import Replayed, RunReport, Spent
from conftest import SEED_IDS
from fake_openai import FakeOpenAI
from test_cli import briefer

REQUESTS = len(SEED_IDS) + 1  # one per article and the merge


def _report(out: Path) -> RunReport:
    return RunReport.model_validate_json((out / "run.json").read_text(encoding="utf-8"))


def _closing(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if " written to " in line)


def test_a_first_offline_run_replays_recordings_not_cache_hits(fixture_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--out", str(out), "--date", "2026-11-22",
                "--cache-dir", str(tmp_path / "fresh-cache"))
    assert r.returncode == 0, r.stderr
    line = _closing(r.stderr)
    assert "; spent: 0 model calls (0 HTTP requests), 0 tokens, $0; replayed: 6 answers from the recordings" in line
    assert "cache" not in line
    report = _report(out)
    assert report.replayed.from_recordings == REQUESTS and report.replayed.from_cache == 0
    assert report.spent.answers == report.spent.http_requests == report.spent.prompt_tokens == 0


def test_a_warm_rerun_spends_nothing_and_says_what_it_replayed(fixture_copy: Path, tmp_path: Path,
                                                              reference_server: FakeOpenAI) -> None:
    common = ["summarize", str(fixture_copy / "articles"), "--date", "2026-11-22", "--cache-dir", str(tmp_path / "c"),
              "--recordings", str(tmp_path / "no-recordings"), "--model", "gpt-4o-mini"]
    cold = briefer(*common, "--out", str(tmp_path / "cold"), "--base-url", reference_server.base_url)
    assert cold.returncode == 0, cold.stderr
    spent = _report(tmp_path / "cold").spent
    billed = reference_server.billed
    assert spent.answers == REQUESTS and spent.prompt_tokens == sum(b["prompt_tokens"] for b in billed) > 0
    assert spent.cost_usd_est is not None and spent.cost_usd_est > 0
    tokens = spent.prompt_tokens + spent.completion_tokens
    assert (f"spent: {REQUESTS} model calls ({REQUESTS} HTTP requests), {tokens} tokens ({spent.prompt_tokens} "
            f"prompt + {spent.completion_tokens} completion), estimated ${spent.cost_usd_est:.4f}; replayed: nothing"
            ) in _closing(cold.stderr)

    # The warm rerun asks nothing (the server is not even there): 0 tokens, $0 spent, the replayed counts beside.
    warm = briefer(*common, "--out", str(tmp_path / "warm"), "--base-url", "http://127.0.0.1:9/v1")
    assert warm.returncode == 0, warm.stderr
    report = _report(tmp_path / "warm")
    assert report.spent == Spent(answers=0, http_requests=0, prompt_tokens=0, completion_tokens=0, cost_usd_est=0)
    assert report.replayed == Replayed(answers=REQUESTS, from_cache=REQUESTS, from_recordings=0,
                                       prompt_tokens=spent.prompt_tokens, completion_tokens=spent.completion_tokens,
                                       cost_usd_when_asked=spent.cost_usd_est)
    assert (f"spent: 0 model calls (0 HTTP requests), 0 tokens, $0; replayed: {REQUESTS} answers from the cache, "
            f"{tokens} tokens ({spent.prompt_tokens} prompt + {spent.completion_tokens} completion), "
            f"${spent.cost_usd_est:.4f} when first asked") in _closing(warm.stderr)
    # The brief holds no counters: the warm run wrote the cold run's brief.json, byte for byte.
    assert (tmp_path / "warm" / "brief.json").read_bytes() == (tmp_path / "cold" / "brief.json").read_bytes()
    stats = json.loads((tmp_path / "warm" / "brief.json").read_text(encoding="utf-8"))["stats"]
    assert not {"model_calls", "cache_hits", "http_attempts", "prompt_tokens", "cost_usd_est"} & stats.keys()


def test_counts_take_the_right_number() -> None:
    assert plural(1, "answer") == "1 answer" and plural(2, "answer") == "2 answers" and plural(0, "token") == "0 tokens"


@pytest.mark.parametrize(("cache", "recordings", "said"), [
    (1, 0, "replayed: 1 answer from the cache, 0 tokens"),
    (2, 3, "replayed: 5 answers (2 from the cache, 3 from the recordings), 0 tokens"),
    (0, 0, "replayed: nothing"),
])
def test_closing_line_counts_each_source_apart(tmp_path: Path, cache: int, recordings: int, said: str) -> None:
    from test_render import _brief

    report = RunReport(
        spent=Spent(answers=1, http_requests=2, prompt_tokens=10, completion_tokens=5, cost_usd_est=None),
        replayed=Replayed(answers=cache + recordings, from_cache=cache, from_recordings=recordings, prompt_tokens=0,
                          completion_tokens=0, cost_usd_when_asked=None),
        by_stage={}, price=None)
    line = closing_line(_brief("T", "ع"), report, tmp_path)
    assert line.startswith(f"brief written to {tmp_path}: 1 article, 0 failed, 0 skipped; spent: 1 model call "
                           "(2 HTTP requests), 15 tokens (10 prompt + 5 completion), cost unknown")
    assert line.endswith(said)


def test_a_brief_written_before_the_run_report_is_still_read(tmp_path: Path) -> None:
    """An earlier brief.json (--since) from before run.json held its counters in `stats`: read, without them; a
    key briefer never wrote is still refused."""
    from briefer.models import Stats

    content = {"articles": 1, "quotes": 0, "quotes_verified": 0, "grounding_rate": None, "chars_raw": 0,
               "chars_removed": 0, "tokens_raw_est": 0, "tokens_saved_est": 0}
    legacy = {**content, "model_calls": 6, "cache_hits": 0, "http_attempts": 6, "prompt_tokens": 1,
              "completion_tokens": 1, "usage_by_stage": {}, "price": None, "cost_usd_est": None}
    assert Stats.model_validate(legacy) == Stats.model_validate(content)
    with pytest.raises(ValueError, match="extra"):
        Stats.model_validate({**content, "surprise": 1})
