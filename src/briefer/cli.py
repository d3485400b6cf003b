"""The `briefer` command: parse options, call the library, map errors to exit codes.

Exit codes: 0 complete · 1 nothing produced (no articles, endpoint unusable, missing recordings)
· 2 usage error · 3 partial (some articles failed or were kept in part; the brief is written and says so)
· 130 interrupted (Ctrl-C) · 143 terminated (SIGTERM).
Heavy imports (the pipeline, the SDKs, rich) happen inside commands so `briefer --help` is fast.
"""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

import datetime as dt
import os
import signal
import sys
import time
from collections import deque
from pathlib import Path
from typing import Annotated, Any

import typer

from . import gcpause
from .batch_cli import batch_app
from .errors import BrieferError, Terminated, UsageError
from .eval.command import eval_command
from .fetch_cli import fetch_command
from .options import DEFAULT_MAX_TIME, DEFAULT_TIMEOUT, MaxTime, RetryFailed, Stream, Timeout

# Shown under `briefer --help` and `briefer summarize --help`. "\b" keeps click from rewrapping the lines.
EPILOG = """\b
Environment:
  OPENAI_API_KEY     key for the endpoint (read, never written anywhere)
  OPENAI_BASE_URL    default for --base-url
  BRIEFER_MODEL      default for --model
  BRIEFER_CACHE_DIR  default for --cache-dir
  BRIEFER_PRICE      default for --price ('IN,OUT', USD per million tokens)

\b
Exit codes:
  0    complete
  1    nothing produced (no articles, endpoint unusable, no usable recordings)
  2    usage error
  3    partial: some articles failed, or were kept in part (with warnings); the brief
       is written and says so
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM): finished work is kept
"""

app = typer.Typer(
    no_args_is_help=True,
    epilog=EPILOG,
    # Plain help text: rendering it with rich costs ~130 ms of start-up (target: --help under 0.3 s).
    rich_markup_mode=None,
    help="Daily news briefs from articles in languages you don't read: summarised, translated, traceable.",
)

