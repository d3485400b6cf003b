"""Batch requests and answers: the OpenAI Batch API's JSONL and vLLM's `run-batch`, through the one cache.

    requests.jsonl  one line per request: custom_id (the request's cache key), method, url, body
                    (the body `ModelClient.complete` would send live: openai/body.py: request_body)
    results.jsonl   one line per answer: custom_id, response.status_code, response.body (a chat
                    completion), or error

Exporting a request also writes a *pending* record into the cache directory
(`<cache-dir>/pending/<key>.json`): what the answer is for (stage, subject, fingerprint, the response
model's name and the validation context) and the request line itself. Importing reads each answer
line, finds its pending record by custom_id, validates the answer exactly like a live answer
(openai/parse.py: parse_completion) and stores it as an ordinary cache entry, so the next run replays it. That is
why importing needs nothing but the results file: the engine that answered (a provider's batch,
vLLM on one GPU box or a Ray cluster) never has to know about briefer.

This module knows nothing of articles or briefs; the caller names the response models.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from briefer.files import (
    MAX_LINE,
    ReadBackError,
    atomic_write,
    atomic_write_pieces,
    inside,
    loads_json,
    pretty_json,
    read_lines,
    read_regular,
)
from briefer.text.tokens import estimate_tokens

from .cache import CacheEntry, Fingerprint, KeptAnswer, ResponseCache, Usage
from .costs import UsageFloor

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
        # Compact: a record holds the request's whole body (schema included), written once per request.
        atomic_write(self._path(pending.key), dumps_line(pending.model_dump(mode="json")))

    def get(self, key: str) -> PendingRequest | None:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            return None  # a custom_id is a hex key; anything else must not become a path
        try:
            return PendingRequest.model_validate_json(read_regular(self._path(key), MAX_LINE))
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
    """Write lines as they come, atomically (a crash leaves the old file or the new one), through the one
    writer (files.py: redacted, mode as the umask says, a short temporary name). Returns how many."""
    n = 0

    def pieces() -> Iterator[str]:
        nonlocal n
        for line in lines:
            n += 1
            yield dumps_line(line)

    atomic_write_pieces(path, pieces())
    return n


Line = tuple[int, dict[str, Any] | None, str]  # (number, the line's JSON object or None, the line or why not)


def read_jsonl(path: Path) -> Iterator[Line]:
    """(line number, the line's object or None when it is not a JSON object, the raw line or why it could not
    be read), streamed: never the whole file, never a line over files.MAX_LINE."""
    with path.open("rb") as fh:
        yield from _parsed_lines(fh, str(path))


def _parsed_lines(stream: IO[bytes], where: str) -> Iterator[Line]:
    """Each non-blank line numbered from 1, with its JSON object (None when it is not one, nested too deeply or
    too long to read: the third item says why then) and as written."""
    for number, raw in read_lines(stream, where):
        if raw is None:
            yield number, None, f"line over {MAX_LINE:,} bytes, not read"
            continue
        if not raw.strip():
            continue
        try:
            value = loads_json(raw, f"{where}: line {number}")
        except ReadBackError as exc:
            yield number, None, str(exc)
            continue
        except ValueError:
            value = None
        if isinstance(value, dict):
            yield number, value, raw
        else:
            yield number, None, "not a JSON object"


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
    kept: list[Rejected] = field(default_factory=list)  # imported in part (counted in `imported`): why not whole
    prompt_tokens: int = 0
    completion_tokens: int = 0
    followup: list[dict[str, Any]] = field(default_factory=list)  # request lines to ask again
    usage_floor: UsageFloor = field(default_factory=UsageFloor)  # usages below the requests' size, counted as such

    @property
    def total(self) -> int:
        return self.imported + self.already + len(self.rejected)


def import_results(lines: Iterable[tuple[int, dict[str, Any] | None, str]], cache: ResponseCache,
                   pending: PendingStore, models: Mapping[str, type[BaseModel]], source: str,
                   now: str) -> ImportReport:
    """Validate each answer like a live one and store the valid ones as cache entries.

    `source` says where the answers came from (a batch id, a results file), kept as the entries'
    endpoint. An invalid or cut-off answer of which part is valid is kept in part, as a live one is once its
    re-asks are spent (a batch has none: a follow-up sends the same request again): stored with the model's
    own words (`KeptAnswer`), from which every replay derives the same result. Rejected answers keep their
    pending record, and their request line goes to `followup`."""
    report = ImportReport()
    for number, line, _raw in lines:
        if line is not None and isinstance(line.get("response"), dict) and isinstance(
                line["response"].get("body"), dict):
            _floor(line["response"]["body"], pending.get(str(line.get("custom_id") or "")), report.usage_floor)
        if line is None:
            report.rejected.append(Rejected(f"line {number}", "", _raw))
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
                found = _answer(request, completion, model)
                if isinstance(found, str):
                    error = found
                else:
                    data, usage, kept = found
                    cache.put(CacheEntry(key=request.key, fingerprint=request.fingerprint, response=data,
                                         usage=usage, recorded_at=now, endpoint=source, kept=kept))
                    if cache.get(request.key) is None:
                        error = f"the cache at {cache.directory} could not store the answer"
                    else:
                        pending.remove(request.key)
                        report.imported += 1
                        report.prompt_tokens += usage.prompt_tokens
                        report.completion_tokens += usage.completion_tokens
                        if kept is not None:
                            report.kept.append(Rejected(custom_id, f"{request.stage} of '{request.subject}'",
                                                        kept.reason))
                        continue
        report.rejected.append(Rejected(custom_id, f"{request.stage} of '{request.subject}'", error or "no answer"))
        report.followup.append(request.line)
    return report


def _floor(completion: dict[str, Any], request: PendingRequest | None, floor: UsageFloor) -> None:
    """A batch answer's usage, never below the request's own size (as live: openai/parse.py floor_usage)."""
    usage = completion.get("usage")
    if request is None or not isinstance(usage, dict):
        return
    from briefer.model.openai.body import request_tokens

    def number(name: str) -> int:
        value = usage.get(name)
        return value if isinstance(value, int) else 0

    output = json.dumps(completion.get("choices") or "", ensure_ascii=False)
    p, c = floor.apply(number("prompt_tokens"), number("completion_tokens"), request_tokens(request.line.get(
        "body") or {}), estimate_tokens(output) // 2)  # the choices' JSON: about twice the answer's own text
    usage.update(prompt_tokens=p, completion_tokens=c, total_tokens=p + c)


def _answer(request: PendingRequest, completion: dict[str, Any], model: type[BaseModel]
            ) -> tuple[dict[str, Any], Usage, KeptAnswer | None] | str:
    """The answer a completion gives the request, validated like a live one: whole, or the part of it that is
    valid with the model's own words (`KeptAnswer`); else why not (a str)."""
    from briefer.errors import RequestFailed
    from briefer.model.endpoint import EndpointConfig
    from briefer.model.openai.parse import parse_completion

    from .answers import keep_part

    try:
        answer = parse_completion(EndpointConfig(model=request.fingerprint.model, mode=request.mode), completion,
                                  model, request.context)
    except RequestFailed as exc:
        if exc.answer_problem is None or not exc.raw_output:
            return str(exc)
        kept = KeptAnswer(raw_output=exc.raw_output, problem=exc.answer_problem,
                          raw_output_tokens=exc.raw_output_tokens, reason=str(exc))
        part = keep_part(model, request.context, kept)
        if part is None:
            return str(exc)
        return part.model_dump(mode="json"), Usage(prompt_tokens=exc.prompt_tokens,
                                                   completion_tokens=exc.completion_tokens), kept
    return answer.data, Usage(prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens), None


