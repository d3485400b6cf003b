"""`briefer summarize`: parse the options, run the pipeline, print the closing line, map errors to exit codes.

Exit codes: 0 complete · 1 nothing produced (no articles, endpoint unusable, missing recordings)
· 2 usage error · 3 partial (some articles failed or were kept in part; the brief is written and says so)
· 130 interrupted (Ctrl-C) · 143 terminated (SIGTERM).
Heavy imports (the pipeline, the SDKs, rich) happen inside the command so `briefer --help` is fast.
"""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

import dataclasses
import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Annotated, Any

import typer

from briefer import gcpause
from briefer.errors import BrieferError, Terminated, UsageError

from .common import brief_problem_lines, fail, run_config, say
from .options import (
    BATCH as BATCH_PANEL,
)
from .options import (
    INPUT as INPUT_PANEL,
)
from .options import (
    BatchLimits,
    BatchMerge,
    DryRun,
    EndpointOptions,
    Folder,
    InputOptions,
    LimitOptions,
    LiveRest,
    OptionGroup,
    OutputOptions,
    PollInterval,
    ReplayOptions,
    grouped,
    option,
)

Batch = Annotated[bool, option(
    "--batch", help="Send the requests through the provider's Batch API (half the price, answers within 24 h): "
    "submit, or resume the batches in OUT/batch/, wait, collect, write the brief. Ctrl-C leaves them running; the "
    "same command resumes.", panel=BATCH_PANEL)]
Fetch = Annotated[Path | None, option(
    "--fetch", help="Sources file: fetch its feeds and pages into FOLDER first (as `briefer fetch SOURCES --out "
    "FOLDER`); a source that fails makes the run partial (exit 3).", panel=INPUT_PANEL)]


@dataclasses.dataclass
class BatchRun(OptionGroup):
    """`summarize --batch` and how it runs."""

    batch: Batch = False
    batch_merge: BatchMerge = False
    live_rest: LiveRest = False
    poll_interval: PollInterval = None


# Skipped files are named one line each up to this many; more are counted (brief.md lists them all).
SKIPPED_NAMED = 5


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
            say(f"briefer: warning: {message}")
        else:
            from briefer.terminal import for_terminal

            self.console.print(for_terminal(f"briefer: warning: {message}"), markup=False, highlight=False,
                               soft_wrap=True)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@grouped
def summarize(
    folder: Folder, *, inputs: InputOptions, endpoint: EndpointOptions, limits: LimitOptions, output: OutputOptions,
    replay: ReplayOptions, dry_run: DryRun = False, batching: BatchRun, batch_limits: BatchLimits, fetch: Fetch = None,
) -> None:
    """Summarise every article in FOLDER and merge them into one daily brief."""
    progress: _Progress | None = None
    fetched = 0
    try:
        if fetch is not None:
            if dry_run:
                raise UsageError("--dry-run writes nothing and --fetch writes FOLDER: run `briefer fetch` first")
            from .fetch import run_fetch

            fetched = run_fetch(fetch, folder, contact=os.environ.get("BRIEFER_CONTACT"))
        from briefer.redact import register

        register(os.environ.get("OPENAI_API_KEY"))  # redacted from all output even before a request is made
        with gcpause.paused_gc():
            from briefer.pipeline import summarize_folder

        cfg = run_config(folder, endpoint, inputs, limits, replay, output)
        b = batching
        if not b.batch and (b.batch_merge or b.live_rest or b.poll_interval is not None):
            raise UsageError("--batch-merge, --live-rest and --poll-interval go with --batch")
        if b.batch:
            from .batch import summarize_batch

            progress = _Progress()
            code = summarize_batch(cfg, progress, live_rest=b.live_rest, batch_merge=b.batch_merge,
                                   poll=b.poll_interval,
                                   max_requests=batch_limits.max_requests, max_bytes=batch_limits.max_bytes,
                                   dry_run=dry_run)
            progress.stop()
            raise typer.Exit(code)
        if dry_run:
            from briefer.pipeline import dry_run as plan

            _print_plan(plan(cfg))
            raise typer.Exit(0)
        progress = _Progress()
        result = summarize_folder(cfg, progress)
    except Terminated:
        if progress:
            progress.stop()
        raise fail("terminated (SIGTERM); finished articles are kept in the output folder", 143) from None
    except KeyboardInterrupt:
        if progress:
            progress.stop()
        raise fail("interrupted; finished articles are kept in the output folder", 130) from None
    except BrieferError as exc:
        if progress:
            progress.stop()
        raise fail(str(exc), exc.exit_code) from None
    progress.stop()
    closing_lines(result, cfg)
    raise typer.Exit(result.exit_code or (3 if fetched else 0))  # some sources failed: a partial brief


def closing_lines(result: Any, cfg: Any) -> None:
    """The run's line on stderr (the library's closing line, and the alias file applied), then a line for each
    skipped file (or their count), each article kept in part and each failure."""
    from briefer.brief.aliases import alias_file
    from briefer.render.run import closing_line

    b = result.brief
    aliases = alias_file(cfg.folder, cfg.aliases)
    say(closing_line(b, result.report, result.out_dir) + result.since_note
        + (f"; alias file {aliases} applied" if aliases else ""))
    skipped_lines(b.skipped)
    brief_problem_lines(b)


def skipped_lines(skipped: list[Any]) -> None:
    """The files not read, one line each when they are few, else how many (brief.md names them all)."""
    if len(skipped) > SKIPPED_NAMED:
        say(f"briefer: skipped {len(skipped)} files that are not articles (brief.md lists them)")
        return
    for s in skipped:
        say(f"briefer: skipped: {s.source_path}: {s.reason}")


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


