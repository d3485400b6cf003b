"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire format.

Tests drive briefer's real openai client against it. Each request is answered by a
`responder(body) -> dict` that returns the structured answer; the server wraps it the way the
mode in the request asks for: a tool call (tools), JSON content (json_schema / json), or a
fenced JSON block in the content (md_json, recognised by the absence of tools and response_format).

Answers are billed by briefer's rule of thumb (tokens.estimate_tokens: the prompt's messages and schema, the
answer's JSON as written, compactly, the way models write tool arguments), and honour `max_tokens` (or
`max_completion_tokens`) as vLLM, llama.cpp, Ollama and OpenAI do: an answer longer than the cap is cut there,
with finish_reason "length". The answer's fields come in the order the request's schema lists them, as a model
writes them. `prompt_cache=True` reports usage.prompt_tokens_details.cached_tokens like OpenAI: the prefix the
request shares with an earlier one (tools, then messages), in blocks of 128 tokens from 1,024.

A request with `"stream": true` is answered as the OpenAI API streams: server-sent events of chat
completion chunks (the text in pieces of a few characters), a last chunk with the usage when
`stream_options.include_usage` asks for it, then `data: [DONE]`.

Faults are injected on demand through a `FaultPlan`: queues of faults keyed by a text that
appears in the request (an article id) or "*" for any request. Each request takes the next
fault of the first queue that matches; with none left it is answered normally.

    429:S        429 with Retry-After: S seconds         429ms:MS   429 with retry-after-ms: MS
    quota        429 insufficient_quota                   500 / 502 / 503
    hang:S       answer only after S seconds              reset      connection reset mid-response
    malformed    tool arguments that are not JSON         schema     JSON that breaks the schema
    length       finish_reason=length, output cut off     refusal    the model refuses
    401          bad credentials                          404        model not found
    context      context-length error (400)               nomode     400: this mode is not supported
    nojsonschema 400: response_format json_schema unsupported (a server without json_schema)
    contextcap   context-length error: the prompt fits, the completion cap does not (a 13,000-token context)
    empty        200 with an empty body                   nochoices  200, a completion without choices
    nullcontent  200, message content null, no tool call  trickle:S  the answer one byte (streamed: one chunk)
                                                                     every S seconds
    stall:S      streamed: a few chunks, then nothing for S seconds, then the rest
    nostream     a whole JSON completion although the request asked for a stream (a server that cannot stream)
    huge:MB      200 with an MB-sized body                hugeopen:MB  the same without Content-Length
    notool       plain text, no tool call (a server that ignores tool_choice, as llama.cpp does)
    loop         the same entity over and over until finish_reason=length (a small model at temperature 0)
    looptail     the answer as far as its entities, then its first entity over and over until finish_reason=length
    usage:N      the answer, its usage reported as N prompt and N completion tokens (0, or negative)
    deep         200 with a body nested 100,000 deep       redirect:S  status S (301, 307) to `location`
    echo:STATUS  an error (default 500) whose message echoes the Authorization header and the path
    echoanswer   an invalid answer that quotes the Authorization header
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from briefer.text.tokens import estimate_tokens

Responder = Callable[[dict[str, Any]], dict[str, Any]]


class RateLimits:
    """Server-side limits like a provider's: token buckets for requests and tokens per minute.

    Each bucket holds `burst_seconds` worth of its rate and refills continuously; a request that
    finds a bucket short is answered 429 with retry-after-ms. Tokens are charged as billed
    (prompt + completion of the answer)."""

    def __init__(self, rpm: float = 0, tpm: float = 0, burst_seconds: float = 1.0) -> None:
        self.rpm, self.tpm = rpm, tpm
        self._req_cap = max(1.0, rpm / 60 * burst_seconds)
        self._tok_cap = tpm / 60 * burst_seconds
        self._req, self._tok = self._req_cap, self._tok_cap
        self._at = time.monotonic()
        self._lock = threading.Lock()
        self.rejected = 0
        self.admitted = 0
        self.tokens = 0
        self.first: float | None = None
        self.last: float | None = None
        self.log: list[tuple[float, int]] = []  # (time, tokens) of each admitted request

    def _refill(self, now: float) -> None:
        elapsed, self._at = now - self._at, now
        self._req = min(self._req_cap, self._req + elapsed * self.rpm / 60)
        if self.tpm:
            self._tok = min(self._tok_cap, self._tok + elapsed * self.tpm / 60)

    def admit(self, cost: int) -> float | None:
        """None if admitted, else seconds to wait."""
        with self._lock:
            now = time.monotonic()
            self._refill(now)
            short_req = 1 - self._req if self.rpm else 0.0
            short_tok = cost - self._tok if self.tpm else 0.0
            if short_req > 1e-9 or short_tok > 1e-9:
                self.rejected += 1
                return max(short_req * 60 / self.rpm if self.rpm else 0, short_tok * 60 / self.tpm if self.tpm else 0)
            if self.rpm:
                self._req -= 1
            if self.tpm:
                self._tok -= cost
            self.admitted += 1
            self.tokens += cost
            self.first = self.first if self.first is not None else now
            self.last = now
            self.log.append((now, cost))
            return None