# ---------------------------------------------------------------------- batches at the provider
# A run's requests go out as one or more batches ("shards": a batch has limits on requests per file
# and on file size). Their ids and states live in a small JSON file in the output folder, written
# atomically after every step, so a later invocation (another shell, after a crash or a reboot)
# resumes where the last one stopped: a shard is never uploaded or submitted twice.

TERMINAL = ("completed", "failed", "expired", "cancelled")
DEFAULT_MAX_REQUESTS = 50_000  # the Batch API's limit per input file
DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # and its limit on the input file's size


@dataclass(frozen=True)
class Limits:
    max_requests: int = DEFAULT_MAX_REQUESTS
    max_bytes: int = DEFAULT_MAX_BYTES


class Shard(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int
    round: int = 1  # 1: the run's requests; 2, 3, …: follow-ups of what came back without a valid answer
    file: str = Field(pattern=r"^requests-[0-9]{3,6}\.jsonl$")  # the shard's requests, beside the state file
    requests: int
    bytes: int
    input_file_id: str | None = None
    batch_id: str | None = None
    status: str = "written"  # written, uploaded, then the provider's: validating … completed/failed/expired/cancelled
    counts: dict[str, int] = {}
    output_file_id: str | None = None
    error_file_id: str | None = None
    collected: bool = False
    note: str | None = None  # the provider's reason for a failed batch, or what collecting found
    in_progress_at: int | None = None  # the provider's times (Unix seconds), for an ETA
    expires_at: int | None = None


class BatchState(BaseModel):
    model_config = ConfigDict(extra="forbid")
    briefer_batch: int = 1
    endpoint: str
    model: str
    run: dict[str, Any]  # the options the run was made with, so that `collect` writes the same brief
    shards: list[Shard] = []
    estimated_usd: float = 0.0  # the batches' estimated cost so far, held against --max-cost by follow-ups


MAX_STATE = 16 * 1024 * 1024  # a state file of thousands of shards is well under 1 MB


class StateFile:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "state.json"

    def load(self) -> BatchState | None:
        """The state, read back as input: capped, strictly validated (a shard's file must be one of ours)."""
        try:
            return BatchState.model_validate_json(read_regular(self.path, MAX_STATE))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, ValidationError) as exc:
            from briefer.errors import UsageError

            why = str(exc).splitlines()[0]
            if isinstance(exc, ValidationError) and exc.errors():
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                why = f"{where}: {first['msg']}" if where else first["msg"]
            raise UsageError(f"{self.path}: not a briefer batch state file ({why[:300]})") from exc

    def save(self, state: BatchState) -> None:
        atomic_write(self.path, pretty_json(state.model_dump(mode="json")))


