"""What an article file holds, by format: the text and metadata of an HTML page or of each record of a feed.

HTML pages go through trafilatura, which keeps the main text and drops scripts, navigation, ads
and comments; the page's title, date, site and canonical URL come from its metadata. The date is
the one the page's markup declares (no guessing from the URL or the text), in trafilatura's ISO form.

Feeds are JSON: a list of records, an object holding such a list (`items`, `articles`, `entries`, ...),
a single record, or JSON Lines (one record per line, read line by line). A record's fields are found
by name, ignoring case, '_' and '-', under the common aliases in `FIELDS`. A text field that holds HTML
(an RSS `content:encoded`, a JSON Feed `content_html`) is reduced to its text.

Nothing here reads files by path or cleans text: ingest does that.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import IO, Any

from briefer.errors import InputError

# Aliases per field, most specific first; keys compare in lower case without '_', '-' or ' '.
FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "heading", "subject"),
    "text": ("text", "content", "body", "article", "maintext", "fulltext", "contenttext", "contenthtml",
             "contentencoded", "articlebody", "articletext", "description", "summary", "abstract"),
    "url": ("url", "link", "canonicalurl", "permalink", "externalurl", "sourceurl", "href", "guid"),
    "canonical": ("canonicalurl", "canonical", "canonicallink"),
    "date": ("date", "published", "pubdate", "publishedat", "datepublished", "publisheddate", "publishdate",
             "publicationdate", "pubdatetime", "datetime", "created", "createdat", "updated", "datemodified",
             "timestamp", "time"),
    "site": ("site", "sitename", "outlet", "source", "sourcename", "publisher", "feed", "domain", "sourcedomain"),
}
# Keys under which an object keeps its list of records.
RECORD_LISTS = ("items", "articles", "entries", "data", "posts", "results", "records", "documents", "news",
                "stories", "hits", "docs")
_SUB_VALUES = ("rendered", "text", "value", "#text", "content", "name", "title", "href", "url", "@href")
# Markup or character references: the field holds HTML (an RSS description, a WordPress "rendered" value).
_LOOKS_HTML = re.compile(r"</?(?:p|br|div|span|a|strong|em|b|i|u|ul|ol|li|h[1-6]|blockquote|figure|img|table|tr"
                         r"|td|section|article|header|footer|nav|script|style)\b[^>]*>"
                         r"|&(?:#\d{2,6}|#x[0-9a-f]{2,5}|amp|lt|gt|quot|apos|nbsp|[lr]dquo|[lr]squo|[mn]dash|hellip);",
                         re.IGNORECASE)
_KEY = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class Doc:
    """One article as found in a file, before cleaning."""

    text: str  # the body, one paragraph per line
    title: str | None = None
    date: str | None = None  # as the source gives it
    url: str | None = None
    site: str | None = None  # the site's name, else (a page) its host name
    canonical_url: str | None = None
    site_name: str | None = None  # the outlet's name as the file gives it (never a host name)
    page_title: str | None = None  # the file's own title (a page's <title>), as written


@dataclass(frozen=True)
class Record:
    """One record of a feed: an article (`doc`), or the reason there is none (`problem`)."""

    number: int  # 1-based position in the feed
    source: str  # the record's JSON text (a JSON Lines line as written)
    raw: str = ""  # the record's title and text as the feed gives them (HTML included)
    doc: Doc | None = None
    problem: str | None = None


# ---------------------------------------------------------------- HTML pages


def html_document(html: str) -> Doc:
    """The main text and metadata of an HTML page; InputError if the page has no article text."""
    # Imported here: trafilatura (with lxml) costs ~150 ms, and most folders hold no HTML.
    from trafilatura import bare_extraction
    from trafilatura.settings import Document

    result = bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if not isinstance(result, Document) or not (result.text or "").strip():
        raise InputError("no article text in the HTML page (only markup, scripts and navigation)")
    head = page_head(html)
    return Doc(
        text=result.text or "",
        title=_clean_meta(result.title),
        date=_clean_meta(result.date),
        url=head.get("og:url") or _clean_meta(result.url),
        site=_clean_meta(result.sitename) or _clean_meta(result.hostname),
        canonical_url=head.get("canonical"),
        site_name=head.get("og:site_name") or _clean_meta(result.sitename),
        page_title=head.get("title") or head.get("og:title"),
    )


_HEAD_END = re.compile(r"<body\b|</head\s*>", re.IGNORECASE)
MAX_HEAD_CHARS = 1_000_000  # a page's metadata is read from its head, at most this far


def page_head(html: str) -> dict[str, str]:
    """The metadata of a page's head that names the article: its <title>, canonical link, og:url, og:site_name
    and og:title, each as written (whitespace collapsed), the first of each."""
    end = _HEAD_END.search(html, 0, MAX_HEAD_CHARS)
    parser = _Head()
    parser.feed(html[: end.start() if end else MAX_HEAD_CHARS])
    parser.close()
    if parser.title:
        parser.found.setdefault("title", _clean_meta("".join(parser.title)) or "")
    return {k: v for k, v in parser.found.items() if v}


class _Head(HTMLParser):
    _META = {"og:url", "og:site_name", "og:title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self.title: list[str] = []
        self._in_title = False
        self._titled = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "title" and not self._titled:
            self._in_title = True
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split():
            self._keep("canonical", a.get("href"))
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or "").strip().lower()
            if key in self._META:
                self._keep(key, a.get("content"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title, self._titled = False, True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)

    def _keep(self, key: str, value: str | None) -> None:
        if (clean := _clean_meta(value)) and key not in self.found:
            self.found[key] = clean


def html_fragment_text(html: str) -> str:
    """The text of an HTML fragment, one block per line, without scripts and styles."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return "\n".join(" ".join(line.split()) for line in "".join(parser.parts).split("\n"))


