"""A streamed chat completion read as it comes (--stream): the server-sent event lines, and the chunks'
deltas gathered into one completion, in the shape of a non-streamed one. Plain data: no SDK here."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

_LINE_END = re.compile(rb"\r\n|\r|\n")


async def sse_lines(chunks: Any) -> Any:
    """The lines of a server-sent event stream, split where SSE splits them (CR, LF, CRLF) and nowhere
    else: a JSON string may hold U+2028, which str.splitlines would break on."""
    rest = b""
    async for chunk in chunks:
        lines = _LINE_END.split(rest + chunk)
        rest = lines.pop()
        for line in lines:
            yield line
    if rest:
        yield rest


@dataclass
class Streamed:
    """A streamed answer as far as it came: the chunks' deltas gathered into one chat completion."""

    started: float = field(default_factory=time.monotonic)
    head: dict[str, Any] = field(default_factory=dict)
    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish: str | None = None
    usage: dict[str, Any] | None = None
    tokens: int = 0  # chunks that carried text: a token each, for OpenAI, llama.cpp, vLLM and Ollama

    def add(self, chunk: dict[str, Any]) -> int:
        """Take one chunk (JSON data); how many tokens it carried."""
        if not self.head:
            self.head = {key: chunk.get(key) for key in ("id", "created", "model", "system_fingerprint")}
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        n = 0
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.content.append(delta["content"])
                n = 1
            if delta.get("refusal"):
                self.refusal.append(delta["refusal"])
                n = 1
            for call in delta.get("tool_calls") or ():
                slot = self.calls.setdefault(call.get("index", 0), {"id": None, "type": "function",
                                                                    "function": {"name": "", "arguments": ""}})
                slot["id"] = call.get("id") or slot["id"]
                function = call.get("function") or {}
                slot["function"]["name"] += function.get("name") or ""
                if function.get("arguments"):
                    slot["function"]["arguments"] += function["arguments"]
                    n = 1
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        self.tokens += n
        return n

    def text(self) -> str:
        if self.calls:
            return "\n".join(c["function"]["arguments"] for _, c in sorted(self.calls.items()))
        return "".join(self.content) or "".join(self.refusal)

    def completion(self) -> dict[str, Any]:
        """As JSON data, in the shape of a non-streamed chat completion (no choices if no chunk carried one)."""
        out: dict[str, Any] = {**self.head, "object": "chat.completion", "choices": [], "usage": self.usage}
        if self.content or self.refusal or self.calls or self.finish:
            message: dict[str, Any] = {"role": "assistant", "content": "".join(self.content) or None,
                                       "refusal": "".join(self.refusal) or None}
            if self.calls:
                message["tool_calls"] = [c for _, c in sorted(self.calls.items())]
            out["choices"] = [{"index": 0, "message": message, "finish_reason": self.finish or "stop",
                               "logprobs": None}]
        return out
