"""A polite HTTP client for feeds and pages: robots.txt, a named user agent, per-host limits, caps.

Every request briefer's fetch makes goes through `Polite.get`:
- only http and https, for the URL asked and for every redirect (never `file:`, `ftp:`, `data:`, ...);
- at most `max_redirects` redirects, a loop named as one;
- robots.txt of each host honoured (RFC 9309: a 4xx robots.txt allows all, a 5xx or an unreachable one
  allows nothing), cached in the fetch state for a day, with its Crawl-delay honoured up to 30 s;
- at most `per_host` requests to one host at once, `delay` seconds between the start of two of them;
- a deadline for the whole request (`timeout`: a host that trickles bytes is cut too), and a size cap on
  the body (a Content-Length above it is refused before reading, a body growing past it is cut off);
- conditional GET: the ETag / Last-Modified given are sent, a 304 is an answer, not a download.
"""

from __future__ import annotations

import asyncio
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

SCHEMES = ("http", "https")
MAX_ROBOTS_BYTES = 500_000  # RFC 9309 asks crawlers to read at least 500 KiB
ROBOTS_TTL = 24 * 3600.0
MAX_CRAWL_DELAY = 30.0
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchFailed(Exception):
    """One URL could not be fetched; the message is the reason shown on its line."""


@dataclass(frozen=True)
class Limits:
    user_agent: str
    timeout: float = 30.0  # seconds for one request, connection to last byte
    max_bytes: int = 5_000_000  # per page or feed
    max_redirects: int = 5
    per_host: int = 2  # requests in flight to one host
    delay: float = 1.0  # seconds between the starts of two requests to one host
    concurrency: int = 8  # requests in flight in all


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int  # 200, or 304 (not modified)
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str


@dataclass
class _Host:
    slots: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    delay: float = 0.0


