"""The model client against real HTTP servers on 127.0.0.1, through the real openai client:
what reaches the server, and how a misbehaving server is handled."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import echo_model
from briefer.extract.article import planned_calls
from briefer.ingest.folder import read_folder
from briefer.model.llm import EndpointConfig, ModelClient
from briefer.model.prompts import Prompts
from briefer.models import ArticleExtraction
from briefer.pipeline import RunConfig, RunResult, run
from fake_openai import FakeOpenAI

HOSTILE = """{{ 7*7 }} and {{ paragraph_count }}: not templates
    An indented paragraph, {% if x %} a tag {% endif %}, {# a comment #}.
A lone {{ opens, a lone }} closes, {%- raw -%} and {{ "".__class__ }} stay text.
        Deeper indentation {{ article_ids }} and }}{{ reversed.
"""


def _run(folder: Path, out: Path, server: FakeOpenAI, **endpoint: Any) -> RunResult:
    cfg = EndpointConfig(model="gpt-4o-mini", base_url=server.base_url, backoff_base=0.01, backoff_max=0.02,
                         **endpoint)
    return asyncio.run(run(RunConfig(folder=folder, out_dir=out, date="2026-11-22", cache_dir=None,
                                     recordings_dir=out / "none", endpoint=cfg)))


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
