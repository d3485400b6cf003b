"""Reading answers: the live reader (instructor's response parser and re-ask builder for the mode) and
`parse_completion`, which reads a batch's chat completion exactly as the live path reads one; the raw output,
refusal and usage of a completion."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from briefer.errors import AnswerProblem, RequestFailed
from briefer.gcpause import paused_gc
from briefer.model.costs import UsageFloor
from briefer.validation import validation_context

from .body import _wrapped
from .failures import _first_problem, _short
from .modes import MODES

if TYPE_CHECKING:
    from briefer.model.endpoint import EndpointConfig


@functools.cache
def _handlers(mode: str) -> Any:
    """instructor's response parser and re-ask builder for the mode, looked up once."""
    import importlib

    with paused_gc():
        import instructor
        from instructor.v2.core.providers import Provider
        from instructor.v2.core.registry import mode_registry

        importlib.import_module("instructor.v2")  # registers the providers' handlers
    # instructor logs at ERROR; with no logging configured Python would print that to stderr. briefer
    # reports failures itself, in one line.
    logging.getLogger("instructor").addHandler(logging.NullHandler())
    return mode_registry.get_handlers(Provider.OPENAI, getattr(instructor.Mode, MODES[mode]))


@functools.cache
def _parse_errors() -> tuple[type[Exception], ...]:
    """What instructor re-asks the model about: an answer that is not valid JSON or breaks the model."""
    from instructor.core.exceptions import AsyncValidationError, ResponseParsingError
    from pydantic import ValidationError

    return ValidationError, json.JSONDecodeError, AsyncValidationError, ResponseParsingError


def _message(completion: Any) -> Any:
    choices = getattr(completion, "choices", None) or []
    return getattr(choices[0], "message", None) if choices else None


def _raw_output(completion: Any) -> str | None:
    """What the model said, as text: tool-call arguments or message content."""
    message = _message(completion)
    if message is None:
        return None
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return "\n".join(str(getattr(c.function, "arguments", "")) for c in calls)
    content = getattr(message, "content", None)
    refusal = getattr(message, "refusal", None)
    return str(content if content is not None else refusal) if (content or refusal) else None


def _answered_without_tool(completion: Any) -> bool:
    """A tools-mode answer with text but no tool call."""
    message = _message(completion)
    return message is not None and not getattr(message, "tool_calls", None) and bool(
        (getattr(message, "content", None) or "").strip()) and not getattr(message, "refusal", None)


def _refusal(completion: Any) -> str | None:
    message = _message(completion)
    refusal = getattr(message, "refusal", None) if message is not None else None
    return str(refusal) if refusal else None


def _usage(total: Any) -> tuple[int, int]:
    if total is None:
        return 0, 0
    return int(getattr(total, "prompt_tokens", 0) or 0), int(getattr(total, "completion_tokens", 0) or 0)


def _cached(total: Any) -> int:
    """The prompt tokens the server read from its prompt cache (usage.prompt_tokens_details.cached_tokens: OpenAI,
    vLLM), never more than the prompt; 0 when it does not say."""
    details = getattr(total, "prompt_tokens_details", None)
    if isinstance(details, dict):
        value = details.get("cached_tokens")
    else:
        value = getattr(details, "cached_tokens", None)
    try:
        cached = int(value or 0)
    except (TypeError, ValueError):
        return 0
    return max(0, min(cached, _usage(total)[0]))


def floor_usage(usage: Any, floor: UsageFloor, prompt_est: int, output: str | None) -> None:
    """Set a response's usage to what is counted: never below the prompt sent nor the answer received."""
    from briefer.text.tokens import estimate_tokens

    p, c = _usage(usage)
    p2, c2 = floor.apply(p, c, prompt_est, estimate_tokens(output or ""))
    if (p2, c2) != (p, c):
        with contextlib.suppress(Exception):  # a usage object that refuses new values keeps its own
            usage.prompt_tokens, usage.completion_tokens = p2, c2
            usage.total_tokens = p2 + c2


@dataclass(frozen=True)
class ParsedAnswer:
    data: dict[str, Any]
    parsed: BaseModel
    prompt_tokens: int
    completion_tokens: int


def parse_completion(config: EndpointConfig, completion: dict[str, Any], response_model: type[BaseModel],
                     context: dict[str, Any] | None) -> ParsedAnswer:
    """A chat completion (as JSON data) read and validated the way the live path reads one, with the
    request's validation context. Raises `RequestFailed` with the reason when it is not a valid answer."""
    import instructor
    from instructor.processing import process_response
    from openai.types.chat import ChatCompletion
    from pydantic import ValidationError

    usage = completion.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    prompt_tokens, completion_tokens = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    try:
        response = ChatCompletion.model_validate(completion)
    except ValidationError as exc:
        raise RequestFailed(f"not a chat completion: {_short(str(exc))}", attempts=0) from exc
    raw = _raw_output(response)

    def failed(message: str, problem: AnswerProblem | None = None) -> RequestFailed:
        # `problem`: the answer's own failure, of which part may be kept (as on the live path)
        return RequestFailed(message, attempts=0, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                             raw_output=raw, answer_problem=problem, raw_output_tokens=completion_tokens)

    if refusal := _refusal(response):
        raise failed(f"the model refused: {_short(refusal)}")
    try:
        with validation_context(context):
            parsed = process_response(response, response_model=_wrapped(response_model), stream=False,
                                      validation_context=None, strict=None,
                                      mode=getattr(instructor.Mode, MODES[config.mode]))
    except Exception as exc:  # whatever instructor raises for an unusable answer: one line, the raw output kept
        if type(exc).__name__ == "IncompleteOutputException":
            raise failed("the answer was cut off at the token limit (finish_reason=length); raise --max-tokens "
                         "or split long articles with --max-input-tokens", "cut_off") from exc
        raise failed(f"the model's answer is invalid: {_first_problem(exc)}", "invalid") from exc
    if not isinstance(parsed, BaseModel):
        raise failed(f"the model's answer is invalid: not a {response_model.__name__}")
    return ParsedAnswer(parsed.model_dump(mode="json"), parsed, prompt_tokens, completion_tokens)
