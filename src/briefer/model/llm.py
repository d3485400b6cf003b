"""The only module that imports `openai` and `instructor`.

It knows nothing about articles or briefs: it takes chat messages and a pydantic response
model, and returns the validated answer as JSON data with its token usage.

Retries live in exactly two places, one per kind of failure, and never multiply:

- transport faults (429 rate limits, 408/409/5xx, timeouts, connection resets) are retried here,
  per HTTP request, with tenacity: exponential backoff with jitter, or the server's Retry-After
  (`retry-after-ms`, `retry-after` in seconds or as a date) when it gives one. A Retry-After above
  `max_retry_after` fails the request at once with a message instead of waiting, and no request is
  sent until that time. `timeout` bounds each silence of the server (the SDK's read timeout; with
  `stream`, between two tokens), `max_time` each attempt as a whole: an attempt cut at `max_time`
  is not retried, since the same request would run as long again. A 200 that carries no usable
  completion (empty body, no choices, no content) is the server's fault and is retried here too
  (wire.py); a response over `max_response_bytes` fails unread. The openai client's own retries
  are switched off (`max_retries=0`) so they cannot stack on these;
- invalid output (malformed JSON, schema or source-check violations) is re-asked in
  `ModelClient.complete`, with every validation error at once in instructor's re-ask message for
  the mode, `max_reasks` times, at a small temperature when the run asks for 0.

The live path uses instructor for what it builds, not per call: the request body's frame (tools or
response_format, the schema in the messages for json/md_json) is built by instructor once per
model, mode, parameters and response model, and only the messages are filled in per call; the
body goes out through the openai client's low-level `post`, as the SDK's `create` would send it
(tests/test_live_wire.py compares the bytes); instructor's parser and re-ask builder for the mode
read the answer. No library renders the messages as templates: validators read the request's
context from briefer.validation. A `Meter` holds each HTTP request's estimated cost against
--max-cost while it is in flight.

Errors that no retry can fix stop at once: bad credentials (401/403), unknown model (404),
exhausted quota (429 insufficient_quota) and an unreachable endpoint end the run
(`EndpointError`); a context-length error, an answer cut off by max_tokens, a refusal or output
still invalid after the re-asks fail just that request (`ArticleFailed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import functools
import json
import logging
import math
import os
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel

from briefer import gcpause
from briefer.errors import ArticleFailed, BudgetExceeded, EndpointError, UsageError
from briefer.gcpause import paused_gc
from briefer.keys import clean_key
from briefer.redact import register_url
from briefer.validation import validation_context
from briefer.worker import in_worker

from . import wire
from .costs import UsageFloor, prompt_estimate
from .ratelimit import RateLimiter
from .stream import Streamed, sse_lines
from .turns import Turns

# The SDKs are imported when the first request is made, not at start-up: `import instructor`
# alone takes over a second, and a run answered from the cache never needs them.
MODES = {"tools": "TOOLS", "json_schema": "JSON_SCHEMA", "json": "JSON", "md_json": "MD_JSON"}
OTHER_MODES = {"tools": "json_schema", "json_schema": "json", "json": "md_json", "md_json": "json"}
DEFAULT_BASE_URL = "https://api.openai.com/v1"
SLOW_ENDPOINT = "a slow endpoint, such as a local model on a CPU, needs a larger --timeout"
DEFAULT_MAX_TIME = 600.0  # --max-time: one attempt in all (a 1B model on a CPU writes ~3,000 tokens in 2-8 minutes)
REASK_TEMPERATURE = 0.3  # re-asks of a run at temperature 0 sample a little, so the answer can change
CAP_GROWTH = 2  # an answer cut at briefer's default cap is asked again once with this many times the cap
CONTEXT_PROMPT_MARGIN = 1.1  # the prompt's estimate may be under the server's count: room kept for the difference
MIN_CAP = 256  # a cap fitted to a context never goes under this (else the cap stays: the context error says why)


@dataclass(frozen=True)
class EndpointConfig:
    model: str
    mode: str = "tools"
    base_url: str | None = None
    timeout: float = 120.0  # seconds the server may send nothing: connecting, before the first token, between two
    max_time: float = DEFAULT_MAX_TIME  # seconds one HTTP attempt may take in all; a cut attempt is not retried
    # Stream answers (--stream): --timeout then bounds each silence between tokens, not the wait for a whole answer.
    # Off by default: parsing an answer's thousands of chunks costs the client a few ms of CPU per article (as
    # much as everything else it does for one), which only pays off against slow endpoints.
    stream: bool = False
    max_retries: int = 4  # transport retries per HTTP request (so up to 5 attempts)
    max_reasks: int = 2  # re-asks with the validation error (so up to 3 answers)
    max_retry_after: float = 60.0  # a server asking to wait longer than this fails the request
    backoff_base: float = 0.5  # first backoff in seconds; doubles each retry, with jitter
    backoff_max: float = 8.0
    temperature: float = 0.0
    max_tokens: int | None = None
    rpm: float | None = None  # client-side pacing: requests per minute
    tpm: float | None = None  # and tokens per minute (estimated, then settled with billed usage)
    max_response_bytes: int = wire.DEFAULT_MAX_RESPONSE_BYTES  # a larger response fails its request unread
    # Sampling parameters against repetition loops (small local models loop at temperature 0), and any other
    # body parameters the server understands, as a JSON object (llama.cpp: {"repeat_penalty": 1.1}).
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    extra_body: str | None = None
    # Read from the environment when the client is built; never stored in recordings or caches.
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"--mode must be one of {', '.join(MODES)}")
        # Written as "not (in range)" so that nan, which fails every comparison, is refused too.
        if not 0 < self.max_time < math.inf:
            raise UsageError("--max-time must be a positive number of seconds")
        if not 0 < self.timeout < math.inf or self.max_retries < 0 or self.max_reasks < 0 or (
                self.max_tokens is not None and self.max_tokens < 1):
            raise UsageError("--timeout must be a positive number of seconds; --max-retries and --max-reasks "
                             "at least 0; --max-tokens at least 1")
        if not 0 <= self.temperature <= 2:
            raise UsageError(f"--temperature must be between 0 and 2, got {self.temperature:g}")
        if any(v is not None and not 0 < v < math.inf for v in (self.rpm, self.tpm)):
            raise UsageError("--rpm and --tpm must be positive")
        if self.max_response_bytes < 1024:
            raise UsageError("--max-response-mb must be a number of at least 0.001 (1 KB)")
        if any(v is not None and not -2 <= v <= 2 for v in (self.frequency_penalty, self.presence_penalty)):
            raise UsageError("--frequency-penalty and --presence-penalty must be between -2 and 2")
        if self.extra_body is not None:
            try:
                body = json.loads(self.extra_body)
            except json.JSONDecodeError as exc:
                raise UsageError(f"--extra-body must be a JSON object: {exc}") from None
            if not isinstance(body, dict):
                raise UsageError("--extra-body must be a JSON object, e.g. '{\"repeat_penalty\": 1.1}'")
        register_url(self.base_url)  # credentials in the URL are never written (redact.py)
        if self.api_key is not None:
            object.__setattr__(self, "api_key", clean_key(self.api_key, "the API key"))

    @property
    def params(self) -> dict[str, Any]:
        """Generation parameters that change the answer: part of the cache key. The sampling options are
        listed only when set, so adding them left earlier caches and recordings valid."""
        params: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        params.update(self.sampling)
        return params

    @property
    def sampling(self) -> dict[str, Any]:
        """The optional sampling parameters that are set, as request keyword arguments."""
        out: dict[str, Any] = {}
        if self.frequency_penalty is not None:
            out["frequency_penalty"] = self.frequency_penalty
        if self.presence_penalty is not None:
            out["presence_penalty"] = self.presence_penalty
        if self.extra_body is not None:
            out["extra_body"] = json.loads(self.extra_body)
        return out

    @property
    def endpoint(self) -> str:
        """The endpoint URL, safe to print: no credentials, no query string."""
        parts = urlsplit(self.base_url or DEFAULT_BASE_URL)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


@dataclass(frozen=True)
class Answer:
    data: dict[str, Any]
    parsed: BaseModel  # validated with the request's context
    prompt_tokens: int
    completion_tokens: int
    http_attempts: int
    cached_tokens: int = 0  # of prompt_tokens, read from the server's prompt cache (as it reported)


class Meter(Protocol):
    """Holds each HTTP request's estimated cost while it is in flight (the gateway's --max-cost)."""

    def reserve(self, prompt_tokens: int) -> float:
        """Hold the request's estimated cost; raise BudgetExceeded to keep it unsent."""
        ...

    def settle(self, reserved: float, usage: tuple[int, ...] | None) -> None:
        """Release the hold and count the billed (prompt, completion, cached) usage (None: billed, usage unknown)."""
        ...


