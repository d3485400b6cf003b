"""A completion cap from the article's size when no --max-tokens is given (llama.cpp would otherwise generate
until its context is full): sent to OpenAI-compatible servers, where the SDK's create would put it, not to the
OpenAI API; never part of the cache key, so caches and recordings made without it still answer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from briefer.extract.article import planned_calls
from briefer.ingest.folder import read_folder
from briefer.model.answers import completion_cap, default_max_tokens
from briefer.model.costs import completion_estimate
from briefer.model.endpoint import EndpointConfig
from briefer.model.prompts import Prompts
from briefer.pipeline import RunConfig, RunResult, run
from briefer.text.tokens import estimate_tokens
from conftest import reference_responder
from fake_openai import FakeOpenAI


def test_the_cap_grows_with_the_answer_model_above_a_floor() -> None:
    assert default_max_tokens(1000) == 4096  # the floor
    assert default_max_tokens(completion_estimate("extract", 10_000)) == 54_090  # 1.5 x (2,360 + 3.37 x 10,000)
    assert default_max_tokens(completion_estimate("merge", 60_000)) == 10_350  # 1.5 x (300 + 0.11 x 60,000)


def _run(folder: Path, out: Path, cache: Path | None, server: FakeOpenAI, recordings: Path | None = None,
         **endpoint: Any) -> RunResult:
    cfg = EndpointConfig(model="gpt-4o-mini", base_url=server.base_url, **endpoint)
    return asyncio.run(run(RunConfig(folder=folder, out_dir=out, date="2026-11-22", cache_dir=cache,
                                     recordings_dir=recordings or out / "none", endpoint=cfg)))


def test_an_openai_compatible_server_gets_the_cap_and_the_cache_key_stays(tmp_path: Path,
                                                                          fixture_copy: Path) -> None:
    folder = fixture_copy / "articles"
    with FakeOpenAI(reference_responder()) as server:
        result = _run(folder, tmp_path / "out", tmp_path / "cache", server)
    assert result.exit_code == 0, result.brief.failures
    expected = {}
    for article in read_folder(folder).articles:
        call = planned_calls(article, Prompts(None), 12_000)[0]
        expected[f"Article id: {article.id}"] = default_max_tokens(completion_estimate("extract",
                                                                                   estimate_tokens(call.input_text)))
    extracts = [(r, raw) for r, raw in zip(server.requests, server.raw, strict=True) if r.get("tools", [{}])[0]
                .get("function", {}).get("name") == "ArticleExtraction"]
    assert len(extracts) == 5
    for body, raw in extracts:
        want = next(cap for key, cap in expected.items() if key in body["messages"][1]["content"])
        assert body["max_tokens"] == want
        keys = list(json.loads(raw))  # where the SDK's create puts max_tokens: after model, before tools
        assert keys.index("model") < keys.index("max_tokens") < keys.index("temperature") < keys.index("tools")
    merge = [r for r in server.requests if r not in [b for b, _ in extracts]]
    assert merge and all(r["max_tokens"] >= 4096 for r in merge)

    # The cache written with the cap answers the next run, and the reference recordings (made without any cap)
    # answer a live run that sends one: the cap is in neither key.
    with FakeOpenAI(reference_responder()) as again:
        cached = _run(folder, tmp_path / "out2", tmp_path / "cache", again)
        recorded = _run(folder, tmp_path / "out3", None, again, recordings=fixture_copy / "recordings")
    assert cached.exit_code == 0 and recorded.exit_code == 0 and again.requests == []


def test_max_tokens_given_is_sent_as_given(tmp_path: Path, fixture_copy: Path) -> None:
    with FakeOpenAI(reference_responder()) as server:
        result = _run(fixture_copy / "articles", tmp_path / "out", None, server, max_tokens=9000)
    assert result.exit_code == 0
    assert {r["max_tokens"] for r in server.requests} == {9000}


def test_the_openai_api_gets_no_default_cap() -> None:
    article = read_folder(Path(__file__).resolve().parents[1] / "fixtures" / "articles").articles[0]
    call = planned_calls(article, Prompts(None), 12_000)[0]
    assert completion_cap(EndpointConfig(model="gpt-4o-mini"), call) is None
    assert completion_cap(EndpointConfig(model="m", base_url="https://api.openai.com/v1"), call) is None
    assert completion_cap(EndpointConfig(model="m", base_url="http://127.0.0.1:8080/v1", max_tokens=10), call) is None
    assert completion_cap(EndpointConfig(model="m", base_url="http://127.0.0.1:8080/v1"), call) == \
        default_max_tokens(completion_estimate("extract", estimate_tokens(call.input_text)))
