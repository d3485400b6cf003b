"""`briefer doctor`'s checks: is the endpoint in force usable for a run, before the cron job finds out.

Each check is one line: the key (shown redacted), the cache folder (writable, its size), the server (reachable,
the model listed, its context length where the server reports it), and one tiny structured request in the mode
in force, sent through the model door like every request, reporting whether the answer kept to the schema.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from briefer.errors import EndpointFailed, RequestFailed
from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.client import ModelClient
from briefer.model.openai.modes import OTHER_MODES

from .errors import BrieferError
from .model.prompts import Prompts
from .plural import plural

OK, INFO, WARN, FAIL, SKIP = "ok", "info", "warn", "FAIL", "skip"
# Keys a server may report a model's context length under (vLLM, LM Studio, llama.cpp's meta, others).
CONTEXT_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length", "n_ctx")
MAX_CACHE_FILES = 1_000_000  # the cache's size is counted over at most this many files


class Probe(BaseModel):
    """The doctor's one request: a sum, asked as a structured answer."""

    model_config = ConfigDict(extra="forbid")
    answer: int = Field(description="The sum asked for, as a whole number.")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, info, warn, FAIL, skip
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def key_check(endpoint: EndpointConfig, environ: dict[str, str] | None = None) -> Check:
    """Whether an API key is set, shown as its last four characters and length only."""
    from .keys import clean_key

    raw = endpoint.api_key or (environ if environ is not None else os.environ).get("OPENAI_API_KEY", "")
    if not raw:
        if endpoint.base_url:
            return Check("API key", INFO, "OPENAI_API_KEY not set (a local server needs none)")
        return Check("API key", FAIL, "OPENAI_API_KEY not set; set it, or use --base-url for a local server")
    try:
        key = clean_key(raw)
    except BrieferError as exc:
        return Check("API key", FAIL, str(exc))
    return Check("API key", OK, f"set (…{key[-4:] if len(key) > 12 else ''}, {len(key)} characters)")


def cache_check(cache_dir: Path | None) -> Check:
    """Whether the cache folder can be written, and what it holds."""
    if cache_dir is None:
        return Check("cache", SKIP, "--no-cache: no cache is read or written")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".doctor-", delete=True) as f:
            f.write(b"ok")
    except OSError as exc:
        return Check("cache", FAIL, f"{cache_dir} is not writable: {exc.strerror or exc}")
    files, size = 0, 0
    for root, _, names in os.walk(cache_dir):
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
            files += 1
        if files >= MAX_CACHE_FILES:
            break
    return Check("cache", OK, f"{cache_dir} writable, {size / 1e6:.1f} MB in {plural(files, 'file')}")


def context_length(entry: dict[str, Any]) -> int | None:
    """The context length a /models entry reports, where it reports one."""
    for where in (entry, entry.get("meta") or {}):
        if not isinstance(where, dict):
            continue
        for key in (*CONTEXT_KEYS, "n_ctx_train"):
            value = where.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


async def server_checks(endpoint: EndpointConfig, client: ModelClient) -> list[Check]:
    """Reachable and the model listed, then its context length."""
    try:
        models = await client.list_models()
    except EndpointFailed as exc:
        return [Check("server", FAIL, str(exc))]
    if models is None:
        return [Check("server", WARN, f"{endpoint.endpoint} reachable, but it lists no models (HTTP 404 on "
                                      "/models)"), Check("context length", INFO, "not reported by the server")]
    ids = [str(m.get("id")) for m in models]
    entry = next((m for m in models if m.get("id") == endpoint.model), None)
    if entry is None:
        listed = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
        return [Check("server", FAIL, f"{endpoint.endpoint} reachable, but model '{endpoint.model}' is not listed "
                                      f"(it lists {listed or 'none'}); give --model")]
    server = Check("server", OK, f"{endpoint.endpoint} reachable, model '{endpoint.model}' listed "
                                 f"({plural(len(ids), 'model')} in all)")
    n = context_length(entry)
    context = Check("context length", OK, f"{n:,} tokens (reported by the server)") if n else \
        Check("context length", INFO, "not reported by the server")
    return [server, context]


async def request_check(endpoint: EndpointConfig, client: ModelClient, prompts: Prompts) -> Check:
    """One tiny structured request in the mode in force: did the answer keep to the schema?"""
    name = f"structured request (--mode {endpoint.mode})"
    started = time.monotonic()
    try:
        answer = await client.complete(prompts.render("doctor").messages, Probe, None, default_max_tokens=64)
    except EndpointFailed as exc:
        return Check(name, FAIL, str(exc))
    except RequestFailed as exc:
        other = OTHER_MODES[endpoint.mode]
        return Check(name, FAIL, f"the answer did not keep to the schema: {exc}; try --mode {other}")
    took = time.monotonic() - started
    value = answer.parsed.answer if isinstance(answer.parsed, Probe) else None
    sum_note = "" if value == 5 else f" (but it answered 2 + 3 = {value})"
    return Check(name, OK, f"the answer kept to the schema in {took:.2f} s, {answer.prompt_tokens} prompt + "
                           f"{answer.completion_tokens} completion tokens{sum_note}")


async def diagnose(endpoint: EndpointConfig, cache_dir: Path | None, *, prompt_dir: Path | None = None,
                   client_factory: Callable[[EndpointConfig], ModelClient] = ModelClient) -> list[Check]:
    """Every check, in order. The endpoint is asked once to list its models and once to answer: no retries, no
    re-asks (a re-ask would hide an answer that broke the schema), and at most 30 s of silence."""
    checks = [key_check(endpoint), cache_check(cache_dir)]
    if checks[0].failed:
        return [*checks, Check("server", SKIP, "not asked: no API key")]
    probe = replace(endpoint, max_retries=0, max_reasks=0, timeout=min(endpoint.timeout, 30.0),
                    max_time=min(endpoint.max_time, 120.0))
    client = client_factory(probe)
    try:
        found = await server_checks(probe, client)
        checks += found
        if found[0].failed and found[0].detail.startswith("cannot reach"):
            return [*checks, Check(f"structured request (--mode {probe.mode})", SKIP, "not sent: the server is "
                                                                                      "unreachable")]
        checks.append(await request_check(probe, client, Prompts(prompt_dir)))
    finally:
        await client.aclose()
    return checks
