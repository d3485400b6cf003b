"""A run whose article requests are answered by a batch engine, then replayed from the cache.

    folder ──planned article requests──▶ requests.jsonl (export; or submit: Files + Batches API)
    results.jsonl / the batch's output ──validated like live answers──▶ cache (import; or collect)
    then the ordinary run (pipeline.run): articles from the cache, merge live ──▶ brief

A batch holds the requests whose answers nothing depends on yet. The first: one request per article
(or one per part of a long article). What depends on those answers (the reduce call over a long
article's parts, a re-ask for quotes not found; with `batch_merge` the merge calls) is found by
running the articles (and the merge) against the cache with a gateway that defers, instead of
sending, every unanswered request of a batched stage (answers.Deferred): those go into the next
batch, with the requests that came back without a valid answer. When nothing is left, the ordinary
run writes the brief from the cache; the batched stages are never asked live there (--live-rest
asks the rest live instead).

export/import (vLLM) work the same way, one round per export: export again after an import.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.body import request_body

from .brief.merge import build_brief, today
from .errors import ArticleFailed, BudgetExceeded, ReplayError, UsageError
from .extract.article import planned_calls, summarize_article
from .ingest.folder import Article
from .model.answers import Call, Deferred, Gateway, response_schema
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
    eta,
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
from .model.prompts import Prompts
from .models import ArticleDigest, ArticleExtraction, ArticleSummary, BriefDraft, BriefOverview, StoriesDraft
from .pipeline import (
    Reporter,
    RunConfig,
    RunResult,
    SilentReporter,
    check_config,
    exclusive,
    for_each,
    make_gateway,
    merge_request_inputs,
    read_articles,
    run,
)
from .redact import safe_url
from .text.tokens import estimate_tokens
from .worker import run_sync

# The answers a batch can hold, by the name its pending record gives.
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m for m in (ArticleExtraction, ArticleDigest, BriefDraft, StoriesDraft, BriefOverview)
}


# What to await instead, when a host calls this inside its running event loop (worker.run_sync).
IN_A_LOOP = "asyncio.to_thread(...) around the batch call"


@dataclass(frozen=True)
class Planned:
    calls: list[Call]  # requests with no answer yet, in folder order
    answered: int  # requests the cache or a recording already answers
    articles: int
    gateway: Gateway


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


# ---------------------------------------------------------------------- the next batch's requests

MAX_TRIES = 3  # batches one request is sent in (the first and two follow-ups); then the batch gives it up


def batched_stages(live_rest: bool, batch_merge: bool) -> tuple[str, ...]:
    """The stages a batch answers: the articles' (unless the rest is asked live), and the merge's with
    `batch_merge`."""
    return (() if live_rest else ("extract",)) + (("merge",) if batch_merge else ())


@dataclass(frozen=True)
class Next(Planned):
    given_up: int = 0  # requests sent in MAX_TRIES batches without a valid answer: not sent again
    live: int = 0  # requests asked live while finding these (--live-rest)
    stage: str = "extract"  # what the requests are for: "extract" (articles) or "merge"


def next_requests(cfg: RunConfig, stages: tuple[str, ...], tries: dict[str, int] | None = None) -> Next:
    """The requests of the next batch: every unanswered request of a batched stage whose inputs are
    answered, found by running the articles (then, when they are all answered or given up, the merge)
    against the cache. Requests of stages not batched are asked live on the way (--live-rest)."""
    check_config(cfg)
    if cfg.cache_dir is None:
        raise UsageError("batches need the response cache: drop --no-cache")
    if cfg.offline:
        raise UsageError("--offline sends nothing: a batch cannot be made offline")
    tries = tries or {}
    folder = read_articles(cfg)
    prompts = Prompts(cfg.prompt_dir)
    gateway = make_gateway(replace(cfg, batched=stages), SilentReporter())
    gateway.policy = replace(gateway.policy, defer=True)

    def fresh() -> list[Call]:
        return [c for k, c in gateway.deferred.items() if tries.get(k, 0) < MAX_TRIES]

    async def find() -> tuple[str, int]:
        try:
            summaries, answered = await _articles(folder.articles, gateway, prompts, cfg, "extract" in stages)
            if fresh() or "merge" not in stages or not summaries:
                return "extract", answered
            with contextlib.suppress(Deferred):
                await build_brief(merge_request_inputs(cfg, summaries), gateway, prompts)
            return "merge", answered
        finally:
            await gateway.aclose()

    stage, answered = run_sync(find(), IN_A_LOOP)
    calls = fresh()
    return Next(calls, answered, len(folder.articles), gateway, given_up=len(gateway.deferred) - len(calls),
                live=gateway.counters.model_calls, stage=stage if calls else "extract")


async def _articles(articles: list[Article], gateway: Gateway, prompts: Prompts, cfg: RunConfig,
                    batched: bool) -> tuple[list[ArticleSummary], int]:
    """The articles summarised from what is answered; what is not is noted in gateway.deferred. Returns
    the summaries and how many first-round requests were answered already."""
    done: list[ArticleSummary] = []
    answered = 0
    slots = asyncio.Semaphore(cfg.concurrency)

    async def one(article: Article) -> None:
        nonlocal answered
        if batched:  # every part of a long article at once (it asks them one after the other)
            waiting = False
            for call in planned_calls(article, prompts, cfg.max_input_tokens):
                if gateway.has_answer(call):
                    answered += 1
                else:
                    gateway.deferred.setdefault(gateway.cache_key(call), call)
                    waiting = True
            if waiting:
                return  # nothing else can be asked before these are answered
        async with slots:
            try:
                done.append(await summarize_article(article, gateway, prompts, max_input_tokens=cfg.max_input_tokens))
            except (Deferred, ArticleFailed, ReplayError):
                pass  # left for the batch, or failed: the final run lists it

    await for_each(articles, one)
    return done, answered


@dataclass(frozen=True)
class Exported:
    path: Path
    requests: int
    answered: int
    articles: int


def export(cfg: RunConfig, path: Path) -> Exported:
    """Write the run's unanswered article requests as Batch-API JSONL (for vLLM run-batch, or by hand):
    the first round; exported again after an import, what the answers call for (reduce calls, re-asks)
    with the requests still without a valid answer."""
    planned = next_requests(cfg, ("extract",))
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
_PATHS = {"folder", "out_dir", "cache_dir", "recordings_dir", "prompt_dir", "aliases", "outlets", "since"}
# Every endpoint option but the key (never stored); missing ones take their defaults when read back.


def run_options(cfg: RunConfig) -> dict[str, Any]:
    """The run's options as JSON data, to write the same brief when the batch is collected."""
    data: dict[str, Any] = {}
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.name == "endpoint":
            # Every endpoint option (EndpointConfig holds no key): a collect's --live-rest calls are the run's.
            value = {e.name: getattr(value, e.name) for e in fields(value)}
        elif f.name == "batched":
            continue  # chosen by each collect (--live-rest, --batch-merge), not by the submission
        elif isinstance(value, Path):
            value = str(value)
        data[f.name] = value
    data["date"] = cfg.date or today()  # collected tomorrow, it is still today's brief
    return data


