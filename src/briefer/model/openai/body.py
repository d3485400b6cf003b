"""The request body: ONE builder for the live request and the batch line (`wire_request`, `request_body`).

instructor's own create() rebuilds everything per call: it walks the response model for async validators
(twice), re-wraps it, regenerates the schema, copies the messages; then the SDK's create() walks the whole
body against its parameter types. Over thousands of articles that was most of a run's CPU. Here the part of
the body that depends only on the model, mode, parameters and response model is built once, by instructor
itself (so it is what instructor would send), and each call fills in its messages; the body goes out through
the SDK's low-level `post` as its `create` would send it. tests/test_live_wire.py holds the result to
instructor's and the SDK's bytes. A batch line carries the very body the live path sends first.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from briefer.gcpause import paused_gc
from briefer.model.costs import prompt_estimate

from .modes import MODES

if TYPE_CHECKING:
    from briefer.model.endpoint import EndpointConfig


@functools.cache
def _wrapped(response_model: type[BaseModel]) -> type[BaseModel]:
    """The response model as instructor wraps it, built once per model: given the bare model, instructor
    builds a new class on every call, so its schema cache never hits and the classes pile up."""
    import instructor

    return instructor.response_schema(response_model)


_SLOT = re.compile("\x00briefer-message-([0-9]+)\x00")


@dataclass(frozen=True)
class _Template:
    """A request body for messages of given roles: `frame` has every key in wire order (shared by all
    calls, never changed), and `messages` the body's messages with slots for the callers' contents."""

    parse_model: type[BaseModel]
    frame: dict[str, Any]
    messages: tuple[tuple[str, str], ...]

    def fill(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        contents = [m["content"] for m in messages]
        body = dict(self.frame)
        body["messages"] = [{"role": role, "content": _SLOT.sub(lambda m: contents[int(m[1])], text)}
                            for role, text in self.messages]
        return body


def wire_request(config: EndpointConfig, messages: list[dict[str, str]],
                 response_model: type[BaseModel]) -> tuple[type[BaseModel], dict[str, Any]]:
    """The body `ModelClient.complete` sends first, key for key as the openai SDK would send it for
    instructor, and the model instructor would parse the answer with."""
    plain = all(isinstance(m.get("content"), str) and m["content"] and m.keys() == {"role", "content"}
                for m in messages)
    template = _template(config, response_model, tuple(m["role"] for m in messages)) if plain else None
    if template is not None:
        return template.parse_model, template.fill(messages)
    # Messages of another shape (empty, or with more keys than role and content): instructor per call.
    parse_model, kwargs = _prepared(config, response_model, messages)
    return parse_model, _as_sent(config, kwargs)


def request_body(config: EndpointConfig, messages: list[dict[str, str]],
                 response_model: type[BaseModel]) -> dict[str, Any]:
    """The chat-completions body `ModelClient.complete` sends for this request (its first answer), for a
    batch line: the live builder's body, key for key."""
    return wire_request(config, messages, response_model)[1]


@functools.lru_cache(maxsize=64)
def _template(config: EndpointConfig, response_model: type[BaseModel], roles: tuple[str, ...]) -> _Template | None:
    slots = [{"role": role, "content": f"\x00briefer-message-{i}\x00"} for i, role in enumerate(roles)]
    parse_model, kwargs = _prepared(config, response_model, slots)
    body = _as_sent(config, kwargs)
    out = body.get("messages")
    # Each caller's content must land exactly once, as given: anything else is built per call.
    if not isinstance(out, list) or any(not isinstance(m, dict) or m.keys() != {"role", "content"}
                                        or not isinstance(m["content"], str) for m in out):
        return None
    if sorted(int(n) for m in out for n in _SLOT.findall(m["content"])) != list(range(len(roles))):
        return None
    return _Template(parse_model, {**body, "messages": None}, tuple((m["role"], m["content"]) for m in out))


def _prepared(config: EndpointConfig, response_model: type[BaseModel],
              messages: list[dict[str, str]]) -> tuple[type[BaseModel], dict[str, Any]]:
    """What instructor passes to `chat.completions.create` for this request, and its parse model."""
    with paused_gc():
        import instructor
        from instructor.processing import handle_response_model

    kwargs: dict[str, Any] = {"model": config.model, "messages": messages, "temperature": config.temperature}
    kwargs.update(config.sampling)
    if config.max_tokens is not None:
        kwargs["max_tokens"] = config.max_tokens
    model, prepared = handle_response_model(_wrapped(response_model),
                                            mode=getattr(instructor.Mode, MODES[config.mode]), **kwargs)
    assert model is not None
    return model, prepared


def _as_sent(config: EndpointConfig, kwargs: dict[str, Any]) -> dict[str, Any]:
    """`create()` keyword arguments as the SDK's body: its key order, extra_body merged last, and as
    plain JSON data sharing nothing with the caller."""
    order = _create_parameters()
    extra = kwargs.pop("extra_body", None) or {}
    body = {key: kwargs[key] for key in sorted(kwargs, key=lambda k: order.get(k, len(order)))}
    body.update(extra)
    return dict(json.loads(json.dumps(body, ensure_ascii=False)))


def with_max_tokens(body: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    """The body with a completion cap, where the SDK's create would put `max_tokens`."""
    out = {**body, "max_tokens": max_tokens}
    order = _create_parameters()
    return {key: out[key] for key in sorted(out, key=lambda k: order.get(k, len(order)))}


def streaming(body: dict[str, Any]) -> dict[str, Any]:
    """The body with `stream` (and usage in the last chunk) where the SDK's create would put them."""
    out = {**body, "stream": True, "stream_options": {"include_usage": True}}
    order = _create_parameters()
    return {key: out[key] for key in sorted(out, key=lambda k: order.get(k, len(order)))}


CREATE_PARAMETERS = (
    "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "moderation", "n", "parallel_tool_calls",
    "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "reasoning_effort", "response_format", "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
    "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity",
    "web_search_options", "extra_headers", "extra_query", "extra_body", "timeout",
)


@functools.cache
def _create_parameters() -> dict[str, int]:
    """The position of each of `chat.completions.create`'s parameters."""
    return {name: i for i, name in enumerate(CREATE_PARAMETERS)}


def request_tokens(kwargs: dict[str, Any]) -> int:
    """Estimated prompt tokens of a chat request as sent: messages plus the tool or response schema."""
    schema = [kwargs[key] for key in ("tools", "response_format", "functions") if kwargs.get(key)]
    return prompt_estimate(kwargs.get("messages", []), schema)


def request_kind(kwargs: dict[str, Any]) -> str:
    """Which answer a request asks for (its tool or schema name), to learn completion sizes per kind."""
    tools = kwargs.get("tools") or []
    if tools:
        return str(tools[0].get("function", {}).get("name", ""))
    fmt = kwargs.get("response_format") or {}
    return str(fmt.get("json_schema", {}).get("name", "")) if isinstance(fmt, dict) else ""
