"""Batch requests and answers: the OpenAI Batch API's JSONL and vLLM's `run-batch`, through the one cache.

    requests.jsonl  one line per request: custom_id (the request's cache key), method, url, body
                    (the body `ModelClient.complete` would send live: llm.request_body)
    results.jsonl   one line per answer: custom_id, response.status_code, response.body (a chat
                    completion), or error

Exporting a request also writes a *pending* record into the cache directory
(`<cache-dir>/pending/<key>.json`): what the answer is for (stage, subject, fingerprint, the response
model's name and the validation context) and the request line itself. Importing reads each answer
line, finds its pending record by custom_id, validates the answer exactly like a live answer
(llm.parse_completion) and stores it as an ordinary cache entry, so the next run replays it. That is
why importing needs nothing but the results file: the engine that answered (a provider's batch,
vLLM on one GPU box or a Ray cluster) never has to know about briefer.

This module knows nothing of articles or briefs; the caller names the response models.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .cache import CacheEntry, Fingerprint, ResponseCache, Usage, atomic_write, pretty_json

URL = "/v1/chat/completions"


class PendingRequest(BaseModel):
    """A request sent to a batch engine whose answer is not in the cache yet."""

    model_config = ConfigDict(extra="forbid")
    briefer_pending: int = 1
    key: str
    stage: str
    subject: str
    schema_name: str  # the response model's class name
    fingerprint: Fingerprint
    context: dict[str, Any] | None
    mode: str
    line: dict[str, Any]  # the request line as written to requests.jsonl


class PendingStore:
    """`<cache-dir>/pending/<key>.json`. Writes are atomic; a damaged record reads as missing."""

    def __init__(self, cache_dir: Path) -> None:
        self.directory = cache_dir / "pending"

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def put(self, pending: PendingRequest) -> None:
        atomic_write(self._path(pending.key), pretty_json(pending.model_dump(mode="json")))

    def get(self, key: str) -> PendingRequest | None:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            return None  # a custom_id is a hex key; anything else must not become a path
        try:
            return PendingRequest.model_validate_json(self._path(key).read_bytes())
        except (OSError, ValueError, ValidationError):
            return None

    def remove(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def request_line(key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"custom_id": key, "method": "POST", "url": URL, "body": body}


def dumps_line(line: dict[str, Any]) -> str:
    """One JSONL line: UTF-8 as written (article text byte for byte), no inner newlines."""
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_jsonl(path: Path, lines: Iterable[dict[str, Any]]) -> int:
    """Write lines atomically (a crash leaves the old file or the new one). Returns how many."""
    text = []
    for line in lines:
        text.append(dumps_line(line))
    atomic_write(path, "".join(text))
    return len(text)


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, the line's object or None when it is not a JSON object, the raw line), streamed."""
    with path.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                value = None
            yield number, value if isinstance(value, dict) else None, raw


def result_completion(line: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The chat completion a result line carries, or why there is none (an error line)."""
    error = line.get("error")
    response = line.get("response") if isinstance(line.get("response"), dict) else None
    if error:
        if isinstance(error, dict):
            return None, f"{error.get('code') or 'error'}: {error.get('message') or ''}".strip()
        return None, str(error)
    if response is None:
        return None, "no response in the result line"
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        message = body.get("error", {}).get("message") if isinstance(body, dict) and isinstance(
            body.get("error"), dict) else body
        return None, f"HTTP {status}: {message}"
    if not isinstance(body, dict):
        return None, "the response has no chat completion body"
    return body, None


@dataclass(frozen=True)
class Rejected:
    custom_id: str
    subject: str  # "" when the custom_id is unknown
    reason: str


@dataclass
class ImportReport:
    imported: int = 0
    already: int = 0  # answers the cache already held (an import run twice)
    rejected: list[Rejected] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    followup: list[dict[str, Any]] = field(default_factory=list)  # request lines to ask again

    @property
    def total(self) -> int:
        return self.imported + self.already + len(self.rejected)


def import_results(lines: Iterable[tuple[int, dict[str, Any] | None, str]], cache: ResponseCache,
                   pending: PendingStore, models: Mapping[str, type[BaseModel]], source: str,
                   now: str) -> ImportReport:
    """Validate each answer like a live one and store the valid ones as cache entries.

    `source` says where the answers came from (a batch id, a results file), kept as the entries'
    endpoint. Rejected answers keep their pending record, and their request line goes to `followup`."""
    from .llm import EndpointConfig, RequestFailed, parse_completion

    report = ImportReport()
    for number, line, _raw in lines:
        if line is None:
            report.rejected.append(Rejected(f"line {number}", "", "not a JSON object"))
            continue
        custom_id = str(line.get("custom_id") or "")
        request = pending.get(custom_id)
        if request is None:
            if custom_id and cache.get(custom_id) is not None:
                report.already += 1
                continue
            report.rejected.append(Rejected(custom_id or f"line {number}", "",
                                            "unknown custom_id: not a request exported from this cache"))
            continue
        completion, error = result_completion(line)
        if completion is not None:
            model = models.get(request.schema_name)
            if model is None:
                error = f"unknown response model {request.schema_name}"
            else:
                try:
                    answer = parse_completion(EndpointConfig(model=request.fingerprint.model, mode=request.mode),
                                              completion, model, request.context)
                except RequestFailed as exc:
                    error = str(exc)
                else:
                    usage = Usage(prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens)
                    cache.put(CacheEntry(key=request.key, fingerprint=request.fingerprint, response=answer.data,
                                         usage=usage, recorded_at=now, endpoint=source))
                    if cache.get(request.key) is None:
                        error = f"the cache at {cache.directory} could not store the answer"
                    else:
                        pending.remove(request.key)
                        report.imported += 1
                        report.prompt_tokens += answer.prompt_tokens
                        report.completion_tokens += answer.completion_tokens
                        continue
        report.rejected.append(Rejected(custom_id, f"{request.stage} of '{request.subject}'", error or "no answer"))
        report.followup.append(request.line)
    return report