def config_from(options: dict[str, Any], out: Path) -> RunConfig:
    data = dict(options)
    endpoint_fields = {f.name for f in fields(EndpointConfig)}
    endpoint = EndpointConfig(**{k: v for k, v in data.pop("endpoint").items() if k in endpoint_fields})
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


def estimate(calls: list[Call], cfg: RunConfig, gateway: Gateway | None = None) -> Estimate:
    """The batch's tokens and cost, with the dry run's and --max-cost's numbers: the answer model, calibrated on the
    billed answers `gateway` found while planning the batch."""
    prompt = sum(prompt_estimate(c.messages, response_schema(c.response_model)[0]) for c in calls)
    completion = sum(gateway.completion_estimate(c) if gateway else completion_estimate(c.prompt,
                                                                                         estimate_tokens(c.input_text))
                     for c in calls)
    return Estimate(len(calls), prompt, completion, batch_price(cfg.endpoint.model, cfg.price))


def _provider(cfg: RunConfig, provider: Provider | None) -> Provider:
    if provider is not None:
        return provider
    from briefer.model.openai.files import BatchClient

    return BatchClient(cfg.endpoint)


@dataclass(frozen=True)
class Submitted:
    state: BatchState
    sent: int  # batches submitted by this invocation
    resumed: bool
    estimate: Estimate | None  # None when resuming


