"""A run whose article requests are answered by a batch engine, then replayed from the cache.

    folder ──planned article requests──▶ requests.jsonl (export; or submit: Files + Batches API)
    results.jsonl / the batch's output ──validated like live answers──▶ cache (import; or collect)
    then the ordinary run (pipeline.run): articles from the cache, merge live ──▶ brief

Only the first round goes into a batch: one request per article (or one per part of a long
article). What depends on those answers (the reduce call over a long article's parts, a re-ask for
quotes not found, the merge) is asked by the ordinary run afterwards, through the same gateway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .brief.merge import today
from .errors import BudgetExceeded, UsageError
from .extract.article import planned_calls
from .model.answers import Call, Gateway, response_schema
from .model.batch import (
    TERMINAL,
    BatchState,
    ImportReport,
    Limits,
    PendingRequest,
    PendingStore,
    Provider,
    Rejected,
    Shard,
    StateFile,
    add_shards,
    download,
    import_results,
    read_jsonl,
    refresh,
    request_line,
    send,
    shard_lines,
    write_jsonl,
)
from .model.cache import ResponseCache
from .model.costs import Price, batch_price, completion_estimate, prompt_estimate
from .model.llm import EndpointConfig, request_body
from .model.prompts import Prompts
from .models import ArticleDigest, ArticleExtraction, BriefDraft, BriefOverview, StoriesDraft
from .pipeline import Reporter, RunConfig, RunResult, SilentReporter, _check, _gateway, _read, run
from .tokens import estimate_tokens

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


def request_lines(planned: Planned, cfg: RunConfig) -> Iterator[dict[str, Any]]:
    """One Batch-API line per request, each registered as pending in the cache directory (streamed:
    10,000 bodies with their schemas would be hundreds of MB at once)."""
    assert cfg.cache_dir is not None
    pending = PendingStore(cfg.cache_dir)
    for call in planned.calls:
        key = planned.gateway.cache_key(call)
        line = request_line(key, request_body(cfg.endpoint, call.messages, call.response_model))
        pending.put(PendingRequest(key=key, stage=call.stage, subject=call.subject,
                                   schema_name=call.response_model.__name__,
                                   fingerprint=planned.gateway.fingerprint(call), context=call.context,
                                   mode=cfg.endpoint.mode, line=line))
        yield line


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


# ---------------------------------------------------------------------- submit, status, collect, cancel

DEFAULT_LIMITS = Limits()
NOT_READY = 75  # exit code of `collect` while a batch is still running (EX_TEMPFAIL: try again later)
MAX_ROUNDS = 3  # the run's batch and at most two follow-ups; what is still unanswered then is asked live
_PATHS = {"folder", "out_dir", "cache_dir", "recordings_dir", "prompt_dir"}


def run_options(cfg: RunConfig) -> dict[str, Any]:
    """The run's options as JSON data, to write the same brief when the batch is collected."""
    data: dict[str, Any] = {}
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.name == "endpoint":
            value = {k: getattr(value, k) for k in ("model", "mode", "base_url", "timeout", "max_retries",
                                                     "max_reasks", "temperature", "max_tokens", "rpm", "tpm")}
        elif isinstance(value, Path):
            value = str(value)
        data[f.name] = value
    data["date"] = cfg.date or today()  # collected tomorrow, it is still today's brief
    return data


def config_from(options: dict[str, Any], out: Path) -> RunConfig:
    data = dict(options)
    endpoint = EndpointConfig(**data.pop("endpoint"))
    for name in _PATHS:
        if data.get(name) is not None:
            data[name] = Path(data[name])
    data["out_dir"] = out
    known = {f.name for f in fields(RunConfig)}
    return RunConfig(endpoint=endpoint, **{k: v for k, v in data.items() if k in known})


def state_dir(out: Path) -> Path:
    return out / "batch"


@dataclass(frozen=True)
class Estimate:
    requests: int
    prompt_tokens: int
    completion_tokens: int
    price: Price | None

    @property
    def cost(self) -> float | None:
        return self.price.cost(self.prompt_tokens, self.completion_tokens) if self.price else None


def estimate(calls: list[Call], cfg: RunConfig) -> Estimate:
    prompt = sum(prompt_estimate(c.messages, response_schema(c.response_model)[0]) for c in calls)
    completion = sum(completion_estimate(c.stage, estimate_tokens(c.input_text)) for c in calls)
    return Estimate(len(calls), prompt, completion, batch_price(cfg.endpoint.model, cfg.price))


def _provider(cfg: RunConfig, provider: Provider | None) -> Provider:
    if provider is not None:
        return provider
    from .model.llm import BatchClient

    return BatchClient(cfg.endpoint)


@dataclass(frozen=True)
class Submitted:
    state: BatchState
    sent: int  # batches submitted by this invocation
    resumed: bool
    estimate: Estimate | None  # None when resuming


