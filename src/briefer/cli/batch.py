"""`briefer batch …`: article requests answered by a batch engine, then the ordinary run from the cache.

Thin like summarize.py: parse options, call batch_run, print one line per outcome, map errors to exit codes.
"""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, TypeVar

import typer

from briefer.errors import BrieferError
from briefer.plural import plural

from .common import brief_problem_lines, default_cache_dir, fail, run_config, say
from .options import (
    BaseUrl,
    BatchLimits,
    BatchMerge,
    CacheDir,
    DryRun,
    EndpointOptions,
    Folder,
    InputOptions,
    LimitOptions,
    LiveRest,
    Out,
    OutputOptions,
    PanelCommand,
    ReplayOptions,
    grouped,
)

T = TypeVar("T")

batch_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Thousands of articles: the provider's Batch API, or offline engines (vLLM run-batch), through the cache.",
)

ExportOut = Annotated[Path, typer.Option("--out", "-o", help="Where to write the requests (JSONL).")]


def _cache_dir(cache_dir: Path | None) -> Path:
    return cache_dir or default_cache_dir()


@batch_app.command("export", cls=PanelCommand)
@grouped
def export_command(folder: Folder, *, out: ExportOut, endpoint: EndpointOptions, inputs: InputOptions,
                   limits: LimitOptions, replay: ReplayOptions) -> None:
    """Write FOLDER's unanswered article requests as Batch-API JSONL (for `vllm run-batch`)."""
    try:
        _register_secrets()  # the key is kept out of the files written, as in every command
        from briefer.batch_run import export

        cfg = run_config(folder, endpoint, inputs, limits, replay, OutputOptions())
        done = export(cfg, out)
    except BrieferError as exc:
        raise fail(str(exc), exc.exit_code) from None
    say(f"{plural(done.requests, 'request')} written to {out} ({plural(done.articles, 'article')}, "
        f"{plural(done.answered, 'request')} "
        f"already answered in the cache); after the engine answers: briefer batch import RESULTS.jsonl"
        + (f" --cache-dir {replay.cache_dir}" if replay.cache_dir else ""))


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
        from briefer.batch_run import import_file

        report, written = import_file(results, _cache_dir(cache_dir), followup=followup)
    except BrieferError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except OSError as exc:
        raise fail(f"{results}: {exc.strerror or exc}", 1) from None
    _report(report, written)
    raise typer.Exit(0 if not (report.rejected or report.kept) else 3)


def _kept_lines(kept: list[Any]) -> None:
    for r in kept:
        say(f"briefer: kept in part: {r.custom_id[:16]} ({r.subject}): {r.reason}; kept what is valid of the answer")


def _report(report: Any, followup: Path | None) -> None:
    for r in report.rejected:
        say(f"briefer: not imported: {r.custom_id[:16]}{' (' + r.subject + ')' if r.subject else ''}: {r.reason}")
    _kept_lines(report.kept)
    in_part = f" ({len(report.kept)} kept in part)" if report.kept else ""
    say(f"{plural(report.imported, 'answer')} imported into the cache{in_part}, {report.already} already there, "
         f"{len(report.rejected)} not imported" + (f"; their requests: {followup}" if followup else ""))




def _out(out: Path | None) -> Path:
    """The batch state's output folder: --out (or briefer.toml's out, with today's date), else briefs/<today>."""
    from briefer.brief.merge import today
    from briefer.settings import output_folder

    return output_folder(out, today(), None) or Path("briefs") / today()


def _limits(max_requests: int, max_bytes: int) -> Any:
    from briefer.errors import UsageError
    from briefer.model.batch import Limits

    if max_requests < 1 or max_bytes < 1024:
        raise UsageError("--max-requests-per-batch must be at least 1 and --max-batch-bytes at least 1024")
    return Limits(max_requests, max_bytes)


