"""What briefer lets through from the wire, below the openai SDK: a cap on response size, and a
check that an HTTP 200 carries a usable chat completion.

It works on the HTTP client the SDK uses (httpx, or httpx2 in newer SDKs) through its public
`event_hooks` and byte streams, so it imports neither; it is part of the openai door (model/openai/) all the same.

- Redirects: a 3xx is refused, not followed (`Redirected`): the user should fix --base-url.
- Size: a body larger than the cap is refused (from Content-Length when given, else while it
  streams in), so a runaway or hostile server cannot make briefer hold hundreds of MB per request.
- Shape: an empty body, a body that is not JSON, no `choices`, or an answer with no content and
  no tool call is the server's fault, not the model's: the retry layer retries it like a 5xx
  instead of re-asking the model, and the failure quotes what the server sent.
"""

from __future__ import annotations

import contextvars
import importlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

_HEAD = 300  # bytes of each body kept to quote in a failure


class ResponseTooLarge(Exception):
    """The server sent more than the cap; the rest was not read."""


class Redirected(Exception):
    """The server answered a redirect: never followed for API requests (the request carries the key and the
    article text, and a 301/302 would turn the POST into a GET)."""

    def __init__(self, status: int, location: str) -> None:
        super().__init__(f"HTTP {status} to {location or 'nowhere given'}")
        self.status, self.location = status, location


class ServerFault(Exception):
    """The server answered without a usable chat completion: transient, retried, never re-asked.
    `sent`: the start of what it sent, to quote."""

    def __init__(self, message: str, sent: str = "") -> None:
        super().__init__(message)
        self.sent = sent


@dataclass
class Seen:
    """What the current HTTP attempt received: its status and the first bytes of its body."""

    status: int | None = None
    head: bytes = b""
    on_request: Callable[[], None] | None = None  # told when the HTTP client is about to send the request

    def excerpt(self) -> str:
        text = " ".join(self.head.decode("utf-8", "replace").split())
        return text[:200] + ("…" if len(text) > 200 or len(self.head) >= _HEAD else "")


_seen: contextvars.ContextVar[Seen | None] = contextvars.ContextVar("briefer_wire_seen", default=None)


def watch() -> Seen:
    """Start watching one HTTP attempt (call before sending it, in the same task)."""
    seen = Seen()
    _seen.set(seen)
    return seen


def install(http_client: Any, max_bytes: int) -> Any:
    """Cap every response `http_client` receives at `max_bytes`, and keep each body's first bytes."""

    async def on_request(request: Any) -> None:
        seen = _seen.get()
        if seen is not None and seen.on_request is not None:
            seen.on_request()

    async def on_response(response: Any) -> None:
        seen = _seen.get()
        if seen is not None:
            seen.status = response.status_code
        if 300 <= response.status_code < 400:  # raised before the HTTP client would follow it
            await response.aclose()
            raise Redirected(response.status_code, response.headers.get("location", ""))
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            await response.aclose()
            raise ResponseTooLarge(_too_large(int(length), max_bytes))
        response.stream = _capped_stream_class(response)(response.stream, max_bytes, seen)

    http_client.event_hooks["request"].append(on_request)
    http_client.event_hooks["response"].append(on_response)
    return http_client


def _too_large(size: int | None, cap: int) -> str:
    sent = f"{size / 1e6:.1f} MB" if size is not None else "more"
    return (f"the response was larger than the {cap / 1e6:g} MB cap (the server sent {sent}); not read further. "
            "Raise --max-response-mb if answers this large are expected")


_classes: dict[type, type] = {}


def _capped_stream_class(response: Any) -> type:
    """A byte stream of the HTTP library the response comes from (httpx or httpx2): the library
    only reads bodies from streams of its own `AsyncByteStream` type."""
    library = importlib.import_module(type(response).__module__.partition(".")[0])
    base: type = library.AsyncByteStream
    if base not in _classes:

        class Capped(base):  # type: ignore[misc]
            def __init__(self, stream: Any, limit: int, seen: Seen | None) -> None:
                self._stream, self._limit, self._seen = stream, limit, seen

            async def __aiter__(self) -> AsyncIterator[bytes]:
                total = 0
                async for chunk in self._stream:
                    total += len(chunk)
                    if total > self._limit:
                        await self._stream.aclose()
                        raise ResponseTooLarge(_too_large(None, self._limit))
                    if self._seen is not None and len(self._seen.head) < _HEAD:
                        self._seen.head += chunk[: _HEAD - len(self._seen.head)]
                    yield chunk

            async def aclose(self) -> None:
                await self._stream.aclose()

        _classes[base] = Capped
    return _classes[base]


def unusable(completion: Any, seen: Seen | None) -> ServerFault | None:
    """Why a parsed 200 is not a chat completion briefer can use (None: it is usable)."""
    sent = seen.excerpt() if seen is not None else ""
    choices = getattr(completion, "choices", None)
    if not choices:
        return ServerFault("answered HTTP 200 with no choices", sent)
    message = getattr(choices[0], "message", None)
    if message is None:
        return ServerFault("answered HTTP 200 with no message", sent)
    if getattr(choices[0], "finish_reason", None) == "length":
        return None  # cut off at max_tokens: reported as such by the caller
    has = (getattr(message, "content", None) or getattr(message, "tool_calls", None)
           or getattr(message, "function_call", None) or getattr(message, "refusal", None))
    return None if has else ServerFault("answered HTTP 200 with an empty answer (no content, no tool call)", sent)


def unreadable(seen: Seen | None) -> ServerFault:
    """Why the SDK could not parse a 200's body."""
    if seen is None or not seen.head.strip():
        return ServerFault("answered HTTP 200 with an empty body")
    return ServerFault("answered HTTP 200 with a body that is not JSON", seen.excerpt())
