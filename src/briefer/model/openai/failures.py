"""Errors in one line: what the SDK or instructor raised, translated into briefer's error tree.

Errors that no retry can fix stop at once: bad credentials (401/403), unknown model (404), exhausted quota
(429 insufficient_quota) and an unreachable endpoint end the run (`EndpointFailed`); a context-length error,
an answer cut off by max_tokens, a refusal or output still invalid after the re-asks fail just that request
(`RequestFailed`). Messages name the endpoint, never the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from briefer.errors import AnswerProblem, EndpointFailed, RequestFailed

from .modes import MODE_SPECS, OTHER_MODES

if TYPE_CHECKING:
    from briefer.model.endpoint import EndpointConfig

    from .transport import Attempts

SLOW_ENDPOINT = "a slow endpoint, such as a local model on a CPU, needs a larger --timeout"


_CONTEXT_SIZE = re.compile(r"(?:maximum context length is|context (?:size|length|window)(?: is| of)?|n_ctx[ =:]*)"
                           r"\s*\(?(\d{3,7})", re.IGNORECASE)


_PROMPT_SIZE = re.compile(r"messages resulted in (\d+) tokens", re.IGNORECASE)


def context_size(message: str) -> int | None:
    """The server's context in tokens, where its context-length error says it (OpenAI, vLLM: "maximum context
    length is 8192 tokens"; llama.cpp: "the request exceeds the available context size (4096 tokens)")."""
    found = _CONTEXT_SIZE.search(message)
    return int(found.group(1)) if found else None


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


def translate(config: EndpointConfig, exc: Exception, seen: Attempts, usage: list[int],
              cfg_cap: int | None = None) -> Exception:
    """`cfg_cap`: the default completion cap the request carried, if any."""
    import openai

    root = _root_api_error(exc)
    where = config.endpoint
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
        return EndpointFailed(f"{where}: model '{config.model}' not found (HTTP 404)", attempts=attempts)
    if isinstance(root, openai.RateLimitError) and _error_code(root) == "insufficient_quota":
        return EndpointFailed(f"{where}: insufficient quota (HTTP 429 insufficient_quota); check your plan and "
                              "billing", attempts=attempts)
    if isinstance(root, openai.APITimeoutError):
        return failed(f"{where} timed out (nothing received for {config.timeout:g}s; {SLOW_ENDPOINT}) "
                      f"{tries}")
    if isinstance(root, openai.APIConnectionError):
        if _cannot_connect(root):
            return EndpointFailed(f"cannot reach {where}: {_connect_reason(root)}", attempts=attempts)
        return failed(f"connection to {where} failed {tries}: {_connection_problem(root)}")
    if isinstance(root, openai.BadRequestError):
        return _bad_request(config, root, failed, attempts, cfg_cap)
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



def _bad_request(config: EndpointConfig, root: Any, failed: Callable[[str], RequestFailed], attempts: int,
                 cfg_cap: int | None) -> Exception:
    """An HTTP 400 in one line: the context is too small, the mode is not served, or the request is refused."""
    where = config.endpoint
    code, message = _error_code(root), _api_message(root)
    if code == "context_length_exceeded" or "context length" in message.lower() or "maximum context" in \
            message.lower():
        capped = "" if cfg_cap is None else (f"; briefer capped the answer at {cfg_cap} tokens, as no "
                                             "--max-tokens was given: a smaller --max-tokens may fit")
        return failed(f"the article is too long for the model's context window ({message}); split it "
                      f"with --max-input-tokens or use a model with a longer context{capped}")
    if mode_rejected(config.mode, message):
        other = OTHER_MODES[config.mode]
        return EndpointFailed(f"{where} rejected --mode {config.mode} (HTTP 400: {message}); try "
                              f"--mode {other}", attempts=attempts)
    return failed(f"{where} refused the request (HTTP 400: {message})")


def mode_rejected(mode: str, message: str) -> bool:
    """A 400 whose message says the server does not take this structured-output mode."""
    text = message.lower()
    words = MODE_SPECS[mode].rejected_words
    return any(w in text for w in words) and any(n in text for n in ("not support", "unsupported", "invalid",
                                                                      "unknown", "not allowed"))