class _TextOnly(HTMLParser):
    _BLOCKS = {"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr",
               "table", "section", "article", "header", "footer", "figure", "figcaption", "pre", "hr"}
    _SKIP = {"script", "style", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _clean_meta(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else None
    return value or None


# ---------------------------------------------------------------- JSON feeds


def json_records(text: str) -> Iterator[Record]:
    """Every record of a JSON document; InputError if it is not JSON or holds no records."""
    try:
        value = _loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    items = _record_list(value)
    if items is None:
        raise InputError("no article records in the JSON (expected a list of objects, an object with a list "
                         f"under {', '.join(repr(k) for k in RECORD_LISTS[:4])}, ..., or one object with a text field)")
    feed_name = feed_title(value)
    for number, item in enumerate(items, start=1):
        yield _record(number, json.dumps(item, ensure_ascii=False, sort_keys=True), item, feed_name)


def feed_title(value: Any) -> str | None:
    """A JSON Feed's own title (https://jsonfeed.org: `version` names the spec), the outlet of its items."""
    if isinstance(value, dict) and "jsonfeed.org" in str(value.get("version", "")) and isinstance(value.get("title"),
                                                                                                  str):
        return _clean_meta(value["title"])
    return None


def jsonl_records(stream: IO[bytes], max_line_bytes: int) -> Iterator[Record]:
    """Every record of a JSON Lines stream (UTF-8), read one line at a time; blank lines are not records."""
    number = 0
    offset = 0
    first = True
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        start, offset = offset, offset + len(line)
        if first and line.startswith(codecs.BOM_UTF8):
            line, start = line[len(codecs.BOM_UTF8):], start + len(codecs.BOM_UTF8)
        first = False
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                offset += len(rest)
            offset += len(rest)
            number += 1
            yield Record(number, "", problem=f"line longer than {max_line_bytes:,} bytes")
            continue
        if not line.strip():
            continue
        number += 1
        try:
            source = line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            yield Record(number, "", problem=f"not valid UTF-8 (byte {start + exc.start}: "
                                             f"{line[exc.start:exc.start + 1]!r})")
            continue
        try:
            value = _loads(source)
        except json.JSONDecodeError as exc:
            yield Record(number, source, problem=f"invalid JSON (column {exc.colno}: {exc.msg})")
            continue
        except InputError as exc:
            yield Record(number, source, problem=str(exc))
            continue
        yield _record(number, source, value)


def _loads(text: str) -> Any:
    """json.loads, with the two ways valid-looking JSON still fails as InputError: nesting deeper than the
    parser's recursion limit, and integers longer than Python converts (4,300 digits)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply to read") from None
    except ValueError as exc:
        raise InputError(f"invalid JSON: {' '.join(str(exc).split())[:160]}") from None


def record_doc(value: Any, site_name: str | None = None) -> tuple[Doc, str]:
    """A record's article and its raw title and text; InputError if it has no text. `site_name`: the feed's own
    name (a JSON Feed's title), for records that do not name their site."""
    if not isinstance(value, dict):
        raise InputError(f"not an object but {_kind(value)}")
    fields = {_KEY.sub("", str(k)).lower(): v for k, v in value.items()}
    found = {name: _first(fields, aliases) for name, aliases in FIELDS.items()}
    raw_text = found["text"]
    if not raw_text or not raw_text.strip():
        names = ", ".join(FIELDS["text"][:4])
        raise InputError(f"no text (looked for {names}, ... fields)")
    raw_title = found["title"]
    text = html_fragment_text(raw_text) if _LOOKS_HTML.search(raw_text) else raw_text
    title = html_fragment_text(raw_title) if raw_title and _LOOKS_HTML.search(raw_title) else raw_title
    raw = raw_text if raw_title is None else f"{raw_title}\n{raw_text}"
    site = _clean_meta(found["site"]) or site_name
    doc = Doc(text=text, title=_clean_meta(title), date=_clean_meta(found["date"]), url=_clean_meta(found["url"]),
              site=site, canonical_url=_clean_meta(found["canonical"]), site_name=site, page_title=_clean_meta(title))
    return doc, raw


def _record(number: int, source: str, value: Any, site_name: str | None = None) -> Record:
    try:
        doc, raw = record_doc(value, site_name)
    except InputError as exc:
        return Record(number, source, problem=str(exc))
    return Record(number, source, raw=raw, doc=doc)


def _record_list(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in RECORD_LISTS:
            for k, v in value.items():
                if str(k).lower() == key and isinstance(v, list):
                    return v
        for v in value.values():  # {"channel": {"items": [...]}} and the like, one level down
            if isinstance(v, dict) and (inner := _record_list(v)) is not None:
                return inner
        fields = {_KEY.sub("", str(k)).lower() for k in value}
        if fields & set(FIELDS["text"]):
            return [value]
    return None


def _first(fields: dict[str, Any], aliases: tuple[str, ...]) -> str | None:
    for alias in aliases:
        if alias in fields and (text := _as_text(fields[alias])):
            return text
    return None


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        parts = [t for t in (_as_text(v) for v in value) if t]
        return "\n".join(parts) or None
    if isinstance(value, dict):
        for key in _SUB_VALUES:
            if key in value and (text := _as_text(value[key])):
                return text
    return None


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), "null" if value is None else type(value).__name__)


# ---------------------------------------------------------------- Markdown front matter

_FENCE = "---"
MAX_FRONT_MATTER_LINES = 200  # a front matter that does not close by then is text
_FM_LINE = re.compile(r"^([A-Za-z][\w -]{0,60}):[ \t]*(.*?)[ \t]*$")


def front_matter(text: str) -> tuple[dict[str, str], str] | None:
    """A Markdown file's front matter (`---` lines around `key: value` lines, as YAML writes them) and the text
    after it; None when the file has none. Only plain one-line values are read (quoted or not): lists, nested
    keys and block values are left out, not guessed at."""
    lines = text.split("\n", MAX_FRONT_MATTER_LINES + 1)
    if not lines or lines[0].strip() != _FENCE:
        return None
    for end in range(1, min(len(lines), MAX_FRONT_MATTER_LINES + 1)):
        if lines[end].strip() in (_FENCE, "..."):
            break
    else:
        return None
    found: dict[str, str] = {}
    for line in lines[1:end]:
        m = _FM_LINE.match(line)
        if not m or not m.group(2) or m.group(2)[0] in "[{|>&*!#":
            continue
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found.setdefault(_KEY.sub("", m.group(1)).lower(), value)
    rest = "\n".join(lines[end + 1:])
    return found, rest


def front_matter_doc(fields: dict[str, str], text: str) -> Doc:
    """The article of a Markdown file with front matter: its text, and title, date, url, canonical_url and
    site_name by the names feeds use (FIELDS)."""
    found = {name: _first(fields, aliases) for name, aliases in FIELDS.items()}
    site = _clean_meta(found["site"])
    title = _clean_meta(found["title"])
    return Doc(text=text, title=title, date=_clean_meta(found["date"]), url=_clean_meta(found["url"]), site=site,
               canonical_url=_clean_meta(found["canonical"]), site_name=site, page_title=title)


_ISO_DAY = re.compile(r"^([0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?)(?:$|[T ][0-9])")


def page_date(text: str | None) -> str | None:
    """A file's own publication date as an ISO date where it reads as one (`2024-09-17T08:00:00Z` and RFC 2822's
    `Tue, 17 Sep 2024 08:00:00 GMT` both give `2024-09-17`), else as written; None when there is none."""
    if not text:
        return None
    if m := _ISO_DAY.match(text):
        return m.group(1)
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return text