def submit(cfg: RunConfig, limits: Limits = DEFAULT_LIMITS, provider: Provider | None = None,
           say: Callable[[str], None] = lambda _m: None, batch_merge: bool = False) -> Submitted:
    """Submit the run's unanswered requests as batches (the articles', or with everything else answered
    and `batch_merge`, the merge's), or resume an earlier submission. Holds the lock on --out meanwhile."""
    with exclusive(cfg.output, f"briefer batch submit {cfg.folder}", say):
        return _submit(cfg, limits, provider, say, batch_merge)


def _submit(cfg: RunConfig, limits: Limits, provider: Provider | None, say: Callable[[str], None],
            batch_merge: bool) -> Submitted:
    store = StateFile(state_dir(cfg.output))
    state = store.load()
    if state is not None and state.shards:
        _same_run(state, cfg)
        client = _provider(cfg, provider)  # the command's endpoint: the state's may only agree with it
        return Submitted(state, send(state, store, client, say), True, None)
    planned = next_requests(cfg, batched_stages(False, batch_merge))
    cost = estimate(planned.calls, cfg, planned.gateway)
    if cfg.max_cost is not None:
        if cost.cost is None:
            raise UsageError(f"--max-cost needs the price of '{cfg.endpoint.model}': give --price IN,OUT (the batch "
                             "price, USD per million tokens)")
        if cost.cost > cfg.max_cost:
            raise BudgetExceeded(f"not submitted: the batch would cost about ${cost.cost:.4f} at "
                                 f"{cost.price.describe() if cost.price else ''}, over --max-cost ${cfg.max_cost:g}")
    state = BatchState(endpoint=cfg.endpoint.endpoint, model=cfg.endpoint.model, run=run_options(cfg),
                       estimated_usd=cost.cost or 0.0)
    if not planned.calls:
        return Submitted(state, 0, False, cost)
    client = _provider(cfg, provider)
    add_shards(state, store.directory, request_lines(planned, cfg), limits)
    store.save(state)  # before anything is uploaded: a crash from here on resumes
    return Submitted(state, send(state, store, client, say), False, cost)


def _same_run(state: BatchState, cfg: RunConfig) -> None:
    """Resuming takes the options the batch was made with: refuse, rather than silently ignore, others."""
    theirs = _identity(state, cfg.output, cfg.endpoint.base_url, cfg.folder)
    differ = [name for name, a, b in (("--model", theirs.endpoint.model, cfg.endpoint.model),
                                      ("--mode", theirs.endpoint.mode, cfg.endpoint.mode)) if a != b]
    if differ:
        raise UsageError(f"{state_dir(cfg.output) / 'state.json'} holds the batches of {theirs.folder} with --model "
                         f"{theirs.endpoint.model} --mode {theirs.endpoint.mode}; this run differs in "
                         f"{', '.join(differ)}: give the same, or another --out")


def _within_budget(state: BatchState, cost: Estimate, max_cost: float | None) -> None:
    """A follow-up batch is held against --max-cost with the batches before it (their estimates)."""
    if cost.cost is None:
        return
    total = state.estimated_usd + cost.cost
    if max_cost is not None and total > max_cost:
        raise BudgetExceeded(f"follow-up batch not submitted: its {cost.requests} requests would bring the batches' "
                             f"estimated cost to ${total:.4f}, over --max-cost ${max_cost:g}; run again with a "
                             "higher --max-cost, or with --live-rest to ask them live instead")
    state.estimated_usd = total


def _identity(state: BatchState, out: Path, base_url: str | None, folder: Path | None) -> RunConfig:
    """The run the state describes, once the identity the command gives (the endpoint, which decides where the
    key goes; the folder, which decides what is uploaded) agrees with the state's: state.json is read back
    like any input, and may have been changed. Raises UsageError saying which differs."""
    cfg = config_from(state.run, out)
    stored, given = (cfg.endpoint.base_url or "").rstrip("/"), (base_url or "").rstrip("/")
    differ = []
    if stored != given or (state.endpoint != cfg.endpoint.endpoint):
        differ.append(f"the endpoint (state.json: {safe_url(stored) if stored else 'the default'}, this command: "
                      f"{safe_url(given) if given else 'the default, no --base-url'})")
    if folder is not None and cfg.folder.resolve() != folder.resolve():
        differ.append(f"the folder (state.json: {cfg.folder}, this command: {folder})")
    if differ:
        raise UsageError(f"{state_dir(out) / 'state.json'} does not agree with this command on "
                         f"{' and '.join(differ)}: give the --base-url and FOLDER the batch was submitted with, or "
                         "another --out")
    return replace(cfg, endpoint=replace(cfg.endpoint, base_url=base_url), folder=folder or cfg.folder)


