"""`briefer fetch SOURCES --out today/`: the command's options, one call to the library (fetch/), one line
per source that failed, an exit code. Also what `briefer summarize --fetch SOURCES` runs first.

Exit codes: 0 every source fetched (or unchanged) · 1 every source failed · 2 usage · 3 some failed,
the others kept.
"""

# No `from __future__ import annotations`: typer reads the annotations (see summarize.py).

import asyncio
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from briefer.errors import BrieferError, Terminated, UsageError

_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([hd])$")


def since_moment(since: str | None, max_age: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """The moment before which items are left out: --since DATE (or date-time), or --max-age like 36h, 2d."""
    if since and max_age:
        raise UsageError("give --since or --max-age, not both")
    if since:
        try:
            when = dt.datetime.fromisoformat(since)
        except ValueError:
            raise UsageError(f"--since must be a date (YYYY-MM-DD) or an ISO date-time, got '{since}'") from None
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if max_age:
        m = _AGE.match(max_age.strip().lower())
        if not m:
            raise UsageError(f"--max-age must be hours or days, like 36h or 2d, got '{max_age}'")
        hours = float(m.group(1)) * (24 if m.group(2) == "d" else 1)
        return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=hours)
    return None


def user_agent(contact: str | None) -> str:
    from briefer._version import __version__

    return f"briefer/{__version__} (+{contact})" if contact else f"briefer/{__version__} (no contact given)"


def run_fetch(sources: Path, out: Path, *, contact: str | None = None, since: str | None = None,
              max_age: str | None = None, timeout: float = 30.0, max_page_mb: float = 5.0, per_host: int = 2,
              delay: float = 1.0, max_redirects: int = 5, concurrency: int = 8) -> int:
    """Fetch and print the summary line and one line per failure; the exit code."""
    from briefer.fetch.http import Limits
    from briefer.fetch.run import FetchOptions, fetch_sources
    from briefer.fetch.sources import read_sources
    from briefer.ingest.folder import MAX_HTML_BYTES
    from briefer.terminal import say

    if not 0 < max_page_mb * 1e6 <= MAX_HTML_BYTES:
        raise UsageError(f"--max-page-mb must be above 0 and at most {MAX_HTML_BYTES / 1e6:.1f} (the largest page "
                         "ingest parses)")
    if timeout <= 0 or per_host < 1 or concurrency < 1 or delay < 0 \
            or max_redirects < 0:
        raise UsageError("--timeout, --max-page-mb, --per-host and --concurrency must be positive, --delay and "
                         "--max-redirects not negative")
    listed = read_sources(sources)
    if not contact:
        say("briefer: warning: no contact for the user agent (give --contact or BRIEFER_CONTACT: an email or "
            "URL site owners can reach you at)")
    limits = Limits(user_agent=user_agent(contact), timeout=timeout, max_bytes=int(max_page_mb * 1e6),
                    max_redirects=max_redirects, per_host=per_host, delay=delay, concurrency=concurrency)
    opts = FetchOptions(out=out, limits=limits, since=since_moment(since, max_age))
    # A line as each feed is done, on a terminal (a cron job's mail gets the closing line and the failures).
    report = asyncio.run(fetch_sources(listed, opts, say, say if sys.stderr.isatty() else lambda _: None))
    say(f"fetched into {out}: {len(report.written)} new articles ({len(report.undated)} undated, kept), "
        f"{report.already} already there, {report.not_modified} unchanged sources, {report.older} older items "
        f"left out, {len(report.failures)} failed")
    for what, why in report.failures:
        say(f"briefer: failed: {what}: {why}")
    return report.exit_code


def fetch_command(
    sources: Annotated[Path, typer.Argument(help="File listing feed and page URLs, one per line, with optional "
                                            "labels ('# ' starts a comment).")],
    out: Annotated[Path, typer.Option("--out", help="Folder the articles are written to (one JSON file each).")],
    contact: Annotated[str | None, typer.Option("--contact", envvar="BRIEFER_CONTACT",
                                                help="Email or URL named in the user agent.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only items published on or after this date "
                                              "(YYYY-MM-DD or ISO date-time); undated items are kept.")] = None,
    max_age: Annotated[str | None, typer.Option("--max-age", help="Only items at most this old, e.g. 36h, "
                                                "2d; undated items are kept.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds for one request, first byte to last.")] = 30.0,
    max_page_mb: Annotated[float, typer.Option("--max-page-mb", help="Largest page or feed read, in MB.")] = 5.0,
    per_host: Annotated[int, typer.Option("--per-host", help="Requests to one host at once.")] = 2,
    delay: Annotated[float, typer.Option("--delay", help="Seconds between two requests to one host (a "
                                         "robots.txt Crawl-delay, up to 30 s, wins when longer).")] = 1.0,
    max_redirects: Annotated[int, typer.Option("--max-redirects", help="Redirects followed per request.")] = 5,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Requests in flight in all.")] = 8,
) -> None:
    """Fetch the feeds and pages listed in SOURCES into a folder that `briefer summarize` reads."""
    from briefer.terminal import say

    try:
        code = run_fetch(sources, out, contact=contact or os.environ.get("BRIEFER_CONTACT"), since=since,
                         max_age=max_age, timeout=timeout, max_page_mb=max_page_mb, per_host=per_host, delay=delay,
                         max_redirects=max_redirects, concurrency=concurrency)
    except BrieferError as exc:
        say(f"briefer: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
        code = 143 if isinstance(exc, Terminated) else 130
        say(f"briefer: {'terminated' if code == 143 else 'interrupted'}; the articles fetched are kept, the next "
            "fetch resumes")
        raise typer.Exit(code) from None
    raise typer.Exit(code)