def submit(cfg: RunConfig, limits: Limits = DEFAULT_LIMITS, provider: Provider | None = None,
           say: Callable[[str], None] = lambda _m: None) -> Submitted:
    """Submit the run's unanswered article requests as batches, or resume an earlier submission."""
    store = StateFile(state_dir(cfg.output))
    state = store.load()
    if state is not None and state.shards:
        client = _provider(config_from(state.run, cfg.output), provider)
        return Submitted(state, send(state, store, client, say), True, None)
    planned = plan(cfg)
    cost = estimate(planned.calls, cfg)
    if cfg.max_cost is not None:
        if cost.cost is None:
            raise UsageError(f"--max-cost needs the price of '{cfg.endpoint.model}': give --price IN,OUT (the batch "
                             "price, USD per million tokens)")
        if cost.cost > cfg.max_cost:
            raise BudgetExceeded(f"not submitted: the batch would cost about ${cost.cost:.4f} at "
                                 f"{cost.price.describe() if cost.price else ''}, over --max-cost ${cfg.max_cost:g}")
    state = BatchState(endpoint=cfg.endpoint.endpoint, model=cfg.endpoint.model, run=run_options(cfg))
    if not planned.calls:
        return Submitted(state, 0, False, cost)
    client = _provider(cfg, provider)
    add_shards(state, store.directory, request_lines(planned, cfg), limits)
    store.save(state)  # before anything is uploaded: a crash from here on resumes
    return Submitted(state, send(state, store, client, say), False, cost)


def _load(out: Path) -> tuple[StateFile, BatchState]:
    store = StateFile(state_dir(out))
    state = store.load()
    if state is None:
        raise UsageError(f"no batch in {out}: nothing was submitted there (briefer batch submit FOLDER --out {out})")
    return store, state


def status(out: Path, provider: Provider | None = None) -> BatchState:
    store, state = _load(out)
    refresh(state, store, _provider(config_from(state.run, out), provider))
    return state


def cancel(out: Path, provider: Provider | None = None) -> list[Shard]:
    """Ask the provider to cancel every unfinished batch; what they answered already is collected later."""
    store, state = _load(out)
    client = _provider(config_from(state.run, out), provider)
    cancelled = []
    for shard in state.shards:
        if shard.batch_id and shard.status not in (*TERMINAL, "cancelling"):
            shard.status = str(client.cancel(shard.batch_id).get("status") or "cancelling")
            cancelled.append(shard)
            store.save(state)
    return cancelled


@dataclass
class Collected:
    state: BatchState
    imported: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # one per batch event worth a line (failed, expired, …)
    running: list[Shard] = field(default_factory=list)
    followup: list[Shard] = field(default_factory=list)
    live: int = 0  # requests left for the ordinary run to ask live
    result: RunResult | None = None


def collect(out: Path, live_rest: bool = False, limits: Limits = DEFAULT_LIMITS, provider: Provider | None = None,
            say: Callable[[str], None] = lambda _m: None, reporter: Reporter | None = None) -> Collected:
    """Import every finished batch's answers; then either submit the rest as a follow-up batch, or
    (when all is answered, or with `live_rest`) run the ordinary run, which writes the brief."""
    store, state = _load(out)
    cfg = config_from(state.run, out)
    assert cfg.cache_dir is not None
    client = _provider(cfg, provider)
    send(state, store, client, say)  # a submission a crash interrupted
    refresh(state, store, client)
    done = Collected(state)
    cache, pending = ResponseCache(cfg.cache_dir), PendingStore(cfg.cache_dir)
    for shard in state.shards:
        if shard.collected or shard.status not in TERMINAL:
            continue
        label = f"batch {shard.number} ({shard.batch_id})"
        if shard.status == "failed":
            done.lines.append(f"{label} failed: {shard.note or 'the provider gave no reason'}; its "
                              f"{shard.requests} requests go to the follow-up")
        else:
            report = import_results(download(client, shard), cache, pending, RESPONSE_MODELS,
                                    f"batch {shard.batch_id}", _now())
            done.imported += report.imported
            done.rejected += report.rejected
            if shard.status != "completed":
                done.lines.append(f"{label} {shard.status}: {report.imported} of {shard.requests} answers collected; "
                                  "the rest go to the follow-up")
        shard.collected = True
        store.save(state)
    done.running = [s for s in state.shards if not s.collected]
    if done.running:
        return done
    rest: dict[str, dict[str, Any]] = {}
    for shard in state.shards:
        for line in shard_lines(store, shard):
            key = str(line.get("custom_id"))
            if cache.get(key) is None:
                rest[key] = line
    rounds = max((s.round for s in state.shards), default=0)
    if rest and not live_rest and rounds < MAX_ROUNDS:
        done.followup = add_shards(state, store.directory, rest.values(), limits, rounds + 1)
        store.save(state)
        send(state, store, client, say)
        return done
    done.live = len(rest)
    done.result = asyncio.run(run(cfg, reporter))
    return done
