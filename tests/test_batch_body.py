"""Batch request bodies are the live path's bodies, and batch answers are read like live ones.

The live path's body is what reaches a real HTTP server on 127.0.0.1 through the real openai client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import BaseModel

import echo_model
from briefer.errors import RequestFailed
from briefer.extract.article import planned_calls
from briefer.ingest.folder import read_folder
from briefer.model.answers import Call
from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.body import request_body
from briefer.model.openai.client import ModelClient
from briefer.model.openai.modes import MODES
from briefer.model.openai.parse import parse_completion
from briefer.model.prompts import Prompts
from conftest import FIXTURES
from fake_openai import FakeOpenAI, completion


def _call() -> Call:
    article = read_folder(FIXTURES / "articles").articles[0]
    return planned_calls(article, Prompts(None), 12_000)[0]


def _live(call: Call, **endpoint: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body the live path sent, and the answer it kept."""
    with FakeOpenAI(echo_model.respond) as server:
        client = ModelClient(EndpointConfig(model="gpt-4o-mini", base_url=server.base_url, **endpoint))

        async def ask() -> dict[str, Any]:
            try:
                return (await client.complete(call.messages, call.response_model, call.context)).data
            finally:
                await client.aclose()

        data = asyncio.run(ask())
    assert len(server.requests) == 1
    return server.requests[0], data


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("params", [{}, {"temperature": 0.7, "max_tokens": 9000}])
def test_batch_body_is_the_live_body(mode: str, params: dict[str, Any]) -> None:
    call = _call()
    sent, live_answer = _live(call, mode=mode, **params)
    config = EndpointConfig(model="gpt-4o-mini", mode=mode, **params)
    body = request_body(config, call.messages, call.response_model)
    assert body == sent
    assert body["temperature"] == params.get("temperature", 0.0)
    assert ("tools" in body) == (mode == "tools") and ("response_format" in body) == (mode in ("json", "json_schema"))
    # The same completion the live path read gives the same answer when read from a batch's output.
    parsed = parse_completion(config, completion(body, echo_model.respond(body)), call.response_model, call.context)
    assert parsed.data == live_answer
    assert parsed.prompt_tokens > 0 and parsed.completion_tokens > 0


def test_the_body_does_not_share_the_calls_messages() -> None:
    call = _call()
    body = request_body(EndpointConfig(model="m", mode="json"), call.messages, call.response_model)
    body["messages"][0]["content"] = "changed"
    assert call.messages[0]["content"] != "changed"


@pytest.mark.parametrize("mode", list(MODES))
def test_an_invalid_batch_answer_fails_with_its_reason_and_raw_output(mode: str) -> None:
    call = _call()
    config = EndpointConfig(model="m", mode=mode)
    body = request_body(config, call.messages, call.response_model)
    good = echo_model.respond(body)
    # One translated paragraph missing: the request's validation context (paragraph_count) refuses it.
    short = {**good, "translation_en": good["translation_en"][:-1]}
    with pytest.raises(RequestFailed, match="invalid") as info:
        parse_completion(config, completion(body, short), call.response_model, call.context)
    assert info.value.raw_output and "translation_en" in info.value.raw_output
    with pytest.raises(RequestFailed, match="invalid"):
        parse_completion(config, completion(body, good, raw_arguments='{"language": "ar", "outl'),
                         call.response_model, call.context)
    with pytest.raises(RequestFailed, match="cut off"):
        parse_completion(config, completion(body, good, finish_reason="length"), call.response_model, call.context)
    with pytest.raises(RequestFailed, match="not a chat completion"):
        parse_completion(config, {"choices": "none"}, call.response_model, call.context)


@pytest.mark.parametrize("mode", list(MODES))
def test_the_body_built_once_per_model_is_instructors_body_for_every_request(mode: str) -> None:
    config = EndpointConfig(model="gpt-4o-mini", mode=mode, max_tokens=700)
    for article in read_folder(FIXTURES / "articles").articles:
        for call in planned_calls(article, Prompts(None), 300):  # in parts too: other messages, same frame
            assert request_body(config, call.messages, call.response_model) == _instructor_body(
                mode, "gpt-4o-mini", 0.0, 700, call.response_model, call.messages)


def _instructor_body(mode: str, model: str, temperature: float, max_tokens: int, response_model: type[BaseModel],
                     messages: list[dict[str, str]]) -> dict[str, Any]:
    """What instructor itself builds for the request, per call, as plain JSON data (the batch body's oracle, now
    that batch lines use the live builder)."""
    import instructor
    from instructor.processing import handle_response_model

    _model, body = handle_response_model(instructor.response_schema(response_model),
                                         mode=getattr(instructor.Mode, MODES[mode]), model=model, messages=messages,
                                         temperature=temperature, max_tokens=max_tokens)
    return dict(json.loads(json.dumps(body, ensure_ascii=False)))