@dataclass
class _Attempts:
    """What the retry layer saw during one `complete` call: HTTP attempts, the model's last raw
    output and its last refusal (instructor keeps neither for every kind of failure)."""

    count: int = 0
    answers: int = 0  # HTTP responses that carried an answer
    last_output: str | None = None
    last_output_tokens: int = 0  # completion tokens of that answer
    last_refusal: str | None = None
    meter: Meter | None = None
    streamed: Streamed | None = None  # the answer the current attempt is streaming, as far as it came
    slot: asyncio.Semaphore | None = None  # --concurrency: held by each HTTP attempt, not between attempts


_attempts: contextvars.ContextVar[_Attempts] = contextvars.ContextVar("briefer_http_attempts")


AnswerProblem = Literal["invalid", "cut_off"]


class RequestFailed(ArticleFailed):
    """One request failed for good. Carries what it cost and, when the model answered, its raw output."""

    def __init__(self, message: str, *, attempts: int, prompt_tokens: int = 0, completion_tokens: int = 0,
                 raw_output: str | None = None, answer_problem: AnswerProblem | None = None,
                 raw_output_tokens: int = 0, cached_tokens: int = 0) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.cached_tokens = cached_tokens
        self.raw_output = raw_output
        # Set when the failure is the answer itself (still invalid after the re-asks, or cut off at the token
        # limit): what the model said may then be kept in part (the response model's keep_valid).
        self.answer_problem = answer_problem
        self.raw_output_tokens = raw_output_tokens


class RequestNotSent(RequestFailed, BudgetExceeded):
    """A request (first, retry or re-ask) the budget kept unsent; carries what the earlier ones cost."""


class EndpointFailed(EndpointError):
    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


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


