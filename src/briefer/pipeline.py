"""The whole run: folder → articles → summaries (concurrent) → brief → files.

Results persist as they complete: each article's JSON is written the moment it is done, so a
failure later in the run loses nothing already produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import os
import shlex
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.client import ModelClient

from . import estimates
from .brief.aliases import aliases_for
from .brief.continuity import Earlier, compared_note, load_earlier
from .brief.history import INDEX_FILE, find_earlier, index_json, resolve_since
from .brief.merge import DEFAULT_MERGE_BUDGET, DEFAULT_STALE_DAYS, MergeInputs, build_brief, today
from .brief.outlets import outlets_for
from .brief.sources import describe_sources
from .defaults import DEFAULT_MODEL
from .errors import ArticleFailed, NothingProduced, OutputBusy, OutputError, ReplayError, UsageError
from .extract.article import DEFAULT_MAX_INPUT_TOKENS, planned_calls, summarize_article
from .extract.reuse import StoredSummaries
from .fetch.copies import DEFAULT_THRESHOLD as DEFAULT_COPY_THRESHOLD
from .fetch.copies import set_copies_aside
from .files import Busy, OutputSet, check_set, clean_parts, lock_out
from .ingest.folder import DEFAULT_MAX_CHARS, Article, Folder, read_folder
from .model.answers import Call, Gateway, Policy, response_schema
from .model.cache import (
    RecordingStore,
    ResponseCache,
    atomic_write,
    atomic_write_pieces,
    recordings_for,
    write_if_changed,
)
from .model.costs import Price, batch_price, price_for, prompt_estimate
from .model.prompts import Prompts
from .model.report import run_report
from .model.tape import taping
from .models import ArticleSummary, Brief, Failure, IngestNote, Skipped
from .redact import safe_url
from .render.evidence import evidence_markdown
from .render.html import brief_html_pieces
from .render.markdown import brief_markdown, to_json
from .render.run import RUN_REPORT, report_json
from .runreport import RunReport
from .worker import in_worker, run_sync

_DEFAULT_REASKS = next(f.default for f in dataclasses.fields(EndpointConfig) if f.name == "max_reasks")


class Reporter(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, article_id: str, ok: bool) -> None: ...
    def warn(self, message: str) -> None: ...


class SilentReporter:
    """Shows nothing; keeps the warnings (e.g. a stale recording replaced by a live answer) for the caller."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def start(self, total: int) -> None:
        pass

    def advance(self, article_id: str, ok: bool) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@dataclass(frozen=True)