def _show_version(value: bool) -> None:
    if value:
        from ._version import __version__

        typer.echo(f"briefer {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Daily news briefs from articles in languages you don't read: summarised, translated, traceable."""


MODES = ["tools", "json_schema", "json", "md_json"]  # for the help text; llm.MODES is the source (a test holds)


def _say(line: str) -> None:
    """One line on stderr. Every stderr line goes through here (see terminal.py)."""
    from .terminal import say

    say(line)


def _fail(message: str, code: int) -> typer.Exit:
    _say(f"briefer: {message}")
    return typer.Exit(code)


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated()


def _default_cache_dir() -> Path:
    env = os.environ.get("BRIEFER_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("briefer"))


def _parse_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(f"--date must be YYYY-MM-DD, got '{value}'") from None


class _Progress:
    """A progress bar on stderr while articles are processed, when stderr is a terminal; warnings as lines."""

    def __init__(self) -> None:
        self.console: Any = None
        if sys.stderr.isatty():  # rich costs ~0.1 s to load: only for a terminal
            from rich.console import Console

            self.console = Console(stderr=True)
        self._progress: Any = None
        self._task: Any = None
        self._tokens: deque[tuple[float, int]] = deque()  # (when, tokens) streamed in the last few seconds
        self._shown = 0.0

    def start(self, total: int) -> None:
        if self.console is None:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("summarising"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[rate]}"), TextColumn("{task.description}"), console=self.console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("", total=total, rate="")

    def advance(self, article_id: str, ok: bool) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=article_id if ok else f"{article_id} (failed)")

    def tokens(self, n: int) -> None:
        """Streamed tokens as they arrive: the bar shows the rate over the last 5 seconds (on a terminal only)."""
        if self._progress is None:
            return
        now = time.monotonic()
        self._tokens.append((now, n))
        while self._tokens and self._tokens[0][0] < now - 5:
            self._tokens.popleft()
        if now - self._shown >= 0.5:  # a few updates a second are enough to read
            self._shown = now
            span = max(now - self._tokens[0][0], 1.0)
            rate = sum(k for _, k in self._tokens) / span
            self._progress.update(self._task, rate=f"{rate:.0f} tokens/s")

    def warn(self, message: str) -> None:
        if self.console is None:
            _say(f"briefer: warning: {message}")
        else:
            from .terminal import for_terminal

            self.console.print(for_terminal(f"briefer: warning: {message}"), markup=False, highlight=False,
                               soft_wrap=True)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@app.command(epilog=EPILOG)
def summarize(
    folder: Annotated[Path, typer.Argument(help="Folder of articles (.txt, .md, .html, .htm, .json, .jsonl).")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder [default: briefs/<date>/].")] = None,
    model: Annotated[str, typer.Option(help="Model name.", envvar="BRIEFER_MODEL")] = "gpt-4o-mini",
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, LM Studio).",
                                 envvar="OPENAI_BASE_URL")
    ] = None,
    mode: Annotated[str, typer.Option(help=f"Structured-output mode: {', '.join(MODES)}.")] = "tools",
    concurrency: Annotated[int, typer.Option(help="Requests to the model in flight at once.")] = 8,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Response cache [default: user cache].")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="No network: answers come from recordings and cache.")
    ] = False,
    record: Annotated[bool, typer.Option("--record", help="Call the endpoint and write recordings.")] = False,
    record_stale: Annotated[bool, typer.Option("--record-stale", help="Like --record, but replay the recordings "
                                               "that still match: ask and record only the stale or missing "
                                               "ones.")] = False,
    retry_failed: RetryFailed = False,
    recordings: Annotated[
        Path | None, typer.Option("--recordings", help="Recordings folder [default: recordings/<name> beside FOLDER].")
    ] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date of the brief, YYYY-MM-DD [default: today].")] = None,
    stale_days: Annotated[int, typer.Option("--stale-days", help="Older than the newest article by more "
                                            "than this many days: stale.")] = 7,
    prompt_dir: Annotated[Path | None, typer.Option("--prompt-dir", help="Prompt templates to use.")] = None,
    aliases: Annotated[Path | None, typer.Option("--aliases", help="Alias file joining or separating entities "
                                                 "[default: 'aliases.toml' beside FOLDER, if any].")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Earlier brief to compare with: its folder, or a "
                                              "day (YYYY-MM-DD, 'yesterday') whose brief is beside --out "
                                              "[default: the newest earlier brief of the same FOLDER beside a "
                                              "dated --out].")] = None,
    no_since: Annotated[bool, typer.Option("--no-since", help="Compare with no earlier brief.")] = False,
    timeout: Timeout = DEFAULT_TIMEOUT,
    max_time: MaxTime = DEFAULT_MAX_TIME,
    stream: Stream = False,
    max_retries: Annotated[int, typer.Option("--max-retries", help="Retries of one HTTP request after a "
                                             "transient fault (429, 5xx, timeout, reset).")] = 4,
    max_reasks: Annotated[int, typer.Option("--max-reasks", help="Re-asks when the answer is invalid.")] = 2,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Completion token limit per answer.")] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.0,
    frequency_penalty: Annotated[float | None, typer.Option("--frequency-penalty", help="Penalise repeated tokens "
                                                            "(-2 to 2); against small models' loops.")] = None,
    presence_penalty: Annotated[float | None, typer.Option("--presence-penalty", help="Penalise tokens already "
                                                           "used (-2 to 2).")] = None,
    extra_body: Annotated[str | None, typer.Option("--extra-body", help="More request parameters the server "
                                                   "understands, as JSON, e.g. '{\"repeat_penalty\": 1.1}' "
                                                   "(llama.cpp).")] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Read subfolders too.")] = False,
    follow_links: Annotated[bool, typer.Option("--follow-links", help="Read links leading out of FOLDER.")] = False,
    max_chars: Annotated[int, typer.Option("--max-chars", help="Characters kept per article; longer text is cut "
                                           "at a paragraph break (and says so).")] = 200_000,
    max_input_tokens: Annotated[int, typer.Option("--max-input-tokens", help="Estimated tokens of article text per "
                                                  "request; longer articles are read in parts.")] = 12_000,
    merge_budget: Annotated[int, typer.Option("--merge-budget", help="Estimated tokens of input per merge call; "
                                              "more articles are merged in batches.")] = 16_000,
    price: Annotated[str | None, typer.Option("--price", help="Model price 'IN,OUT[,CACHED]' in USD per million tokens "
                                              "(default: briefer's table for OpenAI models).", envvar="BRIEFER_PRICE")
                     ] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", help="Stop before spending more than this many "
                                                   "USD (estimated).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Estimate requests, tokens and cost; call nothing.")
                       ] = False,
    rpm: Annotated[float | None, typer.Option("--rpm", help="Requests per minute the endpoint allows.")] = None,
    tpm: Annotated[float | None, typer.Option("--tpm", help="Tokens per minute the endpoint allows.")] = None,
    no_html: Annotated[bool, typer.Option("--no-html", help="Do not write brief.html.")] = False,
    max_response_mb: Annotated[float, typer.Option("--max-response-mb", help="Largest HTTP response read, in MB; "
                                                   "a larger one fails its request.")] = 8.0,
    batch: Annotated[bool, typer.Option("--batch", help="Send the requests through the provider's Batch API (half "
                                        "the price, answers within 24 h): submit, or resume the batches in "
                                        "OUT/batch/, wait, collect, write the brief. Ctrl-C leaves them running; "
                                        "the same command resumes.")] = False,
    batch_merge: Annotated[bool, typer.Option("--batch-merge", help="With --batch: the merge calls as a batch "
                                              "too [default: the merge is asked live].")] = False,
    live_rest: Annotated[bool, typer.Option("--live-rest", help="With --batch: after the first batch, ask what "
                                            "is left of the articles live instead of in follow-up batches.")] = False,
    poll_interval: Annotated[float | None, typer.Option("--poll-interval", help="With --batch: seconds between "
                                                        "looks at the running batches [default: 60].")] = None,
    max_requests_per_batch: Annotated[int, typer.Option("--max-requests-per-batch", help="With --batch: requests "
                                                        "per batch; more are split.")] = 50_000,
    max_batch_bytes: Annotated[int, typer.Option("--max-batch-bytes", help="With --batch: bytes per batch input "
                                                 "file; more are split.")] = 200 * 1024 * 1024,
    fetch: Annotated[Path | None, typer.Option("--fetch", help="Sources file: fetch its feeds and pages into "
                                               "FOLDER first (as `briefer fetch SOURCES --out FOLDER`).")] = None,
    copy_threshold: Annotated[float, typer.Option("--copy-threshold", help="Similarity (0-1) at which articles "
                                                  "are copies of one story, asked once; 0 turns it off.")] = 0.5,
    outlets: Annotated[Path | None, typer.Option("--outlets", help="Your descriptions of outlets [default: "
                                                 "'outlets.toml' beside FOLDER, if any].")] = None,
) -> None:
    """Summarise every article in FOLDER and merge them into one daily brief."""
    progress: _Progress | None = None
    fetched = 0
    try:
        if fetch is not None:
            from .fetch_cli import run_fetch

            if dry_run:
                raise UsageError("--dry-run writes nothing and --fetch writes FOLDER: run `briefer fetch` first")

            fetched = run_fetch(fetch, folder, contact=os.environ.get("BRIEFER_CONTACT"))
        from .redact import register

        register(os.environ.get("OPENAI_API_KEY"))  # redacted from all output even before a request is made
        with gcpause.paused_gc():
            from .model.llm import EndpointConfig
            from .pipeline import RunConfig, summarize_folder

        cfg = RunConfig(
            folder=folder,
            endpoint=EndpointConfig(model=model, mode=mode, base_url=base_url, timeout=timeout,
                                    max_time=max_time, stream=stream,
                                    max_retries=max_retries, max_reasks=max_reasks, max_tokens=max_tokens,
                                    temperature=temperature, rpm=rpm, tpm=tpm,
                                    max_response_bytes=_megabytes(max_response_mb),
                                    frequency_penalty=frequency_penalty, presence_penalty=presence_penalty,
                                    extra_body=extra_body),
            out_dir=out,
            date=_parse_date(date),
            concurrency=concurrency,
            cache_dir=None if no_cache else (cache_dir or _default_cache_dir()),
            recordings_dir=recordings,
            offline=offline,
            record=record, record_stale=record_stale,
            retry_failed=retry_failed,
            prompt_dir=prompt_dir,
            aliases=aliases, since=since, no_since=no_since,
            stale_after_days=stale_days,
            recursive=recursive, follow_links=follow_links,
            max_chars=max_chars,
            max_input_tokens=max_input_tokens,
            merge_budget=merge_budget,
            price=price,
            max_cost=max_cost,
            html=not no_html,
            copy_threshold=copy_threshold, outlets=outlets,
        )
        if not batch and (batch_merge or live_rest or poll_interval is not None):
            raise UsageError("--batch-merge, --live-rest and --poll-interval go with --batch")
        if batch:
            from .batch_cli import summarize_batch

            progress = _Progress()
            code = summarize_batch(cfg, progress, live_rest=live_rest, batch_merge=batch_merge, poll=poll_interval,
                                   max_requests=max_requests_per_batch, max_bytes=max_batch_bytes, dry_run=dry_run)
            progress.stop()
            raise typer.Exit(code)
        if dry_run:
            from .pipeline import dry_run as plan

            _print_plan(plan(cfg))
            raise typer.Exit(0)
        progress = _Progress()
        result = summarize_folder(cfg, progress)
    except Terminated:
        if progress:
            progress.stop()
        raise _fail("terminated (SIGTERM); finished articles are kept in the output folder", 143) from None
    except KeyboardInterrupt:
        if progress:
            progress.stop()
        raise _fail("interrupted; finished articles are kept in the output folder", 130) from None
    except BrieferError as exc:
        if progress:
            progress.stop()
        raise _fail(str(exc), exc.exit_code) from None
    progress.stop()
    from .render.run import closing_line

    b = result.brief
    _say(closing_line(b, result.report, result.out_dir) + result.since_note)
    brief_problem_lines(b)
    raise typer.Exit(result.exit_code or (3 if fetched else 0))