def _load(out: Path, base_url: str | None, folder: Path | None = None) -> tuple[StateFile, BatchState, RunConfig]:
    store = StateFile(state_dir(out))
    state = store.load()
    if state is None:
        raise UsageError(f"no batch in {out}: nothing was submitted there (briefer batch submit FOLDER --out {out})")
    return store, state, _identity(state, out, base_url, folder)


@contextlib.contextmanager
def _locked(out: Path, what: str, say: Callable[[str], None] = lambda _m: None) -> Iterator[None]:
    """The lock on an output folder that holds a submission (none there: the one line that says so)."""
    if not (state_dir(out) / "state.json").exists():
        raise UsageError(f"no batch in {out}: nothing was submitted there (briefer batch submit FOLDER --out {out})")
    with exclusive(out, what, say):
        yield


def status(out: Path, provider: Provider | None = None, base_url: str | None = None) -> BatchState:
    """`base_url`: the command's endpoint (--base-url, OPENAI_BASE_URL): the state's must be the same."""
    with _locked(out, "briefer batch status"):
        store, state, cfg = _load(out, base_url)
        refresh(state, store, _provider(cfg, provider))
        return state


def cancel(out: Path, provider: Provider | None = None, base_url: str | None = None) -> list[Shard]:
    """Ask the provider to cancel every unfinished batch; what they answered already is collected later."""
    with _locked(out, "briefer batch cancel"):
        return _cancel(out, provider, base_url)


def _cancel(out: Path, provider: Provider | None, base_url: str | None) -> list[Shard]:
    store, state, cfg = _load(out, base_url)
    client = _provider(cfg, provider)
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
    kept: list[Rejected] = field(default_factory=list)  # answers imported in part, and why they were not whole
    lines: list[str] = field(default_factory=list)  # one per batch event worth a line (failed, expired, …)
    running: list[Shard] = field(default_factory=list)
    followup: list[Shard] = field(default_factory=list)
    stage: str = "extract"  # what the follow-up batches are for: "extract" (articles) or "merge"
    live: int = 0  # requests asked live (--live-rest)
    given_up: int = 0  # requests sent in MAX_TRIES batches without a valid answer
    retried: int = 0  # follow-up requests sent before without a valid answer (the others are new)
    result: RunResult | None = None


def collect(out: Path, live_rest: bool = False, limits: Limits = DEFAULT_LIMITS, provider: Provider | None = None,
            say: Callable[[str], None] = lambda _m: None, reporter: Reporter | None = None,
            batch_merge: bool = False, *, base_url: str | None = None, folder: Path | None = None) -> Collected:
    """Import every finished batch's answers; then submit what is left (requests without a valid answer,
    and those that depend on the answers now in: reduce calls, re-asks, with `batch_merge` the merge) as
    a follow-up batch, or, when nothing is left, run the ordinary run from the cache, which writes the
    brief. With `live_rest` what is left of the articles is asked live instead.

    `base_url` and `folder` are the command's (state.json may only agree with them); without `folder`, the
    answers are imported but nothing that reads the folder (a follow-up, the brief) is done."""
    with _locked(out, f"briefer batch collect {folder or ''}".strip(), say):
        return _collect(out, live_rest, limits, provider, say, reporter, batch_merge, base_url, folder)


