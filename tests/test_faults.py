"""Fault injection: the live path, through the real openai client, against a faulty local server."""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from pathlib import Path
from typing import Any

import pytest

from briefer.errors import EndpointError
from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.client import ModelClient
from briefer.pipeline import RunConfig, RunResult, run
from conftest import SEED_IDS, reference_responder
from fake_openai import FakeOpenAI, FaultPlan

A = "004_6e0e75a60da96bca"  # the article the faults are aimed at


class Run:
    """One live run against a fault plan; waits between retries are recorded instead of slept."""

    def __init__(self, tmp_path: Path, fixtures: Path, plan: dict[str, list[str]], **endpoint: Any) -> None:
        self.sleeps: list[float] = []
        self.server = FakeOpenAI(reference_responder(), FaultPlan(plan))
        self.tmp_path, self.fixtures, self.endpoint = tmp_path, fixtures, endpoint

    def __call__(self) -> RunResult:
        with self.server:
            cfg = EndpointConfig(model="gpt-4o-mini", base_url=self.server.base_url, backoff_base=0.01,
                                 backoff_max=0.04, **self.endpoint)

            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            run_cfg = RunConfig(folder=self.fixtures / "articles", out_dir=self.tmp_path / "out", date="2026-11-22",
                                cache_dir=None, recordings_dir=self.tmp_path / "none", endpoint=cfg)
            return asyncio.run(run(run_cfg, client_factory=lambda: ModelClient(cfg, sleep=sleep)))

    def requests_for(self, article_id: str) -> int:
        """Extract requests for that article (the merge request cites every article id, so it is not counted)."""
        return len(self.extract_requests(article_id))

    def extract_requests(self, article_id: str) -> list[dict[str, Any]]:
        return [r for r in self.server.requests if f"Article id: {article_id}" in str(r["messages"][1]["content"])]


def _failure(result: RunResult, article_id: str) -> str:
    return next(f.reason for f in result.brief.failures if f.source_path.startswith(article_id))


@pytest.mark.parametrize(("fault", "expected_wait"), [("429:3", 3.0), ("429ms:1500", 1.5)])
def test_retry_after_is_honoured(tmp_path: Path, fixture_copy: Path, fault: str, expected_wait: float) -> None:
    r = Run(tmp_path, fixture_copy, {A: [fault]})
    result = r()
    assert result.exit_code == 0
    assert r.sleeps == [expected_wait]
    assert r.requests_for(A) == 2
    assert result.report.spent.http_requests == len(SEED_IDS) + 2  # every request, the retry included


def test_retry_after_beyond_the_cap_fails_that_article_fast(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["429:600"]}, max_retry_after=60)
    result = r()
    assert result.exit_code == 3 and r.sleeps == [] and r.requests_for(A) == 1
    assert "asked to retry after 600s (HTTP 429), more than the 60s briefer waits" in _failure(result, A)
    assert len(result.summaries) == len(SEED_IDS) - 1  # the others are not lost


def test_server_errors_are_retried_with_growing_backoff(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["500", "502", "503"]})
    result = r()
    assert result.exit_code == 0 and r.requests_for(A) == 4
    assert len(r.sleeps) == 3 and r.sleeps[0] < r.sleeps[2]


def test_retries_are_bounded_counted_and_reported(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["503"] * 10}, max_retries=3)
    result = r()
    assert result.exit_code == 3
    assert r.requests_for(A) == 4  # 1 + 3 retries, never more
    assert f"extract of '{A}'" in _failure(result, A) and "HTTP 503 after 4 HTTP attempts" in _failure(result, A)


def test_a_hang_past_the_timeout_is_retried(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["hang:3"]}, timeout=0.5)
    started = time.monotonic()
    result = r()
    assert result.exit_code == 0 and r.requests_for(A) == 2 and len(r.sleeps) == 1
    assert time.monotonic() - started < 3  # did not wait for the hung answer


def test_a_connection_reset_mid_response_is_retried(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["reset"]})
    result = r()
    assert result.exit_code == 0 and r.requests_for(A) == 2


@pytest.mark.parametrize("fault", ["malformed", "schema"])
def test_invalid_output_is_reasked_then_accepted(tmp_path: Path, fixture_copy: Path, fault: str) -> None:
    r = Run(tmp_path, fixture_copy, {A: [fault]})
    result = r()
    assert result.exit_code == 0 and r.requests_for(A) == 2 and r.sleeps == []
    reask = r.extract_requests(A)[-1]
    assert len(reask["messages"]) > 2  # the re-ask carries the failed answer and the validation error