def print_plan(cfg: Any, limits: Any, batch_merge: bool) -> None:
    """What a submission would send and cost, on stdout; nothing is written or sent."""
    from briefer.batch_run import batched_stages, estimate, next_requests
    from briefer.model.batch import split
    from briefer.model.openai.body import request_body

    planned = next_requests(cfg, batched_stages(False, batch_merge))
    guess = estimate(planned.calls, cfg, planned.gateway)
    sizes = split(({"custom_id": "x" * 64, "body": request_body(cfg.endpoint, c.messages, c.response_model)}
                   for c in planned.calls), limits)
    cost = f"${guess.cost:.4f} at {guess.price.describe()}" if guess.cost is not None and guess.price \
        else "unknown (give --price IN,OUT)"
    typer.echo(f"to submit: {plural(guess.requests, 'request')} in {len(sizes)} batch(es) ({planned.answered} already "
               f"answered), about {guess.prompt_tokens:,} prompt + {guess.completion_tokens:,} completion "
               f"tokens; estimated batch cost {cost}")


def _register_secrets(base_url: str | None = None) -> None:
    import os

    from briefer.redact import register, register_url

    register(os.environ.get("OPENAI_API_KEY"))
    register_url(base_url or os.environ.get("OPENAI_BASE_URL"))


@batch_app.command("submit", cls=PanelCommand)
@grouped
def submit_command(
    folder: Folder, *, inputs: InputOptions, endpoint: EndpointOptions, limits: LimitOptions, output: OutputOptions,
    replay: ReplayOptions, dry_run: DryRun = False, batch_limits: BatchLimits, batch_merge: BatchMerge = False,
) -> None:
    """Submit FOLDER's unanswered article requests to the provider's Batch API (or resume a submission).

    --price is the batch price [default: half the table's]; --max-cost submits nothing above it (at that price);
    --concurrency counts the live requests made when collecting (the merge, what is left)."""
    try:
        _register_secrets(endpoint.base_url)
        from briefer.batch_run import submit

        limits_ = _limits(batch_limits.max_requests, batch_limits.max_bytes)
        cfg = run_config(folder, endpoint, inputs, limits, replay, output)
        if cfg.out_dir is None:
            cfg = replace(cfg, out_dir=_out(None))
        if dry_run:
            print_plan(cfg, limits_, batch_merge)
            raise typer.Exit(0)
        done = submit(cfg, limits_, say=say, batch_merge=batch_merge)
    except BrieferError as exc:
        raise fail(str(exc), exc.exit_code) from None
    shards = done.state.shards
    if not shards:
        say(f"nothing to submit: every article request is answered already; run: briefer summarize {folder}")
        raise typer.Exit(0)
    what = "resumed" if done.resumed else "submitted"
    est = done.estimate
    cost = f", estimated ${est.cost:.4f} at the batch price" if est is not None and est.cost is not None else ""
    say(f"{what}: {len(shards)} batch(es), {plural(sum(s.requests for s in shards), 'request')}{cost}; state in "
        f"{cfg.output / 'batch' / 'state.json'}; next: briefer batch status --out {cfg.output}, then collect")


@batch_app.command("status")
@grouped
def status_command(*, out: Out = None, base_url: BaseUrl = None) -> None:
    """Show each batch's state and counts."""
    import time

    state = _on_state(lambda run: run.status(_out(out), base_url=base_url), base_url)
    from briefer.batch_run import progress

    now = time.time()
    for s in state.shards:
        typer.echo(progress(s, now))


@batch_app.command("cancel")
@grouped
def cancel_command(*, out: Out = None, base_url: BaseUrl = None) -> None:
    """Cancel every unfinished batch; answers already given are kept and collected later."""
    cancelled = _on_state(lambda run: run.cancel(_out(out), base_url=base_url), base_url)
    say(f"{len(cancelled)} batch(es) cancelling; run briefer batch collect to keep what they answered")


def _on_state(action: Callable[[ModuleType], T], base_url: str | None = None) -> T:
    """What `action` does with batch_run (imported only now: it loads the SDK) on an earlier submission's
    state, with the secrets known to the redactor first and a BrieferError as its one line."""
    try:
        _register_secrets(base_url)
        from briefer import batch_run

        return action(batch_run)
    except BrieferError as exc:
        raise fail(str(exc), exc.exit_code) from None