def brief_problem_lines(b: Any) -> None:
    """A line for each article and merge answer kept in part, and each failure, under the brief's line
    (`summarize` and `briefer batch collect` alike)."""
    for a in b.articles:
        if a.warnings:
            _say(f"briefer: kept in part: {a.id}: {'; '.join(a.warnings)}")
    if b.merge_warnings:
        _say(f"briefer: kept in part: (merge): {'; '.join(b.merge_warnings)}")
    for f in b.failures:
        _say(f"briefer: failed: {f.source_path}: {f.reason}")


def _megabytes(mb: float) -> int:
    """Bytes, or 0 (refused as a usage error) for nan, inf and negative values."""
    return int(mb * 1e6) if 0 <= mb < float("inf") else 0


def _print_plan(plan: Any) -> None:
    """The dry run's table on stdout."""
    typer.echo(f"{'article':<40} {'requests':>8} {'prompt est':>11} {'compl. est':>11}  answered")
    for r in plan.rows:
        typer.echo(f"{r.subject:<40} {r.requests:>8} {r.prompt_tokens:>11,} {r.completion_tokens:>11,}  "
                   f"{'cached' if r.cached else 'to send'}")
    send, cached, prompt, completion = plan.totals()
    cost = f"${plan.cost:.4f} at {plan.price.describe()}" if plan.price else "unknown (give --price IN,OUT)"
    typer.echo(f"to send: {send} requests ({cached} already answered), about {prompt:,} prompt + "
               f"{completion:,} completion tokens; estimated cost {cost}")
    if plan.batch_cost is not None:
        typer.echo(f"as a batch (--batch): ${plan.batch_cost:.4f}, the article requests at "
                   f"{plan.batch_price.describe()}, the merge live")
    typer.echo(f"fixed prompt tokens per article request (system prompt + response schema, sent first so "
               f"provider-side prompt caching applies): {plan.fixed_prompt_tokens:,}")
    for s in plan.skipped:
        typer.echo(f"skipped: {s.source_path}: {s.reason}")
    for chosen, copies in plan.copies:
        typer.echo(f"copies of one story (asked once, for {chosen}): "
                   + ", ".join(f"{c} ({sim:.2f})" for c, sim in copies))


@app.command()
def schemas(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if schemas/ differs from the models.")] = False,
    directory: Annotated[Path, typer.Option("--dir", help="Where the schema files live.")] = Path("schemas"),
) -> None:
    """Write (or check) the JSON Schemas generated from the models."""
    from .schemas import write_schemas

    stale = write_schemas(directory, check=check)
    if check and stale:
        raise _fail(f"schemas out of date: {', '.join(stale)}; run: briefer schemas", 1)
    typer.echo(f"schemas {'checked' if check else 'written'} in {directory}", err=True)


app.command("eval")(eval_command)
app.command("fetch")(fetch_command)
app.add_typer(batch_app, name="batch")


def main() -> None:
    # Installed by the command only, not on import: a program that embeds the library keeps its own handler.
    signal.signal(signal.SIGTERM, _on_sigterm)
    gcpause.for_a_run()
    try:
        # One name for usage lines and shell completion, also under `python -m briefer`.
        app(prog_name="briefer")
    except Terminated:
        sys.exit(143)
    except KeyboardInterrupt:
        sys.exit(130)
