"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire format.

Tests drive briefer's real openai client against it. Each request is answered by a
`responder(body) -> dict` that returns the structured answer; the server wraps it the way the
mode in the request asks for: a tool call (tools), JSON content (json_schema / json), or a
fenced JSON block in the content (md_json, recognised by the absence of tools and response_format).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], dict[str, Any]]


class FakeOpenAI:
    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                answer = server.responder(body)
                self._send(200, completion(body, answer))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

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


def completion(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """Wrap a structured answer as a chat completion in the form the request's mode expects."""
    arguments = json.dumps(answer, ensure_ascii=False)
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
    prompt_chars = sum(len(m.get("content") or "") for m in body.get("messages", []))
    usage = {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(arguments) // 4}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }
