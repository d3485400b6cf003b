"""What the live path puts on the wire, byte for byte, in every mode: the same request bodies as
instructor and the openai SDK send when called the way briefer called them before it built its
requests itself (first answer and re-ask alike), and the same body as the batch path's
request_body(); streamed, the same bodies with `stream` and `stream_options` where the SDK's create
puts them. All are sent to real servers on 127.0.0.1 and compared as received."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import instructor
import openai
import pytest
from pydantic import BaseModel

import echo_model
from briefer.extract.article import planned_calls
from briefer.ingest.folder import read_folder
from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.body import CREATE_PARAMETERS, request_body
from briefer.model.openai.client import REASK_TEMPERATURE, ModelClient
from briefer.model.openai.modes import MODES
from briefer.model.prompts import Prompts
from briefer.models import ArticleExtraction
from briefer.validation import validation_context
from conftest import FIXTURES
from fake_openai import FakeOpenAI, FaultPlan

SETTINGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "every parameter": {"temperature": 0.2, "max_tokens": 3000, "frequency_penalty": 0.5, "presence_penalty": -0.25,
                        "extra_body": '{"repeat_penalty": 1.1, "top_k": 40}'},
}


def _article() -> tuple[list[dict[str, str]], dict[str, Any] | None]:
    article = read_folder(FIXTURES / "articles").articles[0]
    call = planned_calls(article, Prompts(None), 12_000)[0]
    return call.messages, call.context


HOSTILE = 'عنوان {{ x }} {% if y %} "quoted" \\ back\u2028slash\x00briefer-message-1\x00 \U0001f600'


def _odd() -> tuple[list[dict[str, str]], dict[str, Any] | None]:
    """Template syntax, escapes, a line separator, what looks like briefer's own slot, three turns
    (the json modes merge the two user turns into one)."""
    user = f"Article id: x\n<<<DATA-0\nHEADLINE: {HOSTILE}\n[0] {HOSTILE}\nDATA-0>>>\n\n  trailing {{{{ y }}}}  \n"
    return [{"role": "system", "content": "  Answer {{ now }}.\n"}, {"role": "user", "content": user},
            {"role": "user", "content": "{% raw %}Answer now.{% endraw %}"}], {"paragraph_count": 1}


MESSAGES = {"fixture article": _article, "odd text": _odd}


async def _reference(cfg: EndpointConfig, messages: list[dict[str, str]], model: type[BaseModel],
                     context: dict[str, Any] | None) -> None:
    """The request as instructor and the SDK build it: briefer's earlier live path, re-ask temperature included."""
    raw = openai.AsyncOpenAI(api_key="not-needed", base_url=cfg.base_url, max_retries=0)
    create = raw.chat.completions.create
    sent = 0

    async def create_like_briefer(*args: Any, **kwargs: Any) -> Any:
        nonlocal sent
        sent += 1
        if sent > 1 and not kwargs.get("temperature"):
            kwargs = {**kwargs, "temperature": REASK_TEMPERATURE}
        return await create(*args, **kwargs)

    raw.chat.completions.create = create_like_briefer  # type: ignore[method-assign,assignment]
    client = instructor.from_openai(raw, mode=getattr(instructor.Mode, MODES[cfg.mode]))
    kwargs: dict[str, Any] = {"temperature": cfg.temperature, **cfg.sampling}
    if cfg.max_tokens is not None:
        kwargs["max_tokens"] = cfg.max_tokens
    try:
        with validation_context(context):
            await client.chat.completions.create_with_completion(
                model=cfg.model, messages=messages, response_model=instructor.response_schema(model),
                max_retries=cfg.max_reasks, **kwargs)
    finally:
        await raw.close()


async def _briefer(cfg: EndpointConfig, messages: list[dict[str, str]], model: type[BaseModel],
                   context: dict[str, Any] | None) -> None:
    client = ModelClient(cfg)
    try:
        await client.complete(messages, model, context)
    finally:
        await client.aclose()