def _collect(out: Path, live_rest: bool, limits: Limits, provider: Provider | None, say: Callable[[str], None],
             reporter: Reporter | None, batch_merge: bool, base_url: str | None, folder: Path | None) -> Collected:
    store, state, cfg = _load(out, base_url, folder)
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
            if (floored := report.usage_floor.line()) is not None:
                done.lines.append(f"{label}: {floored}")
            done.imported += report.imported
            done.rejected += report.rejected
            done.kept += report.kept
            if shard.status != "completed":
                done.lines.append(f"{label} {shard.status}: {report.imported} of {shard.requests} answers collected; "
                                  "the rest go to the follow-up")
        shard.collected = True
        store.save(state)
    done.running = [s for s in state.shards if not s.collected]
    if done.running:
        return done
    if folder is None:
        raise UsageError(f"answers imported; to go on (follow-ups, the brief) give the folder: briefer batch collect "
                         f"FOLDER --out {out} (state.json names {cfg.folder}; it is not taken from there)")
    tries: dict[str, int] = {}
    for shard in state.shards:
        for line in shard_lines(store, shard):
            key = str(line.get("custom_id"))
            tries[key] = tries.get(key, 0) + 1
    stages = batched_stages(live_rest, batch_merge)
    nxt = next_requests(cfg, stages, tries)
    done.live, done.given_up, done.stage = nxt.live, nxt.given_up, nxt.stage
    done.retried = sum(1 for c in nxt.calls if tries.get(nxt.gateway.cache_key(c), 0))
    if nxt.calls:
        _within_budget(state, estimate(nxt.calls, cfg, nxt.gateway), cfg.max_cost)
        rounds = max((s.round for s in state.shards), default=0)
        done.followup = add_shards(state, store.directory, request_lines(nxt, cfg), limits, rounds + 1)
        store.save(state)
        send(state, store, client, say)
        return done
    done.result = run_sync(run(replace(cfg, batched=stages), reporter), IN_A_LOOP)
    return done


# ---------------------------------------------------------------------- one command: submit, wait, collect

DEFAULT_POLL = 60.0  # seconds between looks at a running batch: a batch takes minutes to hours


def run_batch(cfg: RunConfig, live_rest: bool = False, batch_merge: bool = False, limits: Limits = DEFAULT_LIMITS,
              poll: float = DEFAULT_POLL, provider: Provider | None = None,
              say: Callable[[str], None] = lambda _m: None, seen: Callable[[Collected], None] = lambda _c: None,
              reporter: Reporter | None = None,
              sleep: Callable[[float], None] = time.sleep) -> Collected:
    """`briefer summarize FOLDER --batch`: submit the run's requests (or resume the batches recorded in
    OUT/batch/state.json: nothing is submitted twice), wait for them, collect, send the follow-ups, wait
    again, and write the brief. `seen` is shown each collection; a line per running batch goes to `say`
    when its state or counts change. Interrupted while waiting, the batches keep running at the provider,
    and the same call resumes them."""
    if not poll > 0:
        raise UsageError("--poll-interval must be a positive number of seconds")
    submitted = submit(cfg, limits, provider, say, batch_merge)
    if not submitted.state.shards:  # every request is answered already: the ordinary run, from the cache
        done = Collected(submitted.state)
        done.result = run_sync(run(replace(cfg, batched=batched_stages(live_rest, batch_merge)), reporter),
                               IN_A_LOOP)
        return done
    shown: dict[int, str] = {}
    while True:
        done = collect(cfg.output, live_rest, limits, provider, say, reporter, batch_merge,
                       base_url=cfg.endpoint.base_url, folder=cfg.folder)
        seen(done)
        if done.result is not None:
            return done
        now = time.time()
        for shard in done.state.shards:
            if not shard.collected and (line := progress(shard, now)) != shown.get(shard.number):
                shown[shard.number] = line
                say(line)
        sleep(poll)


def progress(shard: Shard, now: float) -> str:
    """One line for a batch: its state, counts and, while it runs, when it should be done."""
    c = shard.counts
    counts = f", {c.get('completed', 0)}/{c.get('total', shard.requests)} done, {c.get('failed', 0)} failed" if c \
        else ""
    extra = " (collected)" if shard.collected else ""
    note = f": {shard.note}" if shard.note and shard.status == "failed" else ""
    when = f"; {eta(shard, now)}" if shard.batch_id and shard.status not in (*TERMINAL, "cancelling") else ""
    return (f"batch {shard.number} {shard.batch_id or '(not submitted)'}: {shard.status}{counts}, {shard.requests} "
            f"requests{extra}{note}{when}")