def split(lines: Iterable[dict[str, Any]], limits: Limits) -> list[list[str]]:
    """Encoded lines grouped into files within the limits, in order."""
    groups: list[list[str]] = [[]]
    size = 0
    for line in lines:
        text = dumps_line(line)
        n = len(text.encode("utf-8"))
        if n > limits.max_bytes:
            from briefer.errors import UsageError

            raise UsageError(f"request {line.get('custom_id', '')[:16]} alone is {n:,} bytes, over the batch "
                             f"file limit of {limits.max_bytes:,}")
        if groups[-1] and (len(groups[-1]) >= limits.max_requests or size + n > limits.max_bytes):
            groups.append([])
            size = 0
        groups[-1].append(text)
        size += n
    return [g for g in groups if g]


def add_shards(state: BatchState, directory: Path, lines: Iterable[dict[str, Any]], limits: Limits,
               round_: int = 1) -> list[Shard]:
    """Write the lines as shard files and note them in the state (not yet uploaded)."""
    new = []
    for group in split(lines, limits):
        number = len(state.shards) + 1
        name = f"requests-{number:03d}.jsonl"
        text = "".join(group)
        atomic_write(directory / name, text)
        shard = Shard(number=number, round=round_, file=name, requests=len(group), bytes=len(text.encode("utf-8")))
        state.shards.append(shard)
        new.append(shard)
    return new


class Provider(Protocol):
    """What the Files and Batches API offers (openai/files.py: BatchClient)."""

    def upload(self, name: str, data: bytes) -> dict[str, Any]: ...
    def create(self, input_file_id: str, metadata: dict[str, str]) -> dict[str, Any]: ...
    def retrieve(self, batch_id: str) -> dict[str, Any]: ...
    def find(self, input_file_id: str) -> dict[str, Any] | None: ...
    def download_to(self, file_id: str, sink: IO[bytes]) -> None: ...
    def cancel(self, batch_id: str) -> dict[str, Any]: ...


