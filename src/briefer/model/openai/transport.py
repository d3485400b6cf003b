"""Transport and retries: each HTTP request to the model, in its --concurrency slot, retried with tenacity.

Transport faults (429 rate limits, 408/409/5xx, timeouts, connection resets) are retried here, per HTTP
request: exponential backoff with jitter, or the server's Retry-After (`retry-after-ms`, `retry-after` in
seconds or as a date) when it gives one. A Retry-After above `max_retry_after` fails the request at once with
a message instead of waiting, and no request is sent until that time. `timeout` bounds each silence of the
server (the SDK's read timeout; with `stream`, between two tokens), `max_time` each attempt as a whole: an
attempt cut at `max_time` is not retried, since the same request would run as long again. A 200 that carries
no usable completion (empty body, no choices, no content) is the server's fault and is retried here too
(wire.py); a response over `max_response_bytes` fails unread. The openai client's own retries are switched
off (`max_retries=0`) so they cannot stack on these. A `Meter` holds each HTTP request's estimated cost
against --max-cost while it is in flight.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from briefer.errors import EndpointFailed, RequestFailed
from briefer.model.costs import UsageFloor
from briefer.model.ratelimit import RateLimiter
from briefer.model.stream import Streamed, sse_lines
from briefer.model.turns import Turns

from . import wire
from .body import request_kind, request_tokens
from .failures import _cannot_connect, _chain, _error_code, _short, redirect_line, repeated_tail
from .parse import _answered_without_tool, _cached, _raw_output, _refusal, _usage, floor_usage

if TYPE_CHECKING:
    from briefer.model.endpoint import EndpointConfig

Post = Callable[[dict[str, Any]], Awaitable[Any]]


class Meter(Protocol):
    """Holds each HTTP request's estimated cost while it is in flight (the gateway's --max-cost)."""

    def reserve(self, prompt_tokens: int) -> float:
        """Hold the request's estimated cost; raise BudgetExceeded to keep it unsent."""
        ...

    def settle(self, reserved: float, usage: tuple[int, ...] | None) -> None:
        """Release the hold and count the billed (prompt, completion, cached) usage (None: billed, usage unknown)."""
        ...


@dataclass
class Attempts:
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


_attempts: contextvars.ContextVar[Attempts] = contextvars.ContextVar("briefer_http_attempts")


def current_attempts() -> int:
    counter = _attempts.get(None)
    return counter.count if counter else 1


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


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


