"""`briefer fetch`: the feeds and pages of a sources file into a folder that `briefer summarize` reads.

Each article becomes one JSON file holding what the feed and the page say of it (url, canonical_url,
site_name, title, published, author, undated) and the page's own HTML as fetched (`html`), so that ingest
extracts the text exactly as it does for an .html file, and a rerun needs no network. The folder's
`.fetch-state.json` (state.py) makes a second fetch cheap: feeds and pages are asked with their ETag /
Last-Modified, items already written (by URL, canonical URL or content hash) are not fetched again, and
a fetch cut short resumes where it stopped. Nothing here calls a model.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from briefer.errors import OutputError

from .feeds import Item, looks_like_feed, parse_feed
from .http import FetchFailed, Limits, Polite, Response
from .sources import Source
from .state import Done, FetchState, Robots, Validators, load_state, save_state, write_atomic


@dataclass(frozen=True)
class FetchOptions:
    out: Path
    limits: Limits
    since: dt.datetime | None = None  # items published before this are left out; undated ones are kept


@dataclass
class FetchReport:
    written: list[str] = field(default_factory=list)  # article files written by this fetch
    already: int = 0  # items already in the folder (not fetched again)
    not_modified: int = 0  # feeds and pages the server said had not changed (304)
    older: int = 0  # items published before --since / --max-age
    undated: list[str] = field(default_factory=list)  # files written without a published date (kept, flagged)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, why): one line each
    downloads: int = 0  # responses with a body

    @property
    def exit_code(self) -> int:
        """0 all sources fetched · 3 some failed, the rest kept · 1 every one failed and nothing is in hand."""
        if not self.failures:
            return 0
        return 3 if self.written or self.already or self.not_modified else 1


def canonical(url: str) -> str:
    """The URL as compared for 'already fetched': scheme and host in lower case, no fragment."""
    p = urlsplit(url.strip())
    return urlunsplit((p.scheme.lower(), p.netloc.lower(), p.path or "/", p.query, ""))


def file_name(url: str) -> str:
    """A stable, safe file name for an article: its host and a hash of its canonical URL."""
    host = re.sub(r"[^a-z0-9.-]+", "-", (urlsplit(url).hostname or "page").lower()).strip(".-")[:60] or "page"
    return f"{host}-{hashlib.sha256(canonical(url).encode()).hexdigest()[:12]}.json"


class _Run:
    def __init__(self, opts: FetchOptions, state: FetchState, client: Polite, say: Callable[[str], None],
                 progress: Callable[[str], None]) -> None:
        self.opts, self.state, self.client, self.say, self.progress = opts, state, client, say, progress
        self.report = FetchReport()
        self._lock = asyncio.Lock()

    async def source(self, src: Source) -> None:
        what = src.label or src.url
        old = self.state.validators.get(src.url)
        try:
            resp = await self.client.get(src.url, etag=old.etag if old else None,
                                         last_modified=old.last_modified if old else None)
        except FetchFailed as exc:
            self.report.failures.append((f"{what} ({src.url})" if src.label else src.url, str(exc)))
            return
        if resp.status == 304:
            self.report.not_modified += 1
            return
        feed = src.kind == "feed" or (src.kind == "auto" and looks_like_feed(resp.body, resp.content_type))
        if not feed:
            if canonical(src.url) in self.state.done and self.state.done[canonical(src.url)].sha256 == _sha(resp.body):
                self.report.already += 1
            else:
                await self.page(resp, Item(link=src.url), src)
            self._validators(src.url, resp)
            return
        try:
            parsed = parse_feed(resp.body, resp.url, resp.content_type)
        except ValueError as exc:
            self.report.failures.append((what, str(exc)))
            return
        if parsed.cut:
            self.say(f"briefer: {what}: {parsed.cut} items beyond the first {len(parsed.items)} not read")
        before = len(self.report.written)
        transient = await asyncio.gather(*(self.item(item, src) for item in parsed.items))
        self.progress(f"briefer: {what}: {len(parsed.items)} items, {len(self.report.written) - before} new")
        if not any(transient):  # else the feed is asked again in full next time, for the items that failed
            self._validators(src.url, resp)

    async def item(self, item: Item, src: Source) -> bool:
        """One feed item; True when it failed in a way worth trying again (a timeout, a 5xx)."""
        if canonical(item.link) in self.state.done:
            self.report.already += 1
            return False
        if self.opts.since and item.published and _parse(item.published) < self.opts.since:
            self.report.older += 1
            return False
        try:
            resp = await self.client.get(item.link)
        except FetchFailed as exc:
            self.report.failures.append((f"{item.link} (from {src.label or src.url})", str(exc)))
            return not str(exc).startswith(("HTTP 4", "disallowed", "larger", "not an http", "redirect", "more than"))
        await self.page(resp, item, src)
        return False

    async def page(self, resp: Response, item: Item, src: Source) -> None:
        sha = _sha(resp.body)
        if sha in self.state.hashes:  # the same bytes under another URL
            await self._done([item.link, resp.url], Done(file=self.state.hashes[sha], sha256=sha))
            self.report.already += 1
            return
        meta = await asyncio.to_thread(_page_meta, resp.body, resp.url)
        canon = meta.get("canonical_url") or resp.url
        if canonical(canon) in self.state.done and canonical(canon) != canonical(item.link):
            await self._done([item.link, resp.url], self.state.done[canonical(canon)])
            self.report.already += 1
            return
        published = item.published or meta.get("published")
        if self.opts.since and published and _parse(published) < self.opts.since:
            self.report.older += 1
            return
        name = file_name(canon)
        record = {
            "url": item.link, "canonical_url": canon, "site_name": meta.get("site_name"),
            "title": item.title or meta.get("title"), "published": published, "undated": published is None,
            # No time of fetching: the file is what the feed and the page said, so the same article fetched on
            # another day is the same file (and the next day's brief knows it was read, by its hash).
            "author": item.author or meta.get("author"), "fetched_from": src.label or src.url,
            "content_sha256": sha, "html": meta["html"],
        }
        try:
            write_atomic(self.opts.out / name, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
        except OSError as exc:
            raise OutputError(f"{self.opts.out / name}: cannot write: {exc.strerror or exc}") from None
        self.report.written.append(name)
        if published is None:
            self.report.undated.append(name)
        self.state.hashes[sha] = name
        await self._done([item.link, resp.url, canon], Done(file=name, sha256=sha))

    async def _done(self, urls: list[str], done: Done) -> None:
        for url in urls:
            self.state.done[canonical(url)] = done
        async with self._lock:  # after every article: an interrupted fetch resumes from here
            self._save()

    def _validators(self, url: str, resp: Response) -> None:
        if (resp.etag or resp.last_modified) and len(resp.etag or "") <= 2_000 and len(resp.last_modified or "") <= 200:
            self.state.validators[url] = Validators(etag=resp.etag, last_modified=resp.last_modified,
                                                    checked=dt.datetime.now(dt.UTC).timestamp())
        self._save()

    def _save(self) -> None:
        try:
            save_state(self.opts.out, self.state)
        except OSError as exc:
            raise OutputError(f"{self.opts.out}: cannot write the fetch state: {exc.strerror or exc}") from None


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _parse(iso: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return dt.datetime.max.replace(tzinfo=dt.UTC)  # a date not understood is not "older": kept
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _page_meta(body: bytes, url: str) -> dict[str, str | None]:
    """The page as text (decoded as ingest decodes files) and what its markup says of itself."""
    from trafilatura import extract_metadata

    from briefer.ingest.decode import decode_bytes

    # Decoded as ingest decodes files (BOM, UTF-8, else the likeliest legacy encoding), but kept as the bytes say:
    # no newline or other normalisation, so ingest extracts exactly what was fetched.
    html = body.decode(decode_bytes(body[:200_000]).encoding, errors="replace")
    meta = extract_metadata(html, default_url=url)
    canon = meta.url if meta.url and urlsplit(meta.url).scheme in ("http", "https") else None
    return {"html": html, "canonical_url": canon, "site_name": meta.sitename or None,
            "title": meta.title or None, "published": meta.date or None, "author": meta.author or None}


async def fetch_sources(sources: list[Source], opts: FetchOptions, say: Callable[[str], None] = lambda _: None,
                        progress: Callable[[str], None] = lambda _: None) -> FetchReport:
    """Fetch every source into `opts.out`; failures are reported, never raised (OutputError aside). `say` gets
    warnings, `progress` a line as each feed is done."""
    try:
        opts.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{opts.out}: cannot create the folder: {exc.strerror or exc}") from None
    state, problem = load_state(opts.out)
    if problem:
        say(f"briefer: warning: {problem}")
    robots = {host: (r.fetched, r.text) for host, r in state.robots.items()}
    client = Polite(opts.limits, robots)
    run = _Run(opts, state, client, say, progress)
    try:
        await asyncio.gather(*(run.source(src) for src in sources))
    finally:
        await client.aclose()
        # A robots.txt that could not be read (a 5xx, no answer) kept this fetch off its host; the next one asks again.
        state.robots = {host: Robots(fetched=t, text=text) for host, (t, text) in robots.items() if text is not None}
        run._save()
    run.report.downloads = client.downloads
    return run.report