def _note(shard: Shard, batch: dict[str, Any]) -> None:
    shard.status = str(batch.get("status") or shard.status)
    counts = batch.get("request_counts") or {}
    shard.counts = {k: int(v) for k, v in counts.items() if isinstance(v, int)}
    shard.output_file_id = batch.get("output_file_id") or shard.output_file_id
    shard.error_file_id = batch.get("error_file_id") or shard.error_file_id
    for name in ("in_progress_at", "expires_at"):
        if isinstance(batch.get(name), int):
            setattr(shard, name, batch[name])
    errors = (batch.get("errors") or {}).get("data") or []
    if errors:
        shard.note = "; ".join(
            f"{e.get('code') or 'error'}: {e.get('message') or ''}" + (f" (line {e['line']})" if e.get("line") else "")
            for e in errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")


def send(state: BatchState, store: StateFile, client: Provider, say: Any) -> int:
    """Upload and submit every shard not submitted yet, saving the state after each step. Returns how many."""
    sent = 0
    for shard in state.shards:
        if shard.batch_id:
            continue
        if shard.input_file_id is None:
            data = read_regular(shard_path(store, shard), DEFAULT_MAX_BYTES * 2)
            shard.input_file_id = str(client.upload(shard.file, data)["id"])
            shard.status = "uploaded"
            store.save(state)
        # Killed after the provider made the batch but before its id was saved: find it, don't make another.
        batch = client.find(shard.input_file_id) or client.create(
            shard.input_file_id, {"briefer_shard": str(shard.number), "briefer_round": str(shard.round)})
        shard.batch_id = str(batch["id"])
        _note(shard, batch)
        store.save(state)
        say(f"batch {shard.number} submitted: {shard.batch_id} ({shard.requests} requests, {shard.bytes:,} bytes)")
        sent += 1
    return sent


def refresh(state: BatchState, store: StateFile, client: Provider) -> None:
    """Ask the provider how every unfinished batch is doing."""
    for shard in state.shards:
        if shard.batch_id and shard.status not in TERMINAL:
            _note(shard, client.retrieve(shard.batch_id))
    store.save(state)


def shard_path(store: StateFile, shard: Shard) -> Path:
    """A shard's file: in the state's folder, resolved and checked (the name comes from state.json)."""
    try:
        return inside(store.directory, shard.file)
    except ValueError as exc:
        from briefer.errors import UsageError

        raise UsageError(f"{store.path}: batch {shard.number}'s file {shard.file!r} is not in {store.directory}; "
                         "not read") from exc


def shard_lines(store: StateFile, shard: Shard) -> list[dict[str, Any]]:
    return [line for _n, line, _raw in read_jsonl(shard_path(store, shard)) if line is not None]


def download(client: Provider, shard: Shard) -> Iterator[Line]:
    """The lines of a finished batch's output file, then of its error file: each downloaded to a temporary
    file as it streams in, then read line by line (an output file can be gigabytes; none is held whole)."""
    for file_id in (shard.output_file_id, shard.error_file_id):
        if not file_id:
            continue
        with tempfile.TemporaryFile() as sink:
            client.download_to(file_id, sink)
            sink.seek(0)
            yield from _parsed_lines(sink, f"file {file_id} of batch {shard.batch_id}")


def eta(shard: Shard, now: float) -> str:
    """When a running batch should be done, from the provider's counts and the time since it started:
    "ETA about 7 min", or "ETA unknown" when the provider gives too little to tell (no start time, nothing
    done yet). Said as past the batch's expiry when the pace would not make it in time."""
    c = shard.counts
    total, done = c.get("total", shard.requests), c.get("completed", 0) + c.get("failed", 0)
    if shard.status == "finalizing" or (shard.status == "in_progress" and total and done >= total):
        return "ETA: finishing"
    if shard.status != "in_progress" or shard.in_progress_at is None or done <= 0 or now <= shard.in_progress_at:
        return "ETA unknown"
    left = (total - done) * (now - shard.in_progress_at) / done
    if shard.expires_at is not None and now + left > shard.expires_at:
        return (f"ETA about {_duration(left)}, after the batch expires in {_duration(shard.expires_at - now)}: "
                "what is not done by then comes back expired")
    return f"ETA about {_duration(left)}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