_CONTEXT_SIZE = re.compile(r"(?:maximum context length is|context (?:size|length|window)(?: is| of)?|n_ctx[ =:]*)"
                           r"\s*\(?(\d{3,7})", re.IGNORECASE)


_PROMPT_SIZE = re.compile(r"messages resulted in (\d+) tokens", re.IGNORECASE)


def context_size(message: str) -> int | None:
    """The server's context in tokens, where its context-length error says it (OpenAI, vLLM: "maximum context
    length is 8192 tokens"; llama.cpp: "the request exceeds the available context size (4096 tokens)")."""
    found = _CONTEXT_SIZE.search(message)
    return int(found.group(1)) if found else None


def floor_usage(usage: Any, floor: UsageFloor, prompt_est: int, output: str | None) -> None:
    """Set a response's usage to what is counted: never below the prompt sent nor the answer received."""
    from briefer.text.tokens import estimate_tokens

    p, c = _usage(usage)
    p2, c2 = floor.apply(p, c, prompt_est, estimate_tokens(output or ""))
    if (p2, c2) != (p, c):
        with contextlib.suppress(Exception):  # a usage object that refuses new values keeps its own
            usage.prompt_tokens, usage.completion_tokens = p2, c2
            usage.total_tokens = p2 + c2


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and all(cur is not seen for seen in out):
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def redirect_line(endpoint: str, status: int, location: str) -> str:
    """One line for a redirect briefer did not follow."""
    from briefer.redact import safe_url

    where = safe_url(location) if location else "no Location given"
    return (f"{endpoint} answered HTTP {status}, a redirect to {where}; briefer follows no redirects for API "
            "requests (they carry the key and the article text): fix --base-url")


def _root_api_error(exc: BaseException) -> BaseException:
    """instructor wraps SDK errors; find the openai error underneath, if any."""
    import openai

    for e in _chain(exc):
        if isinstance(e, openai.OpenAIError):
            return e
    return exc


def retry_after_seconds(headers: Any) -> float | None:
    """The server's requested delay: `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # neither seconds nor a date: back off as if none were given
    return max(0.0, parsed.timestamp() - time.time())


def _error_body(exc: Any) -> dict[str, Any]:
    """The `error` object of an API error's JSON body ({} when there is none)."""
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def _api_message(exc: Any) -> str:
    """The server's own error message, not the SDK's 'Error code: 400 - {...}' rendering."""
    message = _error_body(exc).get("message")
    return _short(str(message or getattr(exc, "message", exc)))


def _error_code(exc: Any) -> str:
    body = _error_body(exc)
    return str(body.get("code") or body.get("type") or "")