@batch_app.command("collect", cls=PanelCommand)
@grouped
def collect_command(
    *,
    folder: Annotated[Path | None, typer.Argument(help="The folder the batch was submitted for (needed to send "
                                                  "follow-ups and write the brief; never taken from state.json).")
                      ] = None,
    out: Out = None,
    base_url: BaseUrl = None,
    live_rest: LiveRest = False,
    batch_merge: BatchMerge = False,
    batch_limits: BatchLimits,
) -> None:
    """Import the finished batches' answers, send what is left as a follow-up batch (or live), write the brief."""
    limits = _limits(batch_limits.max_requests, batch_limits.max_bytes)
    done = _on_state(lambda run: run.collect(_out(out), live_rest=live_rest, limits=limits, say=say,
                                             batch_merge=batch_merge, base_url=base_url, folder=folder), base_url)
    from briefer.batch_run import NOT_READY
    collected_lines(done)
    if done.running:
        say(f"{plural(done.imported, 'answer')} imported; {len(done.running)} batch(es) still running: "
             + ", ".join(f"{s.batch_id} {s.status}" for s in done.running) + "; run collect again later")
        raise typer.Exit(NOT_READY)
    if done.followup:
        say(f"{followup_line(done)}; run collect again when they finish (or collect --live-rest)")
        raise typer.Exit(NOT_READY)
    raise typer.Exit(brief_lines(done))


def collected_lines(done: Any) -> None:
    """What collecting found: answers not imported, batches that failed, expired or were cancelled."""
    for r in done.rejected:
        say(f"briefer: not imported: {r.custom_id[:16]}{' (' + r.subject + ')' if r.subject else ''}: {r.reason}")
    _kept_lines(done.kept)
    for line in done.lines:
        say(f"briefer: {line}")


def followup_line(done: Any) -> str:
    total = sum(s.requests for s in done.followup)
    new = total - done.retried
    parts = [f"{plural(done.retried, 'request')} without a valid answer"] if done.retried else []
    if new:
        parts.append(f"{new} merge requests" if done.stage == "merge" else
                     f"{plural(new, 'request')} the answers call for (joining a long article's parts, re-asks about "
                     "quotes)")
    live = f", {done.live} asked live" if done.live else ""
    return (f"{plural(done.imported, 'answer')} imported{live}; {' and '.join(parts)} submitted as follow-up batch(es) "
            + ", ".join(str(s.batch_id) for s in done.followup))


def brief_lines(done: Any) -> int:
    """The brief's line (and its failures); returns the run's exit code."""
    result = done.result
    assert result is not None
    from briefer.render.run import closing_line

    b = result.brief
    if done.given_up:
        say(f"briefer: {plural(done.given_up, 'request')} got no valid answer in 3 batches; not asked live "
            "(--live-rest asks them live)")
    live = f", {plural(done.live, 'request')} asked live" if done.live else ""
    say(f"{plural(done.imported, 'answer')} imported{live}; " + closing_line(b, result.report, result.out_dir)
        + result.since_note)
    brief_problem_lines(b)
    return int(result.exit_code)


def summarize_batch(cfg: Any, reporter: Any, *, live_rest: bool, batch_merge: bool, poll: float | None,
                    max_requests: int, max_bytes: int, dry_run: bool) -> int:
    """`briefer summarize FOLDER --batch`: submit or resume, wait, collect, follow up, write the brief.
    Returns the exit code. Interrupted while waiting, the batches keep running; the same command resumes."""
    from briefer.batch_run import DEFAULT_POLL, run_batch
    from briefer.errors import Terminated

    _register_secrets(cfg.endpoint.base_url)
    limits = _limits(max_requests, max_bytes)
    if dry_run:
        print_plan(cfg, limits, batch_merge)
        return 0

    def seen(done: Any) -> None:
        collected_lines(done)
        if done.followup:
            say(f"{followup_line(done)}; waiting for them")
        elif done.imported and done.running:
            say(f"{plural(done.imported, 'answer')} imported; waiting for {len(done.running)} batch(es)")

    try:
        done = run_batch(cfg, live_rest, batch_merge, limits, DEFAULT_POLL if poll is None else poll, say=say,
                         seen=seen, reporter=reporter)
    except KeyboardInterrupt as exc:
        out = cfg.output
        say(f"briefer: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}; the batches keep running "
             f"at the provider (nothing was cancelled); resume with the same command, or: briefer batch collect "
             f"--out {out} (to stop them: briefer batch cancel --out {out})")
        return 143 if isinstance(exc, Terminated) else 130
    return brief_lines(done)