def _sent(send: Any, mode: str, settings: dict[str, Any], messages: list[dict[str, str]],
          context: dict[str, Any] | None, stream: bool = False) -> tuple[EndpointConfig, list[bytes]]:
    # The first answer breaks the schema, so the re-ask (with the model's answer and the errors) is compared too.
    with FakeOpenAI(echo_model.respond, faults=FaultPlan({"*": ["schema"]})) as server:
        cfg = EndpointConfig(model="gpt-4o-mini", mode=mode, base_url=server.base_url, stream=stream, **settings)
        asyncio.run(send(cfg, messages, ArticleExtraction, context))
    return cfg, server.raw


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
@pytest.mark.parametrize("messages_of", MESSAGES.values(), ids=MESSAGES.keys())
@pytest.mark.parametrize("mode", MODES)
def test_requests_are_byte_identical_to_instructor_and_the_sdk(mode: str, messages_of: Any,
                                                               settings: dict[str, Any]) -> None:
    messages, context = messages_of()
    _cfg, expected = _sent(_reference, mode, settings, messages, context)
    cfg, sent = _sent(_briefer, mode, settings, messages, context)
    assert len(expected) == 2  # the first answer and one re-ask
    assert [body.decode() for body in sent] == [body.decode() for body in expected]
    assert json.loads(sent[0]) == request_body(cfg, messages, ArticleExtraction)  # the batch path's body
    assert "Validation Error" in sent[1].decode() or "Correct your JSON" in sent[1].decode()

    # Streamed: the same bytes with the two keys the SDK's create(stream=True, stream_options=...) adds, in its
    # order (between "store" and "temperature"), and the streamed answer read and re-asked the same way.
    _cfg, streamed = _sent(_briefer, mode, settings, messages, context, stream=True)
    keys = ',"stream":true,"stream_options":{"include_usage":true},"temperature":'
    assert [body.decode() for body in streamed] == [body.decode().replace(',"temperature":', keys, 1)
                                                    for body in expected]


def test_message_text_is_not_rewritten_in_any_mode() -> None:
    messages, context = _odd()
    for mode in MODES:
        with FakeOpenAI(echo_model.respond) as server:
            cfg = EndpointConfig(model="m", mode=mode, base_url=server.base_url)
            asyncio.run(_briefer(cfg, messages, ArticleExtraction, context))
        sent = server.requests[0]["messages"]
        assert sent[0]["content"].startswith(messages[0]["content"]), mode
        user = [m["content"] for m in sent if m["role"] == "user"]
        assert user[0].startswith(messages[1]["content"]), mode  # as given, even what looks like a slot


def test_the_create_parameters_briefer_orders_its_body_by_are_the_installed_sdks() -> None:
    # briefer writes the order out (reading it imports openai.resources: half a second of start-up); an SDK
    # that adds, drops or moves a parameter must show up here, not as a body whose key order drifts.
    import inspect

    from openai.resources.chat.completions import AsyncCompletions

    assert list(CREATE_PARAMETERS) == [p for p in inspect.signature(AsyncCompletions.create).parameters if p != "self"]


def test_a_live_request_does_not_import_the_sdks_resources() -> None:
    # The start-up before the first request: briefer sends through the client's low-level post, so the
    # SDK's resource classes (half a second of imports) are never needed, in any mode, re-asks included.
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import test_live_wire as t\n"
        "for mode in t.MODES:\n"
        "    t._sent(t._briefer, mode, {}, *t.MESSAGES['fixture article']())\n"
        "print(sorted(m for m in sys.modules if m.startswith('openai.resources')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_the_sdk_is_imported_with_the_collector_paused_and_it_runs_again_after() -> None:
    # Importing the SDK and instructor creates tens of thousands of long-lived objects; collections during
    # that walk them again for nothing (an eighth of the start-up's CPU). After the imports it runs as usual.
    import subprocess
    import sys

    code = (
        "import gc\n"
        "from briefer.model.endpoint import EndpointConfig\n"
        "from briefer.model.openai.body import wire_request\n"
        "from briefer.model.openai.client import ModelClient\n"
        "from briefer.model.openai.parse import _handlers\n"
        "from briefer.models import ArticleExtraction\n"
        "started = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and started.append(info['generation']))\n"
        "client = ModelClient(EndpointConfig(model='m', base_url='http://127.0.0.1:9/v1'))\n"
        "client._openai()\n"
        "wire_request(client.config, [{'role': 'user', 'content': 'x'}], ArticleExtraction)\n"
        "_handlers('tools')\n"
        "print(len(started), gc.isenabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    collections, enabled = out.split()
    # Unpaused, these steps start about 230 collections; paused, about 11 are left (the client's construction
    # and the schema's, after the imports).
    assert int(collections) < 40 and enabled == "True", out
