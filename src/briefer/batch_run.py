"""A run whose article requests are answered by a batch engine, then replayed from the cache.

    folder ──planned article requests──▶ requests.jsonl (export; or submit: Files + Batches API)
    results.jsonl / the batch's output ──validated like live answers──▶ cache (import; or collect)
    then the ordinary run (pipeline.run): articles from the cache, merge live ──▶ brief

Only the first round goes into a batch: one request per article (or one per part of a long
article). What depends on those answers (the reduce call over a long article's parts, a re-ask for
quotes not found, the merge) is asked by the ordinary run afterwards, through the same gateway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from .errors import UsageError
from .extract.article import planned_calls
from .model.answers import Call, Gateway
from .model.batch import (
    ImportReport,
    PendingRequest,
    PendingStore,
    import_results,
    read_jsonl,
    request_line,
    write_jsonl,
)
from .model.llm import request_body
from .model.prompts import Prompts
from .models import ArticleDigest, ArticleExtraction, BriefDraft, BriefOverview, StoriesDraft
from .pipeline import RunConfig, SilentReporter, _check, _gateway, _read

# The answers a batch can hold, by the name its pending record gives.
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m for m in (ArticleExtraction, ArticleDigest, BriefDraft, StoriesDraft, BriefOverview)
}


@dataclass(frozen=True)
class Planned:
    calls: list[Call]  # requests with no answer yet, in folder order
    answered: int  # requests the cache or a recording already answers
    articles: int
    gateway: Gateway


def plan(cfg: RunConfig) -> Planned:
    """The first-round article requests of a run that nothing answers yet."""
    _check(cfg)
    if cfg.cache_dir is None:
        raise UsageError("batches need the response cache: drop --no-cache")
    if cfg.offline:
        raise UsageError("--offline sends nothing: a batch cannot be made offline")
    folder = _read(cfg)
    prompts = Prompts(cfg.prompt_dir)
    gateway = _gateway(cfg, SilentReporter())
    todo: list[Call] = []
    answered = 0
    seen: set[str] = set()
    for article in folder.articles:
        for call in planned_calls(article, prompts, cfg.max_input_tokens):
            key = gateway.cache_key(call)
            if key in seen:
                continue  # two copies of one text ask one question
            seen.add(key)
            if gateway.has_answer(call):
                answered += 1
            else:
                todo.append(call)
    return Planned(todo, answered, len(folder.articles), gateway)


def request_lines(planned: Planned, cfg: RunConfig) -> list[dict[str, object]]:
    """One Batch-API line per request, each registered as pending in the cache directory."""
    assert cfg.cache_dir is not None
    pending = PendingStore(cfg.cache_dir)
    lines: list[dict[str, object]] = []
    for call in planned.calls:
        key = planned.gateway.cache_key(call)
        line = request_line(key, request_body(cfg.endpoint, call.messages, call.response_model))
        pending.put(PendingRequest(key=key, stage=call.stage, subject=call.subject,
                                   schema_name=call.response_model.__name__,
                                   fingerprint=planned.gateway.fingerprint(call), context=call.context,
                                   mode=cfg.endpoint.mode, line=line))
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Exported:
    path: Path
    requests: int
    answered: int
    articles: int


def export(cfg: RunConfig, path: Path) -> Exported:
    """Write the run's unanswered article requests as Batch-API JSONL (for vLLM run-batch, or by hand)."""
    planned = plan(cfg)
    n = write_jsonl(path, request_lines(planned, cfg))
    return Exported(path, n, planned.answered, planned.articles)


def followup_path(results: Path) -> Path:
    return results.with_name(results.stem + ".followup.jsonl")


def import_file(results: Path, cache_dir: Path, source: str | None = None,
                followup: Path | None = None) -> tuple[ImportReport, Path | None]:
    """Validate and cache the answers of a results file. The requests to ask again (errors, invalid
    answers) are written as a requests file beside it; returns the report and that file, if any."""
    if not results.is_file():
        raise UsageError(f"{results}: no such file")
    from .model.cache import ResponseCache

    cache = ResponseCache(cache_dir)
    report = import_results(read_jsonl(results), cache, PendingStore(cache_dir), RESPONSE_MODELS,
                            source or f"batch results {results.name}", _now())
    target = followup or followup_path(results)
    if report.followup:
        write_jsonl(target, report.followup)
        return report, target
    target.unlink(missing_ok=True)  # an earlier import's follow-up is answered now
    return report, None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