class FaultPlan:
    def __init__(self, plan: dict[str, list[str]] | None = None) -> None:
        self._queues = {key: deque(faults) for key, faults in (plan or {}).items()}
        self._lock = threading.Lock()

    def next_for(self, body: dict[str, Any]) -> str | None:
        text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        with self._lock:
            for key, queue in self._queues.items():
                if queue and (key == "*" or key in text):
                    return queue.popleft()
        return None


def _error(status: int, message: str, type_: str, code: str | None = None) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": type_, "param": None, "code": code}}


ERRORS = {
    "quota": _error(429, "You exceeded your current quota, please check your plan and billing details.",
                    "insufficient_quota", "insufficient_quota"),
    "500": _error(500, "The server had an error while processing your request.", "server_error"),
    "502": _error(502, "Bad gateway.", "server_error"),
    "503": _error(503, "The engine is currently overloaded, please try again later.", "server_error"),
    "401": _error(401, "Incorrect API key provided: sk-test****. You can find your API key at ...",
                  "invalid_request_error", "invalid_api_key"),
    "404": _error(404, "The model `no-such-model` does not exist or you do not have access to it.",
                  "invalid_request_error", "model_not_found"),
    "context": _error(400, "This model's maximum context length is 8192 tokens. However, your messages resulted "
                      "in 20345 tokens. Please reduce the length of the messages.", "invalid_request_error",
                      "context_length_exceeded"),
    "nomode": _error(400, "tools are not supported by this model", "invalid_request_error"),
    # A server that knows response_format but not its json_schema type (older vLLM, llama.cpp, LocalAI builds).
    "nojsonschema": _error(400, "response_format type 'json_schema' is not supported; use 'json_object' or 'text'",
                           "invalid_request_error"),
    # The prompt fits, the prompt and the completion cap do not (OpenAI's and vLLM's wording).
    "contextcap": _error(400, "This model's maximum context length is 13000 tokens. However, you requested 13315 "
                         "tokens (3379 in the messages, 9936 in the completion). Please reduce the length of the "
                         "messages or completion.", "invalid_request_error", "context_length_exceeded"),
}