class RunConfig:
    folder: Path
    endpoint: EndpointConfig = field(default_factory=lambda: EndpointConfig(model=DEFAULT_MODEL))
    out_dir: Path | None = None
    date: str | None = None
    concurrency: int = 8
    cache_dir: Path | None = None  # None: no cache
    recordings_dir: Path | None = None  # default: recordings/<folder name>/ beside the folder (recordings_for)
    offline: bool = False
    record: bool = False
    record_stale: bool = False  # re-ask (and record) only what no current recording or cache entry answers
    retry_failed: bool = False  # ask again the requests whose stored answer failed validation (else: replayed)
    prompt_dir: Path | None = None
    stale_after_days: int = DEFAULT_STALE_DAYS
    recursive: bool = False
    follow_links: bool = False  # read symbolic links that lead out of the folder
    max_chars: int = DEFAULT_MAX_CHARS
    max_input_tokens: int = DEFAULT_MAX_INPUT_TOKENS
    merge_budget: int = DEFAULT_MERGE_BUDGET
    price: str | None = None  # "IN,OUT" USD per million tokens; default: the price table
    max_cost: float | None = None  # USD: requests that could pass it are not sent
    aliases: Path | None = None  # the alias file; default: aliases.toml beside the folder, if there is one
    html: bool = True  # write brief.html beside brief.md
    # The earlier brief: its folder (or brief.json), or a day ('2024-09-17', 'yesterday') whose brief is found
    # beside the output; default: the newest earlier brief of the same input folder beside a dated output.
    since: Path | str | None = None
    no_since: bool = False  # a standalone brief, compared with no earlier one
    batched: tuple[str, ...] = ()  # stages a batch answered (batch_run): never asked live by this run
    copy_threshold: float = DEFAULT_COPY_THRESHOLD  # syndicated copies: similarity to be one story; 0: off
    outlets: Path | None = None  # the outlets file; default: outlets.toml beside the folder, if there is one

    @property
    def model_price(self) -> Price | None:
        return price_for(self.endpoint.model, self.price)

    @property
    def recordings(self) -> Path:
        return self.recordings_dir or recordings_for(self.folder, record=self.record)

    @property
    def output(self) -> Path:
        return self.out_dir or Path("briefs") / (self.date or today())

    def record_command(self, earlier: Path | None = None) -> str:
        """The command that re-records what this run found stale or missing (`--record-stale`: the rest is
        replayed): every option that shapes a request or says where recordings go, as given, and the earlier
        brief the run was compared with (`earlier`; `--no-since` when none), with credentials in the base URL
        masked (the key is never part of it). Its output goes to the default folder: the requests do not
        depend on --out once the earlier brief is named."""
        e = self.endpoint
        parts = ["briefer", "summarize", str(self.folder), "--record-stale", "--model", e.model]
        if e.base_url:
            parts += ["--base-url", safe_url(e.base_url)]
        if e.mode != "tools":
            parts += ["--mode", e.mode]
        parts += _endpoint_options(e)
        for option, path in (("--prompt-dir", self.prompt_dir), ("--aliases", self.aliases)):
            if path is not None:
                parts += [option, str(path)]
        if self.recordings_dir and self.recordings_dir.resolve() != recordings_for(self.folder, record=True):
            parts += ["--recordings", str(self.recordings_dir)]
        if self.recursive:
            parts.append("--recursive")
        if self.follow_links:
            parts.append("--follow-links")
        # The merge's input depends on the earlier brief: the one this run used, wherever the command's --out is.
        parts += ["--since", str(earlier)] if earlier is not None else ["--no-since"]
        for option, value, default in (("--max-chars", self.max_chars, DEFAULT_MAX_CHARS),
                                       ("--max-input-tokens", self.max_input_tokens, DEFAULT_MAX_INPUT_TOKENS),
                                       ("--merge-budget", self.merge_budget, DEFAULT_MERGE_BUDGET),
                                       ("--stale-days", self.stale_after_days, DEFAULT_STALE_DAYS)):
            if value != default:
                parts += [option, str(value)]
        return shlex.join(parts)


def _endpoint_options(e: EndpointConfig) -> list[str]:
    """The endpoint options that change a request's body (and so its cache key), as given."""
    parts = []
    if e.temperature != 0:
        parts += ["--temperature", f"{e.temperature:g}"]
    if e.max_tokens is not None:
        parts += ["--max-tokens", str(e.max_tokens)]
    if e.frequency_penalty is not None:
        parts += ["--frequency-penalty", f"{e.frequency_penalty:g}"]
    if e.presence_penalty is not None:
        parts += ["--presence-penalty", f"{e.presence_penalty:g}"]
    if e.extra_body is not None:
        parts += ["--extra-body", e.extra_body]
    if e.max_reasks != _DEFAULT_REASKS:
        parts += ["--max-reasks", str(e.max_reasks)]
    return parts


@dataclass(repr=False)  # its repr would render every summary; nobody needs it, and a failed run may build it
class RunResult:
    brief: Brief
    out_dir: Path
    summaries: list[ArticleSummary]
    report: RunReport  # what the run spent and replayed (also written to run.json beside the brief)

    @property
    def exit_code(self) -> int:
        return 3 if self.brief.partial else 0

    @property
    def since_note(self) -> str:
        """For the closing line: which earlier brief this one was compared with ("" for none)."""
        return compared_note(self.brief)


def check_config(cfg: RunConfig) -> None:
    if not cfg.folder.exists():
        raise UsageError(f"{cfg.folder}: no such folder")
    if not cfg.folder.is_dir():
        raise UsageError(f"{cfg.folder}: not a folder")
    if cfg.offline and (cfg.record or cfg.record_stale):
        raise UsageError(f"--offline and {'--record-stale' if cfg.record_stale else '--record'} exclude each other")
    if cfg.record and cfg.record_stale:
        raise UsageError("--record re-asks everything, --record-stale only what is stale: give one of them")
    if cfg.offline and cfg.retry_failed:
        raise UsageError("--retry-failed asks the model again: it cannot be used with --offline")
    if cfg.since is not None and cfg.no_since:
        raise UsageError("--since and --no-since exclude each other")
    if cfg.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if cfg.max_chars < 1:
        raise UsageError("--max-chars must be at least 1")
    if cfg.max_input_tokens < 100 or cfg.merge_budget < 100:
        raise UsageError("--max-input-tokens and --merge-budget must be at least 100")
    if cfg.stale_after_days < 0:
        raise UsageError(f"--stale-days must be at least 0, got {cfg.stale_after_days}")
    if not 0 <= cfg.copy_threshold <= 1:
        raise UsageError(f"--copy-threshold must be between 0 and 1, got {cfg.copy_threshold}")
    if cfg.max_cost is not None and not 0 < cfg.max_cost < math.inf:  # nan would disable the cap silently
        raise UsageError("--max-cost must be a positive number of USD")
    if cfg.max_cost is not None and cfg.model_price is None:
        raise UsageError(f"--max-cost needs the price of '{cfg.endpoint.model}': give --price IN,OUT "
                         "(USD per million tokens)")
    _check_output(cfg.output)


def _check_output(out: Path) -> None:
    """The output folder must exist as a writable folder or be creatable: checked before any request is paid
    for, without creating anything (a dry run writes nothing)."""
    probe = out
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent  # the nearest part of the path that exists
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == out else f"cannot be created: {probe} is a file"
        raise UsageError(f"--out {out} {where}, not a folder")
    if not probe.exists():
        raise UsageError(f"--out {out} cannot be created: {probe} is a broken link")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out} {'is not writable' if probe == out else f'cannot be created in {probe}'}")


def _write(path: Path, text: str | Iterable[str], *, only_if_changed: bool = False) -> None:
    """Write one output file (a text, or its pieces); a failure (a full disk) is one line for the whole run, never
    a traceback."""
    try:
        if isinstance(text, str) and only_if_changed:
            write_if_changed(path, text)
        elif isinstance(text, str):
            atomic_write(path, text)
        else:
            atomic_write_pieces(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}; make room (or choose another --out) and "
                          "run the same command again") from None


def _keep_raw(out: Path, name: str, raw: str) -> str:
    """Keep what the model last said in a failed request, for inspection: `OUT/failed/<name>.txt`."""
    path = out / "failed" / f"{name}.txt"
    _write(path, raw if raw.endswith("\n") else raw + "\n")
    return str(path)


def _tidy(out: Path, article_ids: set[str], summarised: set[str], started: float, rep: Reporter) -> None:
    """Remove what an earlier run left in `out` that is not part of this brief: `articles/<id>.json` of
    articles not summarised now (another folder's, or an article gone or failed), and `failed/<id>.txt`
    left from before for other articles. One warning line says how many and where."""
    def keep(name: str, path: Path) -> bool:
        if name == "articles":
            return path.suffix != ".json" or path.stem in summarised
        return path.suffix != ".txt" or path.stem in article_ids or path.stat().st_mtime >= started

    removed: list[str] = []
    for name in ("articles", "failed"):
        folder = out / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            with contextlib.suppress(OSError):
                if path.name.startswith(".") or not path.is_file() or keep(name, path):
                    continue
                path.unlink()
                removed.append(f"{name}/{path.name}")
    if removed:
        shown = ", ".join(removed[:3]) + (f" and {len(removed) - 3} more" if len(removed) > 3 else "")
        rep.warn(f"removed {len(removed)} file(s) in {out} left by an earlier run that are not part of this "
                 f"brief: {shown}")


async def run(cfg: RunConfig, reporter: Reporter | None = None,
              client_factory: Callable[[], ModelClient] | None = None) -> RunResult:
    """Run the pipeline. `client_factory` lets a caller inject a model client (e.g. tests' own HTTP transport).
    The output folder is locked for the whole run (`exclusive`): a second run on it stops with one line."""
    check_config(cfg)
    rep = reporter or SilentReporter()
    folder = await in_worker(read_articles, cfg)  # decoding and cleaning every file: the loop runs meanwhile
    skipped = [Skipped(source_path=p, reason=r) for p, r in folder.skipped]
    if not folder.articles:
        detail = f" ({len(skipped)} skipped: " + "; ".join(f"{s.source_path}: {s.reason}" for s in skipped) + ")"
        raise NothingProduced(f"no articles to summarise in {cfg.folder}{detail if skipped else ''}")
    with exclusive(cfg.output, f"briefer summarize {cfg.folder}", rep.warn):
        return await _run(cfg, rep, client_factory, folder, skipped)


OUTPUTS = ("brief.json", "brief.md", "evidence.md", "brief.html")  # switched as one set (files.OutputSet)


@contextlib.contextmanager
def exclusive(out: Path, what: str, warn: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock on `out` (files.lock_out), then tidy what a killed run left: `.part` files, and outputs
    that are not one run's set (said in one line; this run replaces them)."""
    with contextlib.ExitStack() as stack:
        try:
            earlier = stack.enter_context(lock_out(out, what=what))
        except Busy as exc:
            raise OutputBusy(f"--out {out} is in use by another run ({exc.holder}); wait for it to finish, or "
                             "choose another --out") from None
        except OSError as exc:
            raise OutputError(f"cannot lock --out {out}: {exc.strerror or exc}") from None
        if earlier:
            warn(f"{out}: took over the lock of a run that is gone ({earlier})")
        if n := clean_parts(out):
            warn(f"{out}: removed {n} unfinished file(s) (.part) left by a run that was stopped")
        if (mixed := check_set(out, OUTPUTS)) is not None:
            warn(f"{out}: the outputs there are not one run's ({mixed}): a run was stopped while writing them; "
                 "this run replaces them")
        yield


async def _run(cfg: RunConfig, rep: Reporter, client_factory: Callable[[], ModelClient] | None, folder: Folder,
               skipped: list[Skipped]) -> RunResult:
    notes = [IngestNote(source_path=p, note=n) for p, n in folder.notes]
    prompts = Prompts(cfg.prompt_dir)
    aliases = aliases_for(cfg.folder, cfg.aliases)  # a bad alias file stops the run before any model call
    outlets = outlets_for(cfg.folder, cfg.outlets)  # so does a bad outlets file
    earlier = _earlier(cfg, rep.warn)
    gateway = make_gateway(cfg, rep, client_factory, earlier)
    out = cfg.output
    started = time.time()
    try:
        summaries, failures = await _summarize_all(folder.articles, gateway, prompts, cfg, out, rep)
        notes += _copies_of_failures(folder, failures)
        if not summaries:
            first = failures[0].reason if failures else "no output"
            raise NothingProduced(f"no article could be summarised ({len(failures)} failed); first: {first}",
                                  failures=tuple(failures))
        brief = await build_brief(
            MergeInputs(date=cfg.date or today(), summaries=summaries, failures=failures, skipped=skipped,
                        notes=notes, stale_after_days=cfg.stale_after_days, merge_budget=cfg.merge_budget,
                        aliases=aliases, earlier=earlier,
                        # Each summary holds its article's estimates (ground() copies Article.cleaning): not
                        # estimated again over every article's text.
                        tokens_raw_est=sum(s.cleaning.raw_tokens_est for s in summaries),
                        tokens_saved_est=sum(s.cleaning.raw_tokens_est - s.cleaning.clean_tokens_est
                                             for s in summaries),
                        keep_raw=lambda name, raw: _keep_raw(out, name, raw)),
            gateway,
            prompts,
        )
    finally:
        gateway.report_stale()
        await gateway.aclose()
    brief = describe_sources(brief, outlets, folder.copies, folder.similarity, {a.id: a for a in folder.articles})
    report = run_report(gateway.counters, cfg.model_price)
    # Rendering and writing are CPU and disk work with nothing to await: a worker thread does them, so the event
    # loop (a notebook's, a web server's) keeps running meanwhile.
    await in_worker(_write_brief, cfg, brief, summaries, report)
    _tidy(out, {a.id for a in folder.articles}, {s.id for s in summaries}, started, rep)
    return RunResult(brief=brief, out_dir=out, summaries=sorted(summaries, key=lambda s: s.id), report=report)


def _write_brief(cfg: RunConfig, brief: Brief, summaries: list[ArticleSummary], report: RunReport) -> None:
    """The brief's files, and the run report beside them."""
    out = cfg.output
    outputs = OutputSet(out)  # written whole first, then switched: never brief.json of one run, brief.md of another
    try:
        outputs.add("brief.json", to_json(brief))
        outputs.add("brief.md", brief_markdown(brief, summaries))
        outputs.add("evidence.md", evidence_markdown(brief, summaries))
        if cfg.html:
            outputs.add("brief.html", brief_html_pieces(brief, summaries))
        else:  # a page from an earlier run would contradict this brief
            outputs.remove("brief.html")
        outputs.commit()
    except OSError as exc:
        outputs.abort()
        raise OutputError(f"cannot write the brief in {out}: {exc.strerror or exc}; make room (or choose another "
                          "--out) and run the same command again") from None
    _write(out / INDEX_FILE, index_json(brief.date, cfg.folder, brief.title, [st.title for st in brief.stories]))
    _write(out / RUN_REPORT, report_json(report))


def _copies_of_failures(folder: Folder, failures: list[Failure]) -> list[IngestNote]:
    """A note for each syndicated copy of an article that failed: it was not asked for itself either."""
    failed = {f.source_path for f in failures}
    return [IngestNote(source_path=c.source_path, note=f"a syndicated copy of {a.source_path}, which failed: not "
                       "asked separately (--copy-threshold 0 asks every copy)")
            for a in folder.articles if a.source_path in failed for c in folder.copies.get(a.id, ())]


def _earlier(cfg: RunConfig, warn: Callable[[str], None]) -> Earlier | None:
    """The earlier brief this one is compared with: --since (a folder, or a day whose brief is found beside the
    output), else the newest earlier brief of the same input folder beside a dated output."""
    if cfg.no_since:
        return None
    date = cfg.date or today()
    if cfg.since is not None:
        folder: Path | None = resolve_since(cfg.since, cfg.output, date, cfg.folder)
    else:
        folder = find_earlier(cfg.output, date, cfg.folder)
    return load_earlier(folder, warn) if folder is not None else None


def read_articles(cfg: RunConfig) -> Folder:
    """The folder's articles, syndicated copies set aside: the model is asked once per story."""
    folder = read_folder(cfg.folder, recursive=cfg.recursive, max_chars=cfg.max_chars, follow_links=cfg.follow_links)
    return set_copies_aside(folder, cfg.copy_threshold)


def make_gateway(cfg: RunConfig, rep: Reporter, client_factory: Callable[[], ModelClient] | None = None,
             earlier: Earlier | None = None) -> Gateway:
    return Gateway(
        endpoint=cfg.endpoint,
        cache=ResponseCache(cfg.cache_dir, warn=rep.warn),
        recordings=RecordingStore(cfg.recordings),
        policy=Policy(offline=cfg.offline, record=cfg.record or cfg.record_stale, record_stale=cfg.record_stale,
                      use_cache=cfg.cache_dir is not None,
                      record_command=cfg.record_command(earlier.folder if earlier else None),
                      price=cfg.model_price, max_cost=cfg.max_cost,
                      batched=frozenset(cfg.batched), retry_failed=cfg.retry_failed),
        client_factory=client_factory,
        warn=rep.warn,
        max_in_flight=cfg.concurrency,
        on_tokens=getattr(rep, "tokens", None),  # a reporter that shows tokens per second has this
    )


@dataclass(frozen=True)
class PlannedRequest:
    subject: str  # article id, or "merge"
    requests: int
    prompt_tokens: int  # estimated
    completion_tokens: int  # estimated
    cached: bool  # answered by the cache or a recording: nothing to send


@dataclass(frozen=True)
class DryRun:
    rows: list[PlannedRequest]
    skipped: list[Skipped]
    fixed_prompt_tokens: int  # per article request: system prompt + response schema, sent first
    price: Price | None
    batch_price: Price | None = None  # the article requests' price in a batch (briefer batch submit)
    copies: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)  # chosen -> (copy, similarity)

    def totals(self) -> tuple[int, int, int, int]:
        """Requests to send, requests cached, prompt and completion tokens to send."""
        send = [r for r in self.rows if not r.cached]
        return (sum(r.requests for r in send), sum(r.requests for r in self.rows if r.cached),
                sum(r.prompt_tokens for r in send), sum(r.completion_tokens for r in send))

    @property
    def cost(self) -> float | None:
        _, _, prompt, completion = self.totals()
        return self.price.cost(prompt, completion) if self.price else None

    @property
    def batch_cost(self) -> float | None:
        """The same run with its article requests in a batch: those at the batch price, the merge live."""
        if self.price is None or self.batch_price is None:
            return None
        send = [r for r in self.rows if not r.cached]
        articles = [r for r in send if r.subject != "(merge)"]
        merge = [r for r in send if r.subject == "(merge)"]
        return (self.batch_price.cost(sum(r.prompt_tokens for r in articles),
                                      sum(r.completion_tokens for r in articles))
                + self.price.cost(sum(r.prompt_tokens for r in merge), sum(r.completion_tokens for r in merge)))


def dry_run(cfg: RunConfig) -> DryRun:
    """What a run would send and cost, estimated without calling the model or writing anything."""
    check_config(cfg)
    folder = read_articles(cfg)
    prompts = Prompts(cfg.prompt_dir)
    gateway = make_gateway(cfg, SilentReporter())
    planned = [(article, planned_calls(article, prompts, cfg.max_input_tokens)) for article in folder.articles]
    # First every answer found, whose billed usage calibrates the estimates of those not found.
    cached = [all(gateway.has_answer(c) for c in calls) for _, calls in planned]
    rows = []
    for (article, calls), done in zip(planned, cached, strict=True):
        tokens = estimates.article_tokens(calls, gateway)
        rows.append(PlannedRequest(article.id, tokens.requests, tokens.prompt, tokens.completion, done))
    # The merge from the digests it will send: its own requests when every article is answered, else the
    # articles' estimated answers.
    merge_cached, found = (_merge_answered(folder.articles, gateway, prompts, cfg)
                           if rows and all(r.cached for r in rows) else (False, []))
    merge = estimates.measured_merge(found, gateway) if found else estimates.merge_tokens(
        [r.completion_tokens for r in rows], cfg.merge_budget, prompts)
    rows.append(PlannedRequest("(merge)", max(1, merge.requests), merge.prompt, merge.completion, merge_cached))
    first = planned_calls(folder.articles[0], prompts, cfg.max_input_tokens)[0] if folder.articles else None
    fixed = prompt_estimate(first.messages[:1], response_schema(first.response_model)[0]) if first else 0
    return DryRun(rows, [Skipped(source_path=p, reason=r) for p, r in folder.skipped], fixed, cfg.model_price,
                  batch_price(cfg.endpoint.model, cfg.price),
                  copies=[(chosen, [(c.id, folder.similarity.get(c.id, 0.0)) for c in group])
                          for chosen, group in folder.copies.items()])


