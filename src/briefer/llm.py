"""The only module that imports `openai` and `instructor`.

It knows nothing about articles or briefs: it takes chat messages and a pydantic response
model, and returns the validated answer as JSON data with its token usage.

Retries live in two places, each for one kind of failure, and never multiply:
- transport faults (429, 5xx, timeouts, resets) are retried by the openai client itself
  (`max_retries`, exponential backoff honouring Retry-After);
- invalid output (malformed JSON, schema or source-check violations) is re-asked by
  instructor with the validation error (`max_reasks`), each re-ask being one more request.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from .errors import ArticleFailed, EndpointError, UsageError

# The SDKs are imported when the first request is made, not at start-up: `import instructor`
# alone takes over a second, and a run answered from the cache never needs them.
MODES = {"tools": "TOOLS", "json_schema": "JSON_SCHEMA", "json": "JSON", "md_json": "MD_JSON"}
DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class EndpointConfig:
    model: str
    mode: str = "tools"
    base_url: str | None = None
    timeout: float = 120.0
    max_retries: int = 2
    max_reasks: int = 2
    temperature: float = 0.0
    max_tokens: int | None = None
    # Read from the environment when the client is built; never stored in recordings or caches.
    api_key: str | None = field(default=None, repr=False)

    @property
    def params(self) -> dict[str, Any]:
        """Generation parameters that change the answer: part of the cache key."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

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
    prompt_tokens: int
    completion_tokens: int


def _usage(total: Any) -> tuple[int, int]:
    if total is None:
        return 0, 0
    return int(getattr(total, "prompt_tokens", 0) or 0), int(getattr(total, "completion_tokens", 0) or 0)


def _root_api_error(exc: BaseException) -> BaseException:
    """instructor wraps SDK errors; find the openai error underneath, if any."""
    import openai

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, openai.OpenAIError):
            return cur
        cur = cur.__cause__ or cur.__context__
    return exc


class ModelClient:
    """One per run. The async openai client is built on first use, so a run answered
    entirely from the cache needs no key and imports nothing heavy before it must."""

    def __init__(self, config: EndpointConfig, http_client: Any = None) -> None:
        """`http_client`: an HTTP client of the kind the installed openai SDK takes (httpx / httpx2)."""
        if config.mode not in MODES:
            raise UsageError(f"unknown mode '{config.mode}' (choose from {', '.join(MODES)})")
        self.config = config
        self._http_client = http_client
        self._client: Any = None

    def _instructor(self) -> Any:
        if self._client is None:
            import instructor
            import openai

            # instructor logs every failed attempt at ERROR; with no logging configured Python would
            # print those to stderr. briefer reports failures itself, in one line.
            logging.getLogger("instructor").addHandler(logging.NullHandler())
            cfg = self.config
            key = cfg.api_key or os.environ.get("OPENAI_API_KEY")
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
                max_retries=cfg.max_retries,
                http_client=self._http_client,
            )
            self._client = instructor.from_openai(raw, mode=getattr(instructor.Mode, MODES[cfg.mode]))
        return self._client

    async def complete(
        self, messages: list[dict[str, str]], response_model: type[BaseModel], context: dict[str, Any] | None
    ) -> Answer:
        cfg = self.config
        client = self._instructor()
        kwargs: dict[str, Any] = {"temperature": cfg.temperature}
        if cfg.max_tokens is not None:
            kwargs["max_tokens"] = cfg.max_tokens
        try:
            parsed, _completion = await client.chat.completions.create_with_completion(
                model=cfg.model,
                messages=messages,
                response_model=response_model,
                max_retries=cfg.max_reasks,
                context=context,
                **kwargs,
            )
        except Exception as exc:  # mapped to briefer's error tree below
            raise self._translate(exc) from exc
        prompt_tokens, completion_tokens = _usage(getattr(parsed, "_total_usage", None))
        return Answer(parsed.model_dump(mode="json"), prompt_tokens, completion_tokens)

    def _translate(self, exc: Exception) -> Exception:
        import openai

        root = _root_api_error(exc)
        where = self.config.endpoint
        if isinstance(root, openai.AuthenticationError | openai.PermissionDeniedError):
            return EndpointError(f"{where} rejected the credentials (HTTP {root.status_code}); check OPENAI_API_KEY")
        if isinstance(root, openai.NotFoundError):
            return EndpointError(f"{where}: model '{self.config.model}' not found (HTTP 404)")
        if isinstance(root, openai.APIConnectionError) and not isinstance(root, openai.APITimeoutError):
            return EndpointError(f"cannot reach {where}: {root.__cause__ or root}")
        if isinstance(root, openai.RateLimitError) and "insufficient_quota" in str(root):
            return EndpointError(f"{where}: insufficient quota (HTTP 429); check your plan and billing")
        if isinstance(root, openai.APIStatusError):
            return ArticleFailed(f"{where} answered HTTP {root.status_code}: {_short(root.message)}")
        if isinstance(root, openai.APITimeoutError):
            return ArticleFailed(f"{where} timed out after {self.config.timeout:g}s")
        return ArticleFailed(f"the model's answer was unusable after {self.config.max_reasks + 1} attempts: "
                             f"{_short(str(exc))}")

    async def aclose(self) -> None:
        if self._client is not None:
            raw = getattr(self._client, "client", None)
            if raw is not None:
                await raw.close()


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
