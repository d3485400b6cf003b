"""`briefer batch …`: article requests answered by a batch engine, then the ordinary run from the cache.

Thin like cli.py: parse options, call batch_run, print one line per outcome, map errors to exit codes.
"""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, TypeVar

import typer

from .errors import BrieferError

T = TypeVar("T")

batch_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Thousands of articles: the provider's Batch API, or offline engines (vLLM run-batch), through the cache.",
)

Folder = Annotated[Path, typer.Argument(help="Folder of articles, as for `briefer summarize`.")]
Model = Annotated[str, typer.Option(help="Model name.", envvar="BRIEFER_MODEL")]
BaseUrl = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.",
                                             envvar="OPENAI_BASE_URL")]
Mode = Annotated[str, typer.Option(help="Structured-output mode: tools, json_schema, json, md_json.")]
CacheDir = Annotated[Path | None, typer.Option("--cache-dir", help="Response cache [default: user cache].")]
Temperature = Annotated[float, typer.Option(help="Sampling temperature.")]
MaxTokens = Annotated[int | None, typer.Option("--max-tokens", help="Completion token limit per answer.")]
PromptDir = Annotated[Path | None, typer.Option("--prompt-dir", help="Prompt templates to use.")]
Recursive = Annotated[bool, typer.Option("--recursive", "-r", help="Read subfolders too.")]
MaxChars = Annotated[int, typer.Option("--max-chars", help="Characters kept per article.")]
MaxInputTokens = Annotated[int, typer.Option("--max-input-tokens", help="Estimated tokens of article text per "
                                             "request; longer articles are read in parts.")]
Recordings = Annotated[Path | None, typer.Option("--recordings", help="Recordings folder [default: 'recordings' "
                                                 "beside FOLDER].")]


def _fail(message: str, code: int) -> typer.Exit:
    _say(f"briefer: {message}")
    return typer.Exit(code)


def _say(message: str) -> None:
    from .terminal import say

    say(message)


def _cache_dir(cache_dir: Path | None) -> Path:
    from .cli import _default_cache_dir

    return cache_dir or _default_cache_dir()


def _config(folder: Path, **options: Any) -> Any:
    """The RunConfig these options describe (only the options that shape a request or the run)."""
    from .model.llm import EndpointConfig
    from .pipeline import RunConfig

    endpoint = EndpointConfig(model=options.pop("model"), mode=options.pop("mode"), base_url=options.pop("base_url"),
                              temperature=options.pop("temperature"), max_tokens=options.pop("max_tokens"))
    options["cache_dir"] = _cache_dir(options.get("cache_dir"))
    return RunConfig(folder=folder, endpoint=endpoint, **options)


@batch_app.command("export")
def export_command(
    folder: Folder,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the requests (JSONL).")],
    model: Model = "gpt-4o-mini",
    mode: Mode = "tools",
    temperature: Temperature = 0.0,
    max_tokens: MaxTokens = None,
    cache_dir: CacheDir = None,
    prompt_dir: PromptDir = None,
    recordings: Recordings = None,
    recursive: Recursive = False,
    max_chars: MaxChars = 200_000,
    max_input_tokens: MaxInputTokens = 12_000,
) -> None:
    """Write FOLDER's unanswered article requests as Batch-API JSONL (for `vllm run-batch`)."""
    try:
        _register_secrets()  # the key is kept out of the files written, as in every command
        from .batch_run import export

        cfg = _config(folder, model=model, mode=mode, base_url=None, temperature=temperature, max_tokens=max_tokens,
                      cache_dir=cache_dir, prompt_dir=prompt_dir, recordings_dir=recordings, recursive=recursive,
                      max_chars=max_chars, max_input_tokens=max_input_tokens)
        done = export(cfg, output)
    except BrieferError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    _say(f"{done.requests} requests written to {output} ({done.articles} articles, {done.answered} requests "
         f"already answered in the cache); after the engine answers: briefer batch import RESULTS.jsonl"
         + (f" --cache-dir {cache_dir}" if cache_dir else ""))