class FakeOpenAI:
    def __init__(self, responder: Responder, faults: FaultPlan | None = None, latency: float = 0.0,
                 limits: RateLimits | None = None, prompt_cache: bool = False,
                 models: list[dict[str, Any]] | None = None) -> None:
        """`models`: what GET /models lists [default: gpt-4o-mini and gpt-4o, as OpenAI lists them: no context
        length]; llama.cpp's server adds `meta.n_ctx_train`, vLLM `max_model_len`."""
        self.responder = responder
        self.prompt_cache = prompt_cache
        self._prefixes: list[str] = []  # what earlier requests sent, for the prompt cache
        self.models = models if models is not None else [
            {"id": name, "object": "model", "created": 1721172741, "owned_by": "system"}
            for name in ("gpt-4o-mini", "gpt-4o")]
        self.faults = faults or FaultPlan()
        self.latency = latency
        self.limits = limits
        self.requests: list[dict[str, Any]] = []
        self.raw: list[bytes] = []  # each request body as it arrived, byte for byte
        self.billed: list[dict[str, int]] = []  # the usage of every completion the server returned
        self.headers: list[dict[str, str]] = []
        self.bytes_sent: list[int] = []  # body bytes written for each huge answer before the client hung up
        self.location = ""  # where the redirect fault points
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # http.server writes the headers and the body in two sends; with Nagle's algorithm on, the body
            # waits for the client's delayed ACK of the headers (~40 ms per answer on Linux loopback), which
            # made every benchmark round 0.54 s instead of 0.5 s. A real provider doesn't stall like that.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._body = {}
                if self.path.endswith("/models"):
                    return self._send(200, {"object": "list", "data": server.models})
                return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                body = json.loads(raw)
                self._body = body
                with server._lock:
                    server.requests.append(body)
                    server.raw.append(raw)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                fault = server.faults.next_for(body)
                if fault is None:
                    answer = completion(body, server.responder(body))
                    if server.prompt_cache:
                        server._cache_usage(body, answer)
                    if server.limits is not None:  # charged on arrival, as providers do
                        wait = server.limits.admit(answer["usage"]["total_tokens"])
                        if wait is not None:
                            return self._send(*_error(429, "Rate limit reached.", "requests", "rate_limit_exceeded"),
                                              headers={"retry-after-ms": str(max(1, int(wait * 1000)))})
                    if server.latency:
                        time.sleep(server.latency)
                    return self._send(200, answer)
                if server.latency:
                    time.sleep(server.latency)
                name, _, arg = fault.partition(":")
                if name == "429":
                    return self._send(*_error(429, "Rate limit reached.", "requests", "rate_limit_exceeded"),
                                      headers={"retry-after": arg})
                if name == "429ms":
                    return self._send(*_error(429, "Rate limit reached.", "requests", "rate_limit_exceeded"),
                                      headers={"retry-after-ms": arg})
                if name in ERRORS:
                    return self._send(*ERRORS[name])
                if name == "hang":
                    time.sleep(float(arg))
                    return self._send(200, completion(body, server.responder(body)))
                if name == "reset":
                    return self._reset()
                if name == "empty":
                    return self._send_raw(b"")
                if name == "nochoices":
                    return self._send(200, {k: v for k, v in completion(body, server.responder(body)).items()
                                            if k != "choices"})
                if name == "nullcontent":
                    return self._send(200, _wrap(body, {"role": "assistant", "content": None}, "stop",
                                                 {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10}))
                if name == "trickle" and body.get("stream"):
                    return self._send(200, completion(body, server.responder(body)), every=float(arg))
                if name == "nostream":
                    return self._send(200, completion(body, server.responder(body)), whole=True)
                if name == "stall":
                    return self._send(200, completion(body, server.responder(body)), stall=float(arg))
                if name == "trickle":
                    data = json.dumps(completion(body, server.responder(body)), ensure_ascii=False).encode()
                    return self._send_raw(data, every=float(arg))
                if name == "usage":  # a full answer billed as ARG tokens each way (0, negative: a lying server)
                    answer = completion(body, server.responder(body))
                    answer["usage"] = {"prompt_tokens": int(arg), "completion_tokens": int(arg),
                                       "total_tokens": 2 * int(arg)}
                    return self._send(200, answer)
                if name == "deep":  # a body nested 100,000 deep
                    return self._send_raw(b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
                if name == "redirect":  # STATUS to server.location
                    return self._send_raw(b"", status=int(arg), headers={"Location": server.location})
                if name in ("huge", "hugeopen"):
                    return self._huge(int(float(arg) * 1e6), with_length=name == "huge")
                auth = self.headers.get("Authorization", "")
                if name == "echo":  # a careless proxy or server that quotes what it was sent
                    return self._send(*_error(int(arg or 500), f"upstream rejected the request: Authorization: "
                                              f"{auth} (path {self.path})", "server_error"))
                answer = server.responder(body)
                if name == "malformed":
                    return self._send(200, completion(body, answer, raw_arguments='{"language": "ar", "outlet'))
                if name == "echoanswer":
                    return self._send(200, completion(body, answer, raw_arguments=json.dumps(
                        {"language": 5, "note": f"you sent Authorization: {auth}"})))
                if name == "schema":
                    return self._send(200, completion(body, {**answer, "language": 5, "key_points": "none"}))
                if name == "length":
                    cut = json.dumps(answer, ensure_ascii=False)[:200]
                    return self._send(200, completion(body, answer, raw_arguments=cut, finish_reason="length"))
                if name == "notool":
                    text = "The article reports a meeting between the prime minister and armed factions."
                    return self._send(200, _wrap(body, {"role": "assistant", "content": text}, "stop",
                                                 {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}))
                if name == "loop":
                    entity = ('{"name_en": "Mohammed Shia al-Sudani", "names_original": ["السوداني"], '
                              '"type": "person"}, ')
                    looped = '{"language": "ar", "entities": [' + entity * 40
                    return self._send(200, completion(body, answer, raw_arguments=looped, finish_reason="length"))
                if name == "looptail":  # what the 0.5B model did on llama.cpp: a valid start, then a loop
                    head = {k: v for k, v in answer.items() if k not in ("entities", "claims", "events",
                                                                          "translation_en", "topics")}
                    entity = json.dumps(answer["entities"][0], ensure_ascii=False) + ", "
                    looped = json.dumps(head, ensure_ascii=False)[:-1] + ', "entities": [' + entity * 40 + entity[:25]
                    return self._send(200, completion(body, answer, raw_arguments=looped, finish_reason="length"))
                if name == "refusal":
                    return self._send(200, refusal(body, "I'm sorry, I can't help with that request."))
                raise AssertionError(f"unknown fault {fault!r}")

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None,
                      every: float = 0.0, stall: float = 0.0, whole: bool = False) -> None:
                if "usage" in payload:
                    with server._lock:
                        server.billed.append(payload["usage"])
                if status == 200 and self._body.get("stream") and not whole:
                    return self._stream(payload, every, stall)
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (e.g. its timeout passed): nothing to answer
                    self.close_connection = True

            def _stream(self, payload: dict[str, Any], every: float, stall: float) -> None:
                """The completion as server-sent events; `every`: seconds between chunks; `stall`: a silence
                of that many seconds after the third chunk."""
                options = self._body.get("stream_options") or {}
                events = [json.dumps(c, ensure_ascii=False) for c in chunks(payload, options.get("include_usage"))]
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    lines = [f"data: {event}\n\n".encode() for event in [*events, "[DONE]"]]
                    if not every and not stall:
                        self.wfile.write(b"".join(lines))
                        return
                    # Each chunk its own TCP segment, at once (as servers that stream do: no Nagle delay).
                    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    for i, line in enumerate(lines):
                        self.wfile.write(line)
                        self.wfile.flush()
                        if every:
                            time.sleep(every)
                        if stall and i == 2:
                            time.sleep(stall)
                except OSError:
                    pass
                finally:
                    self.close_connection = True

            def _send_raw(self, data: bytes, every: float = 0.0, status: int = 200,
                          headers: dict[str, str] | None = None) -> None:
                """A 200 (or `status`) whose body is `data` as given, all at once or one byte every `every` seconds."""
                try:
                    self.send_response(status)
                    for header, value in (headers or {}).items():
                        self.send_header(header, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if not every:
                        self.wfile.write(data)
                        return
                    for i in range(len(data)):
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                        time.sleep(every)
                except OSError:
                    self.close_connection = True

            def _huge(self, size: int, with_length: bool) -> None:
                """A 200 of `size` bytes (the start of a JSON string), written until the client hangs up."""
                chunk = b" " * 65536
                sent = 0
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    if with_length:
                        self.send_header("Content-Length", str(size))
                    else:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    while sent < size:
                        n = min(len(chunk), size - sent)
                        self.wfile.write(chunk[:n])
                        sent += n
                except OSError:
                    pass
                finally:
                    self.close_connection = True
                    with server._lock:
                        server.bytes_sent.append(sent)

            def _reset(self) -> None:
                """Start a response, then drop the connection with a TCP reset."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "5000")
                self.end_headers()
                self.wfile.write(b'{"id": "chatcmpl-fake", "choices": [')
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def finish(self) -> None:
                try:
                    super().finish()
                except OSError:
                    pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # resets and client time-outs are expected here

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def _cache_usage(self, body: dict[str, Any], answer: dict[str, Any]) -> None:
        """usage.prompt_tokens_details.cached_tokens as OpenAI reports it: the longest prefix this request shares
        with an earlier one, in whole blocks of 128 tokens, none under 1,024."""
        sent = json.dumps(body.get("tools") or body.get("response_format") or "", ensure_ascii=False) + "".join(
            str(m.get("content") or "") for m in body.get("messages", []))
        with self._lock:
            shared = max((_common_prefix(sent, earlier) for earlier in self._prefixes), default=0)
            self._prefixes.append(sent)
        tokens = estimate_tokens(sent[:shared])
        cached = tokens // 128 * 128 if tokens >= 1024 else 0
        answer["usage"]["prompt_tokens_details"] = {"cached_tokens": min(cached, answer["usage"]["prompt_tokens"])}

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _schema_order(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The answer's fields in the order of the request's schema (a model writes them in that order)."""
    tools = body.get("tools") or []
    schema = tools[0].get("function", {}).get("parameters", {}) if tools else \
        (body.get("response_format") or {}).get("json_schema", {}).get("schema", {})
    order = list((schema or {}).get("properties", {}))
    if not order or not isinstance(answer, dict):
        return answer
    return {**{k: answer[k] for k in order if k in answer}, **{k: v for k, v in answer.items() if k not in order}}


def cut_at(text: str, max_tokens: int) -> str:
    """The longest start of `text` whose estimated tokens are within `max_tokens`."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if estimate_tokens(text[:mid]) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return text[:low]


def completion(body: dict[str, Any], answer: dict[str, Any], raw_arguments: str | None = None,
               finish_reason: str | None = None) -> dict[str, Any]:
    """Wrap a structured answer as a chat completion in the form the request's mode expects, cut at the request's
    max_tokens (finish_reason "length") when it is longer."""
    arguments = raw_arguments if raw_arguments is not None else json.dumps(
        _schema_order(body, answer), ensure_ascii=False, separators=(",", ":"))
    cap = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(cap, int) and estimate_tokens(arguments) > cap:
        arguments, finish_reason = cut_at(arguments, cap), "length"
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}
        ]
        finish = "tool_calls"
    elif body.get("response_format"):
        message["content"] = arguments
        finish = "stop"
    else:
        message["content"] = f"Here is the record:\n```json\n{arguments}\n```"
        finish = "stop"
    # Billed like a provider, by briefer's rule of thumb: the messages (4 tokens each for the chat format) and the
    # tool or response schema; the answer as written.
    prompt = sum(estimate_tokens(str(m.get("content") or "")) + 4 for m in body.get("messages", []))
    prompt += estimate_tokens(json.dumps(body.get("tools") or body.get("response_format") or "", ensure_ascii=False))
    usage = {"prompt_tokens": prompt, "completion_tokens": estimate_tokens(arguments)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return _wrap(body, message, finish_reason or finish, usage)


def chunks(payload: dict[str, Any], usage: bool | None, size: int = 16) -> list[dict[str, Any]]:
    """A chat completion as the chunks a streaming server sends: the text `size` characters at a time."""
    head = {k: payload.get(k) for k in ("id", "created", "model")}
    head["object"] = "chat.completion.chunk"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    out = []
    for choice in payload.get("choices") or []:
        message = choice["message"]
        out.append(chunk({"role": "assistant", "content": ""}))
        for key in ("content", "refusal"):
            text = message.get(key) or ""
            out.extend(chunk({key: text[i:i + size]}) for i in range(0, len(text), size))
        for n, call in enumerate(message.get("tool_calls") or []):
            out.append(chunk({"tool_calls": [{"index": n, "id": call["id"], "type": "function",
                                              "function": {"name": call["function"]["name"], "arguments": ""}}]}))
            args = call["function"]["arguments"]
            out.extend(chunk({"tool_calls": [{"index": n, "function": {"arguments": args[i:i + size]}}]})
                       for i in range(0, len(args), size))
        out.append(chunk({}, choice["finish_reason"]))
    if usage or not out:
        out.append({**head, "choices": [], "usage": payload.get("usage") if usage else None})
    return out


def refusal(body: dict[str, Any], text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": None, "refusal": text}
    return _wrap(body, message, "stop", {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20})


def _wrap(body: dict[str, Any], message: dict[str, Any], finish: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }
