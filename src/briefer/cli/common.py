"""What the commands share: one-line messages on stderr, the cache folder, the date, the run's configuration from
the option groups, and the lines under a brief's closing line."""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

import datetime as dt
import os
from pathlib import Path
from typing import Any

import typer

from briefer.errors import UsageError

from .options import EndpointOptions, InputOptions, LimitOptions, OutputOptions, ReplayOptions


def say(line: str) -> None:
    """One line on stderr. Every stderr line goes through here (see terminal.py)."""
    from briefer.terminal import say as say_line

    say_line(line)


def fail(message: str, code: int) -> typer.Exit:
    say(f"briefer: {message}")
    return typer.Exit(code)


def default_cache_dir() -> Path:
    env = os.environ.get("BRIEFER_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("briefer"))


def cache_dir_for(replay: ReplayOptions) -> Path | None:
    return None if replay.no_cache else (replay.cache_dir or default_cache_dir())


def parse_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(f"--date must be YYYY-MM-DD, got '{value}'") from None


def run_config(folder: Path, endpoint: EndpointOptions, inputs: InputOptions, limits: LimitOptions,
               replay: ReplayOptions, output: OutputOptions) -> Any:
    """The library's RunConfig for these options (summarize and batch submit alike)."""
    from briefer.brief.merge import today
    from briefer.pipeline import RunConfig
    from briefer.settings import output_folder

    date = parse_date(inputs.date)
    return RunConfig(
        folder=folder, endpoint=endpoint.config(),
        out_dir=output_folder(output.out, date or today(), folder), html=not output.no_html,
        date=date, recursive=inputs.recursive, follow_links=inputs.follow_links, max_chars=inputs.max_chars,
        aliases=inputs.aliases, since=inputs.since, no_since=inputs.no_since, stale_after_days=inputs.stale_days,
        copy_threshold=inputs.copy_threshold, outlets=inputs.outlets,
        concurrency=limits.concurrency, max_input_tokens=limits.max_input_tokens, merge_budget=limits.merge_budget,
        price=limits.price, max_cost=limits.max_cost,
        cache_dir=cache_dir_for(replay), recordings_dir=replay.recordings, offline=replay.offline,
        record=replay.record, record_stale=replay.record_stale, retry_failed=replay.retry_failed,
        prompt_dir=replay.prompt_dir,
    )


def brief_problem_lines(b: Any) -> None:
    """A line for each article and merge answer kept in part, and each failure, under the brief's line
    (`summarize` and `briefer batch collect` alike)."""
    for a in b.articles:
        if a.warnings:
            say(f"briefer: kept in part: {a.id}: {'; '.join(a.warnings)}")
    if b.merge_warnings:
        say(f"briefer: kept in part: (merge): {'; '.join(b.merge_warnings)}")
    for f in b.failures:
        say(f"briefer: failed: {f.source_path}: {f.reason}")