@batch_app.command("import")
def import_command(
    results: Annotated[Path, typer.Argument(help="Batch-API output JSONL (custom_id, response, error).")],
    cache_dir: CacheDir = None,
    followup: Annotated[Path | None, typer.Option("--followup", help="Where to write the requests to ask again "
                                                  "[default: RESULTS.followup.jsonl].")] = None,
) -> None:
    """Validate each answer like a live one and store the valid ones in the cache."""
    try:
        _register_secrets()
        from .batch_run import import_file

        report, written = import_file(results, _cache_dir(cache_dir), followup=followup)
    except BrieferError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    except OSError as exc:
        raise _fail(f"{results}: {exc.strerror or exc}", 1) from None
    _report(report, written)
    raise typer.Exit(0 if not (report.rejected or report.kept) else 3)


def _kept_lines(kept: list[Any]) -> None:
    for r in kept:
        _say(f"briefer: kept in part: {r.custom_id[:16]} ({r.subject}): {r.reason}; kept what is valid of the answer")


def _report(report: Any, followup: Path | None) -> None:
    for r in report.rejected:
        _say(f"briefer: not imported: {r.custom_id[:16]}{' (' + r.subject + ')' if r.subject else ''}: {r.reason}")
    _kept_lines(report.kept)
    in_part = f" ({len(report.kept)} kept in part)" if report.kept else ""
    _say(f"{report.imported} answers imported into the cache{in_part}, {report.already} already there, "
         f"{len(report.rejected)} not imported" + (f"; their requests: {followup}" if followup else ""))


Out = Annotated[Path | None, typer.Option("--out", help="Output folder, where the batch state is kept "
                                          "[default: briefs/<date>/].")]
MaxRequests = Annotated[int, typer.Option("--max-requests-per-batch", help="Requests per batch input file; more are "
                                          "split into several batches.")]
MaxBytes = Annotated[int, typer.Option("--max-batch-bytes", help="Bytes per batch input file; more are split into "
                                       "several batches.")]


def _out(out: Path | None) -> Path:
    from .brief.merge import today

    return out or Path("briefs") / today()


def _limits(max_requests: int, max_bytes: int) -> Any:
    from .errors import UsageError
    from .model.batch import Limits

    if max_requests < 1 or max_bytes < 1024:
        raise UsageError("--max-requests-per-batch must be at least 1 and --max-batch-bytes at least 1024")
    return Limits(max_requests, max_bytes)


def print_plan(cfg: Any, limits: Any, batch_merge: bool) -> None:
    """What a submission would send and cost, on stdout; nothing is written or sent."""
    from .batch_run import batched_stages, estimate, next_requests
    from .model.batch import split
    from .model.llm import request_body

    planned = next_requests(cfg, batched_stages(False, batch_merge))
    guess = estimate(planned.calls, cfg, planned.gateway)
    sizes = split(({"custom_id": "x" * 64, "body": request_body(cfg.endpoint, c.messages, c.response_model)}
                   for c in planned.calls), limits)
    cost = f"${guess.cost:.4f} at {guess.price.describe()}" if guess.cost is not None and guess.price \
        else "unknown (give --price IN,OUT)"
    typer.echo(f"to submit: {guess.requests} requests in {len(sizes)} batch(es) ({planned.answered} already "
               f"answered), about {guess.prompt_tokens:,} prompt + {guess.completion_tokens:,} completion "
               f"tokens; estimated batch cost {cost}")


def _register_secrets(base_url: str | None = None) -> None:
    import os

    from .redact import register, register_url

    register(os.environ.get("OPENAI_API_KEY"))
    register_url(base_url or os.environ.get("OPENAI_BASE_URL"))


