"""What a run asks of the model endpoint (EndpointConfig): model, mode, URL, limits, sampling; checked when
built, so a notebook gets the command line's one-line errors. Plain data: the client is model/openai/."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from briefer.defaults import MODES
from briefer.errors import UsageError
from briefer.keys import clean_key
from briefer.redact import register_url

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_TIME = 600.0  # --max-time: one attempt in all (a 1B model on a CPU writes ~3,000 tokens in 2-8 minutes)
DEFAULT_MAX_RESPONSE_BYTES = 8_000_000  # --max-response-mb 8: an extraction is tens of KB, 8 MB far past any


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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES  # a larger response fails its request unread
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
