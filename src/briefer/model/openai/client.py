"""ModelClient: one per run. It takes chat messages and a pydantic response model, and returns the validated
answer as JSON data with its token usage. It knows nothing about articles or briefs.

The SDKs are imported in a worker thread when the first request is made, not at start-up (`import instructor`
alone takes over a second, and a run answered from the cache never needs them). Retries live in exactly two
places, one per kind of failure, and never multiply: transport faults are retried per HTTP request
(transport.py); invalid output (malformed JSON, schema or source-check violations) is re-asked here, with every
validation error at once in instructor's re-ask message for the mode, `max_reasks` times, at a small
temperature when the run asks for 0. The body is built by body.py, the answer read by parse.py, failures put
in one line by failures.py. No library renders the messages as templates: validators read the request's
context from briefer.validation.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from briefer import gcpause
from briefer.errors import BudgetExceeded, EndpointError, EndpointFailed, RequestFailed, RequestNotSent
from briefer.gcpause import paused_gc
from briefer.keys import clean_key
from briefer.model.endpoint import EndpointConfig
from briefer.validation import validation_context
from briefer.worker import in_worker

from . import wire
from .body import request_tokens, streaming, wire_request, with_max_tokens
from .failures import (
    _PROMPT_SIZE,
    _api_message,
    _cannot_connect,
    _connect_reason,
    _connection_problem,
    _root_api_error,
    _short,
    context_size,
    repeated_tail,
    translate,
)
from .parse import _cached, _handlers, _parse_errors, _usage
from .transport import Attempts, Meter, Transport, _attempts

REASK_TEMPERATURE = 0.3  # re-asks of a run at temperature 0 sample a little, so the answer can change
CAP_GROWTH = 2  # an answer cut at briefer's default cap is asked again once with this many times the cap
CONTEXT_PROMPT_MARGIN = 1.1  # the prompt's estimate may be under the server's count: room kept for the difference
MIN_CAP = 256  # a cap fitted to a context never goes under this (else the cap stays: the context error says why)


@dataclass(frozen=True)
class Answer:
    data: dict[str, Any]
    parsed: BaseModel  # validated with the request's context
    prompt_tokens: int
    completion_tokens: int
    http_attempts: int
    cached_tokens: int = 0  # of prompt_tokens, read from the server's prompt cache (as it reported)


class ModelClient:
    """One per run. The async openai client is built on first use, so a run answered
    entirely from the cache needs no key and imports nothing heavy before it must."""

    def __init__(self, config: EndpointConfig, http_client: Any = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 on_tokens: Callable[[int], None] | None = None) -> None:
        """`http_client`: an HTTP client of the kind the installed openai SDK takes (httpx / httpx2).
        `sleep`: how to wait between retries (tests pass a recorder). `on_tokens`: told how many
        tokens each streamed chunk carried (a progress display's tokens per second)."""
        self.config = config
        self._http_client = http_client
        self._send: Callable[[dict[str, Any]], Awaitable[Any]] | None = None
        self._raw: Any = None
        self._context: int | None = None  # the server's context in tokens, once a context-length error said it
        self._transport = Transport(config, sleep=sleep, on_tokens=on_tokens)
        self.limiter = self._transport.limiter
        self.usage_floor = self._transport.usage_floor  # usages the server reported below the request's size
        self._turns = self._transport.turns
        self._loading: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ construction

    async def _ready(self) -> None:
        """The SDKs imported and the client built once, in a worker thread: importing openai and instructor
        costs ~0.6 s of CPU, and in the caller's event loop that would stall every other task in it (a
        notebook's, a web server's) for as long."""
        if self._send is None:
            if self._loading is None:
                self._loading = asyncio.ensure_future(in_worker(self._warm))
            await asyncio.shield(self._loading)  # callers go on in the order they came

    def _warm(self) -> None:
        self._openai()
        _handlers(self.config.mode)

    def _openai(self) -> Any:
        """The openai client, built on first use, with briefer's retry layer around each HTTP request."""
        if self._send is None:
            import gc

            with paused_gc():
                import openai

                # The SDK's objects (tens of thousands) live as long as the process: out of the collector's
                # generations, later collections no longer walk them (about 15% of a cold run's CPU).
                gc.freeze()
            gcpause.for_requests()
            cfg = self.config
            key = cfg.api_key or clean_key(os.environ.get("OPENAI_API_KEY") or "")
            if not key:
                if cfg.base_url is None:
                    raise EndpointError(
                        "no API key: set OPENAI_API_KEY, or use --base-url for a local server, or --offline"
                    )
                key = "not-needed"  # local OpenAI-compatible servers accept any key
            raw = openai.AsyncOpenAI(
                api_key=key,
                base_url=cfg.base_url,
                timeout=cfg.timeout,
                max_retries=0,  # transport retries are ours (see the module docstring)
                http_client=wire.install(self._http_client or openai.DefaultAsyncHttpxClient(),
                                         cfg.max_response_bytes),
            )

            from openai.types.chat import ChatCompletion, ChatCompletionChunk

            stream_cls = openai.AsyncStream[ChatCompletionChunk]  # only its response is read (see _collect)

            async def post(body: dict[str, Any]) -> Any:
                # The SDK's low-level post: the body goes out as built (see wire_request), without the
                # per-call parameter transforms of `chat.completions.create`; the answer is parsed into
                # the same ChatCompletion object, or assembled into one from the streamed chunks.
                if not cfg.stream:
                    return await raw.post("/chat/completions", body=body, cast_to=ChatCompletion,
                                          options={"security": {"bearer_auth": True}})
                stream = await raw.post("/chat/completions", body=streaming(body), cast_to=ChatCompletion,
                                        options={"security": {"bearer_auth": True}}, stream=True,
                                        stream_cls=stream_cls)
                return await self._transport.collect(stream, ChatCompletion)

            self._raw = raw
            self._send = self._transport.with_retries(post)
        return self._send

    # ------------------------------------------------------------------ requests

    async def complete(
        self, messages: list[dict[str, str]], response_model: type[BaseModel], context: dict[str, Any] | None,
        meter: Meter | None = None, default_max_tokens: int | None = None, slot: asyncio.Semaphore | None = None,
    ) -> Answer:
        """One validated answer. `context`: what the validators check the answer against; `meter`:
        holds each HTTP request's cost while in flight (re-asks and retries included);
        `default_max_tokens`: the completion cap to send when the run sets no --max-tokens; `slot`: held by
        each HTTP attempt (--concurrency counts requests in flight, re-asks and retries included).

        The request is built by briefer (wire_request: the mode's frame once per response model, the
        messages per call) and the answer read with instructor's parser for the mode; an invalid
        answer is re-asked with instructor's re-ask message for the mode, which names every problem."""
        cfg = self.config
        await self._ready()
        parse_model, body = wire_request(cfg, messages, response_model)
        cap = default_max_tokens if cfg.max_tokens is None else None
        if cap is not None:
            cap = self._within_context(body, cap)
            body = with_max_tokens(body, cap)
        counter = Attempts(meter=meter, slot=slot)
        token = _attempts.set(counter)
        try:
            # No library renders the messages as templates; the validators read the request's context
            # from briefer.validation.
            with validation_context(context):
                return await self._answers(body, parse_model, cap, counter)
        finally:
            _attempts.reset(token)

    async def _answers(self, body: dict[str, Any], parse_model: type[BaseModel], cap: int | None,
                       counter: Attempts) -> Answer:
        """Asked until an answer is valid: re-asked with the validation error, at most --max-reasks times."""
        cfg = self.config
        send = self._openai()
        handlers = _handlers(cfg.mode)
        usage = [0, 0, 0]  # prompt, completion, cached prompt tokens of every answer so far
        grown = False  # the default cap was raised once already (an answer cut at it, or the context's bound)
        answer = 0
        while answer <= cfg.max_reasks:
            if answer and not body.get("temperature"):
                # A re-ask at temperature 0 gets the same answer from a small model, byte for byte.
                body["temperature"] = REASK_TEMPERATURE
            try:
                response = await self._sent(send, body, counter, usage)
            except (RequestFailed, EndpointFailed):
                raise
            except Exception as exc:
                if cap is not None and not grown and (smaller := self._fit_context(exc, body, cap)):
                    grown, cap, body = True, smaller, with_max_tokens(body, smaller)
                    continue  # the same request with a cap its context holds: not a re-ask
                raise translate(cfg, exc, counter, usage, cap) from exc
            await self._turns.turn()  # the requests whose slots are free leave first
            prompt_tokens, completion_tokens = _usage(getattr(response, "usage", None))
            usage[0] += prompt_tokens
            usage[1] += completion_tokens
            usage[2] += _cached(getattr(response, "usage", None))
            try:
                parsed = handlers.response_parser(response=response, response_model=parse_model,
                                                  validation_context=None, strict=True, stream=False, is_async=True)
            except _parse_errors() as exc:
                if answer == cfg.max_reasks:
                    raise translate(cfg, exc, counter, usage, cap) from exc
                body = handlers.reask_handler(kwargs=body, response=response, exception=exc)
                answer += 1
                continue
            except Exception as exc:  # cut off at max_tokens, refused: not re-asked
                if cap is not None and not grown and (larger := self._larger_cap(exc, body, cap, counter)):
                    # Cut at briefer's own default cap, not a loop: asked again with room for the rest
                    # (once; the budget holds the request like any other).
                    grown, cap, body = True, larger, with_max_tokens(body, larger)
                    continue
                raise translate(cfg, exc, counter, usage, cap) from exc
            return Answer(parsed.model_dump(mode="json"), parsed, usage[0], usage[1], counter.count, usage[2])
        raise AssertionError("unreachable: the last answer returns or raises")

    @staticmethod
    async def _sent(send: Callable[[dict[str, Any]], Awaitable[Any]], body: dict[str, Any], counter: Attempts,
                    usage: list[int]) -> Any:
        """One request through the retry layer; a failure carries what the earlier answers cost."""
        try:
            return await send(body)
        except RequestFailed as exc:  # classified by the retry layer; earlier answers still cost
            exc.prompt_tokens += usage[0]
            exc.completion_tokens += usage[1]
            exc.cached_tokens += usage[2]
            raise
        except EndpointFailed:
            raise
        except BudgetExceeded as exc:  # kept unsent: what the earlier answers cost still counts
            raise RequestNotSent(str(exc), attempts=counter.count, prompt_tokens=usage[0],
                                 completion_tokens=usage[1], raw_output=counter.last_output,
                                 cached_tokens=usage[2]) from exc

    def _within_context(self, body: dict[str, Any], cap: int) -> int:
        """The default cap, bounded by the server's context once it has said it (a context-length error)."""
        if self._context is None:
            return cap
        room = self._context - math.ceil(request_tokens(body) * CONTEXT_PROMPT_MARGIN)
        # A prompt (nearly) over the context alone: the cap is left as it is, the server says what is wrong.
        return cap if room < MIN_CAP else min(cap, room)

    def _fit_context(self, exc: Exception, body: dict[str, Any], cap: int) -> int | None:
        """A smaller default cap the server's context holds, when it refused the request as too long for its
        context and said how long that is; None otherwise (the request fails as it would have)."""
        import openai

        root = _root_api_error(exc)
        if not isinstance(root, openai.BadRequestError) or (size := context_size(_api_message(root))) is None:
            return None
        self._context = size
        prompt = _PROMPT_SIZE.search(_api_message(root))
        if prompt and int(prompt.group(1)) >= size:  # the messages alone are over the context: no cap can help
            return None
        smaller = self._within_context(body, cap)
        return smaller if smaller < cap else None

    def _larger_cap(self, exc: Exception, body: dict[str, Any], cap: int, seen: Attempts) -> int | None:
        """Twice the default cap (within the server's context, where known) for an answer cut at it, unless the
        answer was a loop (a larger cap would only buy more of it)."""
        if type(_root_api_error(exc)).__name__ != "IncompleteOutputException" or repeated_tail(seen.last_output or ""):
            return None
        larger = self._within_context(body, CAP_GROWTH * cap)
        return larger if larger > cap else None

    async def list_models(self) -> list[dict[str, Any]] | None:
        """The models the server lists (GET /models) as plain data, or None when it serves no list (HTTP 404):
        `briefer doctor`'s first look. A failure is one EndpointFailed line naming the endpoint, never the key."""
        import openai

        self._openai()
        where = self.config.endpoint
        try:
            page = await self._raw.models.list()
        except openai.NotFoundError:
            return None
        except openai.APIStatusError as exc:
            raise EndpointFailed(f"{where}: listing the models failed (HTTP {exc.status_code}: {_api_message(exc)})"
                                 ) from exc
        except openai.APIConnectionError as exc:
            reason = _connect_reason(exc) if _cannot_connect(exc) else _connection_problem(exc)
            raise EndpointFailed(f"cannot reach {where}: {reason}") from exc
        except openai.OpenAIError as exc:
            raise EndpointFailed(f"{where}: listing the models failed: {_short(str(exc))}") from exc
        return [dict(m.model_dump(mode="json")) for m in page.data]

    async def aclose(self) -> None:
        if self._raw is not None:
            await self._raw.close()