@batch_app.command("submit")
def submit_command(
    folder: Folder,
    out: Out = None,
    model: Model = "gpt-4o-mini",
    base_url: BaseUrl = None,
    mode: Mode = "tools",
    temperature: Temperature = 0.0,
    max_tokens: MaxTokens = None,
    cache_dir: CacheDir = None,
    prompt_dir: PromptDir = None,
    recordings: Recordings = None,
    recursive: Recursive = False,
    max_chars: MaxChars = 200_000,
    max_input_tokens: MaxInputTokens = 12_000,
    date: Annotated[str | None, typer.Option("--date", help="Date of the brief, YYYY-MM-DD [default: today].")] = None,
    stale_days: Annotated[int, typer.Option("--stale-days", help="As for summarize.")] = 7,
    merge_budget: Annotated[int, typer.Option("--merge-budget", help="As for summarize.")] = 16_000,
    concurrency: Annotated[int, typer.Option(help="Live requests at once when collecting (merge, rest).")] = 8,
    price: Annotated[str | None, typer.Option("--price", help="Batch price 'IN,OUT[,CACHED]' in USD per million tokens "
                                              "[default: half the table's price].", envvar="BRIEFER_PRICE")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", help="Submit nothing if the batch would cost more "
                                                   "than this many USD (estimated at the batch price).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the requests, batches and cost; submit nothing.")
                       ] = False,
    max_requests: MaxRequests = 50_000,
    max_bytes: MaxBytes = 200 * 1024 * 1024,
    batch_merge: Annotated[bool, typer.Option("--batch-merge", help="With every article answered already, "
                                              "submit the merge calls.")] = False,
) -> None:
    """Submit FOLDER's unanswered article requests to the provider's Batch API (or resume a submission)."""
    try:
        _register_secrets(base_url)
        from .batch_run import submit
        from .cli import _parse_date

        limits = _limits(max_requests, max_bytes)
        cfg = _config(folder, model=model, mode=mode, base_url=base_url, temperature=temperature,
                      max_tokens=max_tokens, cache_dir=cache_dir, prompt_dir=prompt_dir, recordings_dir=recordings,
                      recursive=recursive, max_chars=max_chars, max_input_tokens=max_input_tokens,
                      out_dir=_out(out), date=_parse_date(date), stale_after_days=stale_days,
                      merge_budget=merge_budget, concurrency=concurrency, price=price, max_cost=max_cost)
        if dry_run:
            print_plan(cfg, limits, batch_merge)
            raise typer.Exit(0)
        done = submit(cfg, limits, say=_say, batch_merge=batch_merge)
    except BrieferError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    shards = done.state.shards
    if not shards:
        _say(f"nothing to submit: every article request is answered already; run: briefer summarize {folder}")
        raise typer.Exit(0)
    what = "resumed" if done.resumed else "submitted"
    est = done.estimate
    cost = f", estimated ${est.cost:.4f} at the batch price" if est is not None and est.cost is not None else ""
    _say(f"{what}: {len(shards)} batch(es), {sum(s.requests for s in shards)} requests{cost}; state in "
         f"{cfg.output / 'batch' / 'state.json'}; next: briefer batch status --out {cfg.output}, then collect")


@batch_app.command("status")
def status_command(out: Out = None, base_url: BaseUrl = None) -> None:
    """Show each batch's state and counts."""
    import time

    state = _on_state(lambda run: run.status(_out(out), base_url=base_url), base_url)
    from .batch_run import progress

    now = time.time()
    for s in state.shards:
        typer.echo(progress(s, now))


@batch_app.command("cancel")
def cancel_command(out: Out = None, base_url: BaseUrl = None) -> None:
    """Cancel every unfinished batch; answers already given are kept and collected later."""
    cancelled = _on_state(lambda run: run.cancel(_out(out), base_url=base_url), base_url)
    _say(f"{len(cancelled)} batch(es) cancelling; run briefer batch collect to keep what they answered")


def _on_state(action: Callable[[ModuleType], T], base_url: str | None = None) -> T:
    """What `action` does with batch_run (imported only now: it loads the SDK) on an earlier submission's
    state, with the secrets known to the redactor first and a BrieferError as its one line."""
    try:
        _register_secrets(base_url)
        from . import batch_run

        return action(batch_run)
    except BrieferError as exc:
        raise _fail(str(exc), exc.exit_code) from None


LiveRest = Annotated[bool, typer.Option("--live-rest", help="After the first batch, ask what is left of the "
                                        "articles live (requests without a valid answer, reduce calls, re-asks), "
                                        "instead of in follow-up batches.")]
BatchMerge = Annotated[bool, typer.Option("--batch-merge", help="Send the merge calls as a batch too, once the "
                                          "articles are answered [default: the merge is asked live].")]