class _Transient(Exception):
    """Marks an API error the retry layer will try again, with the delay to wait (None: backoff)."""

    def __init__(self, error: BaseException, delay: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


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
        self._on_tokens = on_tokens
        self._http_client = http_client
        self._sleep = sleep
        self._send: Callable[[dict[str, Any]], Awaitable[Any]] | None = None
        self._raw: Any = None
        self._paused: tuple[float, str] | None = None  # (until, why): the server asked for a long wait
        self._context: int | None = None  # the server's context in tokens, once a context-length error said it
        self.limiter = RateLimiter(config.rpm, config.tpm, sleep=sleep or _asyncio_sleep)
        self.usage_floor = UsageFloor()  # usages the server reported below the request's size
        self._turns = Turns()
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
                return await self._collect(stream, ChatCompletion)

            self._raw = raw
            self._send = self._with_retries(post)
        return self._send

    def _with_retries(self, post: Callable[[dict[str, Any]], Awaitable[Any]]
                      ) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        import tenacity

        cfg = self.config

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.delay is not None:
                return exc.delay
            backoff = min(cfg.backoff_max, cfg.backoff_base * 2.0 ** (state.attempt_number - 1))
            return float(backoff * (0.75 + random.random() / 2))  # jitter: +/- 25 %

        async def attempt(body: dict[str, Any]) -> Any:
            counter = _attempts.get(None)
            slot = counter.slot if counter is not None else None
            if slot is None:
                return await attempt_in_slot(body)
            # The slot is held while the request is sent and answered, not while its answer is checked or a
            # retry's backoff passes: a request waiting to be re-asked or retried keeps no other one waiting.
            async with slot:
                return await attempt_in_slot(body)

        async def attempt_in_slot(body: dict[str, Any]) -> Any:
            if self._paused is not None and time.monotonic() < self._paused[0]:
                raise RequestFailed(f"not sent: {self._paused[1]}", attempts=_current_attempts())
            counter = _attempts.get(None)
            meter = counter.meter if counter is not None else None
            # Reserved before the rate limiter's wait: a request waiting to be sent is already committed.
            held = meter.reserve(request_tokens(body)) if meter is not None else 0.0
            if counter is not None:
                counter.count += 1
            reservation = None
            if self.limiter.active:
                # --max-tokens, not briefer's default cap (twice the expected answer): that would hold twice the
                # tokens per minute the answer needs.
                reservation = self.limiter.reservation(request_tokens(body), cfg.max_tokens, request_kind(body))
                await self.limiter.acquire(reservation)
            seen = wire.watch()
            seen.on_request = sent = self._turns.begin_send()  # answers are checked after this request has left
            # A total deadline per attempt: the SDK's timeout bounds each read (each silence), so a server
            # trickling tokens or bytes would otherwise hold the request for ever.
            deadline = asyncio.timeout(cfg.max_time)
            try:
                async with deadline:
                    response = await post(body)
            except Exception as exc:
                if meter is not None:
                    meter.settle(held, (0, 0))  # a failed request is not billed, as far as we can tell
                if reservation:
                    self.limiter.settle(reservation, None, None)
                if deadline.expired():
                    raise self._too_slow(counter) from exc
                fault = self._fault(exc, seen)
                if fault is not None:
                    raise _Transient(fault, None) from exc
                delay = self._transient_delay(exc)
                if delay is False:
                    raise
                raise _Transient(exc, delay if isinstance(delay, float) else None) from exc
            finally:
                sent()  # sent, failed or cancelled: no answer waits for this request any more
            usage = getattr(response, "usage", None)
            if usage is not None:  # never below the request's own size (the budget counts it)
                floor_usage(usage, self.usage_floor, request_tokens(body), _raw_output(response))
            if meter is not None:
                meter.settle(held, (*_usage(usage), _cached(usage)) if usage is not None else None)
            if reservation:
                self.limiter.settle(reservation, *_usage(usage))
            problem = wire.unusable(response, seen)
            if problem is not None:  # the server's fault, not the model's: retried, never re-asked
                raise _Transient(problem, None)
            if counter is not None:
                counter.answers += 1
                counter.last_output = _raw_output(response)
                counter.last_output_tokens = _usage(usage)[1]
                counter.last_refusal = _refusal(response)
            if cfg.mode == "tools" and _answered_without_tool(response):
                # llama.cpp ignores a forced tool_choice it cannot parse and answers in prose, with HTTP 200:
                # every request would do the same, and no re-ask can fix it.
                raise EndpointFailed(
                    f"{cfg.endpoint} answered in plain text instead of calling the tool (--mode tools): the server "
                    "ignores tool_choice; use --mode json_schema (or --mode json)", attempts=_current_attempts())
            return response

        async def with_retries(body: dict[str, Any]) -> Any:
            retrying = tenacity.AsyncRetrying(
                retry=tenacity.retry_if_exception_type(_Transient),
                stop=tenacity.stop_after_attempt(cfg.max_retries + 1),
                wait=wait,
                sleep=self._sleep or _asyncio_sleep,
                reraise=True,
            )
            try:
                return await retrying(attempt, body)
            except _Transient as exc:
                if isinstance(exc.error, wire.ServerFault):
                    n = _current_attempts()
                    sent = f"; it sent: {exc.error.sent}" if exc.error.sent else ""
                    raise RequestFailed(f"{cfg.endpoint} {exc.error} after {n} HTTP attempt{'s' if n != 1 else ''}"
                                        f"{sent}", attempts=n) from exc.error
                raise exc.error from exc.error.__cause__  # the SDK's own error, its cause chain kept

        return with_retries

    def _fault(self, exc: BaseException, seen: wire.Seen) -> wire.ServerFault | None:
        """A failed attempt that is the server's fault (a transient one), or one no retry can fix (raised)."""
        chain = _chain(exc)
        moved = next((e for e in chain if isinstance(e, wire.Redirected)), None)
        if moved is not None:
            raise EndpointFailed(redirect_line(self.config.endpoint, moved.status, moved.location),
                                 attempts=_current_attempts()) from exc
        if any(isinstance(e, RecursionError) for e in chain):
            return wire.ServerFault("answered with a body nested too deeply to read (a server fault)", seen.excerpt())
        too_large = next((e for e in chain if isinstance(e, wire.ResponseTooLarge)), None)
        if too_large is not None:  # the same request would get the same answer: not retried
            raise RequestFailed(f"{self.config.endpoint}: {too_large}", attempts=_current_attempts()) from exc
        if any(isinstance(e, json.JSONDecodeError) for e in chain):  # the SDK could not parse a 2xx body
            return wire.unreadable(seen)
        return None

    def _too_slow(self, seen: _Attempts | None) -> RequestFailed:
        """An attempt cut at --max-time. Not retried: the same request would run as long again (a model in
        a loop, or one too slow for this answer), and the server would start the generation from scratch."""
        cfg = self.config
        streamed = seen.streamed if seen is not None else None
        text = streamed.text() if streamed is not None else ""
        if streamed is None:
            pace = "; --no-stream: nothing was received before the cut"
        else:
            took = max(time.monotonic() - streamed.started, 1e-9)
            pace = f"; {streamed.tokens} tokens streamed, {streamed.tokens / took:.1f} tokens/s"
        loop = repeated_tail(text) if text else None
        advice = (f"the model was repeating itself (a loop: {_short(loop, 80)!r} over and over): add "
                  "--frequency-penalty 0.5 or the server's own, e.g. --extra-body '{\"repeat_penalty\": 1.1}'"
                  if loop is not None else "raise --max-time, or cap the answer with --max-tokens")
        return RequestFailed(f"{cfg.endpoint} took longer than --max-time {cfg.max_time:g}s for one answer{pace}; "
                             f"not retried (it would take as long again): {advice}",
                             attempts=_current_attempts(), raw_output=text or None)

    async def _collect(self, stream: Any, completion_type: Any) -> Any:
        """The streamed chunks assembled into the ChatCompletion a non-streamed request returns."""
        import openai

        response = stream.response
        if "text/event-stream" not in response.headers.get("content-type", ""):
            # A server that does not stream sends the whole completion as JSON: read it as such.
            data = json.loads(await response.aread())
            return completion_type.construct(**data) if isinstance(data, dict) else completion_type.construct()
        got = Streamed()
        counter = _attempts.get(None)
        if counter is not None:
            counter.streamed = got
        try:
            # Server-sent events read as lines and JSON data, not through the SDK's per-chunk models: an answer
            # streams in thousands of chunks, and building a pydantic object for each cost more CPU than
            # the whole rest of the request.
            async for line in sse_lines(response.aiter_bytes()):
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    break
                chunk = json.loads(data)
                if not isinstance(chunk, dict):
                    continue
                if chunk.get("error"):  # an error mid-stream, as the SDK's stream reports one
                    error = chunk["error"]
                    message = error.get("message") if isinstance(error, dict) else None
                    raise openai.APIError(str(message or "an error occurred during streaming"), response.request,
                                          body=error)
                n = got.add(chunk)
                if n and self._on_tokens is not None:
                    self._on_tokens(n)
        except Exception as exc:
            # The SDK wraps the HTTP library's errors when it sends a request, not while a stream is read:
            # a silence past --timeout or a dropped connection mid-answer is wrapped here the same way.
            library = type(exc).__module__.partition(".")[0]
            if library in ("httpx", "httpx2", "httpcore", "httpcore2"):
                if any("Timeout" in t.__name__ for t in type(exc).__mro__):
                    raise openai.APITimeoutError(request=response.request) from exc
                raise openai.APIConnectionError(request=response.request) from exc
            raise
        finally:
            await response.aclose()
        return completion_type.construct(**got.completion())

    def _transient_delay(self, exc: BaseException) -> float | None | bool:
        """False: not transient. None: retry after backoff. A number: retry after that many seconds."""
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return None
        if isinstance(exc, openai.APIConnectionError):
            # Nobody listening, or no such host: retrying only delays the one line the user needs.
            return False if _cannot_connect(exc) else None
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status == 429 and _error_code(exc) == "insufficient_quota":
                return False
            if status in (408, 409, 429) or status >= 500:
                delay = retry_after_seconds(exc.response.headers)
                if delay is not None and delay > self.config.max_retry_after:
                    reason = (f"{self.config.endpoint} asked to retry after {delay:g}s (HTTP {status}), more than "
                              f"the {self.config.max_retry_after:g}s briefer waits; try again later or lower --rpm")
                    # Every other request would get the same answer: send none until that time has passed.
                    self._paused = (time.monotonic() + delay, reason)
                    raise RequestFailed(reason, attempts=_current_attempts()) from exc
                return delay
        return False

    # ------------------------------------------------------------------ requests

    async def complete(
        self, messages: list[dict[str, str]], response_model: type[BaseModel], context: dict[str, Any] | None,
        meter: Meter | None = None, default_max_tokens: int | None = None, slot: asyncio.Semaphore | None = None,
    ) -> Answer:
        """One validated answer. `context`: what the validators check the answer against; `meter`:
        holds each HTTP request's cost while in flight (re-asks and retries included);
        `default_max_tokens`: the completion cap to send when the run sets no --max-tokens; `slot`: held by
        each HTTP attempt (--concurrency counts requests in flight, re-asks and retries included).

        The request is built by briefer (wire_body: the mode's frame once per response model, the
        messages per call) and the answer read with instructor's parser for the mode; an invalid
        answer is re-asked with instructor's re-ask message for the mode, which names every problem."""
        cfg = self.config
        await self._ready()
        send = self._openai()
        parse_model, body = wire_request(cfg, messages, response_model)
        cap = default_max_tokens if cfg.max_tokens is None else None
        if cap is not None:
            cap = self._within_context(body, cap)
            body = with_max_tokens(body, cap)
        handlers = _handlers(cfg.mode)
        counter = _Attempts(meter=meter, slot=slot)
        token = _attempts.set(counter)
        usage = [0, 0, 0]  # prompt, completion, cached prompt tokens of every answer so far
        grown = False  # the default cap was raised once already (an answer cut at it, or the context's bound)
        try:
            # No library renders the messages as templates; the validators read the request's context
            # from briefer.validation.
            with validation_context(context):
                answer = 0
                while answer <= cfg.max_reasks:
                    if answer and not body.get("temperature"):
                        # A re-ask at temperature 0 gets the same answer from a small model, byte for byte.
                        body["temperature"] = REASK_TEMPERATURE
                    try:
                        response = await send(body)
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
                    except Exception as exc:
                        if cap is not None and not grown and (smaller := self._fit_context(exc, body, cap)):
                            grown, cap, body = True, smaller, with_max_tokens(body, smaller)
                            continue  # the same request with a cap its context holds: not a re-ask
                        raise self._translate(exc, counter, usage, cap) from exc
                    await self._turns.turn()  # the requests whose slots are free leave first
                    prompt_tokens, completion_tokens = _usage(getattr(response, "usage", None))
                    usage[0] += prompt_tokens
                    usage[1] += completion_tokens
                    usage[2] += _cached(getattr(response, "usage", None))
                    try:
                        parsed = handlers.response_parser(response=response, response_model=parse_model,
                                                          validation_context=None, strict=True, stream=False,
                                                          is_async=True)
                    except _parse_errors() as exc:
                        if answer == cfg.max_reasks:
                            raise self._translate(exc, counter, usage, cap) from exc
                        body = handlers.reask_handler(kwargs=body, response=response, exception=exc)
                        answer += 1
                        continue
                    except Exception as exc:  # cut off at max_tokens, refused: not re-asked
                        if cap is not None and not grown and (larger := self._larger_cap(exc, body, cap, counter)):
                            # Cut at briefer's own default cap, not a loop: asked again with room for the rest
                            # (once; the budget holds the request like any other).
                            grown, cap, body = True, larger, with_max_tokens(body, larger)
                            continue
                        raise self._translate(exc, counter, usage, cap) from exc
                    return Answer(parsed.model_dump(mode="json"), parsed, usage[0], usage[1], counter.count,
                                  usage[2])
        finally:
            _attempts.reset(token)
        raise AssertionError("unreachable: the last answer returns or raises")

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

    def _larger_cap(self, exc: Exception, body: dict[str, Any], cap: int, seen: _Attempts) -> int | None:
        """Twice the default cap (within the server's context, where known) for an answer cut at it, unless the
        answer was a loop (a larger cap would only buy more of it)."""
        if type(_root_api_error(exc)).__name__ != "IncompleteOutputException" or repeated_tail(seen.last_output or ""):
            return None
        larger = self._within_context(body, CAP_GROWTH * cap)
        return larger if larger > cap else None

    def _translate(self, exc: Exception, seen: _Attempts, usage: list[int],
                   cfg_cap: int | None = None) -> Exception:
        """`cfg_cap`: the default completion cap the request carried, if any."""
        import openai

        root = _root_api_error(exc)
        where = self.config.endpoint
        attempts = seen.count
        tries = f"after {attempts} HTTP attempt{'s' if attempts != 1 else ''}"
        raw = seen.last_output

        def failed(message: str, problem: AnswerProblem | None = None) -> RequestFailed:
            return RequestFailed(message, attempts=attempts, prompt_tokens=usage[0], completion_tokens=usage[1],
                                 raw_output=raw, answer_problem=problem, raw_output_tokens=seen.last_output_tokens,
                                 cached_tokens=usage[2] if len(usage) > 2 else 0)

        if type(root).__name__ == "IncompleteOutputException":
            if (loop := repeated_tail(raw or "")) is not None:
                return failed(f"the model repeated itself until the token limit (a loop: {_short(loop, 80)!r} over "
                              "and over); a larger --max-tokens will not help: add --frequency-penalty 0.5 or the "
                              "server's own, e.g. --extra-body '{\"repeat_penalty\": 1.1}' (llama.cpp)", "cut_off")
            return failed("the answer was cut off at the token limit (finish_reason=length); raise --max-tokens "
                          "or split long articles with --max-input-tokens", "cut_off")
        if isinstance(root, openai.AuthenticationError | openai.PermissionDeniedError):
            return EndpointFailed(f"{where} rejected the credentials (HTTP {root.status_code}); check "
                                  "OPENAI_API_KEY", attempts=attempts)
        if isinstance(root, openai.NotFoundError):
            return EndpointFailed(f"{where}: model '{self.config.model}' not found (HTTP 404)", attempts=attempts)
        if isinstance(root, openai.RateLimitError) and _error_code(root) == "insufficient_quota":
            return EndpointFailed(f"{where}: insufficient quota (HTTP 429 insufficient_quota); check your plan and "
                                  "billing", attempts=attempts)
        if isinstance(root, openai.APITimeoutError):
            return failed(f"{where} timed out (nothing received for {self.config.timeout:g}s; {SLOW_ENDPOINT}) "
                          f"{tries}")
        if isinstance(root, openai.APIConnectionError):
            if _cannot_connect(root):
                return EndpointFailed(f"cannot reach {where}: {_connect_reason(root)}", attempts=attempts)
            return failed(f"connection to {where} failed {tries}: {_connection_problem(root)}")
        if isinstance(root, openai.BadRequestError):
            code, message = _error_code(root), _api_message(root)
            if code == "context_length_exceeded" or "context length" in message.lower() or "maximum context" in \
                    message.lower():
                capped = "" if cfg_cap is None else (f"; briefer capped the answer at {cfg_cap} tokens, as no "
                                                     "--max-tokens was given: a smaller --max-tokens may fit")
                return failed(f"the article is too long for the model's context window ({message}); split it "
                              f"with --max-input-tokens or use a model with a longer context{capped}")
            if self._mode_rejected(message):
                other = OTHER_MODES[self.config.mode]
                return EndpointFailed(f"{where} rejected --mode {self.config.mode} (HTTP 400: {message}); try "
                                      f"--mode {other}", attempts=attempts)
            return failed(f"{where} refused the request (HTTP 400: {message})")
        if isinstance(root, openai.APIStatusError):
            return failed(f"{where} answered HTTP {root.status_code} {tries}: {_api_message(root)}")
        if seen.last_refusal:
            return failed(f"the model refused: {_short(seen.last_refusal)}")
        n = seen.answers
        if n == 0:
            kind = "" if type(root).__module__.startswith("instructor") else f"{type(root).__name__}: "
            return failed(f"the request to {where} failed: {kind}{_first_problem(root)}")
        return failed(f"the model's answer was still invalid after {n - 1} re-ask{'' if n == 2 else 's'} "
                      f"({n} answer{'' if n == 1 else 's'}): {_first_problem(exc)}", "invalid")

    def _mode_rejected(self, message: str) -> bool:
        text = message.lower()
        words = {"tools": ("tool",), "json_schema": ("json_schema", "response_format", "structured"),
                 "json": ("json_object", "response_format"), "md_json": ()}[self.config.mode]
        return any(w in text for w in words) and any(n in text for n in ("not support", "unsupported", "invalid",
                                                                          "unknown", "not allowed"))

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


@functools.cache
def _wrapped(response_model: type[BaseModel]) -> type[BaseModel]:
    """The response model as instructor wraps it, built once per model: given the bare model, instructor
    builds a new class on every call, so its schema cache never hits and the classes pile up."""
    import instructor

    return instructor.response_schema(response_model)


# ---------------------------------------------------------------------- the live request
# instructor's own create() rebuilds everything per call: it walks the response model for async
# validators (twice), re-wraps it, regenerates the schema, copies the messages; then the SDK's create()
# walks the whole body against its parameter types. Over thousands of articles that was most of a run's
# CPU. Here the part of the body that depends only on the model, mode, parameters and response model
# is built once, by instructor itself (so it is what instructor would send), and each call fills in
# its messages. tests/test_live_wire.py holds the result to instructor's and the SDK's bytes.

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


# The parameters of the SDK's `chat.completions.create`, in order: the SDK builds its body in that order, and
# so does briefer. Written out because reading them from the signature imports `openai.resources`, half a
# second of start-up before the first request; tests/test_live_wire.py holds this equal to the installed SDK.
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


def _cannot_connect(exc: BaseException) -> bool:
    import socket

    return any(isinstance(e, ConnectionRefusedError | socket.gaierror) or type(e).__name__ == "ConnectError"
               for e in _chain(exc))


def _connect_reason(exc: BaseException) -> str:
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
    return str(chain[-1]) or "connection failed"


def _connection_problem(exc: BaseException) -> str:
    """What went wrong under the SDK's generic "Connection error.": the first cause that says something (the HTTP
    stack's own errors often say nothing, e.g. a reset is ReadError('') over ConnectionResetError), else its type."""
    causes = _chain(exc)[1:]
    for cause in causes:
        if str(cause):
            return str(cause)
    return type(causes[0]).__name__ if causes else str(exc)


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def _current_attempts() -> int:
    counter = _attempts.get(None)
    return counter.count if counter else 1


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


def repeated_tail(text: str, min_period: int = 8, max_period: int = 2000, times: int = 3) -> str | None:
    """The block a looping answer repeats at its end (`times` times in a row at least), or None.

    A model stuck in a loop writes the same entity or sentence again and again until the token limit; an
    answer cut off honestly does not end in a run of identical blocks."""
    end = text.rstrip()
    for period in range(min_period, min(max_period, len(end) // times) + 1):
        block = end[-period:]
        if all(end[-period * (k + 1): len(end) - period * k] == block for k in range(1, times)):
            return block.strip() or None
    return None


def _refusal(completion: Any) -> str | None:
    message = _message(completion)
    refusal = getattr(message, "refusal", None) if message is not None else None
    return str(refusal) if refusal else None


def _first_problem(exc: BaseException) -> str:
    """The first thing wrong with the model's last answer, in words: never instructor's XML report
    (`<failed_attempts><generation number="1"><exception>…`), which its exceptions print as text."""
    from pydantic import ValidationError

    attempts = getattr(exc, "failed_attempts", None) or []
    last: BaseException = attempts[-1].exception if attempts else next(
        (e for e in _chain(exc) if isinstance(e, ValidationError | json.JSONDecodeError)), exc)
    if isinstance(last, ValidationError) and last.errors():
        errors = last.errors(include_url=False)
        where = ".".join(str(part) for part in errors[0]["loc"])
        what = str(errors[0]["msg"]).removeprefix("Value error, ")
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        return _short(f"{where}: {what}{more}" if where else f"{what}{more}", 240)
    if isinstance(last, json.JSONDecodeError):
        return f"the answer is not valid JSON ({last.msg} at character {last.pos})"
    text = re.sub(r"<[^>]*>", " ", str(last))  # whatever else instructor raised, without its markup
    return _short(text.split(" Completion:")[0], 240)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------- batches
# The Batch API and offline engines (vLLM's run-batch) take the very request bodies the live path
# sends and give back chat completions. These functions build those bodies and read those answers
# with instructor's own request and response handlers for the mode, so a batch answer is validated
# exactly like a live one. They send nothing; `BatchClient` is the Files and Batches API.


def request_body(config: EndpointConfig, messages: list[dict[str, str]],
                 response_model: type[BaseModel]) -> dict[str, Any]:
    """The chat-completions body `ModelClient.complete` sends for this request (its first answer):
    messages (as the mode rewrites them), model, the tool or response_format schema, parameters."""
    import json

    if config.mode in _MESSAGES_AS_GIVEN:
        # The tool or response_format part depends only on the model and the parameters: built once
        # (instructor's handler costs tens of milliseconds a call, minutes over 10,000 articles).
        frame = json.loads(_body_frame(config.mode, config.model, config.temperature, config.max_tokens,
                                       response_model))
        body = {**frame, "messages": json.loads(json.dumps(messages, ensure_ascii=False))}
    else:
        body = _instructor_body(config.mode, config.model, config.temperature, config.max_tokens, response_model,
                                messages)
    # Sampling parameters and extra_body go on the wire as plain body keys, as the SDK sends them.
    sampling = config.sampling
    extra = sampling.pop("extra_body", {})
    return {**body, **sampling, **extra}


# Modes whose request handler sends the messages as given (json and md_json add the schema to them).
_MESSAGES_AS_GIVEN = ("tools", "json_schema")


def _instructor_body(mode: str, model: str, temperature: float, max_tokens: int | None,
                     response_model: type[BaseModel], messages: list[dict[str, str]]) -> dict[str, Any]:
    import json

    with paused_gc():
        import instructor
        from instructor.processing import handle_response_model

    kwargs: dict[str, Any] = {"model": model, "messages": messages, "temperature": temperature}
    if max_tokens is not None:
        kwargs["max_tokens"] = max_tokens
    _model, body = handle_response_model(_wrapped(response_model), mode=getattr(instructor.Mode, MODES[mode]),
                                         **kwargs)
    # As the SDK puts it on the wire: plain JSON data, nothing shared with the caller's messages.
    return dict(json.loads(json.dumps(body, ensure_ascii=False)))


@functools.lru_cache(maxsize=32)
def _body_frame(mode: str, model: str, temperature: float, max_tokens: int | None,
                response_model: type[BaseModel]) -> str:
    """The body without its messages, as JSON text (copied on each use)."""
    import json

    probe = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    body = _instructor_body(mode, model, temperature, max_tokens, response_model, probe)
    if body.pop("messages") != probe:
        raise AssertionError(f"instructor changed the messages in mode {mode}")
    return json.dumps(body, ensure_ascii=False)


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


class BatchClient:
    """The Files and Batches API (upload, create, retrieve, download, cancel), as plain JSON data.

    These are a handful of small bookkeeping requests per batch, not model calls, so the SDK's own
    retries (2, with its backoff) are enough here; briefer's retry layer stays on the model calls.
    Every failure becomes one `EndpointError` line naming the endpoint, never the key."""

    def __init__(self, config: EndpointConfig, http_client: Any = None) -> None:
        import openai

        key = config.api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if config.base_url is None:
                raise EndpointError("no API key: set OPENAI_API_KEY (batches are submitted to the provider), or "
                                    "use --base-url")
            key = "not-needed"
        self.config = config
        if http_client is None:  # the SDK's default follows redirects: a 3xx must be refused, not followed
            import weakref

            http_client = openai.DefaultHttpxClient(follow_redirects=False)
            weakref.finalize(self, http_client.close)  # as the SDK's own client closes itself when dropped
        self._client = openai.OpenAI(api_key=key, base_url=config.base_url, timeout=config.timeout, max_retries=2,
                                     http_client=http_client)

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        import openai

        try:
            return fn()
        except openai.APIStatusError as exc:
            if 300 <= exc.status_code < 400:
                raise EndpointFailed(f"{what}: " + redirect_line(self.config.endpoint, exc.status_code,
                                                                 exc.response.headers.get("location", ""))) from exc
            raise EndpointFailed(f"{self.config.endpoint}: {what} failed (HTTP {exc.status_code}: "
                                 f"{_api_message(exc)})") from exc
        except openai.OpenAIError as exc:
            raise EndpointFailed(f"{self.config.endpoint}: {what} failed: {_short(str(exc))}") from exc

    def upload(self, name: str, data: bytes) -> dict[str, Any]:
        file = self._call(f"uploading {name}", lambda: self._client.files.create(
            file=(name, data, "application/jsonl"), purpose="batch"))
        return dict(file.model_dump(mode="json"))

    def create(self, input_file_id: str, metadata: dict[str, str]) -> dict[str, Any]:
        batch = self._call("creating the batch", lambda: self._client.batches.create(
            input_file_id=input_file_id, endpoint="/v1/chat/completions", completion_window="24h", metadata=metadata))
        return dict(batch.model_dump(mode="json"))

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        batch = self._call(f"reading batch {batch_id}", lambda: self._client.batches.retrieve(batch_id))
        return dict(batch.model_dump(mode="json"))

    def find(self, input_file_id: str) -> dict[str, Any] | None:
        """A batch already made from this uploaded file (a crash between creating it and noting its id)."""
        page = self._call("listing batches", lambda: self._client.batches.list(limit=100))
        for batch in page.data:
            if batch.input_file_id == input_file_id:
                return dict(batch.model_dump(mode="json"))
        return None

    def download_to(self, file_id: str, sink: Any) -> None:
        """The file's bytes written to `sink` as they arrive (an output file may be gigabytes)."""
        def copy() -> None:
            with self._client.files.with_streaming_response.content(file_id) as response:
                for chunk in response.iter_bytes(1 << 20):
                    sink.write(chunk)

        self._call(f"downloading file {file_id}", copy)

    def cancel(self, batch_id: str) -> dict[str, Any]:
        batch = self._call(f"cancelling batch {batch_id}", lambda: self._client.batches.cancel(batch_id))
        return dict(batch.model_dump(mode="json"))

    def close(self) -> None:
        self._client.close()
