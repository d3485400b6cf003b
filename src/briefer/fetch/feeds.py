"""A feed's items: RSS 2.0, RSS 1.0 and Atom through feedparser, JSON Feed (1.0, 1.1) read here.

An item gives what the feed says of an article: its link, title, date, author, and the feed's text
(often a two-line blurb: the page is fetched for the full text).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

MAX_ITEMS = 1_000  # per feed: a feed longer than this is read in part (and says so)


@dataclass(frozen=True)
class Item:
    link: str
    title: str | None = None
    published: str | None = None  # ISO 8601 (UTC), or None when the feed gives no date
    author: str | None = None


@dataclass(frozen=True)
class Feed:
    title: str | None
    items: list[Item]
    cut: int = 0  # items beyond MAX_ITEMS, not read


def looks_like_feed(body: bytes, content_type: str) -> bool:
    """Whether a response is a feed rather than a page (by its media type, else by its first bytes)."""
    ct = content_type.split(";")[0].strip().lower()
    if ct in ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml"):
        return True
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        return b"jsonfeed.org/version" in body[:4096]
    return head.startswith(b"<?xml") and any(t in head for t in (b"<rss", b"<feed", b"<rdf:rdf")) or \
        head.startswith((b"<rss", b"<feed"))


def parse_feed(body: bytes, base_url: str, content_type: str = "") -> Feed:
    """The items of a feed; ValueError with the reason when it is not one."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _json_feed(body, base_url)
    import feedparser  # here: ~0.1 s, and only fetch needs it

    parsed = feedparser.parse(body, response_headers={"content-location": base_url,
                                                      "content-type": content_type or "application/xml"})
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise ValueError(f"not an RSS, Atom or JSON feed{f' ({reason})' if reason else ''}")
    items = []
    for entry in parsed.entries[:MAX_ITEMS]:
        link = entry.get("link") or _alternate(entry)
        if not link:
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        items.append(Item(link=str(link), title=_text(entry.get("title")),
                          published=_iso(when), author=_text(entry.get("author"))))
    return Feed(_text(parsed.feed.get("title")), items, max(0, len(parsed.entries) - MAX_ITEMS))


def _alternate(entry: Any) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    return None


def _iso(when: Any) -> str | None:
    if not when:
        return None
    try:
        year, month, day, hour, minute, second = (int(x) for x in when[:6])
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC).isoformat()
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:500] or None


def _json_feed(body: bytes, base_url: str) -> Feed:
    from urllib.parse import urljoin

    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not a JSON Feed: {str(exc)[:120]}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise ValueError("not a JSON Feed (no 'version' naming jsonfeed.org)")
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise ValueError("JSON Feed without an 'items' list")
    items = []
    for item in raw_items[:MAX_ITEMS]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link:
            continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        author = next((a.get("name") for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)),
                      None)
        items.append(Item(link=urljoin(base_url, link), title=_text(item.get("title")),
                          published=_json_date(item.get("date_published") or item.get("date_modified")),
                          author=_text(author)))
    return Feed(_text(data.get("title")), items, max(0, len(raw_items) - MAX_ITEMS))


def _json_date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat()