@batch_app.command("collect")
def collect_command(
    folder: Annotated[Path | None, typer.Argument(help="The folder the batch was submitted for (needed to send "
                                                  "follow-ups and write the brief; never taken from state.json).")
                      ] = None,
    out: Out = None,
    base_url: BaseUrl = None,
    live_rest: LiveRest = False,
    batch_merge: BatchMerge = False,
    max_requests: MaxRequests = 50_000,
    max_bytes: MaxBytes = 200 * 1024 * 1024,
) -> None:
    """Import the finished batches' answers, send what is left as a follow-up batch (or live), write the brief."""
    done = _on_state(lambda run: run.collect(_out(out), live_rest=live_rest, limits=_limits(max_requests, max_bytes),
                                             say=_say, batch_merge=batch_merge, base_url=base_url,
                                             folder=folder), base_url)
    from .batch_run import NOT_READY
    collected_lines(done)
    if done.running:
        _say(f"{done.imported} answers imported; {len(done.running)} batch(es) still running: "
             + ", ".join(f"{s.batch_id} {s.status}" for s in done.running) + "; run collect again later")
        raise typer.Exit(NOT_READY)
    if done.followup:
        _say(f"{followup_line(done)}; run collect again when they finish (or collect --live-rest)")
        raise typer.Exit(NOT_READY)
    raise typer.Exit(brief_lines(done))


def collected_lines(done: Any) -> None:
    """What collecting found: answers not imported, batches that failed, expired or were cancelled."""
    for r in done.rejected:
        _say(f"briefer: not imported: {r.custom_id[:16]}{' (' + r.subject + ')' if r.subject else ''}: {r.reason}")
    _kept_lines(done.kept)
    for line in done.lines:
        _say(f"briefer: {line}")


def followup_line(done: Any) -> str:
    total = sum(s.requests for s in done.followup)
    new = total - done.retried
    parts = [f"{done.retried} requests without a valid answer"] if done.retried else []
    if new:
        parts.append(f"{new} merge requests" if done.stage == "merge" else
                     f"{new} requests the answers call for (joining a long article's parts, re-asks about quotes)")
    live = f", {done.live} asked live" if done.live else ""
    return (f"{done.imported} answers imported{live}; {' and '.join(parts)} submitted as follow-up batch(es) "
            + ", ".join(str(s.batch_id) for s in done.followup))


def brief_lines(done: Any) -> int:
    """The brief's line (and its failures); returns the run's exit code."""
    result = done.result
    assert result is not None
    from .render.run import closing_line

    b = result.brief
    if done.given_up:
        _say(f"briefer: {done.given_up} requests got no valid answer in 3 batches; not asked live (--live-rest "
             "asks them live)")
    _say(f"{done.imported} answers imported{f', {done.live} requests asked live' if done.live else ''}; "
         + closing_line(b, result.report, result.out_dir) + result.since_note)
    from .cli import brief_problem_lines

    brief_problem_lines(b)
    return int(result.exit_code)


def summarize_batch(cfg: Any, reporter: Any, *, live_rest: bool, batch_merge: bool, poll: float | None,
                    max_requests: int, max_bytes: int, dry_run: bool) -> int:
    """`briefer summarize FOLDER --batch`: submit or resume, wait, collect, follow up, write the brief.
    Returns the exit code. Interrupted while waiting, the batches keep running; the same command resumes."""
    from .batch_run import DEFAULT_POLL, run_batch
    from .errors import Terminated

    _register_secrets(cfg.endpoint.base_url)
    limits = _limits(max_requests, max_bytes)
    if dry_run:
        print_plan(cfg, limits, batch_merge)
        return 0

    def seen(done: Any) -> None:
        collected_lines(done)
        if done.followup:
            _say(f"{followup_line(done)}; waiting for them")
        elif done.imported and done.running:
            _say(f"{done.imported} answers imported; waiting for {len(done.running)} batch(es)")

    try:
        done = run_batch(cfg, live_rest, batch_merge, limits, DEFAULT_POLL if poll is None else poll, say=_say,
                         seen=seen, reporter=reporter)
    except KeyboardInterrupt as exc:
        out = cfg.output
        _say(f"briefer: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}; the batches keep running "
             f"at the provider (nothing was cancelled); resume with the same command, or: briefer batch collect "
             f"--out {out} (to stop them: briefer batch cancel --out {out})")
        return 143 if isinstance(exc, Terminated) else 130
    return brief_lines(done)