def check_scheme(url: str) -> str:
    """The URL if it is http(s) with a host, else FetchFailed naming why."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise FetchFailed(f"not an http or https URL (scheme '{parts.scheme or '(none)'}'): not fetched")
    if not parts.hostname:
        raise FetchFailed("no host in the URL")
    return url


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class Polite:
    """The client. `robots` is the fetch state's robots cache (host -> (fetched at, text or None for
    'allow nothing')), read and updated in place; `clock` is time.time, injectable."""

    def __init__(self, limits: Limits, robots: dict[str, tuple[float, str | None]],
                 transport: httpx.AsyncBaseTransport | None = None, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.robots = robots
        self.clock = clock
        self._client = httpx.AsyncClient(
            follow_redirects=False, transport=transport, trust_env=False,
            timeout=httpx.Timeout(limits.timeout), headers={"User-Agent": limits.user_agent},
        )
        self._all = asyncio.Semaphore(limits.concurrency)
        self._hosts: dict[str, _Host] = {}
        self._parsed: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._robots_lock = asyncio.Lock()
        self.downloads = 0  # responses with a body read (200s)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Response:
        """GET with redirects followed by hand (each hop checked); FetchFailed with the reason otherwise."""
        seen: list[str] = []
        current = check_scheme(url)
        for _ in range(self.limits.max_redirects + 1):
            if current in seen:
                raise FetchFailed(f"redirect loop ({' -> '.join([*seen, current])})"[:300])
            seen.append(current)
            if not await self.allowed(current):
                if self._parsed.get(host_of(current)) is None:
                    raise FetchFailed(f"{host_of(current)}/robots.txt could not be read (a server error or no "
                                      "answer): the host is not fetched until it can")
                raise FetchFailed(f"disallowed by {host_of(current)}/robots.txt")
            headers = {}
            if etag and len(seen) == 1:
                headers["If-None-Match"] = etag
            if last_modified and len(seen) == 1:
                headers["If-Modified-Since"] = last_modified
            status, resp_headers, body = await self._one(current, headers)
            if status in _REDIRECTS:
                target = resp_headers.get("location")
                if not target:
                    raise FetchFailed(f"HTTP {status} without a Location")
                nxt = urljoin(current, target.strip())
                try:
                    check_scheme(nxt)
                except FetchFailed:
                    raise FetchFailed(f"redirect to a URL that is not http or https ({nxt[:120]}): not followed"
                                      ) from None
                current = nxt
                continue
            if status == 304:
                return Response(current, 304, b"", etag, last_modified, "")
            if status != 200:
                raise FetchFailed(f"HTTP {status}")
            return Response(current, 200, body, resp_headers.get("etag"), resp_headers.get("last-modified"),
                            resp_headers.get("content-type", ""))
        raise FetchFailed(f"more than {self.limits.max_redirects} redirects")

    async def _one(self, url: str, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        """One request under the global and per-host limits and the deadline."""
        host = await self._host(url)
        async with self._all, host.slots:
            async with host.lock:  # the delay is between the starts of two requests to the host
                wait = host.next_start - time.monotonic()
                host.next_start = max(time.monotonic(), host.next_start) + max(self.limits.delay, host.delay)
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                async with asyncio.timeout(self.limits.timeout):
                    return await self._read(url, headers)
            except TimeoutError:
                raise FetchFailed(f"no complete answer within {self.limits.timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise FetchFailed(_reason(exc)) from None

    async def _read(self, url: str, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        cap = self.limits.max_bytes
        async with self._client.stream("GET", url, headers=headers) as resp:
            if resp.status_code != 200:
                return resp.status_code, resp.headers, b""
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FetchFailed(f"larger than the {_mb(cap)} limit ({_mb(int(declared))} declared): not read")
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():  # decoded (gzip, deflate): the cap holds a compressed bomb too
                size += len(chunk)
                if size > cap:
                    raise FetchFailed(f"larger than the {_mb(cap)} limit: cut off, not kept")
                chunks.append(chunk)
            self.downloads += 1
            return 200, resp.headers, b"".join(chunks)

    async def _host(self, url: str) -> _Host:
        key = host_of(url)
        if key not in self._hosts:
            self._hosts[key] = _Host(asyncio.Semaphore(self.limits.per_host))
        return self._hosts[key]

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt of the URL's host lets briefer fetch it."""
        key = host_of(url)
        async with self._robots_lock:
            if key not in self._parsed:
                self._parsed[key] = await self._robots(key)
        parser = self._parsed[key]
        if parser is None:
            return False
        delay = parser.crawl_delay("briefer")
        if delay:
            (await self._host(url)).delay = min(float(delay), MAX_CRAWL_DELAY)
        return parser.can_fetch("briefer", url)

    async def _robots(self, key: str) -> urllib.robotparser.RobotFileParser | None:
        cached = self.robots.get(key)
        now = self.clock()
        if cached is not None and now - cached[0] < ROBOTS_TTL:
            text = cached[1]
        else:
            text = await self._robots_text(key)
            self.robots[key] = (now, text)
        if text is None:
            return None
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(text.splitlines())
        return parser

    async def _robots_text(self, key: str) -> str | None:
        """robots.txt as text; '' (allow all) for a 4xx, None (allow nothing) for a 5xx or no answer."""
        url = f"{key}/robots.txt"
        for _ in range(self.limits.max_redirects + 1):
            try:
                host = await self._host(url)
                async with host.slots, asyncio.timeout(self.limits.timeout):
                    status, headers, body = await self._capped(url, MAX_ROBOTS_BYTES)
            except (TimeoutError, httpx.HTTPError):
                return None
            if status in _REDIRECTS and headers.get("location"):
                url = urljoin(url, headers["location"])
                if urlsplit(url).scheme not in SCHEMES:
                    return None
                continue
            if 400 <= status < 500:
                return ""
            if status != 200:
                return None
            self.downloads += 1
            return body.decode("utf-8", "replace")
        return None

    async def _capped(self, url: str, cap: int) -> tuple[int, httpx.Headers, bytes]:
        """A GET whose body is read up to `cap` bytes (the rest is not read: RFC 9309 lets a crawler stop there)."""
        async with self._client.stream("GET", url) as resp:
            chunks: list[bytes] = []
            size = 0
            if resp.status_code == 200:
                async for chunk in resp.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= cap:
                        break
            return resp.status_code, resp.headers, b"".join(chunks)[:cap]


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    cause: Any = exc.__cause__ or exc.__context__
    while not text and cause is not None:
        text, cause = str(cause).strip(), cause.__cause__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