def merge_request_inputs(cfg: RunConfig, summaries: list[ArticleSummary]) -> MergeInputs:
    """What the merge's requests depend on, as `run` gives it to build_brief, for finding those requests without
    a run (the dry run, a batch's planning): nothing only reported (failures, notes, price) and no warnings."""
    return MergeInputs(date=cfg.date or today(), summaries=summaries, failures=[], skipped=[],
                       stale_after_days=cfg.stale_after_days, merge_budget=cfg.merge_budget,
                       aliases=aliases_for(cfg.folder, cfg.aliases), earlier=_earlier(cfg, lambda _: None))


def _merge_answered(articles: list[Article], gateway: Gateway, prompts: Prompts,
                    cfg: RunConfig) -> tuple[bool, list[Call]]:
    """With every article answered already, whether the merge is too (it depends on their summaries), and if not,
    the first of its requests to send: the merge is run against the cache and recordings by a gateway that
    defers, never sends, what is not answered (as batch_run finds a batch's requests), so a merge in batches is
    checked call by call, its overview included."""
    from dataclasses import replace

    from .model.answers import Deferred

    offline = replace(gateway, policy=replace(gateway.policy, offline=True))  # a dry run never calls the model
    deferring = replace(gateway, policy=replace(gateway.policy, offline=False, record=False,
                                                batched=frozenset({"merge"}), defer=True))

    async def answered() -> tuple[bool, list[Call]]:
        done = []
        for article in articles:
            with contextlib.suppress(ArticleFailed, ReplayError):  # a replayed failure: not merged, as in a run
                done.append(await summarize_article(article, offline, prompts, max_input_tokens=cfg.max_input_tokens))
        if not done:
            return True, []
        try:
            await build_brief(merge_request_inputs(cfg, done), deferring, prompts)
        except Deferred as exc:
            return False, [exc.call]
        return True, []

    return run_sync(answered(), "asyncio.to_thread(briefer.dry_run, cfg)")  # the dry run has no async twin


