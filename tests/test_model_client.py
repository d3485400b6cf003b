"""The model client against real HTTP servers on 127.0.0.1, through the real openai client:
what reaches the server, and how a misbehaving server is handled."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

import echo_model
from briefer.extract.article import planned_calls
from briefer.ingest.folder import read_folder
from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.client import ModelClient
from briefer.model.prompts import Prompts
from briefer.models import ArticleExtraction
from briefer.pipeline import RunConfig, RunResult, SilentReporter, run
from conftest import reference_responder
from fake_openai import FakeOpenAI, FaultPlan

HOSTILE = """{{ 7*7 }} and {{ paragraph_count }}: not templates
    An indented paragraph, {% if x %} a tag {% endif %}, {# a comment #}.
A lone {{ opens, a lone }} closes, {%- raw -%} and {{ "".__class__ }} stay text.
        Deeper indentation {{ article_ids }} and }}{{ reversed.
"""


def _run(folder: Path, out: Path, server: FakeOpenAI, reporter: SilentReporter | None = None,
         **endpoint: Any) -> RunResult:
    cfg = EndpointConfig(model="gpt-4o-mini", base_url=server.base_url, backoff_base=0.01, backoff_max=0.02,
                         **endpoint)
    return asyncio.run(run(RunConfig(folder=folder, out_dir=out, date="2026-11-22", cache_dir=None,
                                     recordings_dir=out / "none", endpoint=cfg), reporter))


def _extract_requests(server: FakeOpenAI) -> list[dict[str, Any]]:
    return [r for r in server.requests if "ArticleExtraction" in json.dumps(r.get("tools"))]


def test_article_text_reaches_the_model_byte_for_byte(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "templated.txt").write_text("عنوان {{ الخبر }}\n" + HOSTILE, encoding="utf-8")
    with FakeOpenAI(echo_model.respond) as server:
        result = _run(folder, tmp_path / "out", server)
    assert result.exit_code == 0, result.brief.failures
    article = read_folder(folder).articles[0]
    built = planned_calls(article, Prompts(None), 12_000)[0].messages
    sent = _extract_requests(server)
    assert len(sent) == 1
    assert sent[0]["messages"] == built  # exactly the messages briefer rendered, not re-templated
    user = sent[0]["messages"][1]["content"]
    for line in HOSTILE.splitlines():
        assert line.strip() in user  # (ingest drops leading spaces of a paragraph; see the test below)


def test_indented_text_with_template_syntax_is_sent_as_given() -> None:
    data = "\n".join(f"    {line}" for line in HOSTILE.splitlines())  # common indentation: a dedent would strip it
    user = f"Article id: x\n<<<DATA-0\nHEADLINE: h\n[0] {data}\nDATA-0>>>\n"
    messages = [{"role": "system", "content": "  Answer {{ now }}."}, {"role": "user", "content": data}]

    async def ask(client: ModelClient) -> None:
        try:
            await client.complete(messages, ArticleExtraction, {"paragraph_count": 1})
        finally:
            await client.aclose()

    with FakeOpenAI(lambda body: echo_model.extraction({"messages": [{"role": "user", "content": user}]})) as server:
        asyncio.run(ask(ModelClient(EndpointConfig(model="m", base_url=server.base_url))))
    assert server.requests[0]["messages"] == messages


def test_the_validation_context_still_reaches_the_validators(tmp_path: Path) -> None:
    """Without instructor's context=, the paragraph count must still be checked: a translation one
    paragraph short is re-asked with that error."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Headline {{ x }}\nFirst paragraph.\nSecond paragraph.\n", encoding="utf-8")
    answers = 0

    def short_once(body: dict[str, Any]) -> dict[str, Any]:
        nonlocal answers
        answer = echo_model.respond(body)
        if "translation_en" in answer:
            answers += 1
            if answers == 1:
                answer["translation_en"] = answer["translation_en"][:1]
        return answer

    with FakeOpenAI(short_once) as server:
        result = _run(folder, tmp_path / "out", server)
    assert result.exit_code == 0
    sent = _extract_requests(server)
    assert len(sent) == 2
    assert "translation_en has 1 items but the article has 2 paragraphs" in json.dumps(sent[1]["messages"])


def test_the_response_model_is_wrapped_once_and_requests_are_identical() -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        return echo_model.extraction(body)

    user = "Article id: x\n<<<DATA-0\nHEADLINE: h\n[0] one paragraph here\nDATA-0>>>"
    messages = [{"role": "system", "content": "Answer."}, {"role": "user", "content": user}]

    async def three(client: ModelClient) -> None:
        for _ in range(3):
            await client.complete(messages, ArticleExtraction, {"paragraph_count": 1})
        await client.aclose()

    with FakeOpenAI(answer) as server:
        client = ModelClient(EndpointConfig(model="m", base_url=server.base_url))
        asyncio.run(three(client))  # the first call builds the wrapper
        before = len(ArticleExtraction.__subclasses__())
        client = ModelClient(EndpointConfig(model="m", base_url=server.base_url))
        asyncio.run(three(client))
        after = len(ArticleExtraction.__subclasses__())
    assert after == before  # no new class per call
    tools = [json.dumps(r["tools"], sort_keys=True) for r in server.requests]
    assert len(set(tools)) == 1 and len(tools) == 6


# ---------------------------------------------------------------- a misbehaving server

A = "004_6e0e75a60da96bca"  # the article the faults are aimed at


class Faulty:
    """One live run over the seed articles against a fault plan; waits between retries are recorded."""

    def __init__(self, tmp_path: Path, fixtures: Path, plan: dict[str, list[str]], concurrency: int = 8,
                 **endpoint: Any) -> None:
        self.sleeps: list[float] = []
        self.server = FakeOpenAI(reference_responder(), FaultPlan(plan))
        self.tmp_path, self.fixtures, self.concurrency, self.endpoint = tmp_path, fixtures, concurrency, endpoint

    def __call__(self) -> RunResult:
        with self.server:
            cfg = EndpointConfig(model="gpt-4o-mini", base_url=self.server.base_url, backoff_base=0.01,
                                 backoff_max=0.04, **self.endpoint)

            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            run_cfg = RunConfig(folder=self.fixtures / "articles", out_dir=self.tmp_path / "out", date="2026-11-22",
                                cache_dir=None, recordings_dir=self.tmp_path / "none", endpoint=cfg,
                                concurrency=self.concurrency)
            return asyncio.run(run(run_cfg, client_factory=lambda: ModelClient(cfg, sleep=sleep)))

    def extract_requests(self, article_id: str) -> list[dict[str, Any]]:
        return [r for r in self.server.requests if f"Article id: {article_id}" in str(r["messages"][1]["content"])]


def _failure(result: RunResult, article_id: str) -> str:
    return next(f.reason for f in result.brief.failures if f.source_path.startswith(article_id))


@pytest.mark.parametrize("fault", ["empty", "nochoices", "nullcontent"])
def test_an_unusable_200_is_retried_as_a_server_fault_not_reasked(tmp_path: Path, fixture_copy: Path,
                                                                   fault: str) -> None:
    r = Faulty(tmp_path, fixture_copy, {A: [fault]})
    result = r()
    assert result.exit_code == 0
    first, second = r.extract_requests(A)
    assert second["messages"] == first["messages"]  # the same request again, not a re-ask with an error
    assert len(r.sleeps) == 1  # after a backoff, like a 5xx


@pytest.mark.parametrize(("fault", "said"), [
    ("empty", "answered HTTP 200 with an empty body after 2 HTTP attempts"),
    ("nochoices", "answered HTTP 200 with no choices after 2 HTTP attempts; it sent: {\"id\": \"chatcmpl-fake\""),
    ("nullcontent", "answered HTTP 200 with an empty answer (no content, no tool call) after 2 HTTP attempts; "
                    "it sent: {\"id\": \"chatcmpl-fake\""),
])
def test_an_unusable_200_fails_saying_what_the_server_sent(tmp_path: Path, fixture_copy: Path, fault: str,
                                                           said: str) -> None:
    r = Faulty(tmp_path, fixture_copy, {A: [fault] * 5}, max_retries=1)
    result = r()
    assert result.exit_code == 3 and len(r.extract_requests(A)) == 2
    reason = _failure(result, A)
    assert said in reason
    assert "<failed_attempts>" not in reason and "<generation" not in reason and "Instructor" not in reason


def test_a_connection_reset_fails_naming_the_reset(tmp_path: Path, fixture_copy: Path) -> None:
    """The HTTP stack wraps a reset in errors with no message; the line names what happened, not an empty reason."""
    r = Faulty(tmp_path, fixture_copy, {A: ["reset"] * 5}, max_retries=1)
    result = r()
    assert result.exit_code == 3 and len(r.extract_requests(A)) == 2
    reason = _failure(result, A)
    assert "failed after 2 HTTP attempts: " in reason
    said = reason.split("failed after 2 HTTP attempts: ", 1)[1]
    assert said.strip() and ("reset" in said.lower() or "disconnected" in said.lower()), reason


@pytest.mark.parametrize("stream", [True, False])
def test_a_trickling_answer_is_cut_at_max_time_and_not_retried(tmp_path: Path, fixture_copy: Path,
                                                               stream: bool) -> None:
    """Headers, then one chunk (streamed) or one byte every 0.2 s: no silence reaches --timeout, the whole answer
    would take minutes. The attempt is cut at --max-time and not retried: it would take as long again."""
    r = Faulty(tmp_path, fixture_copy, {A: ["trickle:0.2"] * 2}, timeout=2, max_time=2, stream=stream)
    started = time.monotonic()
    result = r()
    assert time.monotonic() - started < 15
    assert result.exit_code == 3 and len(r.extract_requests(A)) == 1
    reason = _failure(result, A)
    assert "took longer than --max-time 2s for one answer" in reason and "not retried" in reason
    assert ("tokens streamed" in reason) == stream and "--max-tokens" in reason


@pytest.mark.parametrize("fault", ["huge:100", "hugeopen:100"])
def test_a_huge_answer_fails_that_request_unread(tmp_path: Path, fixture_copy: Path, fault: str) -> None:
    r = Faulty(tmp_path, fixture_copy, {A: [fault] * 5}, max_response_bytes=1_000_000)
    result = r()
    assert result.exit_code == 3 and len(r.extract_requests(A)) == 1  # not retried: it would come back as large
    assert "larger than the 1 MB cap" in _failure(result, A) and "--max-response-mb" in _failure(result, A)
    assert len(result.summaries) == 4  # the other articles are not lost
    # Reading stopped near the cap: the server wrote little more than what socket buffers hold.
    assert r.server.bytes_sent and max(r.server.bytes_sent) < 20_000_000


def test_a_long_retry_after_stops_all_sending(tmp_path: Path, fixture_copy: Path) -> None:
    """After a 429 asking for an hour, the remaining articles (and the merge) fail at once, unsent."""
    third = "002_114e8c00c4a8dde7"
    r = Faulty(tmp_path, fixture_copy, {third: ["429:3600"]}, concurrency=1)
    result = r()
    assert len(r.server.requests) == 3  # two answered, the third got the 429, nothing after it
    assert result.exit_code == 3 and len(result.summaries) == 2
    assert r.sleeps == []
    for article in ("003_", "004_"):
        assert "not sent:" in _failure(result, article) and "asked to retry after 3600s (HTTP 429)" in _failure(
            result, article)


# ---------------------------------------------------------------- failure lines

def test_a_failure_is_one_plain_line_with_the_first_problem(tmp_path: Path, fixture_copy: Path) -> None:
    """No instructor XML, no internal request names; the stage in words, the first problem, the raw answer's place."""
    respond = reference_responder()

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        data = respond(body)
        if f"Article id: {A}" not in str(body["messages"][1]["content"]):
            return data
        return {**data, "language": 5}  # every answer breaks the schema where nothing can be kept

    with FakeOpenAI(answer) as server:
        result = _run(fixture_copy / "articles", tmp_path / "out", server)
    reason = _failure(result, A)
    raw = tmp_path / "out" / "failed" / f"{A}.txt"
    assert reason == (f"extract of '{A}': the model's answer was still invalid after 2 re-asks (3 answers): language: "
                      f"Input should be a valid string (last raw output: {raw})")
    assert json.loads(raw.read_text(encoding="utf-8"))["language"] == 5


def test_a_failed_reask_about_quotes_keeps_the_answer_before_it(tmp_path: Path, fixture_copy: Path) -> None:
    """The first answer is valid but quotes words the article does not have; the re-ask about them fails for
    good. The first answer stands, its quote flagged, and the failed re-ask is one plain warning line."""
    respond = reference_responder()
    calls = 0

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        nonlocal calls
        data = respond(body)
        if f"Article id: {A}" not in str(body["messages"][1]["content"]):
            return data
        calls += 1
        if calls == 1:  # a quote not in the article: briefer re-asks about it
            return {**data, "key_points": [{**data["key_points"][0], "evidence_quote": "words nobody wrote"}]}
        return {**data, "language": 5}  # every answer to the re-ask breaks the schema

    reporter = SilentReporter()
    with FakeOpenAI(answer) as server:
        result = _run(fixture_copy / "articles", tmp_path / "out", server, reporter)
    assert result.exit_code == 0 and not result.brief.failures
    summary = json.loads((tmp_path / "out" / "articles" / f"{A}.json").read_text(encoding="utf-8"))
    assert [(k["evidence_quote"], k["verified"]) for k in summary["key_points"]] == [("words nobody wrote", False)]
    assert summary["grounding"]["unverified"] == ["words nobody wrote"] and summary["warnings"] == []
    assert f"extract of '{A}' (re-ask 1 about unverified quotes): the model's answer was still invalid after 2 " \
        "re-asks (3 answers): language: Input should be a valid string; the answer before it is kept, its quotes " \
        "flagged" in reporter.warnings


def test_a_failed_merge_keeps_its_raw_answer(tmp_path: Path, fixture_copy: Path) -> None:
    respond = reference_responder()

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        data = respond(body)
        if "BriefDraft" not in json.dumps(body.get("tools")):
            return data
        return {**data, "executive_summary": [{"text": "Made up.", "article_ids": ["no-such-article"]}]}

    with FakeOpenAI(answer) as server:
        result = _run(fixture_copy / "articles", tmp_path / "out", server)
    assert result.exit_code == 3 and len(result.summaries) == 5
    reason = next(f.reason for f in result.brief.failures if f.source_path == "(merge)")
    raw = tmp_path / "out" / "failed" / "_merge.txt"
    assert reason.endswith(f"(last raw output: {raw})") and "<" not in reason
    assert "no-such-article" in reason  # the first problem, in words
    assert json.loads(raw.read_text(encoding="utf-8"))["executive_summary"][0]["article_ids"] == ["no-such-article"]


def test_max_response_mb_from_the_command_line(tmp_path: Path, fixture_copy: Path) -> None:
    from test_cli import briefer

    for bad in ("nan", "inf", "-1", "0"):
        r = briefer("summarize", str(fixture_copy / "articles"), "--max-response-mb", bad, "--out", str(tmp_path))
        assert r.returncode == 2 and "--max-response-mb" in r.stderr and "Traceback" not in r.stderr
    with FakeOpenAI(reference_responder(), FaultPlan({A: ["hugeopen:5"]})) as server:
        r = briefer("summarize", str(fixture_copy / "articles"), "--max-response-mb", "0.5", "--base-url",
                    server.base_url, "--no-cache", "--recordings", str(tmp_path / "none"), "--out", str(tmp_path / "o"))
    assert r.returncode == 3, r.stderr
    assert f"briefer: failed: {A}.txt: extract of '{A}': {server.base_url}: the response was larger than the 0.5 MB " \
           "cap" in r.stderr