def test_output_invalid_after_every_reask_fails_and_keeps_the_raw_output(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["schema"] * 5}, max_reasks=2)
    result = r()
    assert result.exit_code == 3 and r.requests_for(A) == 3
    reason = _failure(result, A)
    assert "still invalid after 2 re-asks (3 answers)" in reason
    raw = tmp_path / "out" / "failed" / f"{A}.txt"
    assert f"(last raw output: {raw})" in reason
    assert json.loads(raw.read_text(encoding="utf-8"))["language"] == 5
    # Tokens of the rejected answers are counted: the run's total is what the server billed.
    assert result.report.spent.completion_tokens == sum(u["completion_tokens"] for u in r.server.billed)
    assert result.report.spent.prompt_tokens == sum(u["prompt_tokens"] for u in r.server.billed)


def test_cut_off_output_is_not_retried(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["length"] * 3}, max_tokens=20_000)  # the user's cap: not raised
    result = r()
    assert result.exit_code == 3 and r.requests_for(A) == 1
    assert "cut off at the token limit (finish_reason=length); raise --max-tokens" in _failure(result, A)


def test_an_answer_cut_at_the_default_cap_is_asked_once_more_with_twice_the_cap(tmp_path: Path,
                                                                              fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["length"] * 3})
    result = r()
    first, again = r.extract_requests(A)
    assert again["max_tokens"] == 2 * first["max_tokens"]
    assert result.exit_code == 3 and "cut off at the token limit" in _failure(result, A)


def test_a_cap_over_the_servers_context_is_fitted_to_it(tmp_path: Path, fixture_copy: Path) -> None:
    """A server whose context (13,000 tokens, said in its error) holds the prompt but not the prompt and briefer's
    default cap: asked again with the cap the context leaves, the answer fits, nothing is lost."""
    r = Run(tmp_path, fixture_copy, {A: ["contextcap"]}, max_retries=0)
    result = r()
    assert result.exit_code == 0, result.brief.failures
    first, again = r.extract_requests(A)
    assert again["max_tokens"] < first["max_tokens"] and again["max_tokens"] <= 13_000 - 3_379
    assert r.sleeps == []  # not a transport retry


def test_a_refusal_fails_the_article_with_the_reason(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["refusal"] * 5})
    result = r()
    assert result.exit_code == 3 and r.requests_for(A) == 1  # instructor does not re-ask a refusal
    assert "the model refused: I'm sorry, I can't help with that request." in _failure(result, A)


def test_context_length_error_is_not_retried(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["context"] * 3})
    result = r()
    assert result.exit_code == 3 and r.requests_for(A) == 1 and r.sleeps == []
    assert "too long for the model's context window" in _failure(result, A)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("401", "rejected the credentials (HTTP 401); check OPENAI_API_KEY"),
        ("404", "model 'gpt-4o-mini' not found (HTTP 404)"),
        ("quota", "insufficient quota (HTTP 429 insufficient_quota)"),
        ("nomode", "rejected --mode tools (HTTP 400: tools are not supported by this model); try --mode json_schema"),
    ],
)
def test_fatal_errors_stop_the_run_without_a_retry_storm(tmp_path: Path, fixture_copy: Path, fault: str,
                                                         message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-key-1234")
    r = Run(tmp_path, fixture_copy, {"*": [fault] * 100})
    started = time.monotonic()
    with pytest.raises(EndpointError) as info:
        r()
    assert time.monotonic() - started < 5
    assert r.sleeps == []  # nothing retried
    assert len(r.server.requests) <= 8  # at most one per article in flight (concurrency 8)
    assert message in str(info.value) and r.server.base_url in str(info.value)
    assert "sk-test" not in str(info.value)


def test_retry_after_header_forms() -> None:
    from email.utils import format_datetime

    from briefer.model.openai.transport import retry_after_seconds

    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    in_ten = format_datetime(datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=10), usegmt=True)
    assert 8 <= (retry_after_seconds({"retry-after": in_ten}) or 0) <= 10
    assert retry_after_seconds({"retry-after": "soon"}) is None  # garbage: backoff, not a crash
    assert retry_after_seconds({}) is None
