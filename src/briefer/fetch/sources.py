"""The sources file: the feeds and pages to fetch, one per line.

    # sources.txt
    https://www.mawazin.net/rss.xml            Mawazin News
    feed https://www.almayadeen.net/feed       Al Mayadeen
    page https://www.mashreghnews.ir/news/1569425
    https://example.org/feed.json

A line is an optional kind (`feed` or `page`), a URL, and an optional label (the rest of the line, shown
in the article's metadata and on failure lines). Without a kind, what the server sends decides: a feed
(RSS, Atom, JSON Feed) is read as one, anything else is a page. `#` starts a comment; blank lines are
ignored. Only http and https URLs are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from briefer.errors import UsageError

MAX_SOURCES_BYTES = 1_000_000
MAX_SOURCES = 5_000
MAX_URL = 2_000

Kind = Literal["feed", "page", "auto"]


@dataclass(frozen=True)
class Source:
    url: str
    kind: Kind = "auto"
    label: str | None = None
    line: int = 0


def parse_sources(text: str, where: str = "sources") -> list[Source]:
    """The sources of a file's text; UsageError naming the line for anything that is not one."""
    out: list[Source] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        parts = line.split(None, 1)
        kind: Kind = "auto"
        if parts[0].lower() in ("feed", "page") and len(parts) > 1:
            kind = "feed" if parts[0].lower() == "feed" else "page"
            parts = parts[1].split(None, 1)
        url = parts[0]
        label = parts[1].strip() if len(parts) > 1 else None
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise UsageError(f"{where}:{number}: not an http or https URL: '{url[:120]}'")
        if len(url) > MAX_URL:
            raise UsageError(f"{where}:{number}: URL longer than {MAX_URL} characters")
        if url in seen:
            continue
        seen.add(url)
        out.append(Source(url=url, kind=kind, label=label, line=number))
        if len(out) > MAX_SOURCES:
            raise UsageError(f"{where}: more than {MAX_SOURCES} sources")
    if not out:
        raise UsageError(f"{where}: no sources (one feed or page URL per line)")
    return out


def read_sources(path: Path) -> list[Source]:
    """The sources file at `path` (UTF-8, at most 1 MB)."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SOURCES_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the sources file: {exc.strerror or exc}") from None
    if len(data) > MAX_SOURCES_BYTES:
        raise UsageError(f"{path}: larger than {MAX_SOURCES_BYTES:,} bytes: not a sources file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 (byte {exc.start})") from None
    return parse_sources(text, str(path))