class _Transient(Exception):
    """Marks an API error the retry layer will try again, with the delay to wait (None: backoff)."""

    def __init__(self, error: BaseException, delay: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


class Transport:
    """The HTTP side of a ModelClient: rate limits, the server's pauses, the usage floor, and the retry layer
    around the SDK's post."""

    def __init__(self, config: EndpointConfig, sleep: Callable[[float], Awaitable[None]] | None = None,
                 on_tokens: Callable[[int], None] | None = None) -> None:
        self.config = config
        self._sleep = sleep
        self._on_tokens = on_tokens
        self._paused: tuple[float, str] | None = None  # (until, why): the server asked for a long wait
        self.limiter = RateLimiter(config.rpm, config.tpm, sleep=sleep or _asyncio_sleep)
        self.usage_floor = UsageFloor()  # usages the server reported below the request's size
        self.turns = Turns()

    def with_retries(self, post: Post) -> Post:
        """`post` (one HTTP request) wrapped in briefer's retry layer."""
        import tenacity

        cfg = self.config

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.delay is not None:
                return exc.delay
            backoff = min(cfg.backoff_max, cfg.backoff_base * 2.0 ** (state.attempt_number - 1))
            return float(backoff * (0.75 + random.random() / 2))  # jitter: +/- 25 %

        async def with_retries(body: dict[str, Any]) -> Any:
            retrying = tenacity.AsyncRetrying(
                retry=tenacity.retry_if_exception_type(_Transient),
                stop=tenacity.stop_after_attempt(cfg.max_retries + 1),
                wait=wait,
                sleep=self._sleep or _asyncio_sleep,
                reraise=True,
            )
            try:
                return await retrying(self._attempt, post, body)
            except _Transient as exc:
                if isinstance(exc.error, wire.ServerFault):
                    n = current_attempts()
                    sent = f"; it sent: {exc.error.sent}" if exc.error.sent else ""
                    raise RequestFailed(f"{cfg.endpoint} {exc.error} after {n} HTTP attempt{'s' if n != 1 else ''}"
                                        f"{sent}", attempts=n) from exc.error
                raise exc.error from exc.error.__cause__  # the SDK's own error, its cause chain kept

        return with_retries

    async def _attempt(self, post: Post, body: dict[str, Any]) -> Any:
        counter = _attempts.get(None)
        slot = counter.slot if counter is not None else None
        if slot is None:
            return await self._attempt_in_slot(post, body)
        # The slot is held while the request is sent and answered, not while its answer is checked or a
        # retry's backoff passes: a request waiting to be re-asked or retried keeps no other one waiting.
        async with slot:
            return await self._attempt_in_slot(post, body)

    async def _attempt_in_slot(self, post: Post, body: dict[str, Any]) -> Any:
        cfg = self.config
        if self._paused is not None and time.monotonic() < self._paused[0]:
            raise RequestFailed(f"not sent: {self._paused[1]}", attempts=current_attempts())
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
        seen.on_request = sent = self.turns.begin_send()  # answers are checked after this request has left
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
            failure = self._failed_attempt(exc, seen, counter, deadline.expired())
            if failure is exc:
                raise
            raise failure from exc
        finally:
            sent()  # sent, failed or cancelled: no answer waits for this request any more
        usage = getattr(response, "usage", None)
        if usage is not None:  # never below the request's own size (the budget counts it)
            floor_usage(usage, self.usage_floor, request_tokens(body), _raw_output(response))
        if meter is not None:
            meter.settle(held, (*_usage(usage), _cached(usage)) if usage is not None else None)
        if reservation:
            self.limiter.settle(reservation, *_usage(usage))
        self._check_answer(response, seen, counter)
        return response

    def _failed_attempt(self, exc: Exception, seen: wire.Seen, counter: Attempts | None,
                        expired: bool) -> BaseException:
        """What a failed attempt raises: a _Transient the retry layer tries again, or the failure itself."""
        if expired:
            return self._too_slow(counter)
        fault = self._fault(exc, seen)
        if fault is not None:
            return _Transient(fault, None)
        delay = self._transient_delay(exc)
        if delay is False:
            return exc
        return _Transient(exc, delay if isinstance(delay, float) else None)

    def _check_answer(self, response: Any, seen: wire.Seen, counter: Attempts | None) -> None:
        """A response the server sent with HTTP 200, checked for the server's faults and noted."""
        cfg = self.config
        problem = wire.unusable(response, seen)
        if problem is not None:  # the server's fault, not the model's: retried, never re-asked
            raise _Transient(problem, None)
        if counter is not None:
            counter.answers += 1
            counter.last_output = _raw_output(response)
            counter.last_output_tokens = _usage(getattr(response, "usage", None))[1]
            counter.last_refusal = _refusal(response)
        if cfg.mode == "tools" and _answered_without_tool(response):
            # llama.cpp ignores a forced tool_choice it cannot parse and answers in prose, with HTTP 200:
            # every request would do the same, and no re-ask can fix it.
            raise EndpointFailed(
                f"{cfg.endpoint} answered in plain text instead of calling the tool (--mode tools): the server "
                "ignores tool_choice; use --mode json_schema (or --mode json)", attempts=current_attempts())

    def _fault(self, exc: BaseException, seen: wire.Seen) -> wire.ServerFault | None:
        """A failed attempt that is the server's fault (a transient one), or one no retry can fix (raised)."""
        chain = _chain(exc)
        moved = next((e for e in chain if isinstance(e, wire.Redirected)), None)
        if moved is not None:
            raise EndpointFailed(redirect_line(self.config.endpoint, moved.status, moved.location),
                                 attempts=current_attempts()) from exc
        if any(isinstance(e, RecursionError) for e in chain):
            return wire.ServerFault("answered with a body nested too deeply to read (a server fault)", seen.excerpt())
        too_large = next((e for e in chain if isinstance(e, wire.ResponseTooLarge)), None)
        if too_large is not None:  # the same request would get the same answer: not retried
            raise RequestFailed(f"{self.config.endpoint}: {too_large}", attempts=current_attempts()) from exc
        if any(isinstance(e, json.JSONDecodeError) for e in chain):  # the SDK could not parse a 2xx body
            return wire.unreadable(seen)
        return None

    def _too_slow(self, seen: Attempts | None) -> RequestFailed:
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
                             attempts=current_attempts(), raw_output=text or None)

    async def collect(self, stream: Any, completion_type: Any) -> Any:
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
                    raise RequestFailed(reason, attempts=current_attempts()) from exc
                return delay
        return False