async def for_each(articles: list[Article], one: Callable[[Article], Coroutine[object, object, None]]) -> None:
    """`one(article)` for every article at once. The first run-stopping error (EndpointError) cancels the
    others and is raised as itself, not wrapped in the TaskGroup's ExceptionGroup."""
    try:
        async with asyncio.TaskGroup() as group:
            for article in articles:
                group.create_task(one(article))
    except* Exception as eg:
        raise eg.exceptions[0] from None


async def _summarize_all(articles: list[Article], gateway: Gateway, prompts: Prompts, cfg: RunConfig,
                         out: Path, rep: Reporter) -> tuple[list[ArticleSummary], list[Failure]]:
    # Articles under way at once: twice --concurrency, so that while some check their answers or wait for a
    # retry, others have requests ready for the freed slots (the gateway holds the --concurrency limit itself).
    semaphore = asyncio.Semaphore(2 * cfg.concurrency)
    summaries: list[ArticleSummary] = []
    failures: list[Failure] = []
    rep.start(len(articles))
    store = _stored_summaries(cfg, gateway, prompts)
    earlier_failures = (out / "failed").is_dir()  # else no article has a failure's raw output to remove

    async def one(article: Article) -> None:
        await asyncio.sleep(0)  # one article's CPU at a time: a host application's tasks run in between
        reused = store.load(article) if store else None
        if reused is not None:  # a warm rerun: derived from the same inputs and cache entries (extract/reuse.py)
            summary, text, answered = reused
            gateway.count_reused(answered)
            _done(summary, text)
            return
        async with semaphore:
            try:
                with taping() as tape:
                    summary = await summarize_article(article, gateway, prompts,
                                                      max_input_tokens=cfg.max_input_tokens)
            except (ArticleFailed, ReplayError) as exc:
                reason = str(exc)
                raw = getattr(exc, "raw_output", None)
                if raw:
                    reason += f" (last raw output: {_keep_raw(out, article.id, raw)})"
                failures.append(Failure(source_path=article.source_path, kind=exc.kind, reason=reason))
                rep.advance(article.id, ok=False)
                return
        text = to_json(summary)
        if store:
            store.save(article, tape, text)
        _done(summary, text)

    def _done(summary: ArticleSummary, text: str) -> None:
        _write(out / "articles" / f"{summary.id}.json", text, only_if_changed=True)
        if earlier_failures:
            with contextlib.suppress(OSError):
                (out / "failed" / f"{summary.id}.txt").unlink()  # an earlier failure's raw output, now answered
        summaries.append(summary)
        rep.advance(summary.id, ok=True)

    await for_each(articles, one)
    failures.sort(key=lambda f: f.source_path)
    return summaries, failures


def _stored_summaries(cfg: RunConfig, gateway: Gateway, prompts: Prompts) -> StoredSummaries | None:
    """Where summaries derived from cached answers alone are kept for a rerun: none without a cache, and none
    with --record (its cache hits also write recordings, which a reused summary would skip)."""
    if gateway.cache.directory is None or not gateway.policy.use_cache or cfg.record:
        return None
    e = cfg.endpoint
    return StoredSummaries(gateway.cache, prompts.directory, {
        "model": e.model, "mode": e.mode, "params": e.params, "max_reasks": e.max_reasks,
        "max_input_tokens": cfg.max_input_tokens})


async def asummarize_folder(cfg: RunConfig, reporter: Reporter | None = None) -> RunResult:
    """Summarise `cfg.folder` into a brief in `cfg.output`: the library's entry point, to be awaited inside a
    running event loop (a notebook, a web server). The SDKs load, and the brief is rendered, in worker threads,
    so the loop's other tasks keep running."""
    return await run(cfg, reporter)


def summarize_folder(cfg: RunConfig, reporter: Reporter | None = None) -> RunResult:
    """The synchronous wrapper of `asummarize_folder`, for scripts and the CLI (not inside a running loop)."""
    return run_sync(asummarize_folder(cfg, reporter), "briefer.asummarize_folder(cfg)")
